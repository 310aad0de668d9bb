/**
 * Executions waiting on their service, as the event-driven waits keep them. Declared here, where it is used;
 * `adapters/ledger-waiters.ts` implements it in the ledger table.
 */
import type { Waiter } from '../../contract/ledger-records';

/** events: the waits an AWS event ends (health, lock, signature); operators: those an operator answers (approvals, bakes). */
export type WaiterScope = 'all' | 'events' | 'operators';

export interface Waiters {
  /** Stores the waiter, replacing one of the same execution and state. */
  put(waiter: Waiter): Promise<void>;
  /** The service's waiters whose wait has not ended by `now`, oldest first: all, or those of one scope. */
  waitingOn(service: string, now: string, scope?: WaiterScope): Promise<Waiter[]>;
  /** Deletes the waiter if it still holds `taskToken` (a newer wait of the same state is kept); false when it did not. */
  remove(waiter: Pick<Waiter, 'service' | 'executionArn' | 'state' | 'waitsFor' | 'taskToken'>): Promise<boolean>;
  /**
   * Notes that an ECR push that may have brought a signature reached the service's repository at `pushedAt` (the last
   * one only): a wait for a signature that starts after it, from a look before it, is answered at once.
   */
  noteSignaturePush(service: string, pushedAt: string): Promise<void>;
  /** When the last such push was noted; null when none was (or it expired). */
  lastSignaturePush(service: string): Promise<string | null>;
}
