/** The deployment ledger's records (DynamoDB): deployment records, digests, release tags, the service lock. */
import type { Environment } from './catalog';
import type { OutcomeStatus } from './outcomes';
import type { SignatureCode, SignatureEvidence } from './signature';
import type { Trigger } from './steps';

// ---- The deployment ledger (DynamoDB). One table; every item of a service shares the partition `SERVICE#<name>`.

/** Key schema of the ledger table, shared by the CDK table, the adapter and the DynamoDB the tests start. */
export const LEDGER_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Sparse index: deployment records by the execution that made them (the crash finaliser looks them up here). */
  executionIndex: { name: 'byExecution', partitionKey: 'executionArn' },
  /** Epoch seconds after which DynamoDB may delete the item (waiters only: a task token is kept no longer than needed). */
  timeToLive: 'ttl',
} as const;

/** Statuses a deployment passes through before its outcome. */
export const IN_PROGRESS_STATUSES = ['received', 'waiting', 'deploying'] as const;
/**
 * Each way an execution can end without recording an outcome (its Step Functions status), and the ledger status the
 * crash finaliser records for it. The finaliser's rule matches exactly these statuses.
 */
export const CRASH_STATUS_OF = { FAILED: 'execution-failed', TIMED_OUT: 'execution-timed-out', ABORTED: 'execution-aborted' } as const;
/** Ends of executions that never recorded an outcome (set by the finaliser from the execution status event). */
export const CRASH_STATUSES = Object.values(CRASH_STATUS_OF);
export type DeploymentStatus =
  | (typeof IN_PROGRESS_STATUSES)[number]
  | OutcomeStatus
  | (typeof CRASH_STATUS_OF)[keyof typeof CRASH_STATUS_OF];

/** Identifies one deployment record: `SERVICE#<service>` / `DEPLOYMENT#<receivedAt>#<execution name>`. */
export interface DeploymentKey {
  service: string;
  sk: string;
}

export interface StatusChange {
  status: DeploymentStatus;
  at: string;
  reason: string;
}

/** One deployment decision, as the ledger keeps it: what arrived, what was decided, why, and what ECS ran before and after. */
export interface DeploymentRecord {
  key: DeploymentKey;
  service: string;
  environment: Environment;
  repository: string;
  tag: string;
  digest: string;
  trigger: Trigger;
  executionArn: string;
  receivedAt: string;
  status: DeploymentStatus;
  /** true once the status is an outcome or a crash status: nothing changes it any more. */
  final: boolean;
  /** The latest status change's reason. */
  reason: string;
  /** The Fail state's error name of the outcome (null for succeeded, superseded, duplicate and in-progress records). */
  error: string | null;
  /** Every status change, oldest first. */
  history: StatusChange[];
  /** When the record got the service lock (deploying); null until then. */
  lockedAt: string | null;
  finishedAt: string | null;
  /** The signature check: its code and the evidence counted; null until checked. */
  signature: { code: SignatureCode; evidence: SignatureEvidence[] } | null;
  taskDefinitionBefore: string | null;
  /** What the service runs after the outcome: the new revision, the rollback target, or the one before when unchanged. */
  taskDefinitionAfter: string | null;
  /** Labels of the image config (org.opencontainers.image.version, model_id, training_data_version, accuracy, created_at…). */
  model: Record<string, string>;
  /** A gray release under way: where it stands, as its last analysis wrote it (`model-rollout status` reads it). */
  grayProgress?: GrayProgressNote;
}

/** A gray release's step and last analysis, on its deployment record. */
export interface GrayProgressNote {
  step: number;
  of: number;
  /** Percent of the requests on the canary. */
  weight: number;
  stepStartedAt: string;
  bakeEndsAt: string;
  analysis: { verdict: string; decision: string; reason: string; at: string };
}

/** What the ledger knows about one digest of a service: `SERVICE#<service>` / `DIGEST#<digest>`. */
export interface DigestRecord {
  service: string;
  digest: string;
  /** Every tag it arrived under. */
  tags: string[];
  firstSeenAt: string;
  /** The execution handling it now (received, waiting or deploying) and until when that claim holds; null when none. */
  claim: { executionArn: string; until: string } | null;
  /** Its last succeeded deployment; null when it never succeeded. */
  succeeded: { at: string; tag: string; executionArn: string; taskDefinitionArn: string } | null;
  /** Set when a deployment of it was rolled back: not deployed automatically again until an operator releases it. */
  quarantine: { at: string; reason: string; executionArn: string; tag: string } | null;
  /** The last release from quarantine, kept for the record. */
  released: { at: string; by: string; reason: string | null } | null;
}

/**
 * Which image a release or hotfix tag names for a service: `SERVICE#<service>` / `TAG#<tag>`, written once, by the
 * first verified release that took the service under the tag ("Take the service lock"), and never changed: release
 * tags are immutable releases.
 */
export interface TagRecord {
  service: string;
  tag: string;
  digest: string;
  firstSeenAt: string;
  /** The execution that bound the tag. */
  executionArn: string;
}

/** The service lock: `SERVICE#<service>` / `LOCK`. At most one execution changes a service while it holds an unexpired lease. */
export interface ServiceLock {
  service: string;
  holder: { executionArn: string; key: DeploymentKey; tag: string };
  acquiredAt: string;
  /** When the lease runs out: a crashed holder's lock is free from then on. */
  expiresAt: string;
}

/** Output of "Record the release in the ledger" (at `$.ledger`). */
export interface LedgerAdmission {
  /** null when the repository is not configured (nothing to record it under). */
  key: DeploymentKey | null;
  /** rejected: the tag policy, once the ledger is consulted, rejects the release (its tag already names another image). */
  verdict: 'admitted' | 'duplicate' | 'refused' | 'superseded' | 'rejected' | 'not-checked';
  code:
    | 'admitted'
    | 'duplicate'
    | 'already-running'
    | 'quarantined'
    | 'rollback-target-not-good'
    | 'superseded'
    | 'release-tag-reused'
    | 'policy-rejected';
  reason: string;
}

/** What an execution can wait for with a task token: the wake function re-reads the matching state to judge an event. */
export const WAIT_KINDS = ['deployment', 'rollback', 'canary', 'approval', 'bake', 'scaling', 'promoting', 'signature', 'lock'] as const;
export type WaitKind = (typeof WAIT_KINDS)[number];

/**
 * An execution waiting for something to happen to its service (`SERVICE#<service>` / `WAITER#<execution>#<state>`; a
 * wait an operator answers in `OPERATOR-WAITS#<service>`, the partition an operator's role may read): the
 * task token the wake function answers once the real state says the wait is over. One per execution and Task state; a
 * new token for the same wait (after its Task timed out and checked once) replaces the old one. The token is a secret
 * (whoever holds it can end the wait): the table is encrypted with the ledger's key, and the item expires.
 */
export interface Waiter {
  service: string;
  executionArn: string;
  /** The Task state that waits. */
  state: string;
  waitsFor: WaitKind;
  taskToken: string;
  /** What the wake function needs to judge whether the wait is over, e.g. the health check's input. */
  check: Record<string, unknown>;
  since: string;
  /** The wait's own end (its Task's timeout): after it the waiter is ignored, and DynamoDB deletes it later. */
  expiresAt: string;
}
