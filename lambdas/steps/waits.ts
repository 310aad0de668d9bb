/**
 * The waiters the event-driven waits keep in the ledger (function await-health): made alike, answered alike.
 */
import type { Waiter, WaitKind } from '../contract/ledger-records';
import { ABORTABLE_WAITS } from '../contract/operator-decisions';
import type { TaskTokens } from './ports/task-tokens';
import type { Waiters } from './ports/waiters';

/** What every wait's input says of the waiting Task. */
export interface WaitingTask {
  service: { name: string };
  executionArn: string;
  waitingState: string;
  taskToken: string;
  /** The Task's own timeout: the waiter expires with it. */
  timeoutSeconds: number;
}

/** The waiter of `task`, waiting for `waitsFor` from `now` until the Task's timeout, keeping `check`. */
export function waiterOf(task: WaitingTask, waitsFor: WaitKind, check: Record<string, unknown>, now: Date): Waiter {
  return {
    service: task.service.name,
    executionArn: task.executionArn,
    state: task.waitingState,
    waitsFor,
    taskToken: task.taskToken,
    check,
    since: now.toISOString(),
    expiresAt: new Date(now.getTime() + task.timeoutSeconds * 1000).toISOString(),
  };
}

/**
 * Ends a waiting Task with `output` (the health found, the lock freed, a signature push, an analysis now, …) and
 * removes its waiter; false when the Task had already ended (answered by another wake-up, or timed out). The token is
 * answered before the waiter is removed: if the answer fails, the waiter stays for the next event or the timeout.
 */
export async function answerWaiter(deps: { tokens: TaskTokens; waiters: Waiters }, waiter: Waiter, output: unknown): Promise<boolean> {
  const result = await deps.tokens.succeed(waiter.taskToken, output);
  await deps.waiters.remove(waiter);
  // A gray release's canary or promotion wait may also be kept for operators (the same token): it ends with it. (A
  // deployment wait of a rolling release has no such copy: the conditional delete finds nothing.)
  if (waiter.waitsFor === 'canary' || waiter.waitsFor === 'deployment')
    await deps.waiters.remove({ ...waiter, waitsFor: ABORTABLE_WAITS[waiter.waitsFor] });
  return result === 'answered';
}
