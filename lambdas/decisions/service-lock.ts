/**
 * One rollout per service, latest version wins. A verified release waits until the service lock is free; meanwhile,
 * a higher version (by the release policy's ordering, not arrival) that is waiting, deploying or has just succeeded
 * supersedes it. Pure: the step reads the ledger, this decides; the lock itself is a conditional write.
 */
import type { DeploymentRecord, ServiceLock } from '../contract/ledger-records';
import type { TriggerKind } from '../contract/start-events';
import type { LastKnownGood } from '../contract/steps';
import { compareReleaseTags, parseReleaseTag } from './tag-policy';
import { STALE_AFTER_SECONDS } from './time-budget';

export interface Candidate {
  executionArn: string;
  tag: string;
  trigger: TriggerKind;
  receivedAt: string;
}

export interface LockInput {
  me: Candidate;
  /** The service's other deployment records (any status). */
  others: Pick<DeploymentRecord, 'executionArn' | 'tag' | 'status' | 'finishedAt' | 'receivedAt'>[];
  lock: ServiceLock | null;
  now: Date;
  /**
   * After how long a waiting or deploying record belongs to an execution that ended without being finalised: the
   * longest a release of the service can run (time-budget.ts `digestClaimSeconds`), so that a release waiting for days
   * behind a gray release still counts. @default STALE_AFTER_SECONDS
   */
  staleAfterSeconds?: number;
}

export type LockDecision =
  | { verdict: 'take-lock'; reason: string }
  | { verdict: 'wait'; reason: string }
  | { verdict: 'superseded'; reason: string; by: string };

export function decideLock({ me, others, lock, now, staleAfterSeconds }: LockInput): LockDecision {
  const higher = higherRelease(me, others, now, staleAfterSeconds);
  if (higher) {
    const what = higher.status === 'succeeded' ? 'was deployed' : higher.status === 'deploying' ? 'is being deployed' : 'is waiting too';
    return {
      verdict: 'superseded',
      by: higher.executionArn,
      reason: `${higher.tag} ${what} (execution ${higher.executionArn}) and ranks above ${me.tag}, so ${me.tag} is not deployed.`,
    };
  }
  if (lock && heldByAnother(lock, me.executionArn, now)) {
    return {
      verdict: 'wait',
      reason: `${lock.holder.tag} (execution ${lock.holder.executionArn}) is changing the service; its lease runs until ${lock.expiresAt}.`,
    };
  }
  const free = !lock
    ? 'the service is free'
    : lock.holder.executionArn === me.executionArn
      ? 'this execution holds the lock'
      : `the lease of ${lock.holder.executionArn} expired at ${lock.expiresAt}`;
  return { verdict: 'take-lock', reason: `${me.tag} goes ahead: ${free}.` };
}

/**
 * Whether the lock keeps `me` (an execution; null: anyone) waiting: someone else holds it and its lease has not run
 * out. A crashed holder's lock is free once its lease ran out.
 */
export function heldByAnother(lock: ServiceLock | null, me: string | null, now: Date): boolean {
  return lock !== null && lock.holder.executionArn !== me && new Date(lock.expiresAt) > now;
}

/**
 * A release of the service that ranks above `me` (by the release policy's ordering, not arrival) and is waiting or
 * deploying (not stale), or was deployed since `me` arrived; null when there is none, or when `me` is an operator's
 * rollback, an explicit choice of version that is never superseded by rank.
 */
export function higherRelease(
  me: Candidate,
  others: LockInput['others'],
  now: Date,
  staleAfterSeconds: number = STALE_AFTER_SECONDS,
): LockInput['others'][number] | null {
  if (me.trigger === 'rollback') return null;
  const mine = parseReleaseTag(me.tag);
  const higher = others.find((other) => {
    if (other.executionArn === me.executionArn) return false;
    const theirs = parseReleaseTag(other.tag);
    if (!mine || !theirs || compareReleaseTags(theirs, mine) <= 0) return false;
    if (other.status === 'waiting' || other.status === 'deploying') {
      return now.getTime() - new Date(other.receivedAt).getTime() < staleAfterSeconds * 1000;
    }
    // Deployed while this one waited: going on would be a downgrade.
    return other.status === 'succeeded' && other.finishedAt !== null && other.finishedAt >= me.receivedAt;
  });
  return higher ?? null;
}

/** The newest succeeded deployment whose digest is not quarantined: where a rollback goes. */
export function lastKnownGood(
  records: Pick<DeploymentRecord, 'status' | 'tag' | 'digest' | 'taskDefinitionAfter' | 'finishedAt'>[],
  quarantinedDigests: ReadonlySet<string>,
): LastKnownGood | null {
  const good = records
    .filter((r) => r.status === 'succeeded' && r.taskDefinitionAfter && r.finishedAt && !quarantinedDigests.has(r.digest))
    .sort((a, b) => (a.finishedAt! < b.finishedAt! ? 1 : a.finishedAt! > b.finishedAt! ? -1 : 0));
  const newest = good[0];
  return newest
    ? { tag: newest.tag, digest: newest.digest, taskDefinitionArn: newest.taskDefinitionAfter!, succeededAt: newest.finishedAt! }
    : null;
}

/**
 * Whether a release that starts waiting for the service gives way to nobody but supersedes the holder, which waits for
 * approval before its first step (nothing changed yet): it ranks above it, and the holder is no operator's rollback.
 */
export function supersedesApprovalWait(me: Pick<Candidate, 'tag'>, holder: { tag: string; trigger?: Candidate['trigger'] }): boolean {
  if (holder.trigger === 'rollback') return false;
  const mine = parseReleaseTag(me.tag);
  const theirs = parseReleaseTag(holder.tag);
  return mine !== null && theirs !== null && compareReleaseTags(mine, theirs) > 0;
}
