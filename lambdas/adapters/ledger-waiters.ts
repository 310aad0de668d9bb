/**
 * Waiters in the ledger table: one item per waiting execution and Task state, in the service's partition — or, for a
 * wait an operator answers, in the service's operator-waits partition (ledger-items.ts `operatorWaitsPk`).
 */
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { LEDGER_TABLE, type Waiter } from '../contract/ledger-records';
import { callAws } from '../errors';
import type { NotedPush, WaiterScope, Waiters } from '../steps/ports/waiters';
import { HUMAN_WAITS } from '../contract/operator-decisions';
import { itemKey, names, operatorWaitsPk, servicePk } from './ledger-items';
import { conditionally, type LedgerTable } from './ledger-table';

const WAITER_PREFIX = 'WAITER#';
/** The service's last ECR push that may have brought a signature: one item, overwritten by each. */
const SIGNATURE_PUSH_SK = 'SIGNATURE-PUSH';
/** Long past any wait for a late signature (lateSignatureSeconds is at most 30 minutes). */
const SIGNATURE_PUSH_KEPT_SECONDS = 24 * 3600;

/** `WAITER#<execution name>#<state>`: a service's waiters sort by execution. */
export function waiterSk(executionArn: string, state: string): string {
  return `${WAITER_PREFIX}${executionArn.slice(executionArn.lastIndexOf(':') + 1)}#${state}`;
}

const isOperatorWait = (waitsFor: Waiter['waitsFor']) => (HUMAN_WAITS as readonly string[]).includes(waitsFor);
const keyOf = (waiter: Pick<Waiter, 'service' | 'executionArn' | 'state' | 'waitsFor'>) => ({
  pk: isOperatorWait(waiter.waitsFor) ? operatorWaitsPk(waiter.service) : servicePk(waiter.service),
  sk: waiterSk(waiter.executionArn, waiter.state),
});

export class LedgerWaiters implements Waiters {
  constructor(private readonly table: LedgerTable) {}

  async put(waiter: Waiter): Promise<void> {
    const { executionArn, ...fields } = waiter;
    const item = {
      ...keyOf(waiter),
      kind: 'waiter',
      ...fields,
      // Not `executionArn`: that attribute would put the item in the execution index, which holds deployment records only.
      waitingExecutionArn: executionArn,
      // DynamoDB's TTL reads epoch seconds; it deletes within days, so readers also compare expiresAt themselves.
      [LEDGER_TABLE.timeToLive]: Math.ceil(Date.parse(waiter.expiresAt) / 1000),
    };
    await callAws('PutItem', () => this.table.db.send(new PutCommand({ TableName: this.table.tableName, Item: item })));
  }

  /**
   * Every waiter the ledger keeps for the service, expired ones too (DynamoDB's TTL deletes them within days): what
   * `model-rollout status` tells the current wait from, an execution's newest waiter being its wait if unexpired.
   */
  async kept(service: string): Promise<Waiter[]> {
    return this.read(service, 'all');
  }

  async waitingOn(service: string, now: string, scope: WaiterScope = 'all'): Promise<Waiter[]> {
    return (await this.read(service, scope)).filter((waiter) => waiter.expiresAt > now);
  }

  /** The service's waiters of `scope`, oldest first, expired ones too. */
  private async read(service: string, scope: WaiterScope): Promise<Waiter[]> {
    const partitions = [...(scope === 'operators' ? [] : [servicePk(service)]), ...(scope === 'events' ? [] : [operatorWaitsPk(service)])];
    const found = await Promise.all(
      partitions.map((pk) =>
        this.table.queryAll({
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :waiter)',
          ExpressionAttributeNames: names('pk', 'sk'),
          ExpressionAttributeValues: { ':pk': pk, ':waiter': WAITER_PREFIX },
          ConsistentRead: true,
        }),
      ),
    );
    return found
      .flat()
      .map(
        (item): Waiter => ({
          service: item.service,
          executionArn: item.waitingExecutionArn,
          state: item.state,
          waitsFor: item.waitsFor,
          taskToken: item.taskToken,
          check: item.check ?? {},
          since: item.since,
          expiresAt: item.expiresAt,
        }),
      )
      .sort((a, b) => a.since.localeCompare(b.since));
  }

  async remove(waiter: Pick<Waiter, 'service' | 'executionArn' | 'state' | 'waitsFor' | 'taskToken'>): Promise<boolean> {
    return conditionally('DeleteItem', () =>
      this.table.db.send(
        new DeleteCommand({
          TableName: this.table.tableName,
          Key: keyOf(waiter),
          ConditionExpression: '#taskToken = :token',
          ExpressionAttributeNames: names('taskToken'),
          ExpressionAttributeValues: { ':token': waiter.taskToken },
        }),
      ),
    );
  }

  async noteSignaturePush(service: string, { notedAt, imageTag }: NotedPush): Promise<void> {
    const item = {
      ...itemKey(service, SIGNATURE_PUSH_SK),
      kind: 'signature-push',
      service,
      notedAt,
      ...(imageTag === undefined ? {} : { imageTag }),
      [LEDGER_TABLE.timeToLive]: Math.ceil(Date.parse(notedAt) / 1000) + SIGNATURE_PUSH_KEPT_SECONDS,
    };
    await callAws('PutItem', () => this.table.db.send(new PutCommand({ TableName: this.table.tableName, Item: item })));
  }

  async lastSignaturePush(service: string): Promise<NotedPush | null> {
    const item = await this.table.getItem(service, SIGNATURE_PUSH_SK);
    if (typeof item?.notedAt !== 'string') return null;
    return { notedAt: item.notedAt, imageTag: typeof item.imageTag === 'string' ? item.imageTag : undefined };
  }
}
