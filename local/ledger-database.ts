/**
 * An in-process DynamoDB (dynalite, in memory) holding the deployment ledger, for the tests and the local run. The real
 * SDK talks to it over HTTP, so the ledger adapter runs exactly as it does against DynamoDB. dynalite has no
 * transactions (TransactWriteItems) and no ReturnValuesOnConditionCheckFailure: the adapter uses neither.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
// @ts-expect-error -- dynalite ships no type declarations; its one export is typed below.
import dynaliteModule from 'dynalite';
import { LEDGER_TABLE } from '../lambdas/contract/ledger-records';

const dynalite = dynaliteModule as (options: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;

export interface LedgerDatabase {
  /** e.g. `http://127.0.0.1:41234` */
  endpoint: string;
  /** The ledger table created at start. */
  tableName: string;
  dynamoDb: DynamoDBClient;
  documentClient: DynamoDBDocumentClient;
  /** Creates another, empty ledger table (e.g. one per test). */
  createTable(name: string): Promise<void>;
  /** Stops the server and the clients' connections. */
  close(): Promise<void>;
}

export async function startLedgerDatabase(options: { tableName?: string } = {}): Promise<LedgerDatabase> {
  const tableName = options.tableName ?? 'model-rollout-ledger';
  // No simulated CREATING/DELETING delays (dynalite's default is half a second per table).
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dynamoDb = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'fake-local-ledger', secretAccessKey: 'fake-local-ledger' },
  });
  const documentClient = DynamoDBDocumentClient.from(dynamoDb, { marshallOptions: { removeUndefinedValues: true } });

  const createTable = async (name: string): Promise<void> => {
    await dynamoDb.send(new CreateTableCommand(ledgerTableDefinition(name)));
    // Even with createTableMs 0, dynalite answers ResourceNotFound until the table turns ACTIVE on a later tick.
    for (let attempt = 0; ; attempt++) {
      const { Table } = await dynamoDb.send(new DescribeTableCommand({ TableName: name }));
      if (Table?.TableStatus === 'ACTIVE') return;
      if (attempt === 100) throw new Error(`Ledger table ${name} is still ${Table?.TableStatus} after ${attempt} looks.`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  };
  const close = async (): Promise<void> => {
    dynamoDb.destroy();
    // The SDK keeps connections alive; without dropping them server.close would wait for them to time out.
    const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    server.closeAllConnections();
    await closed;
  };

  try {
    await createTable(tableName);
  } catch (error) {
    await close();
    throw error;
  }
  return { endpoint, tableName, dynamoDb, documentClient, createTable, close };
}

/** The ledger table as the CDK stack defines it: pk/sk, the by-execution index, on demand. */
function ledgerTableDefinition(tableName: string): CreateTableCommandInput {
  const { partitionKey, sortKey, executionIndex } = LEDGER_TABLE;
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: partitionKey, AttributeType: 'S' },
      { AttributeName: sortKey, AttributeType: 'S' },
      { AttributeName: executionIndex.partitionKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: partitionKey, KeyType: 'HASH' },
      { AttributeName: sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: executionIndex.name,
        KeySchema: [{ AttributeName: executionIndex.partitionKey, KeyType: 'HASH' }],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}
