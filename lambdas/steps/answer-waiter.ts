/**
 * Ends a waiting Task with `output` (the health found, the lock freed, a signature push, an analysis now, …) and
 * removes its waiter; false when the Task had already ended (answered by another wake-up, or timed out). The token is
 * answered before the waiter is removed: if the answer fails, the waiter stays for the next event or the timeout.
 */
import type { Waiter } from '../contract/ledger-records';
import type { TaskTokens } from './ports/task-tokens';
import type { Waiters } from './ports/waiters';

export async function answerWaiter(deps: { tokens: TaskTokens; waiters: Waiters }, waiter: Waiter, output: unknown): Promise<boolean> {
  const result = await deps.tokens.succeed(waiter.taskToken, output);
  await deps.waiters.remove(waiter);
  // A canary's wait is also kept for operators (kind `scaling`, the same token): it ends with it.
  if (waiter.waitsFor === 'canary') await deps.waiters.remove({ ...waiter, waitsFor: 'scaling' });
  return result === 'answered';
}
