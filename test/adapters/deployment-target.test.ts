import {
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  ServiceNotFoundException,
  UpdateServiceCommand,
  type DescribeServicesCommandOutput,
  type Service,
  type Tag,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CatalogEntry } from '../../lambdas/contract/catalog';
import type { Release } from '../../lambdas/contract/steps';
import { DeploymentTarget } from '../../lambdas/adapters/deployment-target';
import {
  ContainerNotFoundError,
  FamilyNotConfiguredError,
  ServiceNotFoundError,
  TransientAwsError,
  UpdateRefusedError,
} from '../../lambdas/errors';
import { sentimentService } from '../fixtures/catalog';

const ecs = mockClient(ECSClient);
const target = new DeploymentTarget(new ECSClient({ region: 'us-east-1' }));

const entry = sentimentService();

const RUNNING_ARN = 'arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment:7';
const OLDER_ARN = 'arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment:6';
const NEW_ARN = 'arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment:8';
const REPOSITORY_URI = '123456789012.dkr.ecr.us-east-1.amazonaws.com/models/sentiment';
const DIGEST = 'sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234abcd';
const release: Release = {
  repositoryName: 'models/sentiment',
  repositoryUri: REPOSITORY_URI,
  tag: 'v1.3.0',
  digest: DIGEST,
  imageUri: `${REPOSITORY_URI}@${DIGEST}`,
};

function activeService(overrides: Partial<Service> = {}): Service {
  return {
    serviceName: 'sentiment',
    status: 'ACTIVE',
    taskDefinition: RUNNING_ARN,
    deployments: [{ status: 'PRIMARY', taskDefinition: RUNNING_ARN }],
    ...overrides,
  };
}

function servicesOutput(service: Service): DescribeServicesCommandOutput {
  return { $metadata: {}, services: [service], failures: [] };
}

const sidecar = { name: 'log-router', image: 'public.ecr.aws/aws-observability/aws-for-fluent-bit:stable', essential: false };
const model = {
  name: 'model',
  image: `${REPOSITORY_URI}:v1.2.0`,
  essential: true,
  portMappings: [{ containerPort: 8080 }],
  environment: [{ name: 'MODEL_THREADS', value: '4' }],
};

/**
 * The task definition the service runs, as DescribeTaskDefinition returns it, with every field only ECS sets
 * (the deregistration times included, although an ACTIVE revision has none, so that stripping them is tested).
 */
const runningTaskDefinition: TaskDefinition = {
  taskDefinitionArn: RUNNING_ARN,
  family: 'sentiment-task',
  revision: 7,
  status: 'ACTIVE',
  containerDefinitions: [sidecar, model],
  taskRoleArn: 'arn:aws:iam::123456789012:role/sentiment-task',
  executionRoleArn: 'arn:aws:iam::123456789012:role/sentiment-execution',
  networkMode: 'awsvpc',
  cpu: '1024',
  memory: '2048',
  requiresCompatibilities: ['FARGATE'],
  compatibilities: ['EC2', 'FARGATE'],
  requiresAttributes: [{ name: 'com.amazonaws.ecs.capability.ecr-auth' }],
  registeredAt: new Date('2026-11-01T00:00:00Z'),
  registeredBy: 'arn:aws:sts::123456789012:assumed-role/deployer/session',
  deregisteredAt: new Date('2026-11-02T00:00:00Z'),
  deleteRequestedAt: new Date('2026-11-03T00:00:00Z'),
};
const runningTags: Tag[] = [
  { key: 'team', value: 'ml-platform' },
  { key: 'aws:cloudformation:stack-name', value: 'models-prod' },
  { key: 'model-rollout:version', value: 'v1.2.0' },
  { key: 'model-rollout:digest', value: 'sha256:old' },
];

function givenRunning(taskDefinition: TaskDefinition = runningTaskDefinition, tags: Tag[] = runningTags, service = activeService()) {
  ecs.on(DescribeServicesCommand).resolves(servicesOutput(service));
  ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition, tags });
}

/** What "Register new task definition revision" does with the target: read the revision in use, then register its successor. */
async function registerRevision(service: CatalogEntry, released: Release) {
  return target.registerRevision(service, released, await target.revisionInUse(service));
}

function awsError(name: string, fault: 'client' | 'server' = 'client'): Error {
  return Object.assign(new Error(`${name} from the test`), { name, $fault: fault, $metadata: {} });
}

beforeEach(() => {
  ecs.reset();
});

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

describe('DeploymentTarget.updateService', () => {
  it('points the service at the task definition', async () => {
    ecs.on(UpdateServiceCommand).resolves({});

    await target.updateService(entry, NEW_ARN);

    expect(ecs.commandCalls(UpdateServiceCommand)[0].args[0].input).toEqual({
      cluster: 'models-prod',
      service: 'sentiment',
      taskDefinition: NEW_ARN,
    });
  });

  it("reports ECS's ServiceNotFoundException as ServiceNotFoundError", async () => {
    ecs.on(UpdateServiceCommand).rejects(new ServiceNotFoundException({ message: 'Service not found.', $metadata: {} }));

    await expect(target.updateService(entry, NEW_ARN)).rejects.toThrow(
      new ServiceNotFoundError('ECS service "sentiment" in cluster "models-prod" cannot be updated: Service not found.'),
    );
  });

  it('turns throttling into TransientAwsError', async () => {
    ecs.on(UpdateServiceCommand).rejects(awsError('ThrottlingException'));

    await expect(target.updateService(entry, NEW_ARN)).rejects.toThrow(TransientAwsError);
  });

  it.each(['AccessDeniedException', 'InvalidParameterException', 'ClientException'])(
    'reports a refusal (%s) as UpdateRefusedError: the service did not change',
    async (name) => {
      ecs.on(UpdateServiceCommand).rejects(awsError(name));

      await expect(target.updateService(entry, NEW_ARN)).rejects.toThrow(UpdateRefusedError);
      await expect(target.updateService(entry, NEW_ARN)).rejects.toThrow(new RegExp(`${name}.*the service did not change`));
    },
  );

  it('treats a lost response as success when the service now runs the task definition', async () => {
    ecs.on(UpdateServiceCommand).rejects(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
    ecs
      .on(DescribeServicesCommand)
      .resolves(servicesOutput(activeService({ deployments: [{ status: 'PRIMARY', taskDefinition: NEW_ARN }] })));

    await expect(target.updateService(entry, NEW_ARN)).resolves.toBeUndefined();
  });

  it('throws a lost response as TransientAwsError when the service does not run the task definition', async () => {
    ecs.on(UpdateServiceCommand).rejects(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
    ecs
      .on(DescribeServicesCommand)
      .resolves(servicesOutput(activeService({ deployments: [{ status: 'PRIMARY', taskDefinition: RUNNING_ARN }] })));

    await expect(target.updateService(entry, NEW_ARN)).rejects.toThrow(TransientAwsError);
  });
});

describe('DeploymentTarget.describeRunning, deployment controller', () => {
  it.each(['CODE_DEPLOY', 'EXTERNAL'] as const)('reports a service under the %s controller', async (type) => {
    givenRunning(runningTaskDefinition, runningTags, activeService({ deploymentController: { type } }));

    await expect(target.describeRunning(entry)).resolves.toMatchObject({ deploymentController: type });
  });
});

describe('DeploymentTarget.observeDeployment', () => {
  const SERVICE_DEPLOYMENT_ARN = 'arn:aws:ecs:us-east-1:123456789012:service-deployment/models-prod/sentiment/abc';

  it('reports the PRIMARY deployment, the number of deployments and the service deployment status', async () => {
    ecs.on(DescribeServicesCommand).resolves(
      servicesOutput(
        activeService({
          currentServiceDeployment: SERVICE_DEPLOYMENT_ARN,
          deployments: [
            {
              status: 'PRIMARY',
              taskDefinition: NEW_ARN,
              rolloutState: 'IN_PROGRESS',
              rolloutStateReason: 'ECS deployment ecs-svc/2 in progress.',
              runningCount: 1,
              desiredCount: 2,
              failedTasks: 1,
            },
            { status: 'ACTIVE', taskDefinition: RUNNING_ARN, runningCount: 2, desiredCount: 0 },
          ],
        }),
      ),
    );
    ecs.on(DescribeServiceDeploymentsCommand).resolves({
      serviceDeployments: [
        {
          serviceDeploymentArn: SERVICE_DEPLOYMENT_ARN,
          status: 'ROLLBACK_IN_PROGRESS',
          rollback: { reason: 'Service deployment rolled back because the circuit breaker threshold was exceeded.' },
        },
      ],
    });

    await expect(target.observeDeployment(entry, NEW_ARN)).resolves.toEqual({
      targetTaskDefinitionArn: NEW_ARN,
      primary: {
        taskDefinitionArn: NEW_ARN,
        rolloutState: 'IN_PROGRESS',
        rolloutStateReason: 'ECS deployment ecs-svc/2 in progress.',
        runningCount: 1,
        desiredCount: 2,
        failedTasks: 1,
      },
      deploymentCount: 2,
      serviceDeployment: {
        status: 'ROLLBACK_IN_PROGRESS',
        rollbackReason: 'Service deployment rolled back because the circuit breaker threshold was exceeded.',
        statusReason: null,
      },
    });
    expect(ecs.commandCalls(DescribeServiceDeploymentsCommand)[0].args[0].input).toEqual({
      serviceDeploymentArns: [SERVICE_DEPLOYMENT_ARN],
    });
  });

  it('reports no primary and no service deployment status when ECS gives neither, without asking for one', async () => {
    ecs
      .on(DescribeServicesCommand)
      .resolves(servicesOutput(activeService({ deployments: [{ status: 'ACTIVE', taskDefinition: RUNNING_ARN }] })));

    await expect(target.observeDeployment(entry, NEW_ARN)).resolves.toEqual({
      targetTaskDefinitionArn: NEW_ARN,
      primary: null,
      deploymentCount: 1,
      serviceDeployment: null,
    });
    expect(ecs.commandCalls(DescribeServiceDeploymentsCommand)).toHaveLength(0);
  });

  it('throws ServiceNotFoundError when the service disappeared', async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [], failures: [{ reason: 'MISSING' }] });

    await expect(target.observeDeployment(entry, NEW_ARN)).rejects.toThrow(ServiceNotFoundError);
  });
});
