import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { CatalogEntry } from '../../lambdas/contract/catalog';
import { type EcrPushEvent, START_EVENTS } from '../../lambdas/contract/start-events';
import type { RunningRevision } from '../../lambdas/steps/ports/deployment-target';
import { InvalidInputError, ServiceNotFoundError } from '../../lambdas/errors';
import { logger } from '../../lambdas/shared/logger';
import { createCheckReleaseHandler } from '../../lambdas/steps/check-release';
import { sentimentService } from '../fixtures/catalog';

const DIGEST = 'sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234abcd';
const RUNNING_ARN = 'arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment:7';
const RUNNING_DIGEST = 'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';

const sentiment = sentimentService();
const translate: CatalogEntry = { ...sentiment, name: 'translate', repository: 'models/translate', service: 'translate' };

/** The ECR push event as EventBridge delivers it (shared/samples/events/ecr-image-push.json). */
function pushEvent(detail: Partial<EcrPushEvent['detail']> = {}, region = 'us-east-1') {
  return {
    version: '0',
    id: '13cde686-328b-6117-af20-0e5566167482',
    'detail-type': 'ECR Image Action',
    source: 'aws.ecr',
    account: '123456789012',
    time: '2026-11-20T01:16:47Z',
    region,
    resources: [],
    detail: {
      result: 'SUCCESS',
      'repository-name': 'models/sentiment',
      'image-digest': DIGEST,
      'action-type': 'PUSH',
      'image-tag': 'v1.3.0',
      ...detail,
    },
  };
}

/** A start event of the operator's rollback or of the reconciliation: the push event's detail, another source. */
function startEvent(kind: { source: string; detailType: string }, detail: Partial<EcrPushEvent['detail']> = {}) {
  return { ...pushEvent(detail), source: kind.source, 'detail-type': kind.detailType };
}

/** A deployment target whose service runs `running`. */
function targetRunning(running: RunningRevision) {
  return { describeRunning: vi.fn(async (_entry: CatalogEntry) => running) };
}

beforeAll(() => logger.setLogLevel('SILENT'));

describe('check release against policy', () => {
  it('accepts a newer release for the configured service and returns the whole execution state', async () => {
    const target = targetRunning({
      taskDefinitionArn: RUNNING_ARN,
      deploymentController: 'ECS',
      version: 'v1.2.0',
      digest: RUNNING_DIGEST,
    });
    const checkRelease = createCheckReleaseHandler({ catalog: [translate, sentiment], target });

    const result = await checkRelease(pushEvent());

    const repositoryUri = '123456789012.dkr.ecr.us-east-1.amazonaws.com/models/sentiment';
    expect(result).toEqual({
      subject: { service: 'sentiment', environment: 'production', repository: 'models/sentiment', tag: 'v1.3.0', digest: DIGEST },
      release: { repositoryName: 'models/sentiment', repositoryUri, tag: 'v1.3.0', digest: DIGEST, imageUri: `${repositoryUri}@${DIGEST}` },
      service: sentiment,
      running: { taskDefinitionArn: RUNNING_ARN, deploymentController: 'ECS', version: 'v1.2.0', digest: RUNNING_DIGEST },
      trigger: { kind: 'push', requestedBy: null, reason: null },
      policy: { verdict: 'accepted', code: 'accepted', reason: expect.stringContaining('"v1.2.0"') },
    });
    expect(target.describeRunning).toHaveBeenCalledWith(sentiment);
  });

  it('rejects a downgrade, judged against the version the service runs', async () => {
    const checkRelease = createCheckReleaseHandler({
      catalog: [sentiment],
      target: targetRunning({ taskDefinitionArn: RUNNING_ARN, deploymentController: 'ECS', version: 'v1.4.0', digest: RUNNING_DIGEST }),
    });

    const { policy } = await checkRelease(pushEvent());

    expect(policy).toMatchObject({ verdict: 'rejected', code: 'downgrade' });
  });

  it("lets an operator's rollback go back below the running version, naming who asked and why", async () => {
    const checkRelease = createCheckReleaseHandler({
      catalog: [sentiment],
      target: targetRunning({ taskDefinitionArn: RUNNING_ARN, deploymentController: 'ECS', version: 'v1.4.0', digest: RUNNING_DIGEST }),
    });

    const { trigger, policy } = await checkRelease(
      startEvent(START_EVENTS.rollback, { 'requested-by': 'alice@example.com', reason: 'v1.4.0 drifts on long inputs' }),
    );

    expect(trigger).toEqual({ kind: 'rollback', requestedBy: 'alice@example.com', reason: 'v1.4.0 drifts on long inputs' });
    expect(policy).toMatchObject({ verdict: 'accepted', code: 'accepted', reason: expect.stringContaining('as a rollback does') });
  });

  it('still refuses a development tag in production when an operator rolls back to it', async () => {
    const checkRelease = createCheckReleaseHandler({
      catalog: [sentiment],
      target: targetRunning({ taskDefinitionArn: RUNNING_ARN, deploymentController: 'ECS', version: 'v1.4.0', digest: RUNNING_DIGEST }),
    });

    const { trigger, policy } = await checkRelease(
      startEvent(START_EVENTS.rollback, { 'image-tag': 'v1.3.0-dev.1', 'requested-by': 'alice@example.com' }),
    );

    expect(trigger).toEqual({ kind: 'rollback', requestedBy: 'alice@example.com', reason: null });
    expect(policy).toMatchObject({ verdict: 'rejected', code: 'development-tag-in-production' });
  });

  it('marks a release started by the reconciliation, and keeps refusing a downgrade for it', async () => {
    const checkRelease = createCheckReleaseHandler({
      catalog: [sentiment],
      target: targetRunning({ taskDefinitionArn: RUNNING_ARN, deploymentController: 'ECS', version: 'v1.4.0', digest: RUNNING_DIGEST }),
    });

    const { trigger, policy } = await checkRelease(startEvent(START_EVENTS.reconciliation));

    expect(trigger).toEqual({ kind: 'reconciliation', requestedBy: null, reason: null });
    expect(policy).toMatchObject({ verdict: 'rejected', code: 'downgrade' });
  });

  it('rejects a development tag for a production service', async () => {
    const checkRelease = createCheckReleaseHandler({
      catalog: [sentiment],
      target: targetRunning({ taskDefinitionArn: RUNNING_ARN, deploymentController: 'ECS', version: null, digest: null }),
    });

    const { policy } = await checkRelease(pushEvent({ 'image-tag': 'v1.3.0-dev.1' }));

    expect(policy).toMatchObject({ verdict: 'rejected', code: 'development-tag-in-production' });
  });

  it('rejects a repository no service is configured for, without calling AWS', async () => {
    const target = targetRunning({
      taskDefinitionArn: RUNNING_ARN,
      deploymentController: 'ECS',
      version: 'v1.2.0',
      digest: RUNNING_DIGEST,
    });
    const checkRelease = createCheckReleaseHandler({ catalog: [sentiment], target });

    const result = await checkRelease(pushEvent({ 'repository-name': 'models/unknown' }));

    expect(result).toMatchObject({
      subject: { service: null, environment: null, repository: 'models/unknown', tag: 'v1.3.0', digest: DIGEST },
      release: { repositoryName: 'models/unknown' },
      trigger: { kind: 'push', requestedBy: null, reason: null },
      service: null,
      running: null,
      policy: { verdict: 'rejected', code: 'repository-not-configured', reason: expect.stringContaining('"models/unknown"') },
    });
    expect(target.describeRunning).not.toHaveBeenCalled();
  });

  it.each([
    ['us-east-1', '123456789012.dkr.ecr.us-east-1.amazonaws.com/models/sentiment'],
    ['cn-north-1', '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/models/sentiment'],
  ])('pins the image by digest in the %s registry', async (region, repositoryUri) => {
    const checkRelease = createCheckReleaseHandler({
      catalog: [],
      target: targetRunning({ taskDefinitionArn: RUNNING_ARN, deploymentController: 'ECS', version: null, digest: null }),
    });

    const { release } = await checkRelease(pushEvent({}, region));

    expect(release.repositoryUri).toBe(repositoryUri);
    expect(release.imageUri).toBe(`${repositoryUri}@${DIGEST}`);
  });

  it('adds the release to every log line of the execution', async () => {
    const appendKeys = vi.spyOn(logger, 'appendKeys');
    const checkRelease = createCheckReleaseHandler({
      catalog: [sentiment],
      target: targetRunning({ taskDefinitionArn: RUNNING_ARN, deploymentController: 'ECS', version: null, digest: null }),
    });

    await checkRelease(pushEvent());

    expect(appendKeys).toHaveBeenCalledWith({ targetService: 'sentiment', version: 'v1.3.0', digest: DIGEST });
  });

  it.each([
    [{ 'image-digest': 'sha256:abc' }, 'detail.image-digest is "sha256:abc"'],
    [{ 'image-tag': undefined }, 'detail.image-tag is missing'],
  ])('throws InvalidInputError naming the bad field and value for %j', async (detail, message) => {
    const checkRelease = createCheckReleaseHandler({
      catalog: [sentiment],
      target: targetRunning({ taskDefinitionArn: RUNNING_ARN, deploymentController: 'ECS', version: null, digest: null }),
    });

    const error = await checkRelease(pushEvent(detail)).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toContain(message);
  });

  it('lets a failure to read the running service reach the state machine', async () => {
    const missing = new ServiceNotFoundError('ECS service "sentiment" in cluster "models-prod" was not found (MISSING).');
    const checkRelease = createCheckReleaseHandler({
      catalog: [sentiment],
      target: { describeRunning: vi.fn().mockRejectedValue(missing) },
    });

    await expect(checkRelease(pushEvent())).rejects.toBe(missing);
  });

  it('rejects a release for a service whose deployment controller is not ECS, before the tag policy', async () => {
    const target = targetRunning({
      taskDefinitionArn: RUNNING_ARN,
      deploymentController: 'CODE_DEPLOY',
      version: 'v1.2.0',
      digest: RUNNING_DIGEST,
    });
    const checkRelease = createCheckReleaseHandler({ catalog: [sentiment], target });

    const result = await checkRelease(pushEvent());

    expect(result.policy).toMatchObject({
      verdict: 'rejected',
      code: 'deployment-controller-not-ecs',
      reason: expect.stringContaining('CODE_DEPLOY'),
    });
  });
});
