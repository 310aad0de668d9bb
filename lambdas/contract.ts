/**
 * The contract between the state machine definition (lib/), the Lambda steps (lambdas/) and the local run (local/).
 * Everything a Choice state routes on, a Retry/Catch matches or a Pass state reads is named here once.
 */
import * as z from 'zod';

/** Environments a service can run in. Development tags never reach `production`. */
export const ENVIRONMENTS = ['production', 'staging', 'development'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** An image digest as ECR writes it: the only way an image is named once it has been checked. */
export const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * The signers a service trusts (its catalog entry's `trust`). Any `threshold` distinct trusted signers must have signed
 * the pushed digest; with the default of 1, one valid signature from any of them is enough (e.g. during key rotation).
 */
export const trustSchema = z
  .object({
    /** PEM-encoded public keys (SPKI): EC P-256 / P-384 or RSA ≥ 2048 bits. */
    publicKeys: z.array(z.string().min(1)),
    /** KMS asymmetric signing keys: key ARN, alias name (`alias/release-signing`) or alias ARN. */
    kmsKeys: z.array(z.string().min(1)),
    /** AWS Signer signing profile ARNs (`arn:aws:signer:<region>:<account>:/signing-profiles/<name>`) or profile version ARNs. */
    signingProfiles: z.array(z.string().min(1)),
    /** How many distinct trusted signers must have signed. */
    threshold: z.number().int().positive(),
    /** How long to wait for a signature that has not arrived yet (pushed after the image, or ECR still signing). 0: no wait. */
    lateSignatureSeconds: z.number().int().nonnegative(),
    /** Time between two looks for a late signature. */
    signaturePollSeconds: z.number().int().positive(),
  })
  .refine((trust) => trust.publicKeys.length + trust.kmsKeys.length + trust.signingProfiles.length >= trust.threshold, {
    message: 'threshold is more than the number of trusted signers',
    path: ['threshold'],
  });
export type Trust = z.infer<typeof trustSchema>;

/**
 * One configured service, as the Lambda steps see it (the functions that read the catalog carry an array of
 * these). The CDK app builds it from the configuration file; key files are already read into PEM text.
 */
export const catalogEntrySchema = z.object({
  /** Logical name used in alerts, logs and the execution output. */
  name: z.string().min(1),
  environment: z.enum(ENVIRONMENTS),
  /** ECR repository name, e.g. `models/sentiment`. */
  repositoryName: z.string().min(1),
  cluster: z.string().min(1),
  /** ECS service name inside the cluster. */
  service: z.string().min(1),
  /** Name of the container in the task definition whose image is replaced. */
  container: z.string().min(1),
  /** The task definition family the pipeline may register revisions of (the service's own). */
  taskDefinitionFamily: z.string().min(1),
  /**
   * The IAM roles the service's task definition may name, which the pipeline may pass to ECS when it registers a
   * revision (IAM allows iam:PassRole on these only). null: the task definition must name no such role.
   */
  taskRoleArn: z.string().min(1).nullable(),
  executionRoleArn: z.string().min(1).nullable(),
  /** Who may sign images for this service, and how many of them must have. */
  trust: trustSchema,
  health: z.object({
    /** How long a rollout (and, separately, a rollback) may take to become healthy. */
    deadlineSeconds: z.number().int().positive(),
    /** Time between two health checks. */
    pollSeconds: z.number().int().positive(),
    /** CloudWatch alarms that must be OK before a release counts as healthy. */
    alarms: z.array(z.string().min(1)),
  }),
});
export type CatalogEntry = z.infer<typeof catalogEntrySchema>;
export const serviceCatalogSchema = z.array(catalogEntrySchema);
export type ServiceCatalog = z.infer<typeof serviceCatalogSchema>;

/** The part of the ECR push event the pipeline reads (full shape in shared/samples/events/ecr-image-push.json). */
export const ecrPushEventSchema = z.object({
  /** `aws.ecr` for a push; the operator's rollback and the reconciliation start executions with events of their own (START_EVENTS). */
  source: z.string().optional(),
  account: z.string(),
  region: z.string(),
  detail: z.object({
    'repository-name': z.string().min(1),
    'image-digest': z.string().regex(SHA256_DIGEST, 'expected sha256:<64 hex characters>'),
    'image-tag': z.string().min(1),
    /** Rollback requests only: who asked, and why (recorded in the ledger). */
    'requested-by': z.string().min(1).optional(),
    reason: z.string().optional(),
  }),
});
export type EcrPushEvent = z.infer<typeof ecrPushEventSchema>;

/** Why an execution started: an ECR push, an operator's `model-rollout rollback`, or the reconciliation of a missed push. */
export const TRIGGERS = ['push', 'rollback', 'reconciliation'] as const;
export type TriggerKind = (typeof TRIGGERS)[number];

/**
 * The events that start an execution. All carry the ECR push event's `detail` fields (repository-name, image-digest,
 * image-tag); `source` says which trigger it is.
 */
export const START_EVENTS = {
  push: { source: 'aws.ecr', detailType: 'ECR Image Action' },
  rollback: { source: 'model-rollout.operator', detailType: 'Model Rollout Rollback Requested' },
  reconciliation: { source: 'model-rollout.reconciliation', detailType: 'Model Rollout Missed Push' },
} as const satisfies Record<TriggerKind, { source: string; detailType: string }>;

/**
 * A start event as EventBridge delivers it: the envelope (`version`, `id`, `detail-type`, `source`, `account`, `time`,
 * `region`, `resources`) of the trigger's kind around the image's `detail`.
 */
export function startEvent<Detail extends Record<string, string>>(
  kind: TriggerKind,
  envelope: { id: string; account: string; region: string; time: string },
  detail: Detail,
) {
  const { source, detailType } = START_EVENTS[kind];
  return {
    version: '0',
    id: envelope.id,
    'detail-type': detailType,
    source,
    account: envelope.account,
    time: envelope.time,
    region: envelope.region,
    resources: [] as string[],
    detail,
  };
}

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

/** How a signature was stored and what it is made of. */
export const SIGNATURE_FORMATS = {
  /** cosign key signature, legacy layout: `sha256-<hex>.sig` tag holding simple-signing payloads. */
  cosign: 'cosign-simple-signing',
  /** cosign v3 / Sigstore bundle (DSSE envelope over an in-toto statement), an OCI 1.1 referrer of the image. */
  sigstoreBundle: 'sigstore-bundle',
  /** Notation signature (AWS Signer, incl. ECR managed signing), JWS envelope, an OCI 1.1 referrer. */
  notationJws: 'notation-jws',
  /** Notation signature, COSE_Sign1 envelope. */
  notationCose: 'notation-cose',
} as const;
export type SignatureFormat = (typeof SIGNATURE_FORMATS)[keyof typeof SIGNATURE_FORMATS];

/** The kinds of trusted signer, as evidence names them. */
export type SignerKind = 'public-key' | 'kms-key' | 'signing-profile';

/** Why an image was trusted: one entry per valid signature by a distinct trusted signer. */
export interface SignatureEvidence {
  format: SignatureFormat;
  signer: {
    kind: SignerKind;
    /** public-key: `sha256:<hex>` of the key's SPKI DER; kms-key: the key ARN; signing-profile: the profile ARN trusted. */
    id: string;
    /** Extra detail where the format has it (Notation: the signing profile version ARN and signing job ARN). */
    detail?: string;
  };
  /** Digest of the signature artifact (the signature manifest / referrer manifest), so it can be found in ECR. */
  signatureDigest: string;
  /** When the signature says it was made (Notation's authentic signing time); null where the format does not say. */
  signedAt: string | null;
}

/** Why an image is rejected; the same words `model-rollout verify` prints. */
export const REJECTION_CODES = [
  'unsigned',
  'untrusted-signer',
  'invalid-signature',
  'digest-mismatch',
  'identity-mismatch',
  'revoked',
  'expired',
] as const;
export type RejectionCode = (typeof REJECTION_CODES)[number];

export type SignatureCode =
  | 'verified'
  /** No signature yet, but the wait for a late signature (or for ECR managed signing) has not run out. */
  | 'pending'
  | RejectionCode
  /** Set by the state machine when the verify step itself failed: nothing was proven, so the image is rejected. */
  | 'verification-error';

/** Output of "Verify image signature" (at `$.signature`). */
export interface SignatureResult {
  verdict: 'verified' | 'rejected' | 'pending';
  code: SignatureCode;
  /** One sentence an operator can act on. */
  reason: string;
  /** The digest that was verified: always the pushed digest. */
  digest: string;
  /** The valid signatures by distinct trusted signers that were counted (verified: at least `threshold`). */
  evidence: SignatureEvidence[];
  checkedAt: string;
  /** pending only: when the wait for a signature ends (then the image is rejected as unsigned). */
  waitUntil: string | null;
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
}
export type HealthVerdict = 'healthy' | 'progressing' | 'unhealthy';
/** Output at `$.health` (or `$.rollbackHealth`). */
export interface HealthResult {
  verdict: HealthVerdict;
  reason: string;
  checkedAt: string;
}

/**
 * Outcome statuses, as published in alerts, written to the ledger and returned as the execution output. Severity
 * `none` is published on the bus but routed to no alert topic (a duplicate event is not news).
 */
export const OUTCOMES = {
  succeeded: { status: 'succeeded', severity: 'info' },
  rejected: { status: 'rejected', severity: 'warning' },
  deploymentFailed: { status: 'deployment-failed', severity: 'warning' },
  rolledBack: { status: 'rolled-back', severity: 'warning' },
  rollbackFailed: { status: 'rollback-failed', severity: 'critical' },
  /** A higher version arrived while this one waited for the service: not deployed, not a failure, not alerted. */
  superseded: { status: 'superseded', severity: 'none' },
  /** The digest is already handled, in progress or running: nothing to do. */
  duplicate: { status: 'duplicate', severity: 'none' },
} as const;
export type OutcomeStatus = (typeof OUTCOMES)[keyof typeof OUTCOMES]['status'];
/** Alert severities, one SNS topic each. */
export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];
export type OutcomeSeverity = Severity | 'none';

/** The alert event every execution publishes once (EventBridge `source` and `detail-type`). */
export const ALERT_EVENT = { source: 'model-rollout', detailType: 'Model Rollout Outcome' } as const;

/** Error names of the Fail states that end an execution; the execution-status alert rule skips these (already alerted). */
export const TERMINAL_ERRORS = {
  rejectedByPolicy: 'ReleaseRejectedByPolicy',
  signatureRejected: 'SignatureRejected',
  deploymentFailed: 'DeploymentFailed',
  rolledBack: 'ReleaseRolledBack',
  rollbackFailed: 'RollbackFailed',
  /** Refused by the ledger: a quarantined digest, or a rollback to a version that never succeeded. */
  refused: 'ReleaseRefused',
} as const;

// ---- The deployment ledger (DynamoDB). One table; every item of a service shares the partition `SERVICE#<name>`.

/** Key schema of the ledger table, shared by the CDK table, the adapter and the DynamoDB the tests start. */
export const LEDGER_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Sparse index: deployment records by the execution that made them (the crash finaliser looks them up here). */
  executionIndex: { name: 'byExecution', partitionKey: 'executionArn' },
} as const;

/** Statuses a deployment passes through before its outcome. */
export const IN_PROGRESS_STATUSES = ['received', 'waiting', 'deploying'] as const;
/** Ends of executions that never recorded an outcome (set by the finaliser from the execution status event). */
export const CRASH_STATUSES = ['execution-failed', 'execution-timed-out', 'execution-aborted'] as const;
export type DeploymentStatus = (typeof IN_PROGRESS_STATUSES)[number] | OutcomeStatus | (typeof CRASH_STATUSES)[number];

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

/** How long between two attempts to take the service lock. */
export const LOCK_POLL_SECONDS = 30;

/** The version a rollback returns to (newest succeeded, not quarantined); null when the ledger knows none. */
export interface LastKnownGood {
  tag: string;
  digest: string;
  taskDefinitionArn: string;
  succeededAt: string;
}

/** A release of the service that the ledger records as failed after it changed the service: no rollback returns to it. */
export interface KnownBadRelease {
  tag: string;
  digest: string;
  /** How the ledger knows: its deployment ended rolled-back or rollback-failed, or the digest is quarantined. */
  outcome: 'rolled-back' | 'rollback-failed' | 'quarantined';
  at: string;
}

/** Output of "Take the service lock" (at `$.turn`). */
export interface TurnResult {
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
