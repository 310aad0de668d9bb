/**
 * The event-driven health wait, with its real stores: waiters in an in-process DynamoDB, tokens answered through the
 * adapter into the local run's Step Functions tokens. ECS and CloudWatch are scripted observations.
 */
import { type SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ServiceLocks } from '../../lambdas/adapters/ledger-locks';
import { LedgerTable } from '../../lambdas/adapters/ledger-table';
import { LedgerWaiters } from '../../lambdas/adapters/ledger-waiters';
import { TaskTokens } from '../../lambdas/adapters/task-tokens';
import type { CatalogEntry } from '../../lambdas/contract/catalog';
import type { Waiter } from '../../lambdas/contract/ledger-records';
import { InvalidInputError } from '../../lambdas/errors';
import { logger } from '../../lambdas/shared/logger';
import { createAwaitHealthHandler } from '../../lambdas/steps/await-health';
import type { AlarmStatus } from '../../lambdas/steps/ports/alarm-monitor';
import type { DeploymentObservation } from '../../lambdas/steps/ports/deployment-target';
import { SimulatedAccount } from '../../local/simulated-account';
import { SimulatedTime } from '../../local/simulated-time';
import { LocalTaskTokens } from '../../local/task-tokens';
import { grayRelease, sentimentService } from '../fixtures/catalog';
import { executionArn, ledgerPerTest } from '../fixtures/ledger';

const TARGET = 'arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment-task:8';
const STATE = 'Wait for the service to become healthy';
const SERVICE_ARN = 'arn:aws:ecs:us-east-1:123456789012:service/models-prod/sentiment';
const service = sentimentService({ health: { alarms: ['sentiment-5xx'] } });
const other = sentimentService({ name: 'summarizer', service: 'summarizer', health: { alarms: ['summarizer-5xx'] } });

const perTest = ledgerPerTest();
beforeAll(() => logger.setLogLevel('SILENT'));

function deployment(rolloutState: string): DeploymentObservation {
  return {
    targetTaskDefinitionArn: TARGET,
    primary: { taskDefinitionArn: TARGET, rolloutState, rolloutStateReason: null, runningCount: 2, desiredCount: 2, failedTasks: 0 },
    deploymentCount: rolloutState === 'COMPLETED' ? 1 : 2,
    serviceDeployment: null,
  };
}

let world: ReturnType<typeof makeWorld>;
beforeEach(() => {
  world = makeWorld();
});

/** What the scripted ECS and CloudWatch show can change between calls; the clock is fixed. */
function makeWorld() {
  const tokens = new LocalTaskTokens(new SimulatedTime(new SimulatedAccount()));
  const seen = { rolloutState: 'IN_PROGRESS', alarm: 'OK' as AlarmStatus['state'] };
  const state = { failFor: '' };
  const sfn = {
    send: async (command: unknown) =>
      command instanceof SendTaskSuccessCommand
        ? tokens.sendTaskSuccess(command.input)
        : tokens.sendTaskFailure((command as SendTaskFailureCommand).input),
  };
  const waiters = new LedgerWaiters(new LedgerTable(perTest.database.documentClient, perTest.tableName));
  const handler = createAwaitHealthHandler({
    target: {
      observeDeployment: async (_: unknown, taskDefinitionArn: string) => {
        if (state.failFor && taskDefinitionArn === state.failFor)
          throw new Error('simulated DescribeServices failure: AccessDeniedException');
        return deployment(seen.rolloutState);
      },
    },
    alarms: { states: async (names) => names.map((name) => ({ name, state: seen.alarm, since: new Date('2026-12-06T09:59:00Z') })) },
    clock: () => new Date('2026-12-06T10:00:00.000Z'),
    waiters,
    locks: { getLock: async () => null },
    tokens: new TaskTokens(sfn),
    catalog: [service, other],
  });
  const waitInput = (name: string) => {
    const taskToken = tokens.open(executionArn(name), STATE);
    return {
      taskToken,
      input: {
        service,
        taskDefinitionArn: TARGET,
        deadline: '2026-12-06T10:15:00.000Z',
        updateStartedAt: '2026-12-06T09:58:00.000Z',
        checkAlarms: true,
        taskToken,
        executionArn: executionArn(name),
        waitingState: STATE,
        waitsFor: 'deployment',
        timeoutSeconds: 900,
      },
    };
  };
  return {
    tokens,
    seen,
    waiters,
    handler,
    waitInput,
    set failFor(arn: string) {
      state.failFor = arn;
    },
  };
}

const deploymentEvent = (resources: string[]) => ({
  source: 'aws.ecs',
  'detail-type': 'ECS Deployment State Change',
  resources,
  detail: { eventName: 'SERVICE_DEPLOYMENT_COMPLETED', deploymentId: 'ecs-svc/1' },
});
const alarmEvent = (alarmName: string) => ({
  source: 'aws.cloudwatch',
  'detail-type': 'CloudWatch Alarm State Change',
  detail: { alarmName, state: { value: 'ALARM' } },
});

describe('await-health, called by the state machine', () => {
  it('stores the waiter and leaves the Task waiting while the rollout is in progress', async () => {
    const { taskToken, input } = world.waitInput('push-1');
    await expect(world.handler(input)).resolves.toMatchObject({ waiting: true, health: { verdict: 'progressing' } });
    expect(world.tokens.waiting().map((w) => w.token)).toEqual([taskToken]);
    await expect(world.waiters.waitingOn('sentiment', '2026-12-06T10:00:00.000Z')).resolves.toEqual([
      expect.objectContaining({
        taskToken,
        state: STATE,
        expiresAt: '2026-12-06T10:15:00.000Z',
        check: expect.objectContaining({ taskDefinitionArn: TARGET }),
      }),
    ]);
  });

  it('answers at once when the deployment settled before anyone waited (no event would come for it)', async () => {
    world.seen.rolloutState = 'COMPLETED';
    const { taskToken, input } = world.waitInput('push-1');
    await expect(world.handler(input)).resolves.toMatchObject({ waiting: false, health: { verdict: 'healthy' } });
    await expect(world.tokens.answer(taskToken, 1)).resolves.toMatchObject({ verdict: 'healthy', checkedAt: '2026-12-06T10:00:00.000Z' });
    await expect(world.waiters.waitingOn('sentiment', '2026-12-06T10:00:00.000Z')).resolves.toEqual([]);
  });

  it('refuses an input without its token, naming the field', async () => {
    const { input } = world.waitInput('push-1');
    const { taskToken: _, ...withoutToken } = input;
    await expect(world.handler(withoutToken)).rejects.toThrow(InvalidInputError);
    await expect(world.handler(withoutToken)).rejects.toThrow(/taskToken/);
  });
});

describe('await-health, woken by an event', () => {
  it('re-reads the service and answers its waiters once the deployment completed', async () => {
    const first = world.waitInput('push-1');
    await world.handler(first.input);
    world.seen.rolloutState = 'COMPLETED';
    await expect(world.handler(deploymentEvent([SERVICE_ARN]))).resolves.toEqual({
      services: ['sentiment'],
      answered: [{ service: 'sentiment', executionArn: executionArn('push-1'), state: STATE, verdict: 'healthy' }],
    });
    await expect(world.tokens.answer(first.taskToken, 1)).resolves.toMatchObject({ verdict: 'healthy' });
    await expect(world.waiters.waitingOn('sentiment', '2026-12-06T10:00:00.000Z')).resolves.toEqual([]);
  });

  it('does not trust the event: a completion event while ECS still deploys answers nothing', async () => {
    const { taskToken, input } = world.waitInput('push-1');
    await world.handler(input);
    await expect(world.handler(deploymentEvent([SERVICE_ARN]))).resolves.toEqual({ services: ['sentiment'], answered: [] });
    expect(world.tokens.waiting().map((w) => w.token)).toEqual([taskToken]);
  });

  it('answers unhealthy on the alarm event of an alarm the release watches', async () => {
    const { taskToken, input } = world.waitInput('push-1');
    await world.handler(input);
    world.seen.alarm = 'ALARM';
    await expect(world.handler(alarmEvent('sentiment-5xx'))).resolves.toMatchObject({ answered: [{ verdict: 'unhealthy' }] });
    await expect(world.tokens.answer(taskToken, 1)).resolves.toMatchObject({
      verdict: 'unhealthy',
      reason: expect.stringContaining('sentiment-5xx'),
    });
  });

  it('ignores events about services and alarms it does not watch', async () => {
    await world.handler(world.waitInput('push-1').input);
    world.seen.rolloutState = 'COMPLETED';
    await expect(world.handler(deploymentEvent(['arn:aws:ecs:us-east-1:123456789012:service/models-prod/other']))).resolves.toEqual({
      services: [],
      answered: [],
    });
    await expect(world.handler(alarmEvent('summarizer-5xx'))).resolves.toEqual({ services: ['summarizer'], answered: [] });
    expect(world.tokens.waiting()).toHaveLength(1);
  });

  it('answers each wait once when the event comes twice, and drops a waiter whose Task already ended', async () => {
    const { taskToken, input } = world.waitInput('push-1');
    await world.handler(input);
    world.seen.rolloutState = 'COMPLETED';
    await world.handler(deploymentEvent([SERVICE_ARN]));
    await expect(world.handler(deploymentEvent([SERVICE_ARN]))).resolves.toMatchObject({ answered: [] });
    await expect(world.tokens.answer(taskToken, 1)).resolves.toMatchObject({ verdict: 'healthy' });

    // A Task that timed out (its token closed) but whose waiter is still stored: answered "closed", then removed.
    const late = world.waitInput('push-2');
    world.seen.rolloutState = 'IN_PROGRESS';
    await world.handler(late.input);
    world.tokens.closeExecution(executionArn('push-2'));
    world.seen.rolloutState = 'COMPLETED';
    await expect(world.handler(deploymentEvent([SERVICE_ARN]))).resolves.toMatchObject({ answered: [] });
    await expect(world.waiters.waitingOn('sentiment', '2026-12-06T10:00:00.000Z')).resolves.toEqual([]);
  });

  it('answers the other waiters when one cannot be re-read, then fails so that the event is retried for it', async () => {
    const first = world.waitInput('push-1');
    const second = world.waitInput('push-2');
    await world.handler(first.input);
    await world.handler({ ...second.input, taskDefinitionArn: `${TARGET}-unreadable` });
    world.seen.rolloutState = 'COMPLETED';
    world.failFor = `${TARGET}-unreadable`;
    await expect(world.handler(deploymentEvent([SERVICE_ARN]))).rejects.toMatchObject({
      name: 'WakeFailedError',
      message: expect.stringContaining('1 waiter(s) could not be woken'),
    });
    await expect(world.tokens.answer(first.taskToken, 1)).resolves.toMatchObject({ verdict: 'healthy' });
    expect(world.tokens.waiting().map((w) => w.token)).toEqual([second.taskToken]);
  });

  it('skips a waiter whose check cannot be read, and still answers the others', async () => {
    const { taskToken, input } = world.waitInput('push-1');
    await world.handler(input);
    await world.waiters.put({
      ...(await world.waiters.waitingOn('sentiment', '2026-12-06T10:00:00.000Z'))[0]!,
      executionArn: executionArn('push-0'),
      taskToken: 'x',
      check: { deadline: 'soon' },
    });
    world.seen.rolloutState = 'COMPLETED';
    await expect(world.handler(deploymentEvent([SERVICE_ARN]))).resolves.toMatchObject({
      answered: [{ executionArn: executionArn('push-1') }],
    });
    await expect(world.tokens.answer(taskToken, 1)).resolves.toMatchObject({ verdict: 'healthy' });
  });
});

/** Services deploying with no alarm, at 10:00; the waits' tokens in the local Step Functions. */
function deployingWorld(catalog: CatalogEntry[]) {
  const tokens = new LocalTaskTokens(new SimulatedTime(new SimulatedAccount()));
  const table = new LedgerTable(perTest.database.documentClient, perTest.tableName);
  const waiters = new LedgerWaiters(table);
  const locks = new ServiceLocks(table);
  const handler = createAwaitHealthHandler({
    target: { observeDeployment: async () => deployment('IN_PROGRESS') },
    alarms: { states: async () => [] },
    clock: () => new Date('2026-12-06T10:00:00.000Z'),
    waiters,
    locks,
    tokens: new TaskTokens({ send: async (command: any) => tokens.sendTaskSuccess(command.input) }),
    catalog,
  });
  return { tokens, waiters, locks, handler };
}

/** The service lock as a holder still running at 10:00 holds it (its lease until 11:00). */
function heldBy(service: string, holder: string, expiresAt = '2026-12-06T11:00:00.000Z') {
  return {
    service,
    holder: { executionArn: executionArn(holder), key: { service, sk: `DEPLOYMENT#2026-12-06T09:50:00.000Z#${holder}` }, tag: 'v1.2.0' },
    acquiredAt: '2026-12-06T09:50:00.000Z',
    expiresAt,
  };
}

/** "Wait for the service to be free" of execution `name`: its token, open in the local Step Functions, and its input. */
function lockWaitOf(tokens: LocalTaskTokens, name: string, on: CatalogEntry, tag = 'v1.4.0') {
  const taskToken = tokens.open(executionArn(name), 'Wait for the service to be free');
  const input = {
    service: on,
    tag,
    taskToken,
    executionArn: executionArn(name),
    waitingState: 'Wait for the service to be free',
    waitsFor: 'lock',
    timeoutSeconds: 900,
  };
  return { taskToken, input };
}

/**
 * A wait an operator answers (an approval, or a bake), of execution `name`, stored as await-operator stores it: its
 * token, open in the local Step Functions. `step` null: before the first step.
 */
async function operatorWaitOf(
  world: Pick<ReturnType<typeof deployingWorld>, 'tokens' | 'waiters'>,
  wait: {
    service: string;
    name: string;
    waitsFor: 'approval' | 'bake';
    step: number | null;
    trigger?: 'push' | 'rollback';
    expiresAt: string;
  },
): Promise<string> {
  const state = wait.waitsFor === 'bake' ? 'Bake the step until the next analysis' : "Wait for an operator's approval";
  const taskToken = world.tokens.open(executionArn(wait.name), state);
  await world.waiters.put({
    service: wait.service,
    executionArn: executionArn(wait.name),
    state,
    waitsFor: wait.waitsFor,
    taskToken,
    check: {
      tag: 'v1.3.0',
      ...(wait.trigger ? { trigger: wait.trigger } : {}),
      step: wait.step,
      of: 5,
      weight: wait.step === null ? 0 : 10,
      why: wait.waitsFor === 'bake' ? 'baking' : 'asks',
      until: wait.expiresAt,
    },
    since: '2026-12-06T09:59:00.000Z',
    expiresAt: wait.expiresAt,
  });
  return taskToken;
}

describe('await-health, waiting for the service lock', () => {
  it('waits for the service lock with a waiter, and wakes every such wait of the service once an outcome freed it', async () => {
    const { tokens, waiters, locks, handler } = deployingWorld([service, other]);
    await locks.acquireLock(heldBy(service.name, 'holder'), '2026-12-06T09:50:00.000Z');
    await locks.acquireLock(heldBy(other.name, 'holder-2'), '2026-12-06T09:50:00.000Z');
    const lockWait = (name: string, on = service) => lockWaitOf(tokens, name, on);
    const first = lockWait('queued-1');
    const second = lockWait('queued-2');
    const elsewhere = lockWait('queued-3', other);
    for (const wait of [first, second, elsewhere]) {
      await expect(handler(wait.input)).resolves.toEqual({ waiting: true, until: '2026-12-06T10:15:00.000Z' });
    }
    // A health event of the service wakes no lock wait.
    await handler(deploymentEvent([SERVICE_ARN]));
    expect(await tokens.answeredWithin(first.taskToken, 1)).toBe(false);
    // An outcome of a release that never held the lock: its holder still runs, nobody is woken.
    await expect(handler({ wake: 'lock-waiters', service: service.name })).resolves.toEqual({ services: [service.name], answered: [] });
    // The holder's outcome freed it (record-outcome): every release waiting for the service is woken.
    await locks.releaseLock(service.name, executionArn('holder'));
    const woken = await handler({ wake: 'lock-waiters', service: service.name });
    expect(woken).toMatchObject({
      services: [service.name],
      answered: [{ executionArn: executionArn('queued-1') }, { executionArn: executionArn('queued-2') }],
    });
    await expect(tokens.answer(first.taskToken, 1)).resolves.toEqual({ lockFreed: true });
    // A release of a repository no service is configured for wakes nothing (and does not fail).
    await expect(handler({ wake: 'lock-waiters', service: null })).resolves.toEqual({ services: [], answered: [] });
    expect(await tokens.answeredWithin(elsewhere.taskToken, 1)).toBe(false);
    expect((await waiters.waitingOn(service.name, '2026-12-06T10:00:00.000Z')).filter((w) => w.waitsFor === 'lock')).toEqual([]);
  });

  it('supersedes a lower holder that waits for approval before its first step, never one further on or a rollback', async () => {
    const { tokens, waiters, locks, handler } = deployingWorld([service, other]);
    await locks.acquireLock(heldBy(service.name, 'holder'), '2026-12-06T09:50:00.000Z');
    const approvalOfHolder = (step: number | null, trigger: 'push' | 'rollback' = 'push') =>
      operatorWaitOf(
        { tokens, waiters },
        { service: service.name, name: 'holder', waitsFor: 'approval', step, trigger, expiresAt: '2026-12-06T14:00:00.000Z' },
      );
    // A lower release waiting changes nothing; a higher one supersedes the holder at once.
    const first = await approvalOfHolder(null);
    await handler(lockWaitOf(tokens, 'queued-low', service, 'v1.2.9').input);
    expect(await tokens.answeredWithin(first, 1)).toBe(false);
    await handler(lockWaitOf(tokens, 'queued-high', service, 'v1.4.0').input);
    await expect(tokens.answer(first, 1)).resolves.toMatchObject({
      action: 'superseded',
      by: 'release v1.4.0',
      reason: expect.stringContaining('ranks above v1.3.0, which waited for approval before its first step'),
    });
    // Traffic already moved (an approval after a step), or an operator's rollback: it waits its turn.
    const later = await approvalOfHolder(2);
    await handler(lockWaitOf(tokens, 'queued-high-2', service, 'v1.4.0').input);
    expect(await tokens.answeredWithin(later, 1)).toBe(false);
    const rollback = await approvalOfHolder(null, 'rollback');
    await handler(lockWaitOf(tokens, 'queued-high-3', service, 'v1.4.0').input);
    expect(await tokens.answeredWithin(rollback, 1)).toBe(false);
  });

  it('answers at once when the lock was freed before the waiter existed, or its lease ran out (no one would wake it)', async () => {
    const { tokens, handler, locks } = deployingWorld([service, other]);
    const wait = (name: string, on = service) => lockWaitOf(tokens, name, on);
    const free = wait('queued-1');
    await expect(handler(free.input)).resolves.toMatchObject({ waiting: false });
    await expect(tokens.answer(free.taskToken, 1)).resolves.toEqual({ lockFreed: true });
    await locks.acquireLock(heldBy(other.name, 'crashed', '2026-12-06T09:59:00.000Z'), '2026-12-06T09:50:00.000Z');
    const expired = wait('queued-2', other);
    await expect(handler(expired.input)).resolves.toMatchObject({ waiting: false });
  });
});

describe('await-health, waiting for a gray release canary', () => {
  it("ends a gray release's bake when an analysed alarm goes to ALARM, for an analysis now; nothing else wakes it", async () => {
    const gray = sentimentService({
      release: { ...grayRelease(), analysis: { ...grayRelease().analysis, alarms: ['sentiment-canary-5xx'] } },
      health: { alarms: [] },
    });
    const analysisAlarm = 'sentiment-canary-5xx';
    const { tokens, waiters, handler } = deployingWorld([gray]);
    const until = '2026-12-06T10:05:00.000Z';
    const bakeToken = await operatorWaitOf(
      { tokens, waiters },
      { service: gray.name, name: 'gray-1', waitsFor: 'bake', step: 2, expiresAt: until },
    );
    // A change to OK, or one from before the bake began (its analysis read the alarm already), wakes nothing.
    await expect(
      handler({ ...alarmEvent(analysisAlarm), detail: { alarmName: analysisAlarm, state: { value: 'OK' } } }),
    ).resolves.toMatchObject({ answered: [] });
    await expect(handler({ ...alarmEvent(analysisAlarm), time: '2026-12-06T09:58:30Z' })).resolves.toMatchObject({ answered: [] });
    // An approval with traffic on the canary is woken too; one before the first step is not (nothing is analysed then).
    const approval = (name: string, step: number | null) =>
      operatorWaitOf({ tokens, waiters }, { service: gray.name, name, waitsFor: 'approval', step, expiresAt: until });
    const approvalToken = await approval('gray-2', 2);
    const firstToken = await approval('gray-3', null);
    const woken = await handler({ ...alarmEvent(analysisAlarm), time: '2026-12-06T09:59:30Z' });
    await expect(tokens.answer(approvalToken, 1)).resolves.toMatchObject({ action: 'analyse-now' });
    expect(await tokens.answeredWithin(firstToken, 1)).toBe(false);
    expect(woken).toMatchObject({
      answered: expect.arrayContaining([
        {
          service: gray.name,
          executionArn: executionArn('gray-1'),
          state: 'Bake the step until the next analysis',
          verdict: 'progressing',
        },
      ]),
    });
    expect((woken as { answered: unknown[] }).answered).toHaveLength(2);
    await expect(tokens.answer(bakeToken, 1)).resolves.toMatchObject({
      action: 'analyse-now',
      by: `alarm ${analysisAlarm}`,
    });
    expect((await waiters.waitingOn(gray.name, '2026-12-06T10:00:00.000Z', 'operators')).map((w) => w.executionArn)).toEqual([
      executionArn('gray-3'),
    ]);
    // An alarm the release does not analyse wakes nothing.
    await expect(handler(alarmEvent('someone-else'))).resolves.toMatchObject({ answered: [] });
  });

  it('re-reads the canary service named by the waiter on its steady-state event, and answers its wait', async () => {
    const gray = sentimentService({ release: grayRelease(), health: { alarms: [] } });
    const tokens = new LocalTaskTokens(new SimulatedTime(new SimulatedAccount()));
    const read: string[] = [];
    let running = 1;
    const handler = createAwaitHealthHandler({
      target: {
        observeDeployment: async (entry) => {
          read.push(entry.service);
          return { ...deployment('COMPLETED'), primary: { ...deployment('COMPLETED').primary!, runningCount: running } };
        },
      },
      alarms: { states: async () => [] },
      clock: () => new Date('2026-12-06T10:00:00.000Z'),
      waiters: new LedgerWaiters(new LedgerTable(perTest.database.documentClient, perTest.tableName)),
      locks: { getLock: async () => null },
      tokens: new TaskTokens({ send: async (command: any) => tokens.sendTaskSuccess(command.input) }),
      catalog: [gray],
    });
    const taskToken = tokens.open(executionArn('gray-1'), 'Wait for the canary to become healthy');
    // Scaled from 1 to 2 tasks: no deployment, the tasks still starting.
    await handler({
      service: gray,
      taskDefinitionArn: TARGET,
      deadline: '2026-12-06T10:15:00.000Z',
      updateStartedAt: '2026-12-06T09:59:00.000Z',
      checkAlarms: false,
      ecsService: 'sentiment-canary',
      taskToken,
      executionArn: executionArn('gray-1'),
      waitingState: 'Wait for the canary to become healthy',
      waitsFor: 'canary',
      timeoutSeconds: 225,
    });
    running = 2;
    const steadyState = {
      source: 'aws.ecs',
      'detail-type': 'ECS Service Action',
      resources: ['arn:aws:ecs:us-east-1:123456789012:service/models-prod/sentiment-canary'],
      detail: { eventType: 'INFO', eventName: 'SERVICE_STEADY_STATE' },
    };
    await expect(handler(steadyState)).resolves.toMatchObject({ answered: [{ service: 'sentiment', verdict: 'healthy' }] });
    expect(read).toEqual(['sentiment-canary', 'sentiment-canary']);
    await expect(tokens.answer(taskToken, 1)).resolves.toMatchObject({ verdict: 'healthy' });
  });

  it("keeps a scaling canary's wait for operators too (abort only, the same token), and removes both once it is answered", async () => {
    const gray = sentimentService({ release: grayRelease(), health: { alarms: [] } });
    const tokens = new LocalTaskTokens(new SimulatedTime(new SimulatedAccount()));
    let rolloutState = 'IN_PROGRESS';
    const waiters = new LedgerWaiters(new LedgerTable(perTest.database.documentClient, perTest.tableName));
    const handler = createAwaitHealthHandler({
      target: { observeDeployment: async () => deployment(rolloutState) },
      alarms: { states: async () => [] },
      clock: () => new Date('2026-12-06T10:00:00.000Z'),
      waiters,
      locks: { getLock: async () => null },
      tokens: new TaskTokens({ send: async (command: any) => tokens.sendTaskSuccess(command.input) }),
      catalog: [gray],
    });
    const state = 'Wait for the canary to become healthy';
    const canaryWait = (name: string, extra: Record<string, unknown>) => {
      const taskToken = tokens.open(executionArn(name), state);
      const input = {
        service: gray,
        taskDefinitionArn: TARGET,
        deadline: '2026-12-06T10:15:00.000Z',
        updateStartedAt: '2026-12-06T09:59:00.000Z',
        checkAlarms: false,
        ecsService: 'sentiment-canary',
        taskToken,
        executionArn: executionArn(name),
        waitingState: state,
        waitsFor: 'canary',
        timeoutSeconds: 225,
        ...extra,
      };
      return { taskToken, input };
    };
    const step = (number: number, weight: number) => ({ number, of: 5, weight, canaryTasks: 1, index: number - 1 });
    const scaling = { abortable: true, gray: { step: step(1, 5), next: step(2, 10) }, tag: 'v1.3.0', trigger: 'push' };
    const { taskToken, input } = canaryWait('gray-1', scaling);
    await expect(handler(input)).resolves.toMatchObject({ waiting: true });

    const operatorWaits = await waiters.waitingOn(gray.name, '2026-12-06T10:00:00.000Z', 'operators');
    expect(operatorWaits).toEqual([
      expect.objectContaining({
        waitsFor: 'scaling',
        state,
        taskToken,
        check: {
          tag: 'v1.3.0',
          trigger: 'push',
          step: 1,
          of: 5,
          weight: 5,
          why: 'its canary is scaling for step 2 of 5 (10 %)',
          // Its tasks' deadline, not the wait's next look (10:03:45).
          until: '2026-12-06T10:15:00.000Z',
        },
      }),
    ]);
    // The health waiter stays where only the functions read.
    expect((await waiters.waitingOn(gray.name, '2026-12-06T10:00:00.000Z', 'events')).map((w) => w.waitsFor)).toEqual(['canary']);

    rolloutState = 'COMPLETED';
    await expect(
      handler(deploymentEvent(['arn:aws:ecs:us-east-1:123456789012:service/models-prod/sentiment-canary'])),
    ).resolves.toMatchObject({
      answered: [{ verdict: 'healthy' }],
    });
    await expect(tokens.answer(taskToken, 1)).resolves.toMatchObject({ verdict: 'healthy' });
    await expect(waiters.waitingOn(gray.name, '2026-12-06T10:00:00.000Z')).resolves.toEqual([]);

    // A wait that names no release cannot be kept for operators: refused, naming the field.
    const { input: unnamed } = canaryWait('gray-2', { abortable: true, gray: scaling.gray });
    await expect(handler(unnamed)).rejects.toThrow(/abortable: a wait operators may abort names its release/);

    // The promotion's wait (the stable service taking the release) is kept as `promoting`, and ends with its health wait.
    rolloutState = 'IN_PROGRESS';
    const promotionState = 'Wait for the stable service to run the release';
    const promotionToken = tokens.open(executionArn('gray-3'), promotionState);
    await handler({
      ...input,
      ecsService: undefined,
      taskToken: promotionToken,
      executionArn: executionArn('gray-3'),
      waitingState: promotionState,
      waitsFor: 'deployment',
      gray: { step: step(5, 100), next: null },
    });
    expect(await waiters.waitingOn(gray.name, '2026-12-06T10:00:00.000Z', 'operators')).toEqual([
      expect.objectContaining({
        waitsFor: 'promoting',
        taskToken: promotionToken,
        check: expect.objectContaining({
          step: 5,
          weight: 100,
          why: 'its stable service is taking the release, all traffic on the canary meanwhile',
        }),
      }),
    ]);
    rolloutState = 'COMPLETED';
    await handler(deploymentEvent(['arn:aws:ecs:us-east-1:123456789012:service/models-prod/sentiment']));
    await expect(tokens.answer(promotionToken, 1)).resolves.toMatchObject({ verdict: 'healthy' });
    await expect(waiters.waitingOn(gray.name, '2026-12-06T10:00:00.000Z')).resolves.toEqual([]);
    // The copy is best effort: one that cannot be stored leaves the wait waiting (no abort until its next look).
    const failingCopies = createAwaitHealthHandler({
      target: { observeDeployment: async () => deployment('IN_PROGRESS') },
      alarms: { states: async () => [] },
      clock: () => new Date('2026-12-06T10:00:00.000Z'),
      waiters: Object.assign(Object.create(waiters), {
        put: async (w: Waiter) => {
          if (w.waitsFor === 'scaling') throw new Error('simulated PutItem failure: ProvisionedThroughputExceededException');
          return waiters.put(w);
        },
      }),
      locks: { getLock: async () => null },
      tokens: new TaskTokens({ send: async (command: any) => tokens.sendTaskSuccess(command.input) }),
      catalog: [gray],
    });
    const { input: uncopied } = canaryWait('gray-5', scaling);
    await expect(failingCopies(uncopied)).resolves.toMatchObject({ waiting: true });
    expect((await waiters.waitingOn(gray.name, '2026-12-06T10:00:00.000Z')).map((w) => w.waitsFor)).toEqual(['canary']);
    // A rollback is never an operator's to abort.
    const { input: rollbackWait } = canaryWait('gray-4', { ...scaling, waitsFor: 'rollback' });
    await expect(handler(rollbackWait)).rejects.toThrow(/abortable: a rollback is not a wait operators may abort/);
  });
});
