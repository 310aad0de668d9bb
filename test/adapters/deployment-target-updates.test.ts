/** The deployment target changing the service and watching its deployment. */
import {
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  ServiceNotFoundException,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { ServiceNotFoundError, TransientAwsError, UpdateRefusedError } from '../../lambdas/errors';

import {
  ecs,
  target,
  entry,
  RUNNING_ARN,
  NEW_ARN,
  activeService,
  servicesOutput,
  awsError,
  freshEcsPerTest,
} from '../fixtures/ecs-service';

freshEcsPerTest();

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
