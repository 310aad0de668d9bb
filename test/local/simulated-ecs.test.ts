/**
 * The simulated ECS (local/simulated/ecs.ts) read against the ECS developer guide and API reference: each test names
 * the documented behaviour it holds the simulation to. Driven through the SDK commands and the real DeploymentTarget
 * adapter, never through the simulation's internals.
 */
import { DescribeServiceDeploymentsCommand, DescribeTaskDefinitionCommand, ServiceDeploymentStatus } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { ServiceNotFoundError } from '../../lambdas/errors';
import { SimulatedAccount } from '../../local/simulated-account';
import {
  entry,
  CLUSTER,
  SERVICE,
  taskDefinitionArn,
  account,
  target,
  start,
  revision,
  service,
  serviceDeployment,
  update,
  useFreshService,
  useAccount,
} from './simulated-ecs-fixture';

useFreshService();

describe('a service and its deployments', () => {
  it('starts settled on revision 1, with a SUCCESSFUL service deployment', async () => {
    const described = await service();
    expect(described).toMatchObject({
      status: 'ACTIVE',
      taskDefinition: taskDefinitionArn(1),
      deploymentController: { type: 'ECS' },
      deployments: [{ status: 'PRIMARY', taskDefinition: taskDefinitionArn(1), rolloutState: 'COMPLETED', runningCount: 2 }],
    });
    expect(await serviceDeployment()).toMatchObject({ status: 'SUCCESSFUL', serviceArn: described.serviceArn });
  });

  it('rolls an update out IN_PROGRESS, then COMPLETED and SUCCESSFUL with the old tasks drained', async () => {
    const arn = await revision('v1.3.0', { result: 'completes', settlesAfterSeconds: 90 });
    await update(arn);
    expect((await service()).deployments.map((d: any) => [d.status, d.taskDefinition, d.rolloutState])).toEqual([
      ['ACTIVE', taskDefinitionArn(1), 'COMPLETED'],
      ['PRIMARY', arn, 'IN_PROGRESS'],
    ]);
    expect(await serviceDeployment()).toMatchObject({ status: 'IN_PROGRESS' });

    account.advance(90);
    expect((await service()).deployments).toMatchObject([
      { status: 'PRIMARY', taskDefinition: arn, rolloutState: 'COMPLETED', runningCount: 2 },
    ]);
    expect(await serviceDeployment()).toMatchObject({ status: 'SUCCESSFUL', finishedAt: expect.any(Date) });
  });

  // developerguide/service-deployment.html: a new service deployment only on create, forceNewDeployment, or a change
  // of a property that requires a deployment.
  it('starts no deployment for an UpdateService naming the task definition the service already runs', async () => {
    const before = (await service()).currentServiceDeployment;
    await update(taskDefinitionArn(1));

    const after = await service();
    expect(after.deployments).toHaveLength(1);
    expect(after.currentServiceDeployment).toBe(before);
  });

  it('starts one when forceNewDeployment is set', async () => {
    const before = (await service()).currentServiceDeployment;
    await update(taskDefinitionArn(1), { forceNewDeployment: true });

    const after = await service();
    expect(after.deployments).toHaveLength(2);
    expect(after.currentServiceDeployment).not.toBe(before);
  });

  it('never settles a deployment that stalls', async () => {
    await update(await revision('v1.3.0', { result: 'stalls', settlesAfterSeconds: 0 }));
    account.advance(24 * 3600);
    expect(await serviceDeployment()).toMatchObject({ status: 'IN_PROGRESS' });
  });

  it('answers a service that does not exist as ECS does', async () => {
    const missing = { ...entry, service: 'translation' };
    await expect(target.describeRunning(missing)).rejects.toBeInstanceOf(ServiceNotFoundError);
    await expect(target.updateService(missing, taskDefinitionArn(1))).rejects.toBeInstanceOf(ServiceNotFoundError);
    await expect(
      account.ecs.send(
        new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: ['arn:aws:ecs:us-east-1:123456789012:service-deployment/x/y/z'] }),
      ),
    ).resolves.toMatchObject({
      serviceDeployments: [],
      failures: [{ reason: 'MISSING' }],
    });
  });
});

// developerguide/deployment-circuit-breaker.html and API_ServiceDeployment (stoppedAt).

describe('the circuit breaker', () => {
  it('without rollback: FAILED deployment, STOPPED service deployment, the old tasks still running', async () => {
    const arn = await revision('v1.3.0', { result: 'fails', settlesAfterSeconds: 60 });
    await update(arn);
    account.advance(60);

    expect((await service()).deployments).toMatchObject([
      { status: 'ACTIVE', taskDefinition: taskDefinitionArn(1), rolloutState: 'COMPLETED', runningCount: 2 },
      {
        status: 'PRIMARY',
        taskDefinition: arn,
        rolloutState: 'FAILED',
        rolloutStateReason: expect.stringContaining('circuit breaker'),
        runningCount: 0,
      },
    ]);
    expect(await serviceDeployment()).toMatchObject({ status: 'STOPPED', stoppedAt: expect.any(Date) });
  });

  it('with rollback: ECS rolls back inside the same service deployment to the last COMPLETED one', async () => {
    start({ circuitBreakerRollback: true });
    const arn = await revision('v1.3.0', { result: 'fails', settlesAfterSeconds: 60 });
    await update(arn);
    const releaseDeployment = (await service()).currentServiceDeployment;
    account.advance(60);

    const rollingBack = await service();
    expect(rollingBack.currentServiceDeployment).toBe(releaseDeployment);
    expect(rollingBack.taskDefinition).toBe(taskDefinitionArn(1));
    expect(rollingBack.deployments).toMatchObject([
      { status: 'PRIMARY', taskDefinition: taskDefinitionArn(1), rolloutState: 'IN_PROGRESS' },
      { status: 'ACTIVE', taskDefinition: arn, rolloutState: 'FAILED' },
    ]);
    const sd = await serviceDeployment();
    expect(sd).toMatchObject({
      status: 'ROLLBACK_IN_PROGRESS',
      rollback: { reason: expect.stringContaining('circuit breaker'), startedAt: expect.any(Date) },
    });
    // No new service revision for a rollback: it rolls back to the source revision.
    expect(sd.rollback.serviceRevisionArn).toBe(sd.sourceServiceRevisions[0].arn);

    account.advance(60); // v1.2.0 settles in 60 s when redeployed
    expect((await service()).deployments).toMatchObject([
      { status: 'PRIMARY', taskDefinition: taskDefinitionArn(1), rolloutState: 'COMPLETED' },
    ]);
    expect(await serviceDeployment(releaseDeployment)).toMatchObject({ status: 'ROLLBACK_SUCCESSFUL' });
  });

  it('with rollback: ROLLBACK_FAILED when the revision rolled back to fails too', async () => {
    start({ circuitBreakerRollback: true }, { result: 'fails', settlesAfterSeconds: 30 });
    await update(await revision('v1.3.0', { result: 'fails', settlesAfterSeconds: 60 }));
    account.advance(90);

    expect(await serviceDeployment()).toMatchObject({ status: 'ROLLBACK_FAILED' });
    expect((await service()).deployments[0]).toMatchObject({
      status: 'PRIMARY',
      taskDefinition: taskDefinitionArn(1),
      rolloutState: 'FAILED',
    });
  });

  it('reports only the service deployment statuses ECS defines', async () => {
    start({ circuitBreakerRollback: true });
    const seen = new Set<string>();
    for (const behaviour of [
      { result: 'fails', settlesAfterSeconds: 30 },
      { result: 'completes', settlesAfterSeconds: 30 },
      { result: 'stalls', settlesAfterSeconds: 0 },
    ] as const) {
      await update(await revision(`v1.3.${seen.size}`, behaviour));
      for (let i = 0; i < 4; i++) {
        seen.add((await serviceDeployment()).status);
        account.advance(20);
      }
    }
    const defined: string[] = Object.values(ServiceDeploymentStatus);
    expect([...seen].filter((status) => !defined.includes(status))).toEqual([]);
    expect([...seen]).toEqual(expect.arrayContaining(['IN_PROGRESS', 'ROLLBACK_IN_PROGRESS']));
  });
});

// API_UpdateService: CODE_DEPLOY and EXTERNAL services cannot have their task definition changed; API_Deployment:
// rolloutState only for the rolling update (ECS) controller.

describe('deployment controllers', () => {
  it.each(['CODE_DEPLOY', 'EXTERNAL'] as const)(
    'a %s service refuses a new task definition and reports no rolloutState',
    async (deploymentController) => {
      start({ deploymentController });
      const arn = await revision('v1.3.0', { result: 'completes', settlesAfterSeconds: 0 });

      await expect(update(arn)).rejects.toMatchObject({
        name: 'InvalidParameterException',
        message: expect.stringContaining(deploymentController),
      });
      const described = await service();
      expect(described.deploymentController).toEqual({ type: deploymentController });
      expect(described.deployments[0]).not.toHaveProperty('rolloutState');
      await expect(target.describeRunning(entry)).resolves.toMatchObject({ deploymentController });
    },
  );
});

describe('task definitions', () => {
  // developerguide/deregister-task-definition-v2.html: an INACTIVE revision can be described, not deployed.
  it('refuses to update a service to an INACTIVE task definition, which can still be described', async () => {
    const arn = await revision('v1.3.0', { result: 'completes', settlesAfterSeconds: 0 });
    account.services.ecs.deregisterTaskDefinition(arn);

    await expect(update(arn)).rejects.toMatchObject({ name: 'ClientException', message: expect.stringContaining('inactive') });
    await expect(account.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }))).resolves.toMatchObject({
      taskDefinition: { status: 'INACTIVE' },
    });
    await expect(target.updateService(entry, arn)).rejects.toMatchObject({ name: 'UpdateRefusedError' });
  });
});

describe('a service that starts mid-deployment', () => {
  it('has a PRIMARY deployment of another image under way when first described', async () => {
    useAccount(new SimulatedAccount());
    const running = account.pushImage(entry.repository, 'v1.2.0', { result: 'completes', settlesAfterSeconds: 0 });
    const deploying = account.pushImage(entry.repository, 'v1.2.1', { result: 'completes', settlesAfterSeconds: 120 });
    const uri = (digest: string) => `${account.repositoryUri(entry.repository)}@${digest}`;
    account.createService(
      { cluster: CLUSTER, service: SERVICE, container: entry.container, desiredCount: 2, repositoryName: entry.repository, alarms: [] },
      { uri: uri(running) },
      { uri: uri(deploying), behaviour: { result: 'completes', settlesAfterSeconds: 120 } },
    );

    expect((await service()).deployments.map((d: any) => [d.status, d.rolloutState])).toEqual([
      ['ACTIVE', 'COMPLETED'],
      ['PRIMARY', 'IN_PROGRESS'],
    ]);
    expect(account.runningImage(CLUSTER, SERVICE).image).toBe(uri(deploying));
  });
});

describe('scaling a service (UpdateService with desiredCount)', () => {
  // API_UpdateService: a new deployment comes with a changed task definition (or forceNewDeployment); a desired count
  // alone changes how many tasks the deployment keeps running.
  it('starts no deployment for a count alone: a scale-out runs its tasks a minute later, a scale-in at once', async () => {
    await target.scaleService(entry, 5);
    expect((await service()).deployments).toMatchObject([
      { status: 'PRIMARY', taskDefinition: taskDefinitionArn(1), rolloutState: 'COMPLETED', runningCount: 2, desiredCount: 5 },
    ]);
    account.takeEvents();
    account.advance(60);
    expect((await service()).deployments).toMatchObject([{ runningCount: 5, desiredCount: 5 }]);
    // No deployment, so no deployment event: the service's steady state says the tasks run (ecs_service_events.html).
    expect(account.takeEvents()).toEqual([
      expect.objectContaining({
        'detail-type': 'ECS Service Action',
        resources: [expect.stringMatching(/:service\/models-prod\/sentiment$/)],
        detail: expect.objectContaining({ eventType: 'INFO', eventName: 'SERVICE_STEADY_STATE' }),
      }),
    ]);
    await target.scaleService(entry, 0);
    expect((await service()).deployments).toMatchObject([{ runningCount: 0, desiredCount: 0 }]);
  });

  it('rolls a new revision out with the new count: the deployment completes with that many tasks', async () => {
    const arn = await revision('v1.3.0', { result: 'completes', settlesAfterSeconds: 90 });
    await target.scaleService(entry, 1, arn);
    expect((await service()).deployments.map((d: any) => [d.status, d.taskDefinition, d.rolloutState])).toEqual([
      ['ACTIVE', taskDefinitionArn(1), 'COMPLETED'],
      ['PRIMARY', arn, 'IN_PROGRESS'],
    ]);
    account.advance(90);
    expect((await service()).deployments).toMatchObject([
      { taskDefinition: arn, rolloutState: 'COMPLETED', runningCount: 1, desiredCount: 1 },
    ]);
  });

  it('refuses a count that is not a whole number of tasks', async () => {
    await expect(target.scaleService(entry, -1)).rejects.toMatchObject({ name: 'UpdateRefusedError' });
  });
});
