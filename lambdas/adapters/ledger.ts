/**
 * The deployment ledger (DynamoDB): every deployment decision, what the ledger knows about each digest, which image
 * each release tag names, and the service lock. One partition per service; every write that other executions race on
 * is a single-item conditional write (no transactions). No clock of its own: callers pass the times, all `Date#toISOString()`, which compare as text.
 */
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import {
  LEDGER_TABLE,
  type DeploymentKey,
  type DeploymentRecord,
  type DeploymentStatus,
  type DigestRecord,
  type ServiceLock,
  type StatusChange,
  type TagRecord,
} from '../contract/ledger-records';
import type { SignatureCode, SignatureEvidence } from '../contract/signature';
import { InvalidInputError, LedgerInconsistentError, callAws } from '../errors';

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

const DEPLOYMENT_PREFIX = 'DEPLOYMENT#';
const DIGEST_PREFIX = 'DIGEST#';
const LOCK_SK = 'LOCK';
const TAG_PREFIX = 'TAG#';
/** Sorts after every `DEPLOYMENT#<ISO time>…` key: the open upper end of a time range. */
const DEPLOYMENT_END = `${DEPLOYMENT_PREFIX}~`;

/** `SERVICE#<service>` / `DEPLOYMENT#<receivedAt>#<execution name>`: a service's deployments sort by arrival. */
export function deploymentKey(service: string, receivedAt: string, executionArn: string): DeploymentKey {
  const executionName = executionArn.slice(executionArn.lastIndexOf(':') + 1);
  return { service, sk: `${DEPLOYMENT_PREFIX}${receivedAt}#${executionName}` };
}

export class DeploymentLedger {
  constructor(
    private readonly db: Pick<DynamoDBDocumentClient, 'send'>,
    private readonly tableName: string,
  ) {}

  /** Idempotent: a retried step that writes the same key gets the record as it is, unchanged. */
  async recordReceived(input: ReceivedDeployment): Promise<DeploymentRecord> {
    const key = deploymentKey(input.service, input.receivedAt, input.executionArn);
    const item: DeploymentItem = {
      ...itemKey(key.service, key.sk),
      kind: 'deployment',
      service: input.service,
      environment: input.environment,
      repository: input.repository,
      tag: input.tag,
      digest: input.digest,
      trigger: input.trigger,
      executionArn: input.executionArn,
      receivedAt: input.receivedAt,
      reason: input.reason,
      taskDefinitionBefore: input.taskDefinitionBefore,
      model: input.model,
      status: 'received',
      final: false,
      history: [{ status: 'received', at: input.receivedAt, reason: input.reason }],
      error: null,
      lockedAt: null,
      finishedAt: null,
      signature: null,
      taskDefinitionAfter: null,
    };
    const written = await conditionally('PutItem', () =>
      this.db.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' })),
    );
    if (written) return toDeploymentRecord(item);
    const existing = await this.get(key);
    if (!existing) throw new LedgerInconsistentError(`Deployment record ${describeKey(key)} exists and cannot be read.`);
    return existing;
  }

  async get(key: DeploymentKey): Promise<DeploymentRecord | null> {
    const item = await this.getItem(key.service, key.sk);
    return item ? toDeploymentRecord(item as DeploymentItem) : null;
  }

  /** false when the record is already final (its outcome is written; nothing changes it any more). */
  async changeStatus(key: DeploymentKey, change: StatusChange, fields: { lockedAt?: string } = {}): Promise<boolean> {
    return this.updateOpenRecord(key, change, { status: change.status, reason: change.reason, lockedAt: fields.lockedAt });
  }

  /** Writes the outcome and makes the record final; false when it already was. */
  async finalise(key: DeploymentKey, outcome: DeploymentOutcome): Promise<boolean> {
    const { status, reason, error, at, taskDefinitionAfter, signature } = outcome;
    return this.updateOpenRecord(
      key,
      { status, at, reason },
      { status, reason, error, finishedAt: at, taskDefinitionAfter, final: true, signature },
    );
  }

  /** The record an execution made (the crash finaliser knows only the execution). */
  async findByExecution(executionArn: string): Promise<DeploymentRecord | null> {
    const items = await this.queryAll({
      TableName: this.tableName,
      IndexName: LEDGER_TABLE.executionIndex.name,
      KeyConditionExpression: '#executionArn = :executionArn',
      ExpressionAttributeNames: names('executionArn'),
      ExpressionAttributeValues: { ':executionArn': executionArn },
    });
    // One per execution; should a retry with another receivedAt have made two, the latest is the live one.
    const latest = items.sort((a, b) => compareText(a.sk, b.sk)).at(-1);
    return latest ? toDeploymentRecord(latest as DeploymentItem) : null;
  }

  /** Oldest first; `receivedSince` (inclusive) limits them to those received from then on. */
  async listDeployments(service: string, options: { receivedSince?: string } = {}): Promise<DeploymentRecord[]> {
    const range =
      options.receivedSince === undefined
        ? { condition: 'begins_with(#sk, :from)', values: { ':from': DEPLOYMENT_PREFIX } }
        : {
            condition: '#sk BETWEEN :from AND :to',
            values: { ':from': `${DEPLOYMENT_PREFIX}${options.receivedSince}`, ':to': DEPLOYMENT_END },
          };
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: `#pk = :pk AND ${range.condition}`,
      ExpressionAttributeNames: names('pk', 'sk'),
      ExpressionAttributeValues: { ':pk': servicePk(service), ...range.values },
      ConsistentRead: true,
    });
    return items.map((item) => toDeploymentRecord(item as DeploymentItem));
  }

  async getDigest(service: string, digest: string): Promise<DigestRecord | null> {
    const item = await this.getItem(service, digestSk(digest));
    return item ? toDigestRecord(item as DigestItem) : null;
  }

  /** Records that the digest arrived under `tag` (first sighting kept); returns what the ledger now knows of it. */
  async noteDigest(service: string, digest: string, tag: string, at: string): Promise<DigestRecord> {
    const output = await callAws('UpdateItem', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
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

  /**
   * Records that `tag` names `digest` for the service, unless the ledger already knows which image the tag names; returns
   * what it names now. One update: of two executions recording the tag with different images at once, the first wins
   * and the second is told the first's image.
   */
  async recordTag(service: string, tag: string, digest: string, at: string, executionArn: string): Promise<TagRecord> {
    const output = await callAws('UpdateItem', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
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
    const item = await this.getItem(service, tagSk(tag));
    return item ? toTagRecord(item as TagItem) : null;
  }

  /** Claims the digest for an execution unless another execution holds an unexpired claim; true when claimed. */
  async claimDigest(service: string, digest: string, claim: { executionArn: string; until: string }, now: string): Promise<boolean> {
    return conditionally('UpdateItem', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
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
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
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
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'REMOVE #quarantine SET #released = :released',
          ConditionExpression: 'attribute_exists(#quarantine)',
          ExpressionAttributeNames: names('quarantine', 'released'),
          ExpressionAttributeValues: { ':released': released },
        }),
      ),
    );
    if (done) return 'released';
    return (await this.getItem(service, key.sk)) ? 'not-quarantined' : 'unknown-digest';
  }

  async listDigests(service: string): Promise<DigestRecord[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: names('pk', 'sk'),
      ExpressionAttributeValues: { ':pk': servicePk(service), ':prefix': DIGEST_PREFIX },
      ConsistentRead: true,
    });
    return items.map((item) => toDigestRecord(item as DigestItem));
  }

  async getLock(service: string): Promise<ServiceLock | null> {
    const item = await this.getItem(service, LOCK_SK);
    return item ? toServiceLock(item as LockItem) : null;
  }

  /**
   * Takes the service lock when it is free, its lease has run out, or this execution already holds it (the lease is
   * then renewed). Otherwise says who holds it (null when it was released in between).
   */
  async acquireLock(lock: ServiceLock, now: string): Promise<LockAttempt> {
    const item: LockItem = {
      ...itemKey(lock.service, LOCK_SK),
      kind: 'lock',
      service: lock.service,
      holderExecutionArn: lock.holder.executionArn,
      holderSk: lock.holder.key.sk,
      holderTag: lock.holder.tag,
      acquiredAt: lock.acquiredAt,
      expiresAt: lock.expiresAt,
    };
    const acquired = await conditionally('PutItem', () =>
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk) OR #expiresAt <= :now OR #holderExecutionArn = :me',
          ExpressionAttributeNames: names('expiresAt', 'holderExecutionArn'),
          ExpressionAttributeValues: { ':now': now, ':me': lock.holder.executionArn },
        }),
      ),
    );
    // dynalite ignores ReturnValuesOnConditionCheckFailure, so the holder is read back.
    return acquired ? { acquired: true } : { acquired: false, holder: await this.getLock(lock.service) };
  }

  /** false when this execution does not hold the lock (any more). */
  async releaseLock(service: string, executionArn: string): Promise<boolean> {
    return conditionally('DeleteItem', () =>
      this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: itemKey(service, LOCK_SK),
          ConditionExpression: '#holderExecutionArn = :me',
          ExpressionAttributeNames: names('holderExecutionArn'),
          ExpressionAttributeValues: { ':me': executionArn },
        }),
      ),
    );
  }

  /**
   * Sets `fields` (undefined ones are left alone) and appends `change` to the history of a record that exists and is
   * not final: false when it is final, InvalidInputError when there is no such record.
   */
  private async updateOpenRecord(key: DeploymentKey, change: StatusChange, fields: Record<string, unknown>): Promise<boolean> {
    const set = Object.keys(fields).filter((field) => fields[field] !== undefined);
    const updated = await conditionally('UpdateItem', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: itemKey(key.service, key.sk),
          UpdateExpression: `SET ${set.map((field) => `#${field} = :${field}`).join(', ')}, #history = list_append(#history, :change)`,
          ConditionExpression: 'attribute_exists(pk) AND #final = :notFinal',
          ExpressionAttributeNames: names(...set, 'history', 'final'),
          ExpressionAttributeValues: {
            ...Object.fromEntries(set.map((field) => [`:${field}`, fields[field]])),
            ':change': [change],
            ':notFinal': false,
          },
        }),
      ),
    );
    if (updated) return true;
    if (!(await this.getItem(key.service, key.sk))) {
      throw new InvalidInputError(`There is no deployment record ${describeKey(key)} to update.`);
    }
    return false;
  }

  private async setDigestField(
    service: string,
    digest: string,
    field: 'succeeded' | 'quarantine',
    value: object,
    at: string,
  ): Promise<void> {
    await callAws('UpdateItem', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: itemKey(service, digestSk(digest)),
          UpdateExpression: `SET #field = :value, ${DIGEST_IDENTITY}`,
          ExpressionAttributeNames: { '#field': field, ...names('kind', 'service', 'digest', 'firstSeenAt') },
          ExpressionAttributeValues: { ':value': value, ...digestIdentity(service, digest, at) },
        }),
      ),
    );
  }

  private async getItem(service: string, sk: string): Promise<StoredItem | undefined> {
    const output = await callAws('GetItem', () =>
      this.db.send(new GetCommand({ TableName: this.tableName, Key: itemKey(service, sk), ConsistentRead: true })),
    );
    return output.Item;
  }

  private async queryAll(input: QueryCommandInput): Promise<StoredItem[]> {
    const items: StoredItem[] = [];
    let ExclusiveStartKey: QueryCommandInput['ExclusiveStartKey'];
    do {
      const output = await callAws('Query', () => this.db.send(new QueryCommand({ ...input, ExclusiveStartKey })));
      items.push(...(output.Items ?? []));
      ExclusiveStartKey = output.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items;
  }
}

// ---- Items as stored: the domain fields flat next to the key, and `kind` to tell them apart when browsing.

/** An item as the document client returns it. */
// biome-ignore lint/suspicious/noExplicitAny: the document client's items are untyped; each reader narrows its fields.
type StoredItem = Record<string, any>;

interface ItemKey {
  pk: string;
  sk: string;
}

interface DeploymentItem extends ItemKey, Omit<DeploymentRecord, 'key'> {
  kind: 'deployment';
}

interface DigestItem extends ItemKey, Omit<Partial<DigestRecord>, 'tags'> {
  kind: 'digest';
  /** A string set, so that adding a tag is one ADD. */
  tags?: Set<string>;
}

/** Not `executionArn`: that attribute puts an item in the execution index, which holds deployment records only. */
interface TagItem extends ItemKey, Omit<TagRecord, 'executionArn'> {
  kind: 'tag';
  firstExecutionArn: string;
}

/** The holder is flattened so that the lock's condition can name its execution. */
interface LockItem extends ItemKey {
  kind: 'lock';
  service: string;
  holderExecutionArn: string;
  holderSk: string;
  holderTag: string;
  acquiredAt: string;
  expiresAt: string;
}

/** Written on every digest update, so that an item first made by a claim or an outcome is a complete record too. */
const DIGEST_IDENTITY = '#kind = :kind, #service = :service, #digest = :digest, #firstSeenAt = if_not_exists(#firstSeenAt, :seenAt)';

function digestIdentity(service: string, digest: string, seenAt: string) {
  return { ':kind': 'digest', ':service': service, ':digest': digest, ':seenAt': seenAt };
}

function servicePk(service: string): string {
  return `SERVICE#${service}`;
}

function digestSk(digest: string): string {
  return `${DIGEST_PREFIX}${digest}`;
}

function tagSk(tag: string): string {
  return `${TAG_PREFIX}${tag}`;
}

function itemKey(service: string, sk: string): ItemKey {
  return { pk: servicePk(service), sk };
}

function describeKey(key: DeploymentKey): string {
  return `${servicePk(key.service)} / ${key.sk}`;
}

/** `#name` → `name` for each attribute: every attribute is named through a placeholder, reserved word or not. */
function names(...attributes: string[]): Record<string, string> {
  return Object.fromEntries(attributes.map((attribute) => [`#${attribute}`, attribute]));
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Runs a conditional write through `callAws`: true when written, false when the condition did not hold. The
 * ConditionalCheckFailedException is the expected "no" and is answered before callAws classifies errors.
 */
async function conditionally(operation: string, write: () => Promise<unknown>): Promise<boolean> {
  return callAws(operation, async () => {
    try {
      await write();
      return true;
    } catch (error) {
      if ((error as Error)?.name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  });
}

function toDeploymentRecord(item: DeploymentItem): DeploymentRecord {
  return {
    key: { service: item.service, sk: item.sk },
    service: item.service,
    environment: item.environment,
    repository: item.repository,
    tag: item.tag,
    digest: item.digest,
    trigger: { kind: item.trigger.kind, requestedBy: item.trigger.requestedBy ?? null, reason: item.trigger.reason ?? null },
    executionArn: item.executionArn,
    receivedAt: item.receivedAt,
    status: item.status,
    final: item.final === true,
    reason: item.reason,
    error: item.error ?? null,
    history: item.history ?? [],
    lockedAt: item.lockedAt ?? null,
    finishedAt: item.finishedAt ?? null,
    signature: item.signature ?? null,
    taskDefinitionBefore: item.taskDefinitionBefore ?? null,
    taskDefinitionAfter: item.taskDefinitionAfter ?? null,
    model: item.model ?? {},
  };
}

function toDigestRecord(item: DigestItem): DigestRecord {
  return {
    service: item.service ?? item.pk.slice('SERVICE#'.length),
    digest: item.digest ?? item.sk.slice(DIGEST_PREFIX.length),
    tags: [...(item.tags ?? [])].sort(),
    firstSeenAt: item.firstSeenAt ?? '',
    claim: item.claim ?? null,
    succeeded: item.succeeded ?? null,
    quarantine: item.quarantine ?? null,
    released: item.released ?? null,
  };
}

function toTagRecord(item: TagItem): TagRecord {
  return { service: item.service, tag: item.tag, digest: item.digest, firstSeenAt: item.firstSeenAt, executionArn: item.firstExecutionArn };
}

function toServiceLock(item: LockItem): ServiceLock {
  return {
    service: item.service,
    holder: { executionArn: item.holderExecutionArn, key: { service: item.service, sk: item.holderSk }, tag: item.holderTag },
    acquiredAt: item.acquiredAt,
    expiresAt: item.expiresAt,
  };
}
