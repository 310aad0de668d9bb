/**
 * The deployment ledger on DynamoDB: every deployment decision, what the ledger knows about each digest, which image
 * each release tag names, and the service lock. One partition per service; every write that other executions race on
 * is a single-item conditional write (no transactions). No clock of its own: callers pass the times, all
 * `Date#toISOString()`, which compare as text.
 *
 * Each kind of item has its own module (ledger-deployments, ledger-digests, ledger-locks); this class is the one
 * object the steps receive, implementing their DeploymentLedger port.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DeploymentKey, GrayProgressNote, ServiceLock, StatusChange } from '../contract/ledger-records';
import type * as ports from '../steps/ports/deployment-ledger';
import { DeploymentRecords } from './ledger-deployments';
import { DigestRecords } from './ledger-digests';
import { ServiceLocks } from './ledger-locks';
import { LedgerTable } from './ledger-table';

export class DeploymentLedger implements ports.DeploymentLedger {
  private readonly deployments: DeploymentRecords;
  private readonly digests: DigestRecords;
  private readonly locks: ServiceLocks;

  constructor(db: Pick<DynamoDBDocumentClient, 'send'>, tableName: string) {
    const table = new LedgerTable(db, tableName);
    this.deployments = new DeploymentRecords(table);
    this.digests = new DigestRecords(table);
    this.locks = new ServiceLocks(table);
  }

  // ---- deployment records

  recordReceived(input: ports.ReceivedDeployment) {
    return this.deployments.recordReceived(input);
  }
  get(key: DeploymentKey) {
    return this.deployments.get(key);
  }
  changeStatus(key: DeploymentKey, change: StatusChange, fields?: { lockedAt?: string }) {
    return this.deployments.changeStatus(key, change, fields);
  }
  finalise(key: DeploymentKey, outcome: ports.DeploymentOutcome) {
    return this.deployments.finalise(key, outcome);
  }
  findByExecution(executionArn: string) {
    return this.deployments.findByExecution(executionArn);
  }
  listDeployments(service: string, options?: { receivedSince?: string }) {
    return this.deployments.listDeployments(service, options);
  }
  noteGrayProgress(key: DeploymentKey, progress: GrayProgressNote) {
    return this.deployments.noteGrayProgress(key, progress);
  }

  // ---- digests and release tags

  getDigest(service: string, digest: string) {
    return this.digests.getDigest(service, digest);
  }
  noteDigest(service: string, digest: string, tag: string, at: string) {
    return this.digests.noteDigest(service, digest, tag, at);
  }
  claimDigest(service: string, digest: string, claim: { executionArn: string; until: string }, now: string) {
    return this.digests.claimDigest(service, digest, claim, now);
  }
  releaseDigestClaim(service: string, digest: string, executionArn: string) {
    return this.digests.releaseDigestClaim(service, digest, executionArn);
  }
  markSucceeded(service: string, digest: string, succeeded: Parameters<DigestRecords['markSucceeded']>[2]) {
    return this.digests.markSucceeded(service, digest, succeeded);
  }
  quarantine(service: string, digest: string, quarantine: Parameters<DigestRecords['quarantine']>[2]) {
    return this.digests.quarantine(service, digest, quarantine);
  }
  releaseQuarantine(service: string, digest: string, released: Parameters<DigestRecords['releaseQuarantine']>[2]) {
    return this.digests.releaseQuarantine(service, digest, released);
  }
  listDigests(service: string) {
    return this.digests.listDigests(service);
  }
  recordTag(service: string, tag: string, digest: string, at: string, executionArn: string) {
    return this.digests.recordTag(service, tag, digest, at, executionArn);
  }
  getTag(service: string, tag: string) {
    return this.digests.getTag(service, tag);
  }

  // ---- the service lock

  getLock(service: string) {
    return this.locks.getLock(service);
  }
  acquireLock(lock: ServiceLock, now: string) {
    return this.locks.acquireLock(lock, now);
  }
  releaseLock(service: string, executionArn: string) {
    return this.locks.releaseLock(service, executionArn);
  }
}
