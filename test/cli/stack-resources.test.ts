/**
 * Where the ledger commands find the ledger table and the state machine: explicit options, the stack's outputs
 * (CloudFormation under aws-sdk-client-mock), or the configuration's stack name; and how each way fails.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultClients, parseLocation, STACK_OUTPUTS } from '../../cli/stack-resources';
import { TEST_NETWORK } from '../fixtures/network';
import { digestOf, EXECUTION_ARN_PREFIX, recordDeployment, SERVICE, STACK, STATE_MACHINE_ARN, worldPerTest } from './ledger-fixture';

const fixture = worldPerTest();
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'model-rollout-stack-resources-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  fixture.world.sfn
    .on(StartExecutionCommand)
    .callsFake((input: { name: string }) => ({ executionArn: `${EXECUTION_ARN_PREFIX}:${input.name}`, startDate: new Date() }));
  await recordDeployment(fixture.world.ledger, {
    tag: 'v1.0.0',
    digest: digestOf('a'),
    receivedAt: '2026-05-01T10:00:00.000Z',
    status: 'succeeded',
  });
  await recordDeployment(fixture.world.ledger, {
    tag: 'v1.1.0',
    digest: digestOf('b'),
    receivedAt: '2026-05-10T10:00:00.000Z',
    status: 'succeeded',
  });
});

let configs = 0;
/** A valid configuration naming `stackName`, with services sentiment and summarizer. */
function writeConfig(stackName: string, extra: Record<string, unknown> = {}): string {
  const service = (name: string) => ({
    name,
    environment: 'production',
    repository: `models/${name}`,
    cluster: 'models-prod',
    service: name,
    container: 'model',
    taskDefinitionFamily: `${name}-task`,
    signing: { kmsKeys: ['alias/release-signing'] },
  });
  const file = join(dir, `config-${++configs}.json`);
  writeFileSync(file, JSON.stringify({ stackName, network: TEST_NETWORK, services: [service(SERVICE), service('summarizer')], ...extra }));
  return file;
}

const describeStacksCalls = () => fixture.world.cloudFormation.commandCalls(DescribeStacksCommand).map((call) => call.args[0].input);

describe('the ledger and the state machine from the stack outputs', () => {
  it('--stack: history reads the ledger table named by the LedgerTableName output', async () => {
    fixture.world.stackOutputs({ [STACK_OUTPUTS.tableName]: fixture.world.tableName, [STACK_OUTPUTS.stateMachineArn]: STATE_MACHINE_ARN });

    const run = await fixture.world.run(['history', '--service', SERVICE, '--stack', STACK]);

    expect(run.code).toBe(0);
    expect(run.stdout.slice(1).map((line) => line.split(/\s{2,}/)[1])).toEqual(['v1.1.0', 'v1.0.0']);
    expect(describeStacksCalls()).toEqual([{ StackName: STACK }]);
  });

  it('--stack: rollback starts the state machine named by the StateMachineArn output, with one DescribeStacks call', async () => {
    fixture.world.stackOutputs({
      LedgerTableName: fixture.world.tableName,
      StateMachineArn: STATE_MACHINE_ARN,
      AlertTopicArn: 'arn:aws:sns:eu-west-1:123456789012:x',
    });

    const run = await fixture.world.run(['rollback', '--service', SERVICE, '--stack', STACK]);

    expect(run.code).toBe(0);
    const calls = fixture.world.sfn.commandCalls(StartExecutionCommand);
    expect(calls.map((call) => call.args[0].input.stateMachineArn)).toEqual([STATE_MACHINE_ARN]);
    expect(JSON.parse(calls[0]!.args[0].input.input!).detail['image-tag']).toBe('v1.0.0');
    expect(describeStacksCalls()).toHaveLength(1);
  });

  it('explicit --table and --state-machine win over the stack, which is then not asked', async () => {
    const run = await fixture.world.run([
      'rollback',
      '--service',
      SERVICE,
      '--stack',
      STACK,
      '--table',
      fixture.world.tableName,
      '--state-machine',
      STATE_MACHINE_ARN,
    ]);

    expect(run.code).toBe(0);
    expect(describeStacksCalls()).toEqual([]);
  });

  it('explicit --table with the state machine from the stack', async () => {
    fixture.world.stackOutputs({ LedgerTableName: 'some-other-table', StateMachineArn: STATE_MACHINE_ARN });

    const run = await fixture.world.run(['rollback', '--service', SERVICE, '--stack', STACK, '--table', fixture.world.tableName]);

    expect(run.code).toBe(0);
    expect(fixture.world.sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.stateMachineArn).toBe(STATE_MACHINE_ARN);
  });

  it.each<[string, Record<string, string>, string[], string]>([
    ['StateMachineArn (rollback)', { LedgerTableName: 'ledger' }, ['rollback'], 'StateMachineArn'],
    ['LedgerTableName (history)', { StateMachineArn: STATE_MACHINE_ARN }, ['history'], 'LedgerTableName'],
    ['LedgerTableName (quarantine list)', {}, ['quarantine', 'list'], 'LedgerTableName'],
  ])('exits 2 when the stack has no output %s, naming it', async (_, outputs, command, missing) => {
    fixture.world.stackOutputs(outputs);

    const run = await fixture.world.run([...command, '--service', SERVICE, '--stack', STACK]);

    expect(run).toEqual({
      code: 2,
      stdout: [],
      stderr: [`error: StackResourcesError: stack ${STACK} has no output ${missing}: deploy the current version`],
    });
    expect(fixture.world.sfn.commandCalls(StartExecutionCommand)).toEqual([]);
  });

  it('exits 2 with CloudFormation’s answer when the stack does not exist', async () => {
    fixture.world.cloudFormation
      .on(DescribeStacksCommand)
      .rejects(Object.assign(new Error('Stack with id Nowhere does not exist'), { name: 'ValidationError' }));

    const run = await fixture.world.run(['history', '--service', SERVICE, '--stack', 'Nowhere']);

    expect(run).toEqual({ code: 2, stdout: [], stderr: ['error: ValidationError: Stack with id Nowhere does not exist'] });
  });
});

describe('--config', () => {
  it("reads the outputs of the configuration's stack", async () => {
    fixture.world.cloudFormation.on(DescribeStacksCommand, { StackName: 'RolloutProd' }).resolves({
      Stacks: [
        {
          StackName: 'RolloutProd',
          StackStatus: 'CREATE_COMPLETE',
          CreationTime: new Date('2026-01-01T00:00:00Z'),
          Outputs: [{ OutputKey: 'LedgerTableName', OutputValue: fixture.world.tableName }],
        },
      ],
    });

    const run = await fixture.world.run(['history', '--service', SERVICE, '--config', writeConfig('RolloutProd')]);

    expect(run.code).toBe(0);
    expect(describeStacksCalls()).toEqual([{ StackName: 'RolloutProd' }]);
    expect(run.stdout).toHaveLength(3);
  });

  it.each<[string, () => string[], string[]]>([
    [
      'a service not in the configuration',
      () => ['--config', writeConfig('RolloutProd'), '--service', 'translator'],
      ['"translator"', 'sentiment, summarizer'],
    ],
    ['a configuration file that does not exist', () => ['--config', join(dir, 'nowhere.json'), '--service', SERVICE], ['nowhere.json']],
    [
      'an invalid configuration',
      () => ['--config', writeConfig('1-not-a-stack-name'), '--service', SERVICE],
      ['stackName', '"1-not-a-stack-name"'],
    ],
    [
      '--config with --stack',
      () => ['--config', writeConfig('RolloutProd'), '--stack', STACK, '--service', SERVICE],
      ['--config FILE or --stack NAME'],
    ],
  ])('exits 2 for %s, naming it, without calling AWS', async (_, args, mentions) => {
    for (const command of [['history'], ['rollback'], ['quarantine', 'list']]) {
      const run = await fixture.world.run([...command, ...args()]);

      expect(run.code).toBe(2);
      expect(run.stdout).toEqual([]);
      expect(run.stderr[0]).toMatch(/^error: /);
      for (const words of mentions) expect(run.stderr[0]).toContain(words);
    }
    expect(describeStacksCalls()).toEqual([]);
    expect(fixture.world.sfn.commandCalls(StartExecutionCommand)).toEqual([]);
  });

  it("takes the configuration's region unless --region is given", () => {
    const config = writeConfig('RolloutProd', { account: '123456789012', region: 'eu-central-1' });

    expect(parseLocation({ service: SERVICE, config })).toEqual({
      service: SERVICE,
      stackName: 'RolloutProd',
      tableName: null,
      stateMachineArn: null,
      region: 'eu-central-1',
    });
    expect(parseLocation({ service: SERVICE, config, region: 'us-west-2' }).region).toBe('us-west-2');
    expect(parseLocation({ service: SERVICE, stack: STACK }).region).toBeUndefined();
  });
});

describe('defaultClients', () => {
  it('creates each client once, on first use, in the Region given', async () => {
    const clients = defaultClients('ap-southeast-2');

    expect(clients.sfn).toBe(clients.sfn);
    expect(clients.dynamoDb).toBe(clients.dynamoDb);
    expect(await clients.cloudFormation.config.region()).toBe('ap-southeast-2');
    expect(await clients.dynamoDb.config.region()).toBe('ap-southeast-2');
  });

  it('leaves the Region to the SDK when none is given', async () => {
    expect(await defaultClients().sfn.config.region()).toBe(process.env.AWS_REGION);
  });
});
