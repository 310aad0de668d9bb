import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { RegisteredRevision, Release } from '../../lambdas/contract';
import { ContainerNotFoundError, InvalidInputError } from '../../lambdas/errors';
import { logger } from '../../lambdas/shared/logger';
import { createRegisterRevisionHandler } from '../../lambdas/steps/register-revision';
import { sentimentService } from '../fixtures/catalog';

const DIGEST = 'sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234abcd';
const REPOSITORY_URI = '123456789012.dkr.ecr.us-east-1.amazonaws.com/models/sentiment';
const service = sentimentService();
const release: Release = { repositoryName: 'models/sentiment', repositoryUri: REPOSITORY_URI, tag: 'v1.3.0', digest: DIGEST, imageUri: `${REPOSITORY_URI}@${DIGEST}` };
const revision: RegisteredRevision = {
  previousTaskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment:7',
  newTaskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment:8',
};

beforeAll(() => logger.setLogLevel('SILENT'));

describe('register new task definition revision', () => {
  it('registers the release for the service and returns both revisions', async () => {
    const target = { registerRevision: vi.fn(async () => revision) };
    const registerRevision = createRegisterRevisionHandler({ target });

    await expect(registerRevision({ service, release })).resolves.toEqual(revision);
    expect(target.registerRevision).toHaveBeenCalledWith(service, release);
  });

  it('throws InvalidInputError naming the bad field, without registering', async () => {
    const target = { registerRevision: vi.fn(async () => revision) };
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
    const registerRevision = createRegisterRevisionHandler({ target: { registerRevision: vi.fn().mockRejectedValue(notFound) } });

    await expect(registerRevision({ service, release })).rejects.toBe(notFound);
  });
});
