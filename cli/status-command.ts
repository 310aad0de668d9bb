/**
 * `model-rollout status`: where a service's rollout stands now, from the ledger — the release holding the service lock,
 * what its execution waits for, and the releases under way behind it. Its exit status lets a CI pipeline hold its own
 * `cdk deploy` while a rollout runs (a deploy mid-rollout can reset what the rollout relies on).
 *
 * Exit 0: no rollout is running; 1: one is; 2: usage, configuration or AWS access error.
 */
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LedgerTable } from '../lambdas/adapters/ledger-table';
import { LedgerWaiters } from '../lambdas/adapters/ledger-waiters';
import { rolloutStatus } from '../lambdas/decisions/rollout-status';
import { STALE_AFTER_SECONDS } from '../lambdas/decisions/time-budget';
import type { CommandIo } from './io';
import {
  type AwsClients,
  defaultClients,
  findResources,
  LOCATION_USAGE,
  openLedger,
  parseLocation,
  parseLocationArgs,
} from './stack-resources';

export const STATUS_USAGE = `Usage:
  model-rollout status --service NAME (--config FILE | --stack NAME | --table NAME) [--region REGION] [--json]

Says whether a rollout of the service is running: the release holding its service lock, what its execution waits for
(and when that wait looks at the service itself), and the releases under way behind it. --json prints it as JSON.

${LOCATION_USAGE}
Exit status: 0 no rollout is running, 1 a rollout is running (hold your own deploys), 2 usage, configuration or AWS
access error.`;

export async function runStatus(args: string[], io: CommandIo, clients?: AwsClients): Promise<number> {
  const values = parseLocationArgs(args, { json: { type: 'boolean', default: false } });
  const location = parseLocation(values);
  const aws = clients ?? defaultClients(location.region);
  const { tableName } = await findResources(location, ['tableName'], () => aws.cloudFormation);

  const now = io.now();
  const ledger = openLedger(aws.dynamoDb, tableName);
  const documents = DynamoDBDocumentClient.from(aws.dynamoDb);
  const [lock, records, waiters] = await Promise.all([
    ledger.getLock(location.service),
    ledger.listDeployments(location.service, { receivedSince: new Date(now.getTime() - STALE_AFTER_SECONDS * 1000).toISOString() }),
    new LedgerWaiters(new LedgerTable(documents, tableName)).kept(location.service),
  ]);
  const status = rolloutStatus(location.service, { lock, records, waiters }, now);

  io.stdout(values.json ? JSON.stringify({ service: location.service, ...status }, null, 2) : status.summary);
  return status.running ? 1 : 0;
}
