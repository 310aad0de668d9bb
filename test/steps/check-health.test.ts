import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { AlarmStatus } from '../../lambdas/steps/ports/alarm-monitor';
import type { DeploymentObservation } from '../../lambdas/steps/ports/deployment-target';
import { InvalidInputError } from '../../lambdas/errors';
import { logger } from '../../lambdas/shared/logger';
import { createCheckHealthHandler } from '../../lambdas/steps/check-health';
import { sentimentService } from '../fixtures/catalog';

const TARGET = 'arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment:8';
const DEADLINE = '2026-11-20T01:32:00.000Z';
const service = sentimentService({ health: { alarms: ['sentiment-5xx'] } });

function deployment(rolloutState: string, runningCount: number): DeploymentObservation {
  return {
    targetTaskDefinitionArn: TARGET,
    primary: { taskDefinitionArn: TARGET, rolloutState, rolloutStateReason: null, runningCount, desiredCount: 2, failedTasks: 0 },
    deploymentCount: rolloutState === 'COMPLETED' ? 1 : 2,
    serviceDeployment: null,
  };
}

function handlerSeeing(observed: DeploymentObservation, alarmStates: AlarmStatus[], now: string) {
  const target = { observeDeployment: vi.fn(async () => observed) };
  const alarms = { states: vi.fn(async () => alarmStates) };
  return { target, alarms, checkHealth: createCheckHealthHandler({ target, alarms, clock: () => new Date(now) }) };
}

beforeAll(() => logger.setLogLevel('SILENT'));

describe('check service health', () => {
  it('is healthy when the rollout completed and the alarms are OK', async () => {
    const { target, alarms, checkHealth } = handlerSeeing(
      deployment('COMPLETED', 2),
      [{ name: 'sentiment-5xx', state: 'OK', since: null }],
      '2026-11-20T01:20:00.000Z',
    );

    const result = await checkHealth({ service, taskDefinitionArn: TARGET, deadline: DEADLINE, checkAlarms: true });

    expect(result).toEqual({ verdict: 'healthy', reason: expect.stringContaining(TARGET), checkedAt: '2026-11-20T01:20:00.000Z' });
    expect(target.observeDeployment).toHaveBeenCalledWith(service, TARGET);
    expect(alarms.states).toHaveBeenCalledWith(['sentiment-5xx']);
  });

  it('judges the ECS service named by ecsService (a canary) in the entry s cluster, when given', async () => {
    const { target, checkHealth } = handlerSeeing(deployment('COMPLETED', 2), [], '2026-11-20T01:20:00.000Z');

    await checkHealth({ service, taskDefinitionArn: TARGET, deadline: DEADLINE, checkAlarms: false, ecsService: 'sentiment-canary' });

    expect(target.observeDeployment).toHaveBeenCalledWith({ ...service, service: 'sentiment-canary' }, TARGET);
  });

  it('is unhealthy when an alarm fires', async () => {
    const { checkHealth } = handlerSeeing(
      deployment('COMPLETED', 2),
      [{ name: 'sentiment-5xx', state: 'ALARM', since: null }],
      '2026-11-20T01:20:00.000Z',
    );

    await expect(checkHealth({ service, taskDefinitionArn: TARGET, deadline: DEADLINE, checkAlarms: true })).resolves.toMatchObject({
      verdict: 'unhealthy',
      reason: expect.stringContaining('sentiment-5xx'),
    });
  });

  it('does not read alarms during a rollback', async () => {
    const { alarms, checkHealth } = handlerSeeing(
      deployment('COMPLETED', 2),
      [{ name: 'sentiment-5xx', state: 'ALARM', since: null }],
      '2026-11-20T01:20:00.000Z',
    );

    const result = await checkHealth({ service, taskDefinitionArn: TARGET, deadline: DEADLINE, checkAlarms: false });

    expect(result.verdict).toBe('healthy');
    expect(alarms.states).not.toHaveBeenCalled();
  });

  it.each([
    ['2026-11-20T01:31:59.999Z', 'progressing'],
    ['2026-11-20T01:32:00.000Z', 'unhealthy'],
  ])('judges a rollout in progress at %s against the deadline as %s', async (now, verdict) => {
    const { checkHealth } = handlerSeeing(deployment('IN_PROGRESS', 1), [{ name: 'sentiment-5xx', state: 'OK', since: null }], now);

    const result = await checkHealth({ service, taskDefinitionArn: TARGET, deadline: DEADLINE, checkAlarms: true });

    expect(result).toEqual({ verdict, reason: expect.stringContaining('1/2 tasks running'), checkedAt: now });
  });

  it.each([
    [{ service, taskDefinitionArn: TARGET, deadline: 'in ten minutes', checkAlarms: true }, 'deadline'],
    [{ service, taskDefinitionArn: TARGET, deadline: DEADLINE, checkAlarms: 'yes' }, 'checkAlarms'],
    [{ service, deadline: DEADLINE, checkAlarms: true }, 'taskDefinitionArn'],
  ])('throws InvalidInputError naming the bad field (%#)', async (input, field) => {
    const { target, checkHealth } = handlerSeeing(deployment('COMPLETED', 2), [], '2026-11-20T01:20:00.000Z');

    const error = await checkHealth(input).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toContain(field);
    expect(target.observeDeployment).not.toHaveBeenCalled();
  });

  it('gives an alarm that was already in ALARM when the update started until the deadline to clear', async () => {
    const before = new Date('2026-11-20T01:10:00.000Z');
    const { checkHealth } = handlerSeeing(
      deployment('COMPLETED', 2),
      [{ name: 'sentiment-5xx', state: 'ALARM', since: before }],
      '2026-11-20T01:20:00.000Z',
    );
    const input = { service, taskDefinitionArn: TARGET, deadline: DEADLINE, checkAlarms: true };

    await expect(checkHealth({ ...input, updateStartedAt: '2026-11-20T01:17:00.000Z' })).resolves.toMatchObject({ verdict: 'progressing' });
    // Without the update's start, the same alarm fails the release (fail closed).
    await expect(checkHealth(input)).resolves.toMatchObject({ verdict: 'unhealthy' });
  });
});
