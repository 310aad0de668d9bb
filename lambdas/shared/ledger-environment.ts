/**
 * The ledger client of the functions that use the ledger, apart from environment.ts so that a function without the
 * ledger does not carry the DynamoDB SDK in its bundle.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** The document client the deployment ledger (adapters/ledger.ts) writes through: undefined attributes are dropped. */
export function ledgerDocumentClient(): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
}
