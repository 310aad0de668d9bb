/**
 * The ledger's deployment records: one per release an execution handles, written when it arrives and final once its
 * outcome is written. Every change is a single-item conditional write on a record that is not final yet.
 */
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  LEDGER_TABLE,
  type DeploymentKey,
  type DeploymentRecord,
  type GrayProgressNote,
  type StatusChange,
} from '../contract/ledger-records';
import { InvalidInputError, LedgerInconsistentError } from '../errors';
import type { DeploymentOutcome, ReceivedDeployment } from '../steps/ports/deployment-ledger';
import {
  DEPLOYMENT_END,
  DEPLOYMENT_PREFIX,
  deploymentKey,
  describeKey,
  itemKey,
  names,
  servicePk,
  toDeploymentRecord,
  type DeploymentItem,
} from './ledger-items';
import { conditionally, type LedgerTable } from './ledger-table';

export class DeploymentRecords {
  constructor(private readonly table: LedgerTable) {}

  /** Idempotent: a retried step that writes the same key gets the record as it is, unchanged. */
  async recordReceived(input: ReceivedDeployment): Promise<DeploymentRecord> {
    const key = deploymentKey(input.service, input.receivedAt, input.executionArn);
    const item = receivedItem(key, input);
    const written = await conditionally('PutItem', () =>
      this.table.db.send(new PutCommand({ TableName: this.table.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' })),
    );
    if (written) return toDeploymentRecord(item);
    const existing = await this.get(key);
    if (!existing) throw new LedgerInconsistentError(`Deployment record ${describeKey(key)} exists and cannot be read.`);
    return existing;
  }

  async get(key: DeploymentKey): Promise<DeploymentRecord | null> {
    const item = await this.table.getItem(key.service, key.sk);
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

  /**
   * Notes where a gray release stands on its open record (no history entry: an analysis is not a status change);
   * false when the record is final.
   */
  async noteGrayProgress(key: DeploymentKey, progress: GrayProgressNote): Promise<boolean> {
    return conditionally('UpdateItem', () =>
      this.table.db.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: itemKey(key.service, key.sk),
          UpdateExpression: 'SET #grayProgress = :progress',
          ConditionExpression: 'attribute_exists(pk) AND #final = :notFinal',
          ExpressionAttributeNames: names('grayProgress', 'final'),
          ExpressionAttributeValues: { ':progress': progress, ':notFinal': false },
        }),
      ),
    );
  }

  /** The record an execution made (the crash finaliser knows only the execution). */
  async findByExecution(executionArn: string): Promise<DeploymentRecord | null> {
    const items = await this.table.queryAll({
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
    const items = await this.table.queryAll({
      KeyConditionExpression: `#pk = :pk AND ${range.condition}`,
      ExpressionAttributeNames: names('pk', 'sk'),
      ExpressionAttributeValues: { ':pk': servicePk(service), ...range.values },
      ConsistentRead: true,
    });
    return items.map((item) => toDeploymentRecord(item as DeploymentItem));
  }

  /**
   * Sets `fields` (undefined ones are left alone) and appends `change` to the history of a record that exists and is
   * not final: false when it is final, InvalidInputError when there is no such record.
   */
  private async updateOpenRecord(key: DeploymentKey, change: StatusChange, fields: Record<string, unknown>): Promise<boolean> {
    const set = Object.keys(fields).filter((field) => fields[field] !== undefined);
    const updated = await conditionally('UpdateItem', () =>
      this.table.db.send(
        new UpdateCommand({
          TableName: this.table.tableName,
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
    if (!(await this.table.getItem(key.service, key.sk))) {
      throw new InvalidInputError(`There is no deployment record ${describeKey(key)} to update.`);
    }
    return false;
  }
}

/** The item of a release as it arrived: received, not final, one history entry, nothing decided yet. */
function receivedItem(key: DeploymentKey, input: ReceivedDeployment): DeploymentItem {
  return {
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
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
