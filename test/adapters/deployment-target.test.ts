import { DescribeServicesCommand, DescribeTaskDefinitionCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { ContainerNotFoundError, FamilyNotConfiguredError, ServiceNotFoundError, TransientAwsError } from '../../lambdas/errors';
import { sentimentService } from '../fixtures/catalog';

import {
  ecs,
  target,
  entry,
  RUNNING_ARN,
  OLDER_ARN,
  NEW_ARN,
  REPOSITORY_URI,
  DIGEST,
  release,
  activeService,
  servicesOutput,
  sidecar,
  model,
  runningTaskDefinition,
  runningTags,
  givenRunning,
  registerRevision,
  awsError,
  freshEcsPerTest,
} from '../fixtures/ecs-service';

freshEcsPerTest();

describe('DeploymentTarget.describeRunning', () => {
  it('reads the version and the digest from the task definition tags the pipeline wrote', async () => {
    givenRunning();

    await expect(target.describeRunning(entry)).resolves.toEqual({
      taskDefinitionArn: RUNNING_ARN,
      deploymentController: 'ECS',
      version: 'v1.2.0',
      digest: 'sha256:old',
    });
    expect(ecs.commandCalls(DescribeServicesCommand)[0].args[0].input).toEqual({ cluster: 'models-prod', services: ['sentiment'] });
    expect(ecs.commandCalls(DescribeTaskDefinitionCommand)[0].args[0].input).toEqual({ taskDefinition: RUNNING_ARN, include: ['TAGS'] });
  });

  it('refuses a service whose task definition is of another family than configured, at the first step', async () => {
    givenRunning({ ...runningTaskDefinition, family: 'sentiment-gpu' });

    await expect(target.describeRunning(entry)).rejects.toThrow(FamilyNotConfiguredError);
    await expect(target.describeRunning(entry)).rejects.toThrow(
      /is of family sentiment-gpu, but services\[\]\.taskDefinitionFamily for service "sentiment" is sentiment-task/,
    );
  });

  it.each([
    [`${REPOSITORY_URI}:v1.1.0`, 'v1.1.0', null],
    ['registry.example.com:5000/models/sentiment:v0.9.0', 'v0.9.0', null],
    ['registry.example.com:5000/models/sentiment', null, null],
    [`${REPOSITORY_URI}@${DIGEST}`, null, DIGEST],
    [`${REPOSITORY_URI}:v1.1.0@${DIGEST}`, null, DIGEST],
    [REPOSITORY_URI, null, null],
  ])('without the pipeline tags, reads the image %s as version %s and digest %s', async (image, version, digest) => {
    const taskDefinition = { ...runningTaskDefinition, containerDefinitions: [sidecar, { ...model, image }] };
    givenRunning(taskDefinition, [{ key: 'team', value: 'ml-platform' }]);

    await expect(target.describeRunning(entry)).resolves.toEqual({
      taskDefinitionArn: RUNNING_ARN,
      deploymentController: 'ECS',
      version,
      digest,
    });
  });

  it('prefers the digest tag to the digest in the image reference', async () => {
    const taskDefinition = {
      ...runningTaskDefinition,
      containerDefinitions: [sidecar, { ...model, image: `${REPOSITORY_URI}@${DIGEST}` }],
    };
    givenRunning(taskDefinition, runningTags);

    await expect(target.describeRunning(entry)).resolves.toMatchObject({ version: 'v1.2.0', digest: 'sha256:old' });
  });

  it('reads the digest from the image when only the version tag is there', async () => {
    const taskDefinition = {
      ...runningTaskDefinition,
      containerDefinitions: [sidecar, { ...model, image: `${REPOSITORY_URI}@${DIGEST}` }],
    };
    givenRunning(
      taskDefinition,
      runningTags.filter((tag) => tag.key !== 'model-rollout:digest'),
    );

    await expect(target.describeRunning(entry)).resolves.toEqual({
      taskDefinitionArn: RUNNING_ARN,
      deploymentController: 'ECS',
      version: 'v1.2.0',
      digest: DIGEST,
    });
  });

  it("reads the digest of the configured container's image, not a sidecar's", async () => {
    const pinnedSidecar = { ...sidecar, image: `public.ecr.aws/aws-observability/aws-for-fluent-bit@sha256:${'e'.repeat(64)}` };
    givenRunning({ ...runningTaskDefinition, containerDefinitions: [pinnedSidecar, model] }, [{ key: 'team', value: 'ml-platform' }]);

    await expect(target.describeRunning(entry)).resolves.toEqual({
      taskDefinitionArn: RUNNING_ARN,
      deploymentController: 'ECS',
      version: 'v1.2.0',
      digest: null,
    });
  });

  it('reads the revision the PRIMARY deployment runs, not an older one still draining', async () => {
    const service = activeService({
      taskDefinition: OLDER_ARN,
      deployments: [
        { status: 'ACTIVE', taskDefinition: OLDER_ARN },
        { status: 'PRIMARY', taskDefinition: RUNNING_ARN },
      ],
    });
    givenRunning(runningTaskDefinition, runningTags, service);

    await expect(target.describeRunning(entry)).resolves.toMatchObject({ taskDefinitionArn: RUNNING_ARN });
  });

  it("falls back to the service's task definition when it lists no deployments", async () => {
    givenRunning(runningTaskDefinition, runningTags, activeService({ deployments: [] }));

    await expect(target.describeRunning(entry)).resolves.toMatchObject({ taskDefinitionArn: RUNNING_ARN });
  });

  it('throws ServiceNotFoundError naming the cluster and service when ECS reports it missing', async () => {
    ecs.on(DescribeServicesCommand).resolves({
      services: [],
      failures: [{ arn: 'arn:aws:ecs:us-east-1:123456789012:service/models-prod/sentiment', reason: 'MISSING' }],
    });

    const error = await target.describeRunning(entry).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceNotFoundError);
    expect((error as Error).message).toBe('ECS service "sentiment" in cluster "models-prod" was not found (MISSING).');
  });

  it.each(['DRAINING', 'INACTIVE'])('throws ServiceNotFoundError for a %s service', async (status) => {
    ecs.on(DescribeServicesCommand).resolves(servicesOutput(activeService({ status })));

    await expect(target.describeRunning(entry)).rejects.toThrow(
      new ServiceNotFoundError(`ECS service "sentiment" in cluster "models-prod" is ${status}, not ACTIVE.`),
    );
    expect(ecs.commandCalls(DescribeTaskDefinitionCommand)).toHaveLength(0);
  });

  it('throws ContainerNotFoundError when the configured container is not in the task definition', async () => {
    givenRunning({ ...runningTaskDefinition, containerDefinitions: [sidecar] });

    await expect(target.describeRunning(entry)).rejects.toThrow(ContainerNotFoundError);
  });

  it('turns throttling into TransientAwsError, which the state machine retries', async () => {
    ecs.on(DescribeServicesCommand).rejects(awsError('ThrottlingException'));

    const error = await target.describeRunning(entry).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientAwsError);
    expect((error as Error).message).toContain('DescribeServices failed: ThrottlingException');
  });

  it('rethrows a client error unchanged, so its own name reaches the Catch', async () => {
    givenRunning();
    const accessDenied = awsError('AccessDeniedException');
    ecs.on(DescribeTaskDefinitionCommand).rejects(accessDenied);

    await expect(target.describeRunning(entry)).rejects.toBe(accessDenied);
  });
});

describe('DeploymentTarget.revisionInUse and registerRevision', () => {
  it('reads the revision in use with the roles its task definition names, for the step to check', async () => {
    givenRunning({ ...runningTaskDefinition, taskRoleArn: 'arn:aws:iam::123456789012:role/other' });

    await expect(target.revisionInUse(entry)).resolves.toMatchObject({
      taskDefinitionArn: RUNNING_ARN,
      previous: { version: 'v1.2.0', digest: 'sha256:old' },
      roles: {
        taskRoleArn: 'arn:aws:iam::123456789012:role/other',
        executionRoleArn: 'arn:aws:iam::123456789012:role/sentiment-execution',
      },
    });
    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(0);
  });

  it('reads what the previous revision runs from its image when the pipeline did not tag it', async () => {
    givenRunning({ ...runningTaskDefinition, containerDefinitions: [sidecar, { ...model, image: `${REPOSITORY_URI}@${DIGEST}` }] }, [
      { key: 'team', value: 'ml-platform' },
    ]);
    ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: NEW_ARN } });

    await expect(registerRevision(entry, release)).resolves.toMatchObject({ previous: { version: null, digest: DIGEST } });
  });

  it('registers a copy with only the configured container image replaced, read-only fields stripped and release tags set', async () => {
    givenRunning();
    ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: NEW_ARN } });

    await expect(registerRevision(entry, release)).resolves.toEqual({
      previousTaskDefinitionArn: RUNNING_ARN,
      // What the previous revision runs, from the pipeline's tags: where a rollback would go, and whether its release failed.
      previous: { version: 'v1.2.0', digest: 'sha256:old' },
      newTaskDefinitionArn: NEW_ARN,
    });

    const calls = ecs.commandCalls(RegisterTaskDefinitionCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0].input).toStrictEqual({
      family: 'sentiment-task',
      containerDefinitions: [sidecar, { ...model, image: `${REPOSITORY_URI}@${DIGEST}` }],
      taskRoleArn: 'arn:aws:iam::123456789012:role/sentiment-task',
      executionRoleArn: 'arn:aws:iam::123456789012:role/sentiment-execution',
      networkMode: 'awsvpc',
      cpu: '1024',
      memory: '2048',
      requiresCompatibilities: ['FARGATE'],
      tags: [
        { key: 'team', value: 'ml-platform' },
        { key: 'model-rollout:version', value: 'v1.3.0' },
        { key: 'model-rollout:digest', value: DIGEST },
      ],
    });
  });

  it('throws ContainerNotFoundError naming the container and the ones that exist, and registers nothing', async () => {
    givenRunning({ ...runningTaskDefinition, containerDefinitions: [sidecar, { ...model, name: 'server' }] });

    await expect(registerRevision(entry, release)).rejects.toThrow(
      new ContainerNotFoundError(
        `Task definition ${RUNNING_ARN} of ECS service "sentiment" in cluster "models-prod" has no container "model"; ` +
          'its containers are: "log-router", "server".',
      ),
    );
    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(0);
  });

  it('refuses a task definition of another family than the configured one with FamilyNotConfiguredError, and registers nothing', async () => {
    givenRunning();

    await expect(registerRevision(sentimentService({ taskDefinitionFamily: 'sentiment-gpu' }), release)).rejects.toThrow(
      new FamilyNotConfiguredError(
        `Task definition ${RUNNING_ARN} of ECS service "sentiment" in cluster "models-prod" is of family sentiment-task, but ` +
          'services[].taskDefinitionFamily for service "sentiment" is sentiment-gpu: the pipeline may register revisions of the configured ' +
          'family only; set taskDefinitionFamily to sentiment-task.',
      ),
    );
    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(0);
  });

  it.each([
    ['by ARN', 'arn:aws:iam::123456789012:role/sentiment-task', 'arn:aws:iam::123456789012:role/sentiment-execution'],
    ['by name', 'sentiment-task', 'sentiment-execution'],
  ])(
    'registers a task definition that names the configured roles %s, passing them on as named',
    async (_, taskRoleArn, executionRoleArn) => {
      givenRunning({ ...runningTaskDefinition, taskRoleArn, executionRoleArn });
      ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: NEW_ARN } });

      await expect(registerRevision(entry, release)).resolves.toMatchObject({ newTaskDefinitionArn: NEW_ARN });
      expect(ecs.commandCalls(RegisterTaskDefinitionCommand)[0].args[0].input).toMatchObject({ taskRoleArn, executionRoleArn });
    },
  );

  it('registers a task definition that names no role for a service that configures none', async () => {
    const { taskRoleArn, executionRoleArn, ...withoutRoles } = runningTaskDefinition;
    givenRunning(withoutRoles);
    ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: NEW_ARN } });

    await expect(registerRevision(sentimentService({ taskRoleArn: null, executionRoleArn: null }), release)).resolves.toMatchObject({
      newTaskDefinitionArn: NEW_ARN,
    });
    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)[0].args[0].input).not.toHaveProperty('taskRoleArn');
  });

  it('turns a server fault while registering into TransientAwsError', async () => {
    givenRunning();
    ecs.on(RegisterTaskDefinitionCommand).rejects(awsError('ServerException', 'server'));

    await expect(registerRevision(entry, release)).rejects.toThrow(TransientAwsError);
  });
});

describe('DeploymentTarget.describeRunning, deployment controller', () => {
  it.each(['CODE_DEPLOY', 'EXTERNAL'] as const)('reports a service under the %s controller', async (type) => {
    givenRunning(runningTaskDefinition, runningTags, activeService({ deploymentController: { type } }));

    await expect(target.describeRunning(entry)).resolves.toMatchObject({ deploymentController: type });
  });
});
