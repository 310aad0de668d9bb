/**
 * `model-rollout history`: what the deployment ledger recorded for a service, newest first: each release, rollback and
 * reconciliation, the version and digest it was about, and how it ended.
 *
 * Exit 0: printed (also when nothing is recorded); 2: usage, configuration or AWS access error.
 */
import type { DeploymentRecord } from '../lambdas/contract/ledger-records';
import { type CommandIo, UsageError } from './io';
import {
  type AwsClients,
  defaultClients,
  findResources,
  LOCATION_USAGE,
  openLedger,
  parseLocation,
  parseLocationArgs,
} from './stack-resources';
import { DEFAULT_COLUMNS, formatTable, shortDigest, toSecond } from './table';

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 1000;

export const HISTORY_USAGE = `Usage:
  model-rollout history --service NAME (--config FILE | --stack NAME | --table NAME) [--region REGION] [--limit N] [--json]

Lists the service's deployment records, newest first: when each was received, its version, digest and trigger
(push, rollback, reconciliation), its outcome and why. --limit: how many (default ${DEFAULT_LIMIT}, at most ${MAX_LIMIT});
--json prints the records in full.

${LOCATION_USAGE}
Exit status: 0 listed (also when none is recorded), 2 usage, configuration or AWS access error.`;

export async function runHistory(args: string[], io: CommandIo, clients?: AwsClients): Promise<number> {
  const values = parseLocationArgs(args, { limit: { type: 'string' }, json: { type: 'boolean', default: false } });
  const location = parseLocation(values);
  const limit = wholeNumber(values.limit, '--limit', 1, MAX_LIMIT) ?? DEFAULT_LIMIT;
  const aws = clients ?? defaultClients(location.region);
  const { tableName } = await findResources(location, ['tableName'], () => aws.cloudFormation);

  const all = await openLedger(aws.dynamoDb, tableName).listDeployments(location.service);
  const newestFirst = [...all].reverse().slice(0, limit);

  if (values.json) {
    io.stdout(JSON.stringify(newestFirst, null, 2));
    return 0;
  }
  if (newestFirst.length === 0) {
    io.stdout(`no deployments recorded for ${location.service}`);
    return 0;
  }
  for (const line of historyTable(newestFirst, io.columns?.() ?? DEFAULT_COLUMNS)) io.stdout(line);
  if (all.length > newestFirst.length) io.stdout(`(the newest ${newestFirst.length} of ${all.length}; --limit N shows more)`);
  return 0;
}

/** The table `history` prints, one line per record in the order given. */
export function historyTable(records: readonly DeploymentRecord[], width: number): string[] {
  return formatTable(
    ['WHEN', 'VERSION', 'DIGEST', 'TRIGGER', 'OUTCOME', 'REASON'],
    records.map((r) => [toSecond(r.receivedAt), r.tag, shortDigest(r.digest), r.trigger.kind, r.status, r.reason]),
    width,
  );
}

function wholeNumber(value: string | undefined, option: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max)
    throw new UsageError(`${option} ${JSON.stringify(value)} is not a whole number from ${min} to ${max}`);
  return n;
}
