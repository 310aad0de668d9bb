/**
 * What the ledger commands' tests share: a dynalite ledger (one fresh table per test) seeded through the real
 * DeploymentLedger, Step Functions, CloudFormation and STS clients under aws-sdk-client-mock, and `model-rollout <argv>` run
 * in-process with those clients.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { SFNClient } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { beforeEach } from 'vitest';
import type { DeploymentLedger } from '../../lambdas/adapters/ledger';
import type { DeploymentRecord, DeploymentStatus } from '../../lambdas/contract/ledger-records';
import type { TriggerKind } from '../../lambdas/contract/start-events';
import type { CommandIo } from '../../cli/io';
import { main } from '../../cli/main';
import type { AwsClients } from '../../cli/stack-resources';
import type { LedgerDatabase } from '../../local/ledger-database';
import { ledgerPerTest } from '../fixtures/ledger';

export const SERVICE = 'sentiment';
export const REPOSITORY = 'models/sentiment';
export const STACK = 'ModelRollout';
/** In another Region than the clients' (us-east-1), so that a test can tell where the event's Region came from. */
export const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:ModelRolloutPipeline';
export const EXECUTION_ARN_PREFIX = 'arn:aws:states:eu-west-1:123456789012:execution:ModelRolloutPipeline';
/** Who the commands run as (STS GetCallerIdentity's answer). */
export const CALLER_ARN = 'arn:aws:sts::123456789012:assumed-role/release-operator/alice';
/** The commands' clock. */
export const NOW = new Date('2026-06-10T08:30:15.250Z');

/** `sha256:` and 64 hex digits made of one repeated character, so that a test can tell digests apart at a glance. */
export const digestOf = (hex: string) => `sha256:${hex.repeat(64)}`;

export interface Run {
  code: number;
  stdout: string[];
  stderr: string[];
}

export interface LedgerWorld {
  tableName: string;
  ledger: DeploymentLedger;
  clients: AwsClients;
  sfn: AwsClientStub<SFNClient>;
  cloudFormation: AwsClientStub<CloudFormationClient>;
  /** Answers GetCallerIdentity with CALLER_ARN unless a test says otherwise. */
  sts: AwsClientStub<STSClient>;
  /** Runs `model-rollout <argv>` with the world's clients; `io` replaces parts of the default test io. */
  run(argv: string[], io?: Partial<CommandIo>): Promise<Run>;
  /** Makes DescribeStacks answer with these outputs for STACK. */
  stackOutputs(outputs: Record<string, string>): void;
}

/**
 * The dynalite ledger of `ledgerPerTest` (one server per file, a fresh table per test) with fresh mocked clients per
 * test. Read `.world` inside tests and hooks.
 */
export function worldPerTest(): { readonly world: LedgerWorld } {
  const table = ledgerPerTest();
  let world: LedgerWorld;
  beforeEach(() => {
    world = newWorld(table.database, table.tableName, table.ledger);
  });
  return {
    get world() {
      return world;
    },
  };
}

function newWorld(db: LedgerDatabase, tableName: string, ledger: DeploymentLedger): LedgerWorld {
  const sfnClient = new SFNClient({ region: 'us-east-1' });
  const cloudFormationClient = new CloudFormationClient({ region: 'us-east-1' });
  const sfn = mockClient(sfnClient);
  const cloudFormation = mockClient(cloudFormationClient);
  const stsClient = new STSClient({ region: 'us-east-1' });
  const sts = mockClient(stsClient);
  sts.on(GetCallerIdentityCommand).resolves({ Arn: CALLER_ARN, Account: '123456789012', UserId: 'AROAEXAMPLE:alice' });
  const clients: AwsClients = { dynamoDb: db.dynamoDb, sfn: sfnClient, cloudFormation: cloudFormationClient, sts: stsClient };
  return {
    tableName,
    ledger,
    clients,
    sfn,
    cloudFormation,
    sts,
    async run(argv, io = {}) {
      const stdout: string[] = [];
      const stderr: string[] = [];
      const code = await main(
        argv,
        {
          stdout: (line) => stdout.push(line),
          stderr: (line) => stderr.push(line),
          now: () => NOW,
          sleep: async () => {},
          user: () => 'alice',
          columns: () => 160,
          ...io,
        },
        clients,
      );
      return { code, stdout, stderr };
    },
    stackOutputs(outputs) {
      cloudFormation.on(DescribeStacksCommand, { StackName: STACK }).resolves({
        Stacks: [
          {
            StackName: STACK,
            StackStatus: 'UPDATE_COMPLETE',
            CreationTime: new Date('2026-01-01T00:00:00Z'),
            Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
          },
        ],
      });
    },
  };
}

export interface Deployment {
  tag: string;
  digest: string;
  receivedAt: string;
  /** The outcome; undefined leaves the record in progress (received). */
  status?: DeploymentStatus;
  /** When the outcome was written. @default - 10 minutes after receivedAt */
  finishedAt?: string;
  trigger?: TriggerKind;
  reason?: string;
  /** Also quarantine the digest, as a rollback does. */
  quarantine?: { at: string; reason: string };
}

/**
 * Records a deployment as the pipeline does: received, then (with a status) its outcome; a succeeded one also marks its
 * digest succeeded, and `quarantine` quarantines the digest. Returns the record as the ledger keeps it.
 */
export async function recordDeployment(ledger: DeploymentLedger, d: Deployment): Promise<DeploymentRecord> {
  const executionArn = `${EXECUTION_ARN_PREFIX}:${d.trigger ?? 'push'}-${d.tag.replace(/\./g, '-')}-${d.receivedAt.replace(/[^0-9]/g, '')}`;
  const trigger = d.trigger ?? 'push';
  const record = await ledger.recordReceived({
    service: SERVICE,
    environment: 'production',
    repository: REPOSITORY,
    tag: d.tag,
    digest: d.digest,
    trigger: { kind: trigger, requestedBy: trigger === 'rollback' ? 'bob' : null, reason: trigger === 'rollback' ? 'bad model' : null },
    executionArn,
    receivedAt: d.receivedAt,
    reason: `${d.tag} received.`,
    taskDefinitionBefore: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/sentiment:1',
    model: {},
  });
  await ledger.noteDigest(SERVICE, d.digest, d.tag, d.receivedAt);
  if (d.status === undefined) return record;
  const at = d.finishedAt ?? new Date(new Date(d.receivedAt).getTime() + 10 * 60_000).toISOString();
  const taskDefinitionAfter = `arn:aws:ecs:eu-west-1:123456789012:task-definition/sentiment:${d.tag}`;
  await ledger.finalise(record.key, {
    status: d.status,
    reason: d.reason ?? `${d.tag}: ${d.status}.`,
    error: d.status === 'succeeded' ? null : 'ReleaseRolledBack',
    at,
    taskDefinitionAfter,
  });
  if (d.status === 'succeeded') {
    await ledger.markSucceeded(SERVICE, d.digest, { at, tag: d.tag, executionArn, taskDefinitionArn: taskDefinitionAfter });
  }
  if (d.quarantine) await ledger.quarantine(SERVICE, d.digest, { ...d.quarantine, executionArn, tag: d.tag });
  return (await ledger.get(record.key))!;
}
