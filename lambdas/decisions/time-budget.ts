/**
 * The pipeline's time budget, in one place: how long one release may hold its service's lock, how long its digest stays
 * claimed, how long its execution may run at most, and when a record left behind no longer counts. The first three are
 * derived from the services' health deadlines and signature waits; the last is a fixed day, longer than any of them.
 * The default execution timeout can exceed a service's digest claim (by 15 minutes less two poll intervals when that
 * service sets the longest wait, lease and deadline): a claim that runs out while its execution still runs would let
 * another delivery of the same digest be admitted (a known gap, left as it was).
 */
import type { CatalogEntry } from '../contract/catalog';

/**
 * How long a lock is held at most: a rollout and a rollback, each until its health deadline, with room for the steps
 * around them. A crashed holder's lease runs out after this.
 */
export function leaseSeconds(health: { deadlineSeconds: number; pollSeconds: number }): number {
  return 2 * (health.deadlineSeconds + health.pollSeconds) + 15 * 60;
}

/** How many times at most a health wait looks at the service itself, when no event woke it, before its deadline. */
export const HEALTH_RECHECKS = 4;

/**
 * How long a health wait waits for an ECS or alarm event before it looks at the service itself: a quarter of the
 * deadline, at least a minute. A lost event (or one whose re-read ECS's eventual consistency made too early) then costs
 * at most this long, and a wait costs at most HEALTH_RECHECKS looks however long ECS takes.
 */
export function healthRecheckSeconds(deadlineSeconds: number): number {
  return Math.max(60, Math.ceil(deadlineSeconds / HEALTH_RECHECKS));
}

/**
 * How long an admitted release's digest stays claimed (the outcome or the crash finaliser releases it sooner): the
 * longest execution — the wait for a signature, a lease spent waiting for the service, and this release's own lease.
 */
export function digestClaimSeconds(service: Pick<CatalogEntry, 'signing' | 'health'>): number {
  return service.signing.lateSignatureSeconds + 2 * leaseSeconds(service.health);
}

/**
 * The upper bound of one execution, whatever happens inside it: the longest wait for a late signature, the longest
 * service lease (waiting for the service), twice the longest health deadline (rollout, then rollback), plus 30 minutes.
 */
export function executionTimeoutSeconds(catalog: readonly Pick<CatalogEntry, 'signing' | 'health'>[]): number {
  const longestDeadline = Math.max(...catalog.map((s) => s.health.deadlineSeconds));
  const longestSignatureWait = Math.max(...catalog.map((s) => s.signing.lateSignatureSeconds));
  const longestLease = Math.max(...catalog.map((s) => leaseSeconds(s.health)));
  return longestSignatureWait + longestLease + 2 * longestDeadline + 30 * 60;
}

/**
 * A record still waiting or deploying after this long belongs to an execution that ended without being finalised (no
 * execution runs for a day): it no longer supersedes anyone.
 */
export const STALE_AFTER_SECONDS = 24 * 60 * 60;
