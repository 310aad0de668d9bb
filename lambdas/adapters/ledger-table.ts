/** The ledger's DynamoDB table as each kind of item reads and writes it: consistent reads, every page, conditional writes. */
import { GetCommand, QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { callAws } from '../errors';
import { itemKey, type StoredItem } from './ledger-items';

export class LedgerTable {
  constructor(
    readonly db: Pick<DynamoDBDocumentClient, 'send'>,
    readonly tableName: string,
  ) {}

  async getItem(service: string, sk: string): Promise<StoredItem | undefined> {
    const output = await callAws('GetItem', () =>
      this.db.send(new GetCommand({ TableName: this.tableName, Key: itemKey(service, sk), ConsistentRead: true })),
    );
    return output.Item;
  }

  async queryAll(input: Omit<QueryCommandInput, 'TableName'>): Promise<StoredItem[]> {
    const items: StoredItem[] = [];
    let ExclusiveStartKey: QueryCommandInput['ExclusiveStartKey'];
    do {
      const output = await callAws('Query', () =>
        this.db.send(new QueryCommand({ TableName: this.tableName, ...input, ExclusiveStartKey })),
      );
      items.push(...(output.Items ?? []));
      ExclusiveStartKey = output.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items;
  }
}

/**
 * Runs a conditional write through `callAws`: true when written, false when the condition did not hold. The
 * ConditionalCheckFailedException is the expected "no" and is answered before callAws classifies errors.
 */
export async function conditionally(operation: string, write: () => Promise<unknown>): Promise<boolean> {
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
