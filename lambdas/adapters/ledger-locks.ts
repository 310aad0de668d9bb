/** The service lock: one item per service, taken and released by conditional writes, so two executions cannot both hold it. */
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ServiceLock } from '../contract/ledger-records';
import type { LockAttempt } from '../steps/ports/deployment-ledger';
import { itemKey, LOCK_SK, names, toServiceLock, type LockItem } from './ledger-items';
import { conditionally, type LedgerTable } from './ledger-table';

export class ServiceLocks {
  constructor(private readonly table: LedgerTable) {}

  async getLock(service: string): Promise<ServiceLock | null> {
    const item = await this.table.getItem(service, LOCK_SK);
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
      this.table.db.send(
        new PutCommand({
          TableName: this.table.tableName,
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
      this.table.db.send(
        new DeleteCommand({
          TableName: this.table.tableName,
          Key: itemKey(service, LOCK_SK),
          ConditionExpression: '#holderExecutionArn = :me',
          ExpressionAttributeNames: names('holderExecutionArn'),
          ExpressionAttributeValues: { ':me': executionArn },
        }),
      ),
    );
  }
}
