/**
 * The gray release's own functions: steer-traffic (the set-up check, the canary's scaling, the weighted route),
 * analyse-step (one analysis of a step) and await-operator (the waits an operator's command ends: approvals, bakes). Its waits use the rollout's await-health and check-health, its promotion
 * update-service (functions.ts).
 */
import type { ServiceCatalog } from '../../../lambdas/contract/catalog';
import type { GrayRelease } from '../../../lambdas/contract/release-strategy';
import { analysedAlarms } from '../../../lambdas/decisions/step-analysis';
import type { EndpointName } from '../../endpoints';
import { canaryServiceArns, serviceArns, serviceDeploymentArns } from '../resources';
import type { GrantContext, Permission, PipelineFunctionSpec } from '../stage';

const grayReleases = (catalog: ServiceCatalog): GrayRelease[] => catalog.flatMap((s) => (s.release.strategy === 'gray' ? [s.release] : []));
/** A configuration without a gray release never invokes these functions: they call nothing and may do nothing. */
const isGray = (catalog: ServiceCatalog) => grayReleases(catalog).length > 0;

/** DescribeRules and DescribeListeners have no resource type (Service Authorization Reference, Elastic Load Balancing V2). */
const DESCRIBE_ROUTES: Permission = {
  actions: ['elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeListeners'],
  resources: ['*'],
  whyWildcard: 'DescribeRules and DescribeListeners support no resource-level permissions.',
};

export const STEER_TRAFFIC: PipelineFunctionSpec = {
  name: 'steer-traffic',
  // Every operation writes absolute values (these weights, this count): run again after a timeout, it ends the same.
  retriedOnTimeout: true,
  calls: (catalog) => (isGray(catalog) ? ['ecs', 'elasticloadbalancing'] : []),
  permissions: (context) => (isGray(context.catalog) ? steeringPermissions(context) : []),
};

export const ANALYSE_STEP: PipelineFunctionSpec = {
  name: 'analyse-step',
  // Whether a higher release waits for the service (the service's deployment records); where the release stands, on its
  // own record (for `model-rollout status`).
  ledger: { actions: ['dynamodb:Query', 'dynamodb:UpdateItem'], writes: true },
  usesLedger: isGray,
  // Reads only.
  retriedOnTimeout: true,
  calls: (catalog): EndpointName[] => (isGray(catalog) ? ['monitoring', 'elasticloadbalancing', 'ecs', 'dynamodb'] : []),
  permissions: (context) => (isGray(context.catalog) ? analysisPermissions(context) : []),
};

export const AWAIT_OPERATOR: PipelineFunctionSpec = {
  name: 'await-operator',
  // Stores the waiter an operator's command answers (the same item again when run again).
  ledger: { actions: ['dynamodb:PutItem'], writes: true },
  usesLedger: isGray,
  retriedOnTimeout: true,
  calls: (catalog): EndpointName[] => (isGray(catalog) ? ['dynamodb'] : []),
  permissions: () => [],
};

export const PROBE_CANARY: PipelineFunctionSpec = {
  name: 'probe-canary',
  // Reads and GETs only.
  retriedOnTimeout: true,
  // GET <probe.path> of each canary task, on the probe port.
  reachesTasks: (catalog) =>
    catalog.flatMap((s) =>
      s.release.strategy === 'gray'
        ? [{ service: s.name, taskSecurityGroupId: s.release.traffic.taskSecurityGroupId, port: s.release.probe.port }]
        : [],
    ),
  calls: (catalog): EndpointName[] => (isGray(catalog) ? ['elasticloadbalancing'] : []),
  permissions: (context) =>
    isGray(context.catalog)
      ? [
          {
            actions: ['elasticloadbalancing:DescribeTargetHealth'],
            resources: ['*'],
            whyWildcard: 'DescribeTargetHealth supports no resource-level permissions (Service Authorization Reference).',
          },
        ]
      : [],
};

function steeringPermissions(context: GrantContext): Permission[] {
  const routes = grayReleases(context.catalog).map((g) => g.traffic.route);
  const rules = routes.filter((r) => r.kind === 'listener-rule').map((r) => r.arn);
  const listeners = routes.filter((r) => r.kind === 'listener-default-action').map((r) => r.arn);
  return [
    DESCRIBE_ROUTES,
    { actions: ['elasticloadbalancing:ModifyRule'], resources: rules },
    { actions: ['elasticloadbalancing:ModifyListener'], resources: listeners },
    // The stable service's desired count sizes the canary; only the canary is changed.
    { actions: ['ecs:DescribeServices'], resources: [...serviceArns(context), ...canaryServiceArns(context)] },
    { actions: ['ecs:UpdateService'], resources: canaryServiceArns(context) },
  ];
}

function analysisPermissions(context: GrantContext): Permission[] {
  const alarms = [...new Set(context.catalog.filter((s) => s.release.strategy === 'gray').flatMap(analysedAlarms))];
  const canaries = canaryServiceArns(context);
  return [
    {
      actions: ['cloudwatch:GetMetricData'],
      resources: ['*'],
      whyWildcard: 'GetMetricData supports no resource-level permissions (metrics are not resources).',
    },
    { actions: ['cloudwatch:DescribeAlarms'], resources: alarms.map((a) => context.arn('cloudwatch', `alarm:${a}`)) },
    DESCRIBE_ROUTES,
    // The drift guard reads the canary service; DescribeServiceDeployments requires the service and the deployment.
    { actions: ['ecs:DescribeServices'], resources: canaries },
    {
      actions: ['ecs:DescribeServiceDeployments'],
      resources: [...canaries, ...serviceDeploymentArns(context, { canariesOnly: true })],
      whyWildcard: 'ECS names each service deployment when the service is updated; the ARN pattern is limited to the canary service.',
    },
  ];
}
