import { beforeAll, describe, expect, it, vi } from 'vitest';
import { InvalidInputError, TransientAwsError } from '../../lambdas/errors';
import { logger } from '../../lambdas/shared/logger';
import { createUpdateServiceHandler } from '../../lambdas/steps/update-service';
import { sentimentService } from '../fixtures/catalog';

const NEW_ARN = 'arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment:8';
const PREVIOUS_ARN = 'arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment:7';
const NOW = new Date('2026-11-20T01:17:00.000Z');
const service = sentimentService({ health: { deadlineSeconds: 900 } });

/** A target whose service runs `runs` (PRIMARY) and has deployments of `deployed`. */
function handlerWithFakeTarget({ runs = NEW_ARN, deployed = [NEW_ARN] }: { runs?: string; deployed?: string[] } = {}) {
  const target = {
    updateService: vi.fn(async () => undefined),
    runs: vi.fn(async (_service: unknown, arn: string) => arn === runs),
    hasDeploymentOf: vi.fn(async (_service: unknown, arn: string) => deployed.includes(arn)),
    primaryRevision: vi.fn(async () => runs),
  };
  return { target, updateService: createUpdateServiceHandler({ target, clock: () => NOW }) };
}

beforeAll(() => logger.setLogLevel('SILENT'));

describe('update service (rollout and rollback)', () => {
  it('rolls out the revision and sets the deadline, and how often its wait looks itself, from the service health settings', async () => {
    const { target, updateService } = handlerWithFakeTarget();

    await expect(updateService({ service, taskDefinitionArn: NEW_ARN })).resolves.toEqual({
      action: 'updated',
      taskDefinitionArn: NEW_ARN,
      startedAt: '2026-11-20T01:17:00.000Z',
      deadline: '2026-11-20T01:32:00.000Z',
      // A quarter of the 900-second deadline.
      recheckSeconds: 225,
      reason: `Rolling out ${NEW_ARN}`,
    });
    expect(target.updateService).toHaveBeenCalledWith(service, NEW_ARN);
  });

  it.each([
    [
      'a Lambda error, whose Cause is JSON',
      {
        Error: 'ServiceNotFoundError',
        Cause: JSON.stringify({
          errorType: 'ServiceNotFoundError',
          errorMessage: 'ECS service "sentiment" was not found (MISSING).',
          trace: [],
        }),
      },
      'ServiceNotFoundError: ECS service "sentiment" was not found (MISSING).',
    ],
    [
      'an unhealthy verdict, whose Cause is plain text',
      { Error: 'ServiceUnhealthy', Cause: 'Alarm sentiment-5xx is in ALARM.' },
      'ServiceUnhealthy: Alarm sentiment-5xx is in ALARM.',
    ],
    ['a Cause that is JSON without errorMessage', { Error: 'States.Timeout', Cause: '{"detail":1}' }, 'States.Timeout: {"detail":1}'],
    ['an Error alone', { Error: 'States.TaskFailed' }, 'States.TaskFailed'],
    ['a Cause alone', { Cause: 'the task failed' }, 'the task failed'],
    ['an empty failure', {}, 'An unspecified failure'],
  ])('rolls back with the reason taken from %s', async (_description, failure, reason) => {
    const { target, updateService } = handlerWithFakeTarget();

    const result = await updateService({ service, taskDefinitionArn: PREVIOUS_ARN, failure });

    expect(result.reason).toBe(reason);
    expect(result).toMatchObject({ action: 'updated', taskDefinitionArn: PREVIOUS_ARN });
    expect(target.updateService).toHaveBeenCalledWith(service, PREVIOUS_ARN);
  });

  it('issues no competing update when the service already runs the rollback target (ECS rolled back itself)', async () => {
    const { target, updateService } = handlerWithFakeTarget({ runs: PREVIOUS_ARN, deployed: [PREVIOUS_ARN, NEW_ARN] });

    const result = await updateService({
      service,
      taskDefinitionArn: PREVIOUS_ARN,
      releasedTaskDefinitionArn: NEW_ARN,
      failure: { Error: 'ServiceUnhealthy', Cause: 'ECS rolled the new revision back itself' },
    });

    expect(result).toMatchObject({ action: 'already-running', reason: expect.stringContaining('no competing update') });
    expect(target.updateService).not.toHaveBeenCalled();
  });

  it('finds nothing to roll back when the failed update of the release never reached the service', async () => {
    const { target, updateService } = handlerWithFakeTarget({ runs: PREVIOUS_ARN, deployed: [PREVIOUS_ARN] });

    const result = await updateService({
      service,
      taskDefinitionArn: PREVIOUS_ARN,
      releasedTaskDefinitionArn: NEW_ARN,
      failure: { Error: 'TransientAwsError', Cause: 'UpdateService failed: ServiceUnavailableException', updateUncertain: true },
    });

    expect(result).toMatchObject({
      action: 'unchanged',
      reason: expect.stringMatching(/never reached the service.*ServiceUnavailableException/),
    });
    expect(target.updateService).not.toHaveBeenCalled();
  });

  it.each([
    [
      'runs the new revision',
      NEW_ARN,
      `Nothing was rolled back by the pipeline: the service runs the new revision ${NEW_ARN}, as far as the update took effect.`,
    ],
    [
      'was rolled back by ECS itself',
      PREVIOUS_ARN,
      `Nothing was rolled back by the pipeline: the service's primary deployment runs ${PREVIOUS_ARN}, not the new revision ${NEW_ARN}: ECS rolled the release back itself, or someone else deployed.`,
    ],
  ])('with no known good version, rolls nothing back and says what the service runs: it %s', async (_case, runs, reason) => {
    const { target, updateService } = handlerWithFakeTarget({ runs, deployed: [PREVIOUS_ARN, NEW_ARN] });

    const result = await updateService({
      service,
      taskDefinitionArn: null,
      releasedTaskDefinitionArn: NEW_ARN,
      failure: { Error: 'ServiceUnhealthy', Cause: 'Alarm in ALARM' },
    });

    expect(result).toMatchObject({ action: 'no-target', taskDefinitionArn: null, reason });
    expect(target.updateService).not.toHaveBeenCalled();
  });

  it('with no known good version, still finds that a failed update never reached the service', async () => {
    const { target, updateService } = handlerWithFakeTarget({ runs: PREVIOUS_ARN, deployed: [PREVIOUS_ARN] });

    const result = await updateService({
      service,
      taskDefinitionArn: null,
      releasedTaskDefinitionArn: NEW_ARN,
      failure: { Error: 'TransientAwsError', Cause: 'ServiceUnavailable', updateUncertain: true },
    });

    expect(result.action).toBe('unchanged');
    expect(target.updateService).not.toHaveBeenCalled();
  });

  it('rolls back an uncertain update that did reach the service', async () => {
    const { target, updateService } = handlerWithFakeTarget({ runs: NEW_ARN, deployed: [PREVIOUS_ARN, NEW_ARN] });

    const result = await updateService({
      service,
      taskDefinitionArn: PREVIOUS_ARN,
      releasedTaskDefinitionArn: NEW_ARN,
      failure: { Error: 'Sandbox.Timedout', Cause: 'Task timed out', updateUncertain: true },
    });

    expect(result.action).toBe('updated');
    expect(target.updateService).toHaveBeenCalledWith(service, PREVIOUS_ARN);
  });

  it.each([
    [{ service, taskDefinitionArn: '' }, 'taskDefinitionArn'],
    [{ service: { ...service, health: undefined }, taskDefinitionArn: NEW_ARN }, 'service.health'],
    [{ service, taskDefinitionArn: NEW_ARN, failure: { Error: 42 } }, 'failure.Error'],
    // A rollout (no failure) needs a revision to roll out.
    [{ service, taskDefinitionArn: null }, 'taskDefinitionArn'],
  ])('throws InvalidInputError naming the bad field (%#), without touching the service', async (input, field) => {
    const { target, updateService } = handlerWithFakeTarget();

    const error = await updateService(input).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toContain(field);
    expect(target.updateService).not.toHaveBeenCalled();
  });

  it('lets a failed update reach the state machine', async () => {
    const throttled = new TransientAwsError('UpdateService failed: ThrottlingException');
    const target = {
      updateService: vi.fn().mockRejectedValue(throttled),
      runs: vi.fn(),
      hasDeploymentOf: vi.fn(),
      primaryRevision: vi.fn(),
    };
    const updateService = createUpdateServiceHandler({ target, clock: () => NOW });

    await expect(updateService({ service, taskDefinitionArn: NEW_ARN })).rejects.toBe(throttled);
  });
});
