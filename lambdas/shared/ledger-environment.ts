/**
 * The ledger client of the functions that use the ledger, apart from environment.ts so that a function without the
 * ledger does not carry the DynamoDB SDK in its bundle.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DeploymentLedger } from '../adapters/ledger';
import { requiredVariable } from './environment';

/** The deployment ledger named by LEDGER_TABLE_NAME. */
export function ledgerFromEnvironment(): DeploymentLedger {
  return new DeploymentLedger(
    DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } }),
    requiredVariable('LEDGER_TABLE_NAME'),
  );
}
