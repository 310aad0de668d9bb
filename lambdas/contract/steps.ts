/** What each Lambda step of the state machine takes and returns: the execution state its result becomes part of. */
import type { ProbeFinding } from '../decisions/step-analysis';
import type { CatalogEntry, Environment } from './catalog';
import type { TriggerKind } from './start-events';

export interface Trigger {
  kind: TriggerKind;
  /** rollback: the operator (their AWS identity or --requested-by); otherwise null. */
  requestedBy: string | null;
  /** rollback: the operator's reason; otherwise null. */
  reason: string | null;
}

/** What is being released: the pushed image, pinned by digest. */
export interface Release {
  repositoryName: string;
  /** `<account>.dkr.ecr.<region>.amazonaws.com/<repository>` */
  repositoryUri: string;
  tag: string;
  digest: string;
  /** `<repositoryUri>@<digest>`: the only image reference the deploy uses. */
  imageUri: string;
}

/** The service being changed. `null` fields when the repository is not configured (the release is then rejected). */
export interface Subject {
  service: string | null;
  environment: Environment | null;
  repository: string;
  tag: string;
  digest: string;
}

export type PolicyCode =
  | 'accepted'
  | 'repository-not-configured'
  | 'invalid-tag'
  | 'development-tag-in-production'
  | 'downgrade'
  | 'deployment-controller-not-ecs'
  /** A release or hotfix tag that already named another image for the service (decided with the ledger). */
  | 'release-tag-reused';

/** Output of "Check release against policy"; becomes the execution state from then on. */
export interface ReleaseCheckResult {
  subject: Subject;
  trigger: Trigger;
  release: Release;
  /** Present (non-null) when the repository is configured. */
  service: CatalogEntry | null;
  /** What the service runs now, before anything changes. `version` and `digest` are null when they cannot be told. */
  running: { taskDefinitionArn: string; version: string | null; digest: string | null } | null;
  policy: { verdict: 'accepted' | 'rejected'; code: PolicyCode; reason: string };
}

/** Output of "Register new task definition revision" (at `$.deployment`). */
export interface RegisteredRevision {
  /** The task definition the service ran before the update. */
  previousTaskDefinitionArn: string;
  /** What that revision runs, as the pipeline's tags on it (or its image reference) say; null when they cannot tell. */
  previous: { version: string | null; digest: string | null };
  newTaskDefinitionArn: string;
  /**
   * Where a rollback goes: the last known good deployment's revision, or the previous one when the ledger knows none
   * and has no record that the previous one's release failed; null when there is no good version to return to.
   */
  rollbackTaskDefinitionArn: string | null;
  /** Which version that is, how it was chosen, and why (source `none`: why no version is good to return to). */
  rollbackTarget: {
    version: string | null;
    digest: string | null;
    source: 'last-known-good' | 'previous-revision' | 'none';
    reason: string;
  };
}

/** Input of "Update service to new revision" and "Roll back to previous revision" (same handler). */
export interface UpdateServiceInput {
  service: CatalogEntry;
  /** The revision to run; null for a rollback when no good version is known (it then only looks at the service). */
  taskDefinitionArn: string | null;
  /**
   * Why the update happens; the rollback passes the failure that caused it. `updateUncertain`: the failure came from
   * the update of the release itself, which may not have reached the service.
   */
  failure?: { Error?: string; Cause?: string; updateUncertain?: boolean };
  /** The rollback: the release's revision, to tell whether the failed update ever reached the service. */
  releasedTaskDefinitionArn?: string;
}
/**
 * What the step did: `updated` the service; found it `already-running` the task definition (ECS rolled back to it
 * itself, so no competing update); or, rolling back after an update that failed, found the release `unchanged`: it
 * never reached the service, there is nothing to roll back.
 */
/** `no-target`: a rollback with no known good version to go to changed nothing; its reason says what the service runs. */
export type UpdateAction = 'updated' | 'already-running' | 'unchanged' | 'no-target';
/** Output at `$.rollout` (or `$.rollback`). */
export interface UpdateServiceResult {
  action: UpdateAction;
  taskDefinitionArn: string | null;
  startedAt: string;
  /** ISO time after which a service that is not yet healthy counts as unhealthy. */
  deadline: string;
  /** How long the health wait waits for an event before it looks itself (decisions/time-budget.ts). */
  recheckSeconds: number;
  /** Human sentence: why this update happened (for a rollback: what failed). */
  reason: string;
}

/** Input of "Check service health" and "Check rolled-back service health" (same handler). */
export interface CheckHealthInput {
  service: CatalogEntry;
  taskDefinitionArn: string;
  deadline: string;
  /** When the update being judged started: alarms already in ALARM before it do not fail the release at once. */
  updateStartedAt?: string;
  /** false during a rollback: alarms raised by the bad release may take minutes to clear. */
  checkAlarms: boolean;
  /** The ECS service judged, in the entry's cluster, when it is not the entry's own: a gray release's canary service. */
  ecsService?: string;
}
/**
 * Input of an event-driven health wait ("Wait for …" Task states that wait for a task token): the health check's input,
 * and who waits. The Task ends when the function answers the token with a HealthResult that is no longer progressing,
 * at once or on an ECS deployment or alarm event; after `timeoutSeconds` the state machine checks once itself.
 */
export interface AwaitHealthInput extends CheckHealthInput {
  /** The waiting Task's token ($$.Task.Token). */
  taskToken: string;
  executionArn: string;
  /** The waiting Task state's name. */
  waitingState: string;
  /** canary: a gray release's canary service, scaled for its next step. */
  waitsFor: 'deployment' | 'rollback' | 'canary';
  /** The Task's own timeout: the waiter is ignored after it. */
  timeoutSeconds: number;
  /**
   * A gray release's wait an operator may abort (its canary scaling for a step, its promotion): the wait is then also
   * kept where operators find it (a waiter of kind ABORTABLE_WAITS[waitsFor] holding the same token), with the
   * release's progress (`$.gray`: the step traffic is on, null before the first, and the step the canary scales for,
   * null at promotion), `tag` and `trigger`.
   */
  abortable?: boolean;
  gray?: { step: { number: number; of: number; weight: number } | null; next: { number: number; of: number; weight: number } | null };
  tag?: string;
  trigger?: TriggerKind;
}

export type HealthVerdict = 'healthy' | 'progressing' | 'unhealthy';
/** Output at `$.health` (or `$.rollbackHealth`). */
export interface HealthResult {
  verdict: HealthVerdict;
  reason: string;
  checkedAt: string;
}

/**
 * How long a release waiting for the service lock waits for the holder's end to wake it before it tries again itself:
 * the holder's "Wake the releases waiting for the service" answers the wait as soon as its outcome freed the lock, and
 * the wait looks once after storing its waiter; this bounds what a lost wake-up (a crashed holder the finaliser freed,
 * a lease that ran out) costs. An hour: a wait behind a gray release of two weeks takes about 340 looks (some 4,500
 * history events), leaving the waiting release's own plan (up to 1,000 analyses) within Step Functions' 25,000.
 */
export const LOCK_RECHECK_SECONDS = 3600;

/** "Wait for the service to be free" (function await-health): the service's lock, waited for with a task token. */
export interface AwaitLockInput {
  service: CatalogEntry;
  /** The waiting release: one ranking above a holder that waits for approval before its first step supersedes it. */
  tag: string;
  taskToken: string;
  executionArn: string;
  waitingState: string;
  waitsFor: 'lock';
  timeoutSeconds: number;
}

/**
 * "Wait for the signature to arrive" (function await-health): a signature not there yet, waited for with a task token
 * until an ECR push that may bring it (or `timeoutSeconds`, the service's `signing.pollSeconds`, when none came).
 */
export interface AwaitSignatureInput {
  service: CatalogEntry;
  /** The image whose signature is awaited. */
  digest: string;
  /** When "Verify image signature" last looked: a push since then answers the wait as soon as it starts. */
  checkedAt: string;
  taskToken: string;
  executionArn: string;
  waitingState: string;
  waitsFor: 'signature';
  timeoutSeconds: number;
}

/** "Wake the releases waiting for the service" (function await-health): after an outcome freed the service's lock. */
export interface WakeLockWaitersInput {
  wake: 'lock-waiters';
  /** null for a release of a repository no service is configured for: nothing to wake. */
  service: string | null;
}

/** The version a rollback returns to (newest succeeded, not quarantined); null when the ledger knows none. */
export interface LastKnownGood {
  tag: string;
  digest: string;
  taskDefinitionArn: string;
  succeededAt: string;
}

/** How the ledger knows a release is bad. */
export const KNOWN_BAD_OUTCOMES = ['rolled-back', 'rollback-failed', 'quarantined'] as const;

/** A release of the service that the ledger records as failed after it changed the service: no rollback returns to it. */
export interface KnownBadRelease {
  tag: string;
  digest: string;
  /** How the ledger knows: its deployment ended rolled-back or rollback-failed, or the digest is quarantined. */
  outcome: (typeof KNOWN_BAD_OUTCOMES)[number];
  at: string;
}

/** Output of "Take the service lock" (at `$.lock`). */
export interface LockResult {
  /** rejected: the release tag was bound to another verified image meanwhile (the lock was taken, and is freed with the outcome). */
  verdict: 'acquired' | 'wait' | 'superseded' | 'rejected';
  reason: string;
  /** acquired: the rollback target the ledger knows. */
  lastKnownGood: LastKnownGood | null;
  /**
   * acquired without a last known good: the releases the ledger knows failed (newest first, at most
   * MAX_KNOWN_BAD_RELEASES), which the fallback rollback to the previous revision must not return to. Otherwise empty:
   * the rollback goes to the last known good.
   */
  knownBad: KnownBadRelease[];
}

/** Output at `$.probe` ("Probe the canary's health endpoint"): the finding the next analysis judges, and how many tasks were asked. */
export interface ProbeResult extends ProbeFinding {
  targets: number;
}
