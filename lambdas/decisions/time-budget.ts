/**
 * The pipeline's time budget, in one place: how long one release may hold its service's lock, how long its digest stays
 * claimed, how long its execution may run at most, and when a record left behind no longer counts. The first three are
 * derived from the services' health deadlines and signature waits; the last is a fixed day, longer than any of them.
 * The default execution timeout can exceed a service's digest claim (by 15 minutes less two poll intervals when that
 * service sets the longest wait, lease and deadline): a claim that runs out while its execution still runs would let
 * another delivery of the same digest be admitted (a known gap, left as it was).
 */
import type { CatalogEntry } from '../contract/catalog';
import type { ReleaseStrategy } from '../contract/release-strategy';
import { MAX_DRAIN_SECONDS } from './traffic-steps';

/** How long a Task state gives its step's function (lib/pipeline/lambda-task.ts): what one analysis adds to its interval at most. */
export const STEP_TASK_TIMEOUT_SECONDS = 60;

type Timed = { health: Pick<CatalogEntry['health'], 'deadlineSeconds' | 'pollSeconds'>; release?: ReleaseStrategy };

/**
 * How long a gray release may take at most once it holds the lock: for each step, the canary's health deadline, its
 * bake, and the analyses a step may add past its bake (every failure and inconclusive analysis it tolerates, and the
 * one that decides); every approval that may wait to its timeout, with the analyses that go on meanwhile (before the
 * first step, and one per step at most: a step that asks for one, or any step when inconclusive analyses pause it;
 * once answered, the release goes on); the standby; the promotion's health deadline; the canary's longest drain. 0 for
 * a rolling release.
 */
/** One analysis's own run beside its interval: the probe's Task and the analysis's. */
const ANALYSIS_RUN_SECONDS = 2 * STEP_TASK_TIMEOUT_SECONDS;

export function grayReleaseSeconds(service: Timed): number {
  const { release, health } = service;
  if (release?.strategy !== 'gray') return 0;
  const { failureLimit, inconclusiveLimit, intervalSeconds } = release.analysis;
  const extraAnalyses = failureLimit + inconclusiveLimit + 1;
  const steps = release.steps.reduce((sum, step) => {
    const analyses = Math.ceil(step.bakeSeconds / intervalSeconds) + extraAnalyses;
    // Each analysis also takes its own run and the probe's before it (each at most its Task's timeout,
    // STEP_TASK_TIMEOUT_SECONDS) on top of its interval.
    return sum + health.deadlineSeconds + step.bakeSeconds + analyses * ANALYSIS_RUN_SECONDS + extraAnalyses * intervalSeconds;
  }, 0);
  const { approval } = release;
  const approvals =
    (approval.beforeFirstStep ? 1 : 0) +
    (release.analysis.onInconclusive === 'pause' ? release.steps.length : release.steps.filter((s) => s.approval).length);
  const perApproval = approval.timeoutSeconds + Math.ceil(approval.timeoutSeconds / intervalSeconds) * ANALYSIS_RUN_SECONDS;
  return steps + approvals * perApproval + release.keepPreviousSeconds + health.deadlineSeconds + MAX_DRAIN_SECONDS;
}

/**
 * How long a lock is held at most: a rollout and a rollback, each until its health deadline, with room for the steps
 * around them, and a gray release's whole plan (grayReleaseSeconds). A crashed holder's lease runs out after this.
 */
export function leaseSeconds(service: Timed): number {
  const { health } = service;
  return 2 * (health.deadlineSeconds + health.pollSeconds) + 15 * 60 + grayReleaseSeconds(service);
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
export function digestClaimSeconds(service: Pick<CatalogEntry, 'signing'> & Timed): number {
  return service.signing.lateSignatureSeconds + 2 * leaseSeconds(service);
}

/**
 * The upper bound of one execution, whatever happens inside it: the longest wait for a late signature, the longest
 * service lease (waiting for the service), twice the longest health deadline (rollout, then rollback), the longest gray
 * release, plus 30 minutes. Without it, an execution could time out mid-step, its canary still taking traffic.
 */
export function executionTimeoutSeconds(catalog: readonly (Pick<CatalogEntry, 'signing'> & Timed)[]): number {
  const longestDeadline = Math.max(...catalog.map((s) => s.health.deadlineSeconds));
  const longestSignatureWait = Math.max(...catalog.map((s) => s.signing.lateSignatureSeconds));
  const longestLease = Math.max(...catalog.map((s) => leaseSeconds(s)));
  const longestGray = Math.max(...catalog.map((s) => grayReleaseSeconds(s)));
  return longestSignatureWait + longestLease + 2 * longestDeadline + longestGray + 30 * 60;
}

/**
 * A record still waiting or deploying after this long belongs to an execution that ended without being finalised: it
 * no longer supersedes anyone. The default, and what `model-rollout status` reads back; take-lock and the step analysis
 * use the service's own bound instead, `digestClaimSeconds` (the longest a release of it can run: a release may wait
 * days behind a gray release).
 */
export const STALE_AFTER_SECONDS = 24 * 60 * 60;
