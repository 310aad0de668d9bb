/**
 * `model-rollout rollback`: the target chosen from a real (dynalite) ledger, and the execution it starts (Step Functions
 * under aws-sdk-client-mock): the rollback start event, the execution name, the state machine.
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { beforeEach, describe, expect, it } from 'vitest';
import { START_EVENTS } from '../../lambdas/contract/start-events';
import { ecrPushEventSchema } from '../../lambdas/contract/start-events';
import { chooseRollbackTarget, rollbackExecutionName } from '../../cli/rollback-command';
import { digestOf, EXECUTION_ARN_PREFIX, recordDeployment, REPOSITORY, SERVICE, STATE_MACHINE_ARN, worldPerTest } from './ledger-fixture';

const fixture = worldPerTest();
beforeEach(() => {
  fixture.world.sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
    executionArn: `${EXECUTION_ARN_PREFIX}:${input.name}`,
    startDate: new Date('2026-06-10T08:30:16Z'),
  }));
});

/**
 * v1.0.0 (a) and v1.1.0 (b) succeeded; v1.2.0 (c) succeeded but is quarantined since; v1.3.0 (d) was rolled back and
 * quarantined; v1.2.1 (e) succeeded last and runs now.
 */
async function seedHistory() {
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
  await recordDeployment(fixture.world.ledger, {
    tag: 'v1.2.0',
    digest: digestOf('c'),
    receivedAt: '2026-05-20T10:00:00.000Z',
    status: 'succeeded',
    quarantine: { at: '2026-06-01T00:00:00.000Z', reason: 'wrong tokenizer' },
  });
  await recordDeployment(fixture.world.ledger, {
    tag: 'v1.3.0',
    digest: digestOf('d'),
    receivedAt: '2026-06-01T10:00:00.000Z',
    status: 'rolled-back',
    quarantine: { at: '2026-06-01T10:20:00.000Z', reason: 'unhealthy' },
  });
  await recordDeployment(fixture.world.ledger, {
    tag: 'v1.2.1',
    digest: digestOf('e'),
    receivedAt: '2026-06-05T10:00:00.000Z',
    status: 'succeeded',
  });
}

const rollback = (...extra: string[]) => [
  'rollback',
  '--service',
  SERVICE,
  '--table',
  fixture.world.tableName,
  '--state-machine',
  STATE_MACHINE_ARN,
  ...extra,
];

function startedExecution() {
  const calls = fixture.world.sfn.commandCalls(StartExecutionCommand);
  expect(calls).toHaveLength(1);
  const input = calls[0]!.args[0].input;
  return { ...input, event: JSON.parse(input.input!) };
}

describe('model-rollout rollback --to', () => {
  it('starts the pipeline with the rollback start event for the newest succeeded deployment of that version', async () => {
    await seedHistory();

    const run = await fixture.world.run(rollback('--to', 'v1.0.0', '--reason', 'v1.2.1 mislabels sarcasm'));

    expect(run.code).toBe(0);
    const started = startedExecution();
    expect(started.stateMachineArn).toBe(STATE_MACHINE_ARN);
    expect(started.event).toEqual({
      version: '0',
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      'detail-type': START_EVENTS.rollback.detailType,
      source: START_EVENTS.rollback.source,
      account: '123456789012',
      region: 'eu-west-1',
      time: '2026-06-10T08:30:15Z',
      resources: [],
      detail: {
        'repository-name': REPOSITORY,
        'image-digest': digestOf('a'),
        'image-tag': 'v1.0.0',
        'action-type': 'ROLLBACK',
        result: 'SUCCESS',
        'requested-by': 'alice',
        reason: 'v1.2.1 mislabels sarcasm',
      },
    });
    // What the pipeline's first step parses.
    expect(ecrPushEventSchema.safeParse(started.event).success).toBe(true);
    expect(started.name).toBe('rollback-v1-0-0-aaaaaaaaaaaa-20260610083015');
    expect(run.stdout).toEqual([
      `rolling back ${SERVICE} from v1.2.1 (sha256:eeeeeeeeeeee) to v1.0.0 (sha256:aaaaaaaaaaaa, succeeded 2026-05-01T10:10:00Z)`,
      `started execution ${EXECUTION_ARN_PREFIX}:rollback-v1-0-0-aaaaaaaaaaaa-20260610083015`,
      expect.stringMatching(/^The rollback will be verified, deployed, health-checked, recorded and alerted like any release/),
    ]);
  });

  it('takes the newest digest of a version pushed twice, and --requested-by over the user', async () => {
    await seedHistory();
    await recordDeployment(fixture.world.ledger, {
      tag: 'v1.1.0',
      digest: digestOf('f'),
      receivedAt: '2026-05-12T10:00:00.000Z',
      status: 'succeeded',
    });

    const run = await fixture.world.run(rollback('--to', 'v1.1.0', '--requested-by', 'oncall@example.com'));

    expect(run.code).toBe(0);
    const { event, name } = startedExecution();
    expect(event.detail).toMatchObject({ 'image-digest': digestOf('f'), 'image-tag': 'v1.1.0', 'requested-by': 'oncall@example.com' });
    expect(event.detail).not.toHaveProperty('reason');
    expect(name).toBe('rollback-v1-1-0-ffffffffffff-20260610083015');
  });

  it('--json prints the target, what runs now and the execution', async () => {
    await seedHistory();

    const run = await fixture.world.run(rollback('--to', 'v1.1.0', '--json'));

    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout.join('\n'));
    expect(out).toMatchObject({
      service: SERVICE,
      target: { tag: 'v1.1.0', digest: digestOf('b'), repository: REPOSITORY },
      current: { tag: 'v1.2.1', digest: digestOf('e') },
      executionArn: `${EXECUTION_ARN_PREFIX}:rollback-v1-1-0-bbbbbbbbbbbb-20260610083015`,
    });
    expect(out.event.detail['image-digest']).toBe(digestOf('b'));
  });

  it('refuses a version that never succeeded (exit 1), listing those that did', async () => {
    await seedHistory();

    const run = await fixture.world.run(rollback('--to', 'v1.3.0'));

    expect(run.code).toBe(1);
    expect(run.stdout).toEqual([]);
    expect(run.stderr).toEqual([
      `no rollback: v1.3.0 never succeeded for ${SERVICE}, so it is no rollback target ` +
        '(versions that once succeeded: v1.2.1, v1.2.0 (quarantined), v1.1.0, v1.0.0)',
    ]);
    expect(fixture.world.sfn.commandCalls(StartExecutionCommand)).toEqual([]);
  });

  it('refuses a version unknown to the ledger (exit 1)', async () => {
    await seedHistory();

    const run = await fixture.world.run(rollback('--to', 'v0.9.0'));

    expect(run.code).toBe(1);
    expect(run.stderr[0]).toContain('v0.9.0 never succeeded');
    expect(fixture.world.sfn.commandCalls(StartExecutionCommand)).toEqual([]);
  });

  it('refuses a version whose digest is quarantined (exit 1), saying how to release it', async () => {
    await seedHistory();

    const run = await fixture.world.run(rollback('--to', 'v1.2.0'));

    expect(run.code).toBe(1);
    expect(run.stderr).toHaveLength(1);
    expect(run.stderr[0]).toMatch(/^no rollback: v1\.2\.0 \(sha256:c{64}\) is quarantined for sentiment/);
    expect(run.stderr[0]).toContain(`model-rollout quarantine release --service ${SERVICE} --digest ${digestOf('c')}`);
    expect(run.stderr[0]).toContain('versions that once succeeded: v1.2.1, v1.2.0 (quarantined), v1.1.0, v1.0.0');
    expect(fixture.world.sfn.commandCalls(StartExecutionCommand)).toEqual([]);
  });
});

describe('model-rollout rollback without --to', () => {
  it('goes to the last known good before what runs now, skipping quarantined digests', async () => {
    await seedHistory();

    const run = await fixture.world.run(rollback());

    expect(run.code).toBe(0);
    const { event, name } = startedExecution();
    expect(event.detail).toMatchObject({ 'image-tag': 'v1.1.0', 'image-digest': digestOf('b'), 'requested-by': 'alice' });
    expect(name).toBe('rollback-v1-1-0-bbbbbbbbbbbb-20260610083015');
    expect(run.stdout[0]).toContain('from v1.2.1 (sha256:eeeeeeeeeeee) to v1.1.0 (sha256:bbbbbbbbbbbb');
  });

  it('after a rollback to v1.1.0 succeeded, goes to the newest other digest (v1.2.1 again)', async () => {
    await seedHistory();
    await recordDeployment(fixture.world.ledger, {
      tag: 'v1.1.0',
      digest: digestOf('b'),
      receivedAt: '2026-06-07T10:00:00.000Z',
      status: 'succeeded',
      trigger: 'rollback',
    });

    const run = await fixture.world.run(rollback());

    expect(run.code).toBe(0);
    expect(startedExecution().event.detail).toMatchObject({ 'image-tag': 'v1.2.1', 'image-digest': digestOf('e') });
  });

  it('exits 1 when only what runs now ever succeeded', async () => {
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
      status: 'rejected',
    });

    const run = await fixture.world.run(rollback());

    expect(run.code).toBe(1);
    expect(run.stderr).toEqual([
      `no rollback: ${SERVICE} runs v1.0.0 (sha256:aaaaaaaaaaaa) and no other succeeded, not quarantined version is recorded ` +
        '(versions that once succeeded: v1.0.0)',
    ]);
    expect(fixture.world.sfn.commandCalls(StartExecutionCommand)).toEqual([]);
  });

  it('exits 1 when nothing ever succeeded', async () => {
    const run = await fixture.world.run(rollback());

    expect(run.code).toBe(1);
    expect(run.stderr).toEqual([`no rollback: no deployment of ${SERVICE} ever succeeded: there is nothing to roll back to`]);
    expect(fixture.world.sfn.commandCalls(StartExecutionCommand)).toEqual([]);
  });
});

describe('model-rollout rollback errors', () => {
  it('exits 2 naming the Step Functions error when the execution cannot start', async () => {
    await seedHistory();
    fixture.world.sfn
      .on(StartExecutionCommand)
      .rejects(Object.assign(new Error('State Machine Does Not Exist'), { name: 'StateMachineDoesNotExist' }));

    const run = await fixture.world.run(rollback());

    expect(run.code).toBe(2);
    expect(run.stderr).toEqual(['error: StateMachineDoesNotExist: State Machine Does Not Exist']);
  });

  it.each<[string, string[], string]>([
    [
      'a malformed --state-machine',
      ['--service', SERVICE, '--table', 'ledger', '--state-machine', 'ModelRolloutPipeline'],
      '"ModelRolloutPipeline" is not a state machine ARN',
    ],
    ['--table without --state-machine', ['--service', SERVICE, '--table', 'ledger'], '--state-machine ARN'],
    [
      'an empty --to',
      ['--service', SERVICE, '--table', 'ledger', '--state-machine', STATE_MACHINE_ARN, '--to', ''],
      '--to must name a version',
    ],
    [
      'an empty --requested-by',
      ['--service', SERVICE, '--table', 'ledger', '--state-machine', STATE_MACHINE_ARN, '--requested-by', ' '],
      '--requested-by',
    ],
  ])('exits 2 for %s, naming it, with the usage', async (_, argv, mentions) => {
    const run = await fixture.world.run(['rollback', ...argv]);

    expect(run.code).toBe(2);
    expect(run.stderr[0]).toMatch(/^error: /);
    expect(run.stderr[0]).toContain(mentions);
    expect(run.stderr[0]).toContain('model-rollout rollback --service NAME');
    expect(fixture.world.sfn.commandCalls(StartExecutionCommand)).toEqual([]);
  });
});

describe('rollback helpers', () => {
  it('keeps execution names within 80 characters of [A-Za-z0-9-_], whatever the tag', () => {
    const at = new Date('2026-06-10T08:30:15.250Z');
    const long = rollbackExecutionName(`v1.2.3-rc.1+build.${'9'.repeat(80)}`, digestOf('a'), at);

    expect(long).toHaveLength(80);
    expect(long).toMatch(/^rollback-v1-2-3-rc-1-build-9+-aaaaaaaaaaaa-20260610083015$/);
    expect(rollbackExecutionName('v2.0.0', digestOf('0'), at)).toBe('rollback-v2-0-0-000000000000-20260610083015');
  });

  it('does not count deployments still in progress or failed as what runs now', () => {
    const record = (tag: string, hex: string, status: 'succeeded' | 'deploying' | 'deployment-failed', finishedAt: string | null) => ({
      tag,
      digest: digestOf(hex),
      repository: REPOSITORY,
      status,
      finishedAt,
      taskDefinitionAfter: finishedAt && `arn:aws:ecs:eu-west-1:123456789012:task-definition/sentiment:${tag}`,
    });
    const records = [
      record('v1.0.0', 'a', 'succeeded', '2026-05-01T00:00:00.000Z'),
      record('v1.1.0', 'b', 'succeeded', '2026-05-02T00:00:00.000Z'),
      record('v1.2.0', 'c', 'deployment-failed', '2026-05-03T00:00:00.000Z'),
      record('v1.3.0', 'd', 'deploying', null),
    ];

    const choice = chooseRollbackTarget(SERVICE, records, new Set(), null);

    expect(choice).toMatchObject({ verdict: 'target', target: { tag: 'v1.0.0' }, current: { tag: 'v1.1.0' } });
  });
});
