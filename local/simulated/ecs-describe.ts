/** What ECS's Describe* calls answer for the simulated model: DescribeServices' service, DescribeServiceDeployments' entry. */
import { primaryOf } from './ecs-deployments';
import type { EcsDependencies, ServiceDeployment, ServiceState } from './ecs-model';

type Location = Pick<EcsDependencies, 'account' | 'region'>;

/** One service of DescribeServices. */
export function describedService(state: ServiceState, { account, region }: Location, cluster: string) {
  const primary = primaryOf(state);
  return {
    serviceArn: state.arn,
    serviceName: state.spec.service,
    clusterArn: `arn:aws:ecs:${region}:${account}:cluster/${cluster}`,
    status: state.status,
    desiredCount: state.desiredCount,
    runningCount: state.deployments.reduce((sum, d) => sum + d.runningCount, 0),
    taskDefinition: primary.taskDefinition,
    deploymentController: { type: state.controller },
    loadBalancers: (state.spec.loadBalancers ?? []).map((lb) => ({ ...lb })),
    deploymentConfiguration: {
      deploymentCircuitBreaker: { enable: true, rollback: state.circuitBreakerRollback },
      ...(state.spec.deploymentAlarms
        ? {
            alarms: {
              alarmNames: [...state.spec.deploymentAlarms.alarmNames],
              enable: true,
              rollback: state.spec.deploymentAlarms.rollback,
            },
          }
        : {}),
      maximumPercent: 200,
      minimumHealthyPercent: 100,
    },
    ...(state.currentServiceDeployment ? { currentServiceDeployment: state.currentServiceDeployment } : {}),
    deployments: state.deployments.map((d) => ({
      id: d.id,
      status: d.status,
      taskDefinition: d.taskDefinition,
      desiredCount: d.status === 'PRIMARY' ? state.desiredCount : d.runningCount,
      runningCount: d.runningCount,
      failedTasks: d.failedTasks,
      createdAt: d.createdAt,
      updatedAt: d.updatedAt,
      // Rolling update only (this simulation has no Classic Load Balancers).
      ...(state.controller === 'ECS' ? { rolloutState: d.rolloutState, rolloutStateReason: d.rolloutStateReason } : {}),
    })),
  };
}

/** One service deployment of DescribeServiceDeployments. */
export function describedServiceDeployment(state: ServiceState, sd: ServiceDeployment, { account, region }: Location) {
  return {
    serviceDeploymentArn: sd.serviceDeploymentArn,
    serviceArn: state.arn,
    clusterArn: `arn:aws:ecs:${region}:${account}:cluster/${state.spec.cluster}`,
    createdAt: sd.createdAt,
    startedAt: sd.startedAt,
    ...(sd.finishedAt ? { finishedAt: sd.finishedAt } : {}),
    ...(sd.stoppedAt ? { stoppedAt: sd.stoppedAt } : {}),
    sourceServiceRevisions: sd.sourceServiceRevisionArns.map((revision) => ({ arn: revision })),
    targetServiceRevision: { arn: sd.targetServiceRevisionArn },
    status: sd.status,
    ...(sd.statusReason ? { statusReason: sd.statusReason } : {}),
    ...(sd.rollback ? { rollback: { ...sd.rollback } } : {}),
    deploymentCircuitBreaker: {
      status: (sd.rollback || sd.status === 'STOPPED') && !sd.triggeredAlarmNames ? 'TRIGGERED' : 'MONITORING',
    },
    ...(state.spec.deploymentAlarms
      ? {
          alarms: {
            status: sd.triggeredAlarmNames ? 'TRIGGERED' : 'MONITORING',
            alarmNames: [...state.spec.deploymentAlarms.alarmNames],
            ...(sd.triggeredAlarmNames ? { triggeredAlarmNames: [...sd.triggeredAlarmNames] } : {}),
          },
        }
      : {}),
  };
}
