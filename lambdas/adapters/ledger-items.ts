/**
 * The deployment ledger's items as stored: the domain fields flat next to the key, and `kind` to tell them apart when
 * browsing. One partition per service (`SERVICE#<service>`); the sort key says what the item is.
 */
import type { DeploymentKey, DeploymentRecord, DigestRecord, ServiceLock, TagRecord } from '../contract/ledger-records';

export const DEPLOYMENT_PREFIX = 'DEPLOYMENT#';
export const DIGEST_PREFIX = 'DIGEST#';
export const LOCK_SK = 'LOCK';
const TAG_PREFIX = 'TAG#';
/** Sorts after every `DEPLOYMENT#<ISO time>…` key: the open upper end of a time range. */
export const DEPLOYMENT_END = `${DEPLOYMENT_PREFIX}~`;

/** `SERVICE#<service>` / `DEPLOYMENT#<receivedAt>#<execution name>`: a service's deployments sort by arrival. */
export function deploymentKey(service: string, receivedAt: string, executionArn: string): DeploymentKey {
  const executionName = executionArn.slice(executionArn.lastIndexOf(':') + 1);
  return { service, sk: `${DEPLOYMENT_PREFIX}${receivedAt}#${executionName}` };
}

/** An item as the document client returns it. */
// biome-ignore lint/suspicious/noExplicitAny: the document client's items are untyped; each reader narrows its fields.
export type StoredItem = Record<string, any>;

export interface ItemKey {
  pk: string;
  sk: string;
}

export interface DeploymentItem extends ItemKey, Omit<DeploymentRecord, 'key'> {
  kind: 'deployment';
}

export interface DigestItem extends ItemKey, Omit<Partial<DigestRecord>, 'tags'> {
  kind: 'digest';
  /** A string set, so that adding a tag is one ADD. */
  tags?: Set<string>;
}

/** Not `executionArn`: that attribute puts an item in the execution index, which holds deployment records only. */
export interface TagItem extends ItemKey, Omit<TagRecord, 'executionArn'> {
  kind: 'tag';
  firstExecutionArn: string;
}

/** The holder is flattened so that the lock's condition can name its execution. */
export interface LockItem extends ItemKey {
  kind: 'lock';
  service: string;
  holderExecutionArn: string;
  holderSk: string;
  holderTag: string;
  acquiredAt: string;
  expiresAt: string;
}

/** Written on every digest update, so that an item first made by a claim or an outcome is a complete record too. */
export const DIGEST_IDENTITY = '#kind = :kind, #service = :service, #digest = :digest, #firstSeenAt = if_not_exists(#firstSeenAt, :seenAt)';

export function digestIdentity(service: string, digest: string, seenAt: string) {
  return { ':kind': 'digest', ':service': service, ':digest': digest, ':seenAt': seenAt };
}

export function servicePk(service: string): string {
  return `SERVICE#${service}`;
}

/**
 * The partition of a service's waits an operator answers (approvals, bakes): apart from its other items, so that an
 * operator's role may read these tokens and no other (ApproverPolicy: dynamodb:LeadingKeys).
 */
export const OPERATOR_WAITS_PREFIX = 'OPERATOR-WAITS#';
export function operatorWaitsPk(service: string): string {
  return `${OPERATOR_WAITS_PREFIX}${service}`;
}

export function digestSk(digest: string): string {
  return `${DIGEST_PREFIX}${digest}`;
}

export function tagSk(tag: string): string {
  return `${TAG_PREFIX}${tag}`;
}

export function itemKey(service: string, sk: string): ItemKey {
  return { pk: servicePk(service), sk };
}

export function describeKey(key: DeploymentKey): string {
  return `${servicePk(key.service)} / ${key.sk}`;
}

/** `#name` → `name` for each attribute: every attribute is named through a placeholder, reserved word or not. */
export function names(...attributes: string[]): Record<string, string> {
  return Object.fromEntries(attributes.map((attribute) => [`#${attribute}`, attribute]));
}

export function toDeploymentRecord(item: DeploymentItem): DeploymentRecord {
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
    ...(item.grayProgress ? { grayProgress: item.grayProgress } : {}),
  };
}

export function toDigestRecord(item: DigestItem): DigestRecord {
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

export function toTagRecord(item: TagItem): TagRecord {
  return { service: item.service, tag: item.tag, digest: item.digest, firstSeenAt: item.firstSeenAt, executionArn: item.firstExecutionArn };
}

export function toServiceLock(item: LockItem): ServiceLock {
  return {
    service: item.service,
    holder: { executionArn: item.holderExecutionArn, key: { service: item.service, sk: item.holderSk }, tag: item.holderTag },
    acquiredAt: item.acquiredAt,
    expiresAt: item.expiresAt,
  };
}
