/**
 * `model-rollout rollback`: the operator's way back to a version that worked. The command only chooses the version
 * from the deployment ledger and starts the pipeline with a rollback start event (START_EVENTS.rollback); the pipeline
 * verifies, deploys, health-checks, records and alerts it like any release.
 *
 * Exit 0: execution started; 1: no eligible version to roll back to (nothing started); 2: usage, configuration or AWS
 * access error.
 */
import { randomUUID } from 'node:crypto';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { DeploymentRecord } from '../lambdas/contract/ledger-records';
import { startEvent } from '../lambdas/contract/start-events';
import type { LastKnownGood } from '../lambdas/contract/steps';
import { lastKnownGood } from '../lambdas/decisions/service-lock';
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
import { shortDigest, toSecond } from './table';

export const ROLLBACK_USAGE = `Usage:
  model-rollout rollback --service NAME (--config FILE | --stack NAME | --table NAME --state-machine ARN)
                         [--to vX.Y.Z] [--reason TEXT] [--requested-by WHO] [--region REGION] [--json]

Starts the pipeline to put a version that worked back in service, chosen from the deployment ledger:
  --to vX.Y.Z              the newest succeeded deployment of that version (refused when its digest is quarantined)
  (without --to)           the last known good before what runs now: the newest succeeded, not quarantined
                           deployment of another digest than the newest succeeded one
  --reason TEXT            why, recorded in the ledger and the alerts
  --requested-by WHO       who asks (default: $USER)
The rollback is verified, health-checked, recorded and alerted like any release.

${LOCATION_USAGE}
Exit status: 0 started, 1 no eligible version to roll back to, 2 usage, configuration or AWS access error.`;

/** Step Functions execution names: at most 80 characters of these. */
const EXECUTION_NAME_MAX = 80;

/** The version a rollback goes to, and what the service runs now (the newest succeeded deployment), as the ledger tells. */
export type RollbackChoice =
  | { verdict: 'target'; target: LastKnownGood & { repository: string }; current: LastKnownGood | null }
  | { verdict: 'none'; reason: string };

type LedgerRecord = Pick<DeploymentRecord, 'status' | 'tag' | 'digest' | 'repository' | 'taskDefinitionAfter' | 'finishedAt'>;

/** Chooses the rollback target from the service's deployment records and its quarantined digests. Pure. */
export function chooseRollbackTarget(
  service: string,
  records: readonly LedgerRecord[],
  quarantined: ReadonlySet<string>,
  to: string | null,
): RollbackChoice {
  const current = lastKnownGood([...records], new Set());
  const once = succeededVersions(records, quarantined);
  const eligible = `versions that once succeeded: ${once.length === 0 ? 'none' : once.join(', ')}`;
  let target: LastKnownGood | null;
  if (to !== null) {
    target = lastKnownGood(
      records.filter((r) => r.tag === to),
      new Set(),
    );
    if (target === null)
      return { verdict: 'none', reason: `${to} never succeeded for ${service}, so it is no rollback target (${eligible})` };
    if (quarantined.has(target.digest)) {
      return {
        verdict: 'none',
        reason:
          `${to} (${target.digest}) is quarantined for ${service}: release it first with ` +
          `\`model-rollout quarantine release --service ${service} --digest ${target.digest}\` (${eligible})`,
      };
    }
  } else {
    if (current === null)
      return { verdict: 'none', reason: `no deployment of ${service} ever succeeded: there is nothing to roll back to` };
    target = lastKnownGood(
      records.filter((r) => r.digest !== current.digest),
      quarantined,
    );
    if (target === null) {
      return {
        verdict: 'none',
        reason: `${service} runs ${current.tag} (${shortDigest(current.digest)}) and no other succeeded, not quarantined version is recorded (${eligible})`,
      };
    }
  }
  const chosen = target;
  const repository = records.find((r) => r.digest === chosen.digest && r.tag === chosen.tag)!.repository;
  return { verdict: 'target', target: { ...chosen, repository }, current };
}

/** Tags that succeeded at least once, newest success first; quarantined ones marked. */
function succeededVersions(records: readonly LedgerRecord[], quarantined: ReadonlySet<string>): string[] {
  const newestFirst = records
    .filter((r) => r.status === 'succeeded' && r.finishedAt)
    .sort((a, b) => (a.finishedAt! < b.finishedAt! ? 1 : a.finishedAt! > b.finishedAt! ? -1 : 0));
  const seen = new Map<string, boolean>();
  for (const r of newestFirst) seen.set(r.tag, (seen.get(r.tag) ?? false) || quarantined.has(r.digest));
  return [...seen].map(([tag, isQuarantined]) => (isQuarantined ? `${tag} (quarantined)` : tag));
}

/** The event a rollback execution starts with: an ECR push event's shape, with the rollback's source and detail. */
export function rollbackStartEvent(input: {
  id: string;
  time: Date;
  stateMachineArn: string;
  repository: string;
  digest: string;
  tag: string;
  requestedBy: string;
  reason: string | null;
}) {
  const { region, account } = parseStateMachineArn(input.stateMachineArn);
  return startEvent(
    'rollback',
    { id: input.id, account, region, time: toSecond(input.time.toISOString()) },
    {
      'repository-name': input.repository,
      'image-digest': input.digest,
      'image-tag': input.tag,
      'action-type': 'ROLLBACK',
      result: 'SUCCESS',
      'requested-by': input.requestedBy,
      // The start event's schema takes a string or nothing: no reason given, none sent.
      ...(input.reason === null ? {} : { reason: input.reason }),
    },
  );
}

/** `rollback-<tag, dots as dashes>-<12 hex of the digest>-<yyyymmddHHMMss UTC>`, at most 80 of [A-Za-z0-9-_]. */
export function rollbackExecutionName(tag: string, digest: string, at: Date): string {
  const hex = digest.replace(/^sha256:/, '').slice(0, 12);
  const stamp = at
    .toISOString()
    .replace(/\.\d+Z$/, '')
    .replace(/[-:T]/g, '');
  const fixed = `rollback--${hex}-${stamp}`.length;
  const safeTag = tag.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, EXECUTION_NAME_MAX - fixed);
  return `rollback-${safeTag}-${hex}-${stamp}`;
}

const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:([a-z0-9-]+):(\d{12}):stateMachine:[A-Za-z0-9_-]+$/;

function parseStateMachineArn(arn: string): { region: string; account: string } {
  const match = STATE_MACHINE_ARN.exec(arn);
  if (!match)
    throw new UsageError(`${JSON.stringify(arn)} is not a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>)`);
  return { region: match[1]!, account: match[2]! };
}

export async function runRollback(args: string[], io: CommandIo, clients?: AwsClients): Promise<number> {
  const values = parseLocationArgs(args, {
    to: { type: 'string' },
    reason: { type: 'string' },
    'requested-by': { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const location = parseLocation(values);
  const requestedBy = values['requested-by'] ?? io.user?.() ?? 'operator';
  if (requestedBy.trim() === '') throw new UsageError('--requested-by must not be empty');
  if (values.to !== undefined && values.to.trim() === '') throw new UsageError('--to must name a version, e.g. v1.2.0');
  if (location.stateMachineArn !== null) parseStateMachineArn(location.stateMachineArn);
  const aws = clients ?? defaultClients(location.region);
  const { tableName, stateMachineArn } = await findResources(location, ['tableName', 'stateMachineArn'], () => aws.cloudFormation);

  const ledger = openLedger(aws.dynamoDb, tableName);
  const [records, digests] = await Promise.all([ledger.listDeployments(location.service), ledger.listDigests(location.service)]);
  const quarantined = new Set(digests.filter((d) => d.quarantine !== null).map((d) => d.digest));
  const choice = chooseRollbackTarget(location.service, records, quarantined, values.to ?? null);
  if (choice.verdict === 'none') {
    io.stderr(`no rollback: ${choice.reason}`);
    return 1;
  }

  const { target, current } = choice;
  const now = io.now();
  const event = rollbackStartEvent({
    id: randomUUID(),
    time: now,
    stateMachineArn,
    repository: target.repository,
    digest: target.digest,
    tag: target.tag,
    requestedBy,
    reason: values.reason ?? null,
  });
  const name = rollbackExecutionName(target.tag, target.digest, now);
  const started = await aws.sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(event) }));

  if (values.json) {
    io.stdout(
      JSON.stringify(
        { service: location.service, current, target, executionArn: started.executionArn, startDate: started.startDate, event },
        null,
        2,
      ),
    );
    return 0;
  }
  const from = current === null ? '' : ` from ${current.tag} (${shortDigest(current.digest)})`;
  io.stdout(
    `rolling back ${location.service}${from} to ${target.tag} (${shortDigest(target.digest)}, succeeded ${toSecond(target.succeededAt)})`,
  );
  io.stdout(`started execution ${started.executionArn}`);
  io.stdout(
    `The rollback will be verified, deployed, health-checked, recorded and alerted like any release: ` +
      `\`model-rollout history --service ${location.service}\` shows how it ends.`,
  );
  return 0;
}
