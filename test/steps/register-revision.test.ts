import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { KnownBadRelease, LastKnownGood, RegisteredRevision, Release } from '../../lambdas/contract/steps';
import { ContainerNotFoundError, InvalidInputError, RoleNotConfiguredError } from '../../lambdas/errors';
import { logger } from '../../lambdas/shared/logger';
import type { RevisionInUse } from '../../lambdas/steps/ports/deployment-target';
import { createRegisterRevisionHandler } from '../../lambdas/steps/register-revision';
import { sentimentService } from '../fixtures/catalog';

const DIGEST = 'sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234abcd';
const REPOSITORY_URI = '123456789012.dkr.ecr.us-east-1.amazonaws.com/models/sentiment';
const service = sentimentService();
const release: Release = {
  repositoryName: 'models/sentiment',
  repositoryUri: REPOSITORY_URI,
  tag: 'v1.3.0',
  digest: DIGEST,
  imageUri: `${REPOSITORY_URI}@${DIGEST}`,
};
const PREVIOUS_ARN = 'arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment:7';
const NEW_ARN = 'arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment:8';
/** What the deployment target registers: the two revisions; the step adds where a rollback goes. */
const PREVIOUS_DIGEST = 'sha256:2222222222222222222222222222222222222222222222222222222222222222';
const registered: Pick<RegisteredRevision, 'previousTaskDefinitionArn' | 'previous' | 'newTaskDefinitionArn'> = {
  previousTaskDefinitionArn: PREVIOUS_ARN,
  previous: { version: 'v1.2.0', digest: PREVIOUS_DIGEST },
  newTaskDefinitionArn: NEW_ARN,
};
/** The previous revision's own release, as the ledger recorded it: rolled back, its rollback failed. */
const previousFailed: KnownBadRelease = {
  tag: 'v1.2.0',
  digest: PREVIOUS_DIGEST,
  outcome: 'rollback-failed',
  at: '2026-11-19T11:00:00.000Z',
};
/** The ledger's newest succeeded deployment: an older revision than the one running now. */
const lastKnownGood: LastKnownGood = {
  tag: 'v1.1.0',
  digest: 'sha256:1111111111111111111111111111111111111111111111111111111111111111',
  taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment:5',
  succeededAt: '2026-11-19T10:00:00.000Z',
};

/** The revision in use, as the deployment target reads it: naming the service's configured roles unless told otherwise. */
function inUse(
  roles: RevisionInUse['roles'] = { taskRoleArn: service.taskRoleArn, executionRoleArn: service.executionRoleArn },
): RevisionInUse {
  return { taskDefinitionArn: PREVIOUS_ARN, previous: registered.previous, roles, source: { copied: 'by the target' } };
}

/** A deployment target that registers `registered` from the revision in use. */
function targetRegistering(revision: RevisionInUse = inUse()) {
  return { revisionInUse: vi.fn(async () => revision), registerRevision: vi.fn(async () => registered) };
}

beforeAll(() => logger.setLogLevel('SILENT'));

describe('register new task definition revision', () => {
  it('registers the release for the service and returns both revisions', async () => {
    const target = targetRegistering();
    const registerRevision = createRegisterRevisionHandler({ target });

    await expect(registerRevision({ service, release, lastKnownGood: null })).resolves.toMatchObject(registered);
    expect(target.registerRevision).toHaveBeenCalledWith(service, release, inUse());
  });

  it("rolls back to the ledger's last known good revision when it knows one, not to the previous revision", async () => {
    const registerRevision = createRegisterRevisionHandler({ target: targetRegistering() });

    const revision = await registerRevision({ service, release, lastKnownGood });

    expect(revision).toEqual<RegisteredRevision>({
      ...registered,
      rollbackTaskDefinitionArn: lastKnownGood.taskDefinitionArn,
      rollbackTarget: {
        version: 'v1.1.0',
        digest: lastKnownGood.digest,
        source: 'last-known-good',
        reason: expect.stringContaining('last known good'),
      },
    });
  });

  it('rolls back to the last known good even when the previous revision is known bad', async () => {
    const registerRevision = createRegisterRevisionHandler({ target: targetRegistering() });

    const revision = await registerRevision({ service, release, lastKnownGood, knownBad: [previousFailed] });

    expect(revision).toMatchObject({
      rollbackTaskDefinitionArn: lastKnownGood.taskDefinitionArn,
      rollbackTarget: { source: 'last-known-good' },
    });
  });

  it('has no rollback target when the ledger knows no good version and the previous revision’s release failed', async () => {
    const registerRevision = createRegisterRevisionHandler({ target: targetRegistering() });

    const revision = await registerRevision({ service, release, lastKnownGood: null, knownBad: [previousFailed] });

    expect(revision).toEqual<RegisteredRevision>({
      ...registered,
      rollbackTaskDefinitionArn: null,
      rollbackTarget: {
        version: 'v1.2.0',
        digest: PREVIOUS_DIGEST,
        source: 'none',
        reason: expect.stringContaining('No known good version exists'),
      },
    });
    expect(revision.rollbackTarget.reason).toContain(PREVIOUS_ARN);
    expect(revision.rollbackTarget.reason).toContain('ended rollback-failed on 2026-11-19T11:00:00.000Z');
  });

  it.each([
    ['null', { lastKnownGood: null }],
    ['left out', {}],
  ])('rolls back to the previous revision when the last known good is %s', async (_, input) => {
    const registerRevision = createRegisterRevisionHandler({ target: targetRegistering() });

    const revision = await registerRevision({ service, release, ...input });

    expect(revision).toEqual<RegisteredRevision>({
      ...registered,
      rollbackTaskDefinitionArn: PREVIOUS_ARN,
      rollbackTarget: {
        version: 'v1.2.0',
        digest: PREVIOUS_DIGEST,
        source: 'previous-revision',
        reason: expect.stringContaining(PREVIOUS_ARN),
      },
    });
  });

  it('refuses a known-bad release of an unknown outcome, naming the field, without registering', async () => {
    const target = targetRegistering();

    await expect(
      createRegisterRevisionHandler({ target })({ service, release, knownBad: [{ ...previousFailed, outcome: 'succeeded' }] }),
    ).rejects.toThrow(expect.objectContaining({ name: 'InvalidInputError', message: expect.stringContaining('knownBad.0.outcome') }));
    expect(target.registerRevision).not.toHaveBeenCalled();
  });

  it('refuses a last known good without a task definition, without registering', async () => {
    const target = targetRegistering();
    const registerRevision = createRegisterRevisionHandler({ target });

    await expect(registerRevision({ service, release, lastKnownGood: { ...lastKnownGood, taskDefinitionArn: '' } })).rejects.toThrow(
      expect.objectContaining({ name: 'InvalidInputError', message: expect.stringContaining('lastKnownGood.taskDefinitionArn') }),
    );
    expect(target.registerRevision).not.toHaveBeenCalled();
  });

  it('throws InvalidInputError naming the bad field, without registering', async () => {
    const target = targetRegistering();
    const registerRevision = createRegisterRevisionHandler({ target });

    await expect(registerRevision({ service, release: { ...release, imageUri: undefined } })).rejects.toThrow(
      expect.objectContaining({ name: 'InvalidInputError', message: expect.stringContaining('release.imageUri') }),
    );
    await expect(registerRevision({ release })).rejects.toThrow(InvalidInputError);
    await expect(registerRevision({ service, release: { ...release, imageUri: `${REPOSITORY_URI}:v1.3.0` } })).rejects.toThrow(
      'release.imageUri: must be <repositoryUri>@<digest>',
    );
    expect(target.registerRevision).not.toHaveBeenCalled();
  });

  it('lets a configuration error reach the state machine', async () => {
    const notFound = new ContainerNotFoundError('no container "model"');
    const registerRevision = createRegisterRevisionHandler({
      target: { revisionInUse: vi.fn().mockRejectedValue(notFound), registerRevision: vi.fn() },
    });

    await expect(registerRevision({ service, release })).rejects.toBe(notFound);
  });

  it('refuses a task definition naming a role the service does not configure with RoleNotConfiguredError, and registers nothing', async () => {
    const target = targetRegistering(
      inUse({ taskRoleArn: 'arn:aws:iam::123456789012:role/other', executionRoleArn: service.executionRoleArn }),
    );

    const error = await createRegisterRevisionHandler({ target })({ service, release }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RoleNotConfiguredError);
    expect((error as Error).name).toBe('RoleNotConfiguredError');
    expect((error as Error).message).toBe(
      `Task definition ${PREVIOUS_ARN} of ECS service "sentiment" in cluster "models-prod" names task role arn:aws:iam::123456789012:role/other, ` +
        'but services[].taskRoleArn for service "sentiment" is arn:aws:iam::123456789012:role/sentiment-task: ' +
        'the pipeline may pass only the configured roles to ECS; set taskRoleArn to the role the task definition uses.',
    );
    expect(target.registerRevision).not.toHaveBeenCalled();
  });

  it('registers a task definition that names no role for a service that configures none', async () => {
    const target = targetRegistering(inUse({}));
    const unroled = sentimentService({ taskRoleArn: null, executionRoleArn: null });

    await expect(createRegisterRevisionHandler({ target })({ service: unroled, release })).resolves.toMatchObject(registered);
  });
});
