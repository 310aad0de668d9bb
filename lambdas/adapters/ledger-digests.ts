/**
 * What the ledger knows about each image digest (first sighting, tags, the claim an execution holds on it, its last
 * success, its quarantine) and which image each release tag names.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DigestRecord, TagRecord } from '../contract/ledger-records';
import { callAws } from '../errors';
import type { QuarantineRelease } from '../steps/ports/deployment-ledger';
import {
  DIGEST_IDENTITY,
  DIGEST_PREFIX,
  digestIdentity,
  digestSk,
  itemKey,
  names,
  servicePk,
  tagSk,
  toDigestRecord,
  toTagRecord,
  type DigestItem,
  type TagItem,
} from './ledger-items';
import { conditionally, type LedgerTable } from './ledger-table';

export class DigestRecords {
  constructor(private readonly table: LedgerTable) {}

  async getDigest(service: string, digest: string): Promise<DigestRecord | null> {
    const item = await this.table.getItem(service, digestSk(digest));
    return item ? toDigestRecord(item as DigestItem) : null;
  }

  /** Records that the digest arrived under `tag` (first sighting kept); returns what the ledger now knows of it. */
  async noteDigest(service: string, digest: string, tag: string, at: string): Promise<DigestRecord> {
    const output = await callAws('UpdateItem', () =>
      this.table.db.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: itemKey(service, digestSk(digest)),
          UpdateExpression: `SET ${DIGEST_IDENTITY} ADD #tags :tags`,
          ExpressionAttributeNames: names('kind', 'service', 'digest', 'firstSeenAt', 'tags'),
          ExpressionAttributeValues: { ...digestIdentity(service, digest, at), ':tags': new Set([tag]) },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    return toDigestRecord(output.Attributes as DigestItem);
  }

  /** Claims the digest for an execution unless another execution holds an unexpired claim; true when claimed. */
  async claimDigest(service: string, digest: string, claim: { executionArn: string; until: string }, now: string): Promise<boolean> {
    return conditionally('UpdateItem', () =>
      this.table.db.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: itemKey(service, digestSk(digest)),
          UpdateExpression: `SET #claim = :claim, ${DIGEST_IDENTITY}`,
          ConditionExpression: 'attribute_not_exists(#claim) OR #claim.#executionArn = :me OR #claim.#until <= :now',
          ExpressionAttributeNames: names('claim', 'executionArn', 'until', 'kind', 'service', 'digest', 'firstSeenAt'),
          ExpressionAttributeValues: {
            ':claim': { executionArn: claim.executionArn, until: claim.until },
            ':me': claim.executionArn,
            ':now': now,
            ...digestIdentity(service, digest, now),
          },
        }),
      ),
    );
  }

  /** Drops the claim if this execution holds it; another execution's claim is left alone. */
  async releaseDigestClaim(service: string, digest: string, executionArn: string): Promise<void> {
    await conditionally('UpdateItem', () =>
      this.table.db.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: itemKey(service, digestSk(digest)),
          UpdateExpression: 'REMOVE #claim',
          ConditionExpression: '#claim.#executionArn = :me',
          ExpressionAttributeNames: names('claim', 'executionArn'),
          ExpressionAttributeValues: { ':me': executionArn },
        }),
      ),
    );
  }

  async markSucceeded(
    service: string,
    digest: string,
    succeeded: { at: string; tag: string; executionArn: string; taskDefinitionArn: string },
  ): Promise<void> {
    await this.setDigestField(service, digest, 'succeeded', succeeded, succeeded.at);
  }

  /** Keeps the digest from being deployed automatically again until an operator releases it. */
  async quarantine(
    service: string,
    digest: string,
    quarantine: { at: string; reason: string; executionArn: string; tag: string },
  ): Promise<void> {
    await this.setDigestField(service, digest, 'quarantine', quarantine, quarantine.at);
  }

  async releaseQuarantine(
    service: string,
    digest: string,
    released: { at: string; by: string; reason: string | null },
  ): Promise<QuarantineRelease> {
    const key = itemKey(service, digestSk(digest));
    const done = await conditionally('UpdateItem', () =>
      this.table.db.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: key,
          UpdateExpression: 'REMOVE #quarantine SET #released = :released',
          ConditionExpression: 'attribute_exists(#quarantine)',
          ExpressionAttributeNames: names('quarantine', 'released'),
          ExpressionAttributeValues: { ':released': released },
        }),
      ),
    );
    if (done) return 'released';
    return (await this.table.getItem(service, key.sk)) ? 'not-quarantined' : 'unknown-digest';
  }

  async listDigests(service: string): Promise<DigestRecord[]> {
    const items = await this.table.queryAll({
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: names('pk', 'sk'),
      ExpressionAttributeValues: { ':pk': servicePk(service), ':prefix': DIGEST_PREFIX },
      ConsistentRead: true,
    });
    return items.map((item) => toDigestRecord(item as DigestItem));
  }

  /**
   * Records that `tag` names `digest` for the service, unless the ledger already knows which image the tag names; returns
   * what it names now. One update: of two executions recording the tag with different images at once, the first wins
   * and the second is told the first's image.
   */
  async recordTag(service: string, tag: string, digest: string, at: string, executionArn: string): Promise<TagRecord> {
    const output = await callAws('UpdateItem', () =>
      this.table.db.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: itemKey(service, tagSk(tag)),
          UpdateExpression:
            'SET #kind = :kind, #service = :service, #tag = :tag, #digest = if_not_exists(#digest, :digest), ' +
            '#firstSeenAt = if_not_exists(#firstSeenAt, :at), #firstExecutionArn = if_not_exists(#firstExecutionArn, :executionArn)',
          ExpressionAttributeNames: names('kind', 'service', 'tag', 'digest', 'firstSeenAt', 'firstExecutionArn'),
          ExpressionAttributeValues: {
            ':kind': 'tag',
            ':service': service,
            ':tag': tag,
            ':digest': digest,
            ':at': at,
            ':executionArn': executionArn,
          },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    return toTagRecord(output.Attributes as TagItem);
  }

  /** Which image the tag names for the service; null when no release was recorded under it. */
  async getTag(service: string, tag: string): Promise<TagRecord | null> {
    const item = await this.table.getItem(service, tagSk(tag));
    return item ? toTagRecord(item as TagItem) : null;
  }

  private async setDigestField(
    service: string,
    digest: string,
    field: 'succeeded' | 'quarantine',
    value: object,
    at: string,
  ): Promise<void> {
    await callAws('UpdateItem', () =>
      this.table.db.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: itemKey(service, digestSk(digest)),
          UpdateExpression: `SET #field = :value, ${DIGEST_IDENTITY}`,
          ExpressionAttributeNames: { '#field': field, ...names('kind', 'service', 'digest', 'firstSeenAt') },
          ExpressionAttributeValues: { ':value': value, ...digestIdentity(service, digest, at) },
        }),
      ),
    );
  }
}
