/**
 * The crash finaliser with the real ledger (on dynalite): an execution that ended FAILED, TIMED_OUT or ABORTED before
 * it recorded its outcome has its record closed and its lock and digest claim freed.
 */
import type { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PipelineExecutions } from '../../lambdas/adapters/executions';
import type { ExecutionLookup } from '../../lambdas/steps/ports/pipeline-executions';
import type { DeploymentRecord } from '../../lambdas/contract/ledger-records';
import { START_EVENTS } from '../../lambdas/contract/start-events';
import { logger } from '../../lambdas/shared/logger';
import { createFinaliseExecutionHandler } from '../../lambdas/steps/finalise-execution';
import { sentimentService } from '../fixtures/catalog';
import { digestOf, executionArn, ledgerPerTest, REPOSITORY, seedDeployment, SERVICE, taskDefinition } from '../fixtures/ledger';

const NOW = new Date('2026-11-20T01:40:00.000Z');
const DIGEST = digestOf('3');
const EXECUTION_NAME = '0a1b2c3d-4e5f-6789-abcd-ef0123456789';
const EXECUTION = executionArn(EXECUTION_NAME);
/** The execution's startDate in the status event (2026-11-20T01:10:00Z). */
const START_DATE = Date.parse('2026-11-20T01:10:00.000Z');

const db = ledgerPerTest();

beforeAll(() => logger.setLogLevel('SILENT'));

const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:ModelRollout';

/**
 * The finaliser, with Step Functions answering DescribeExecution: by default that the execution ended as the event
 * says (a genuine event); `stepFunctionsSays` overrides it (a forged or stale event). `described` lists what was asked.
 */
const described: string[] = [];
const finalise = (stepFunctionsSays?: ExecutionLookup['status']) => (event: unknown) => {
  const sfn = {
    send: async (command: DescribeExecutionCommand) => {
      described.push(command.input.executionArn!);
      return { status: stepFunctionsSays ?? (event as { detail: { status: ExecutionLookup['status'] } }).detail.status };
    },
  };
  const executions = new PipelineExecutions(sfn as never, STATE_MACHINE);
  return createFinaliseExecutionHandler({ catalog: [sentimentService()], ledger: db.ledger, executions, clock: () => NOW })(event);
};
beforeEach(() => {
  described.length = 0;
});

/** The status-change event Step Functions sends (shared/samples/events/sfn-execution-failed.json), changed by `detail`. */
function statusEvent(detail: Record<string, unknown> = {}) {
  return {
    version: '0',
    id: '315c1398-40ff-a850-213b-158f73e60175',
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: '123456789012',
    time: '2026-11-20T01:40:00Z',
    region: 'us-east-1',
    resources: [EXECUTION],
    detail: {
      executionArn: EXECUTION,
      stateMachineArn: STATE_MACHINE,
      name: EXECUTION_NAME,
      status: 'FAILED',
      startDate: START_DATE,
      stopDate: START_DATE + 30 * 60_000,
      input: '{}',
      output: null,
      inputDetails: { included: true },
      outputDetails: null,
      error: 'States.Runtime',
      cause: "An error occurred while executing the state 'Deploy new revision'.",
      ...detail,
    },
  };
}

/** The ECR push event the execution was started with (shared/samples/events/ecr-image-push.json). */
function pushEvent(repositoryName: string) {
  return {
    version: '0',
    id: '13cde686-328b-6117-af20-0e5566167482',
    'detail-type': 'ECR Image Action',
    source: 'aws.ecr',
    account: '123456789012',
    time: '2026-11-20T01:10:00Z',
    region: 'us-east-1',
    resources: [],
    detail: { result: 'SUCCESS', 'repository-name': repositoryName, 'image-digest': DIGEST, 'action-type': 'PUSH', 'image-tag': 'v1.3.0' },
  };
}

/** The execution's record, deploying, with the service lock and its digest's claim. */
async function executionInFlight(): Promise<DeploymentRecord> {
  const record = await seedDeployment(db.ledger, {
    name: EXECUTION_NAME,
    tag: 'v1.3.0',
    digest: DIGEST,
    receivedAt: '2026-11-20T01:10:00.000Z',
    status: 'deploying',
  });
  await holdsLockAndClaim(record);
  return record;
}

async function holdsLockAndClaim(record: DeploymentRecord) {
  await db.ledger.claimDigest(SERVICE, DIGEST, { executionArn: EXECUTION, until: '2026-11-20T03:00:00.000Z' }, record.receivedAt);
  await db.ledger.acquireLock(
    {
      service: SERVICE,
      holder: { executionArn: EXECUTION, key: record.key, tag: record.tag },
      acquiredAt: record.receivedAt,
      expiresAt: '2026-11-20T02:30:00.000Z',
    },
    record.receivedAt,
  );
}

async function expectLockAndClaimFreed() {
  await expect(db.ledger.getLock(SERVICE)).resolves.toBeNull();
  await expect(db.ledger.getDigest(SERVICE, DIGEST)).resolves.toMatchObject({ claim: null });
}

describe('finalise a crashed execution', () => {
  it.each([
    ['ABORTED', 'execution-aborted'],
    ['TIMED_OUT', 'execution-timed-out'],
    ['FAILED', 'execution-failed'],
  ])('closes the open record of a %s execution as %s and frees its lock and digest claim', async (status, crashStatus) => {
    const record = await executionInFlight();

    await expect(finalise()(statusEvent({ status }))).resolves.toEqual({ action: 'finalised', status, executionArn: EXECUTION });

    const closed = await db.ledger.get(record.key);
    expect(closed).toMatchObject({
      status: crashStatus,
      final: true,
      error: 'States.Runtime',
      finishedAt: NOW.toISOString(),
      taskDefinitionAfter: null,
    });
    expect(closed?.reason).toContain(`ended ${status}`);
    expect(closed?.reason).toContain('States.Runtime');
    expect(closed?.reason).toContain("An error occurred while executing the state 'Deploy new revision'.");
    await expectLockAndClaimFreed();
  });

  it('names the execution status as the error when the event carries none (an abort)', async () => {
    const record = await executionInFlight();

    await finalise()(statusEvent({ status: 'ABORTED', error: null, cause: null }));

    await expect(db.ledger.get(record.key)).resolves.toMatchObject({ status: 'execution-aborted', error: 'ABORTED' });
  });

  it('keeps only the beginning of a long cause', async () => {
    const record = await executionInFlight();
    const cause = `${'stack frame\n'.repeat(40)}${'x'.repeat(1000)}`;

    await finalise()(statusEvent({ cause }));

    const { reason } = (await db.ledger.get(record.key))!;
    expect(reason).toContain(`${cause.slice(0, 499)}…`);
    expect(reason).not.toContain(cause.slice(0, 500));
    expect(reason.length).toBeLessThan(700);
  });

  it('leaves a record that is already final as it was, but frees the lock it still holds', async () => {
    const record = await seedDeployment(db.ledger, {
      name: EXECUTION_NAME,
      tag: 'v1.3.0',
      digest: DIGEST,
      receivedAt: '2026-11-20T01:10:00.000Z',
      status: 'rolled-back',
      taskDefinitionAfter: taskDefinition(7),
    });
    await holdsLockAndClaim(record);

    await expect(finalise()(statusEvent())).resolves.toEqual({ action: 'already-final', status: 'FAILED', executionArn: EXECUTION });

    await expect(db.ledger.get(record.key)).resolves.toEqual(record);
    await expectLockAndClaimFreed();
  });

  it.each(['SUCCEEDED', 'RUNNING'])('ignores a %s execution', async (status) => {
    const record = await executionInFlight();

    await expect(finalise()(statusEvent({ status, error: null, cause: null }))).resolves.toEqual({
      action: 'ignored',
      status,
      executionArn: EXECUTION,
    });

    await expect(db.ledger.get(record.key)).resolves.toEqual(record);
    await expect(db.ledger.getLock(SERVICE)).resolves.toMatchObject({ holder: { executionArn: EXECUTION } });
  });

  it('records an execution that crashed before it recorded its release, from its push event, and closes the record', async () => {
    await expect(finalise()(statusEvent({ input: JSON.stringify(pushEvent(REPOSITORY)) }))).resolves.toMatchObject({ action: 'finalised' });

    const record = await db.ledger.findByExecution(EXECUTION);
    expect(record).toMatchObject({
      service: SERVICE,
      environment: 'production',
      repository: REPOSITORY,
      tag: 'v1.3.0',
      digest: DIGEST,
      trigger: { kind: 'push' },
      receivedAt: new Date(START_DATE).toISOString(),
      status: 'execution-failed',
      final: true,
    });
    expect(record?.history.map((change) => change.status)).toEqual(['received', 'execution-failed']);
  });

  it('records a crashed operator’s rollback as a rollback, by whom and why', async () => {
    const rollback = {
      ...pushEvent(REPOSITORY),
      source: START_EVENTS.rollback.source,
      'detail-type': START_EVENTS.rollback.detailType,
      detail: { ...pushEvent(REPOSITORY).detail, 'requested-by': 'alice', reason: 'v1.4.0 misclassifies sarcasm' },
    };

    await finalise()(statusEvent({ input: JSON.stringify(rollback) }));

    await expect(db.ledger.findByExecution(EXECUTION)).resolves.toMatchObject({
      trigger: { kind: 'rollback', requestedBy: 'alice', reason: 'v1.4.0 misclassifies sarcasm' },
    });
  });

  it.each([
    ['a push event for a repository no service is configured for', JSON.stringify(pushEvent('models/unknown'))],
    ['an input that is no push event', '{}'],
    ['an input that is not JSON', '{"detail":'],
    ['no input', null],
  ])('ignores an execution without a record whose input is %s, writing nothing', async (_, input) => {
    await expect(finalise()(statusEvent({ input }))).resolves.toEqual({ action: 'ignored', status: 'FAILED', executionArn: EXECUTION });

    await expect(db.items()).resolves.toEqual([]);
  });

  it('asks Step Functions whether the execution really ended so before it frees anything', async () => {
    await executionInFlight();

    await finalise()(statusEvent({ status: 'FAILED' }));

    expect(described).toEqual([EXECUTION]);
  });

  it.each([
    ['running (a forged or replayed event, an execution redriven since, or an answer lagging the event)', 'RUNNING'],
    ['unknown to Step Functions', 'missing'],
  ] as const)('frees nothing when the execution is %s, and throws so that the event is retried, then kept', async (_case, actual) => {
    const record = await executionInFlight();

    await expect(finalise(actual)(statusEvent({ status: 'FAILED' }))).rejects.toMatchObject({
      name: 'ExecutionNotEndedError',
      message: expect.stringContaining(`ended FAILED, but Step Functions says ${actual}`),
    });

    await expect(db.ledger.get(record.key)).resolves.toMatchObject({ status: 'deploying', final: false });
    await expect(db.ledger.getLock(SERVICE)).resolves.toMatchObject({ holder: { executionArn: EXECUTION } });
    await expect(db.ledger.getDigest(SERVICE, DIGEST)).resolves.toMatchObject({ claim: { executionArn: EXECUTION } });
  });

  it('leaves alone an execution of another state machine, without asking about it', async () => {
    const other = 'arn:aws:states:us-east-1:123456789012:execution:SomeoneElses:0a1b2c3d';
    await executionInFlight();

    await expect(finalise()(statusEvent({ status: 'FAILED', executionArn: other }))).resolves.toMatchObject({ action: 'ignored' });

    expect(described).toEqual([]);
    await expect(db.ledger.getLock(SERVICE)).resolves.toMatchObject({ holder: { executionArn: EXECUTION } });
  });

  it('throws InvalidInputError for an event that is no execution status change', async () => {
    await expect(finalise()({ detail: { status: 'FAILED' } })).rejects.toMatchObject({
      name: 'InvalidInputError',
      message: expect.stringContaining('detail.executionArn'),
    });
  });
});
