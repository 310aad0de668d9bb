/**
 * `model-rollout quarantine list | release`: the digests the pipeline will not deploy again on its own because a
 * deployment of them was rolled back, and the operator's release of one of them once it is known to be fine.
 *
 * list: exit 0 (also when none is quarantined). release: exit 0 released; 1 not quarantined or unknown to the ledger.
 * Both: 2 usage, configuration or AWS access error.
 */
import { SHA256_DIGEST } from '../lambdas/contract/catalog';
import type { DigestRecord } from '../lambdas/contract/ledger-records';
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
import { DEFAULT_COLUMNS, formatTable, toSecond } from './table';

export const QUARANTINE_USAGE = `Usage:
  model-rollout quarantine list --service NAME (--config FILE | --stack NAME | --table NAME) [--region REGION] [--json]
  model-rollout quarantine release --service NAME --digest sha256:HEX (--config FILE | --stack NAME | --table NAME)
                                   [--reason TEXT] [--requested-by WHO] [--region REGION]

A digest is quarantined when a deployment of it was rolled back: the pipeline refuses to deploy it again (push,
reconciliation or rollback) until an operator releases it.
  list                     the service's quarantined digests: digest, tag, since when and why (--json: in full)
  release                  lifts the quarantine of one digest; --reason and --requested-by (default: $USER) are recorded

${LOCATION_USAGE}
Exit status: 0 listed or released, 1 the digest is not quarantined or unknown to the ledger, 2 usage, configuration or
AWS access error.`;

export async function runQuarantine(args: string[], io: CommandIo, clients?: AwsClients): Promise<number> {
  const [action, ...rest] = args;
  if (action === 'list') return list(rest, io, clients);
  if (action === 'release') return release(rest, io, clients);
  if (action === undefined || action.startsWith('-')) throw new UsageError('say what to do first: quarantine list or quarantine release');
  throw new UsageError(`unknown quarantine action ${JSON.stringify(action)} (list or release)`);
}

async function list(args: string[], io: CommandIo, clients: AwsClients | undefined): Promise<number> {
  const values = parseLocationArgs(args, { json: { type: 'boolean', default: false } });
  const location = parseLocation(values);
  const aws = clients ?? defaultClients(location.region);
  const { tableName } = await findResources(location, ['tableName'], () => aws.cloudFormation);

  const quarantined = (await openLedger(aws.dynamoDb, tableName).listDigests(location.service))
    .filter((d): d is DigestRecord & { quarantine: NonNullable<DigestRecord['quarantine']> } => d.quarantine !== null)
    .sort((a, b) => (a.quarantine.at < b.quarantine.at ? 1 : a.quarantine.at > b.quarantine.at ? -1 : 0));
  if (values.json) {
    io.stdout(JSON.stringify(quarantined, null, 2));
    return 0;
  }
  if (quarantined.length === 0) {
    io.stdout(`no quarantined digests for ${location.service}`);
    return 0;
  }
  const rows = quarantined.map((d) => [d.digest, d.quarantine.tag, toSecond(d.quarantine.at), d.quarantine.reason]);
  for (const line of formatTable(['DIGEST', 'TAG', 'SINCE', 'REASON'], rows, io.columns?.() ?? DEFAULT_COLUMNS)) io.stdout(line);
  return 0;
}

async function release(args: string[], io: CommandIo, clients: AwsClients | undefined): Promise<number> {
  const values = parseLocationArgs(args, {
    digest: { type: 'string' },
    reason: { type: 'string' },
    'requested-by': { type: 'string' },
  });
  const location = parseLocation(values);
  const digest = values.digest;
  if (digest === undefined) throw new UsageError('--digest is required (sha256:<64 hex characters>)');
  if (!SHA256_DIGEST.test(digest)) throw new UsageError(`--digest ${JSON.stringify(digest)} is not sha256:<64 hex characters>`);
  const by = values['requested-by'] ?? io.user?.() ?? 'operator';
  if (by.trim() === '') throw new UsageError('--requested-by must not be empty');
  const aws = clients ?? defaultClients(location.region);
  const { tableName } = await findResources(location, ['tableName'], () => aws.cloudFormation);

  const ledger = openLedger(aws.dynamoDb, tableName);
  const before = await ledger.getDigest(location.service, digest);
  const result = await ledger.releaseQuarantine(location.service, digest, {
    at: io.now().toISOString(),
    by,
    reason: values.reason ?? null,
  });
  switch (result) {
    case 'released': {
      const tag = before?.quarantine?.tag ?? before?.tags.at(-1);
      io.stdout(`released ${digest}${tag ? ` (${tag})` : ''} of ${location.service} from quarantine: it may be deployed again`);
      return 0;
    }
    case 'not-quarantined': {
      const last = before?.released ? ` (released ${toSecond(before.released.at)} by ${before.released.by})` : '';
      io.stderr(`not released: ${digest} of ${location.service} is not quarantined${last}`);
      return 1;
    }
    case 'unknown-digest':
      io.stderr(`not released: the ledger knows no digest ${digest} for ${location.service}`);
      return 1;
  }
}
