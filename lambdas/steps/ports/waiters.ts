/**
 * Executions waiting on their service, as the event-driven waits keep them. Declared here, where it is used;
 * `adapters/ledger-waiters.ts` implements it in the ledger table.
 */
import type { Waiter } from '../../contract/ledger-records';

/** events: the waits an AWS event ends (health, lock, signature); operators: those an operator answers (approvals, bakes). */
export type WaiterScope = 'all' | 'events' | 'operators';

/** A push noted for the waits for a signature: when (the noting function's clock) and its tag (none: untagged). */
export interface NotedPush {
  notedAt: string;
  imageTag: string | undefined;
}

export interface Waiters {
  /** Stores the waiter, replacing one of the same execution and state. */
  put(waiter: Waiter): Promise<void>;
  /** The service's waiters whose wait has not ended by `now`, oldest first: all, or those of one scope. */
  waitingOn(service: string, now: string, scope?: WaiterScope): Promise<Waiter[]>;
  /** Deletes the waiter if it still holds `taskToken` (a newer wait of the same state is kept); false when it did not. */
  remove(waiter: Pick<Waiter, 'service' | 'executionArn' | 'state' | 'waitsFor' | 'taskToken'>): Promise<boolean>;
  /**
   * Notes that an ECR push that may have brought a signature reached the service's repository (the last one only):
   * a wait for a signature of a digest it may sign that starts after it, from a look before it, is answered at once.
   */
  noteSignaturePush(service: string, push: NotedPush): Promise<void>;
  /** The last such push noted; null when none was (or it expired). */
  lastSignaturePush(service: string): Promise<NotedPush | null>;
}
