/**
 * The events that wake a health wait: ECS's "ECS Deployment State Change" for the configured services (and a gray
 * release's canary service), and CloudWatch's
 * "CloudWatch Alarm State Change" for their health alarms, both to function await-health, which re-reads the service
 * before it answers anyone. Both are delivered at least once to the default bus
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_deployment_events.html,
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html); a lost one costs the
 * wait the time until it looks itself (a quarter of the deadline).
 */
import { analysedAlarms } from '../../../lambdas/decisions/step-analysis';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as targets from 'aws-cdk-lib/aws-events-targets';
import type { Construct } from 'constructs';
import { type CatalogEntry, canaryServicesOf, type ServiceCatalog } from '../../../lambdas/contract/catalog';
import { chunkedRules } from '../../event-patterns';
import { clusterNameOf } from '../resources';

/**
 * The deployment events of `services`, matched on the end of the service's ARN: the default bus only carries this
 * account's and Region's events, and a suffix needs no account or partition token. Both ARN formats: the long
 * `service/<cluster>/<name>`, and the short `service/<name>` of services created before it.
 */
export function deploymentEventsOf(suffixes: readonly string[]) {
  return { source: ['aws.ecs'], 'detail-type': ['ECS Deployment State Change'], resources: suffixes.map((suffix) => ({ suffix })) };
}

/**
 * ECS's "ECS Service Action" SERVICE_STEADY_STATE of `suffixes`' services: "The service is healthy and at the desired
 * number of tasks" (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_events.html). A gray
 * release's canary scaled for a later step changes only its task count, which starts no deployment and sends no
 * deployment event: this one tells its wait the tasks run.
 */
export function steadyStateEventsOf(suffixes: readonly string[]) {
  return {
    source: ['aws.ecs'],
    'detail-type': ['ECS Service Action'],
    detail: { eventName: ['SERVICE_STEADY_STATE'] },
    resources: suffixes.map((suffix) => ({ suffix })),
  };
}

export function alarmEventsOf(alarmNames: readonly string[]) {
  return { source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'], detail: { alarmName: [...alarmNames] } };
}

/** The ends of both ARN formats of `names`, services of `entry`'s cluster. */
function serviceArnSuffixes(entry: CatalogEntry, names: readonly string[]): string[] {
  return names.flatMap((name) => [`:service/${clusterNameOf(entry.cluster)}/${name}`, `:service/${name}`]);
}

/** One rule per group of services (and of alarms) whose pattern fits EventBridge's size quota. */
export function healthEventRules(scope: Construct, catalog: ServiceCatalog, target: targets.LambdaFunction): events.Rule[] {
  // A gray release waits for its canary service too.
  const suffixes = [...new Set(catalog.flatMap((s) => serviceArnSuffixes(s, [s.service, ...canaryServicesOf(s)])))];
  // The services' health alarms, and a gray release's analysis alarms (whose change wakes its bake for an analysis).
  const alarms = [...new Set(catalog.flatMap(analysedAlarms))];
  const canarySuffixes = [...new Set(catalog.flatMap((s) => serviceArnSuffixes(s, canaryServicesOf(s))))];
  return [
    ...chunkedRules(
      scope,
      {
        baseId: 'ServiceDeploymentChanged',
        description: 'Wakes a rollout waiting on the health of a configured service when its ECS deployment changes state',
        targets: [target],
      },
      suffixes,
      deploymentEventsOf,
    ),
    ...chunkedRules(
      scope,
      {
        baseId: 'HealthAlarmChanged',
        description:
          "Wakes a rollout waiting on a configured service's health, or a gray release's bake, when one of its alarms changes state",
        targets: [target],
      },
      alarms,
      alarmEventsOf,
    ),
    ...chunkedRules(
      scope,
      {
        baseId: 'CanarySteadyState',
        description: "Wakes a gray release waiting for its canary service's tasks when the service reaches its steady state",
        targets: [target],
      },
      canarySuffixes,
      steadyStateEventsOf,
    ),
  ];
}
