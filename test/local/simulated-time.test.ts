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

  it('lets a running participant end an interruptible sleep early, and only once', async () => {
    const account = new SimulatedAccount({ start: new Date('2026-12-06T10:00:00Z') });
    const time = new SimulatedTime(account);
    let sleep: ReturnType<SimulatedTime['sleepInterruptibly']> | undefined;
    const sleeper = time.participate(async () => {
      await Promise.resolve();
      sleep = time.sleepInterruptibly(3600);
      return sleep.ended;
    });
    const waker = time.participate(async () => {
      await Promise.resolve();
      await time.sleep(60);
      return [sleep!.interrupt(), sleep!.interrupt()];
    });
    await expect(sleeper).resolves.toBe('interrupted');
    await expect(waker).resolves.toEqual([true, false]);
    expect(account.clock().toISOString()).toBe('2026-12-06T10:01:00.000Z');
    // Its time ran out instead: 'elapsed', and there is nothing left to interrupt.
    await time.participate(async () => {
      const alone = time.sleepInterruptibly(30);
      await expect(alone.ended).resolves.toBe('elapsed');
      expect(alone.interrupt()).toBe(false);
    });
    expect(account.clock().toISOString()).toBe('2026-12-06T10:01:30.000Z');
  });
});
