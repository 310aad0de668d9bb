import { describe, expect, it } from 'vitest';
import { SimulatedAccount } from '../../local/simulated-account';
import { SimulatedTime } from '../../local/simulated-time';

describe('SimulatedTime', () => {
  it('refuses a sleep that could never end, which would stop the time of every other participant', async () => {
    const account = new SimulatedAccount();
    const time = new SimulatedTime(account);

    await time.participate(async () => {
      await expect(time.sleep(Number.NaN)).rejects.toThrow(/Cannot sleep NaN s/);
      await expect(time.sleep(-1)).rejects.toThrow(/Cannot sleep -1 s/);
    });
    await expect(time.participate(() => time.sleep(10))).resolves.toBeUndefined();
  });
});
