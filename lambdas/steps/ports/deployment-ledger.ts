/**
 * The deployment ledger as the steps use it: every deployment decision, what the ledger knows about each digest, which
 * image each release tag names, and the service lock. Declared here, where it is used; `adapters/ledger.ts` implements
 * it on DynamoDB. No clock of its own: callers pass the times, all `Date#toISOString()`, which compare as text.
 */
import type {
  DeploymentKey,
  DeploymentRecord,
  DeploymentStatus,
  DigestRecord,
  GrayProgressNote,
  ServiceLock,
  StatusChange,
  TagRecord,
} from '../../contract/ledger-records';
import type { SignatureCode, SignatureEvidence } from '../../contract/signature';

/** What a new deployment record starts from: the release as it arrived, before any decision. */
export type ReceivedDeployment = Pick<
  DeploymentRecord,
  | 'service'
  | 'environment'
  | 'repository'
  | 'tag'
  | 'digest'
  | 'trigger'
  | 'executionArn'
  | 'receivedAt'
  | 'reason'
  | 'taskDefinitionBefore'
  | 'model'
>;

export interface DeploymentOutcome {
  status: DeploymentStatus;
  reason: string;
  error: string | null;
  at: string;
  taskDefinitionAfter: string | null;
  /** Left unchanged when absent. */
  signature?: { code: SignatureCode; evidence: SignatureEvidence[] } | null;
}

export type LockAttempt = { acquired: true } | { acquired: false; holder: ServiceLock | null };

export type QuarantineRelease = 'released' | 'not-quarantined' | 'unknown-digest';

export interface DeploymentLedger {
  /** Idempotent: a retried step that writes the same key gets the record as it is, unchanged. */
  recordReceived(input: ReceivedDeployment): Promise<DeploymentRecord>;
  get(key: DeploymentKey): Promise<DeploymentRecord | null>;
  /** false when the record is already final (its outcome is written; nothing changes it any more). */
  changeStatus(key: DeploymentKey, change: StatusChange, fields?: { lockedAt?: string }): Promise<boolean>;
  /** Writes the outcome and makes the record final; false when it already was. */
  finalise(key: DeploymentKey, outcome: DeploymentOutcome): Promise<boolean>;
  /** The record an execution made (the crash finaliser knows only the execution). */
  findByExecution(executionArn: string): Promise<DeploymentRecord | null>;
  /** Oldest first; `receivedSince` (inclusive) limits them to those received from then on. */
  listDeployments(service: string, options?: { receivedSince?: string }): Promise<DeploymentRecord[]>;
  /** Notes where a gray release stands on its open record; false when the record is final. */
  noteGrayProgress(key: DeploymentKey, progress: GrayProgressNote): Promise<boolean>;

  getDigest(service: string, digest: string): Promise<DigestRecord | null>;
  /** Records that the digest arrived under `tag` (first sighting kept); returns what the ledger now knows of it. */
  noteDigest(service: string, digest: string, tag: string, at: string): Promise<DigestRecord>;
  /** Claims the digest for an execution unless another execution holds an unexpired claim; true when claimed. */
  claimDigest(service: string, digest: string, claim: { executionArn: string; until: string }, now: string): Promise<boolean>;
  /** Drops the claim if this execution holds it; another execution's claim is left alone. */
  releaseDigestClaim(service: string, digest: string, executionArn: string): Promise<void>;
  markSucceeded(
    service: string,
    digest: string,
    succeeded: { at: string; tag: string; executionArn: string; taskDefinitionArn: string },
  ): Promise<void>;
  /** Keeps the digest from being deployed automatically again until an operator releases it. */
  quarantine(service: string, digest: string, quarantine: { at: string; reason: string; executionArn: string; tag: string }): Promise<void>;
  /** Lets an operator deploy a quarantined digest again. */
  releaseQuarantine(
    service: string,
    digest: string,
    released: { at: string; by: string; reason: string | null },
  ): Promise<QuarantineRelease>;
  listDigests(service: string): Promise<DigestRecord[]>;

  /** Binds `tag` to `digest` unless the ledger already knows which image it names; returns what it names now. */
  recordTag(service: string, tag: string, digest: string, at: string, executionArn: string): Promise<TagRecord>;
  /** Which image the tag names for the service; null when no release was recorded under it. */
  getTag(service: string, tag: string): Promise<TagRecord | null>;

  getLock(service: string): Promise<ServiceLock | null>;
  /** Takes the lock when free, expired or already this execution's; otherwise says who holds it. */
  acquireLock(lock: ServiceLock, now: string): Promise<LockAttempt>;
  /** false when this execution does not hold the lock (any more). */
  releaseLock(service: string, executionArn: string): Promise<boolean>;
}
