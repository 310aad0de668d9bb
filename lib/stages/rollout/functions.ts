/**
 * The functions of the all-at-once rollout and of its rollback: register a revision, update the service, wait for its
 * health to be decided (woken by ECS and alarm events) and check it once when the wait times out.
 */
import type { ServiceCatalog } from '../../../lambdas/contract/catalog';
import type { EndpointName } from '../../endpoints';
import { canaryServiceArns, DESCRIBE_TASK_DEFINITION, serviceArns, serviceDeploymentArns } from '../resources';
import type { GrantContext, Permission, PipelineFunctionSpec } from '../stage';

export const REGISTER_REVISION: PipelineFunctionSpec = {
  name: 'register-revision',
  // Not retried on a timeout: each call registers one more revision.
  calls: () => ['ecs'],
  permissions: revisionRegistration,
};

export const UPDATE_SERVICE: PipelineFunctionSpec = {
  name: 'update-service',
  // Not retried on a timeout: it says nothing about whether ECS took the change, so the state's Catch decides.
  calls: () => ['ecs'],
  // Rolling back first reads what the service runs (ECS may already have rolled back by itself). Actions on the same
  // resources share a statement: with many services, each list of ARNs is written once.
  permissions: (context) => [{ actions: ['ecs:UpdateService', 'ecs:DescribeServices'], resources: serviceArns(context) }],
};

export const CHECK_HEALTH: PipelineFunctionSpec = {
  name: 'check-health',
  // Reads only.
  retriedOnTimeout: true,
  calls: (catalog: ServiceCatalog): EndpointName[] => ['ecs', ...(hasAlarms(catalog) ? (['monitoring'] as const) : [])],
  permissions: healthReads,
};

export const AWAIT_HEALTH: PipelineFunctionSpec = {
  name: 'await-health',
  // An event names its service by ARN or alarm name only.
  readsCatalog: true,
  // Its waiters: one item per waiting execution and state, in the service's partition; and the service lock, read once
  // after a lock wait's waiter is stored.
  ledger: { actions: ['dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:DeleteItem', 'dynamodb:GetItem'], writes: true },
  // Stores its waiter again (the same item) and answers a closed token harmlessly.
  retriedOnTimeout: true,
  calls: (catalog: ServiceCatalog): EndpointName[] => [...CHECK_HEALTH.calls(catalog), 'dynamodb', 'states'],
  permissions: (context) => [
    ...healthReads(context),
    {
      actions: ['states:SendTaskSuccess'],
      resources: ['*'],
      whyWildcard:
        'Step Functions offers no resource type for SendTaskSuccess (Service Authorization Reference): who may answer a wait is decided by who can read its task token, which only this function and the ledger hold.',
    },
  ],
};

/**
 * RegisterTaskDefinition requires the task-definition resource type (task-definition/<family>:<revision>): any revision
 * of the configured families. The step refuses another family before it calls ECS (FamilyNotConfiguredError).
 */
function revisionRegistration(context: GrantContext): Permission[] {
  const { catalog, arn } = context;
  const revisionArns = [...new Set(catalog.map((s) => arn('ecs', `task-definition/${s.taskDefinitionFamily}:*`)))];
  const permissions: Permission[] = [
    { actions: ['ecs:DescribeServices'], resources: serviceArns(context) },
    DESCRIBE_TASK_DEFINITION,
    {
      actions: ['ecs:RegisterTaskDefinition'],
      resources: revisionArns,
      whyWildcard: 'ECS numbers a revision when it is registered; the ARN pattern is limited to the configured task definition families.',
    },
    {
      actions: ['ecs:TagResource'],
      resources: revisionArns,
      conditions: { StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } },
      whyWildcard:
        "the new revision's ARN exists only once it is registered; limited to the configured families, and by the condition ecs:CreateAction = RegisterTaskDefinition to tagging the revision being registered.",
    },
  ];
  // The copied revision keeps the service's task and execution roles: only the configured ones, and only to ECS tasks.
  // The step refuses a task definition naming any other role before it calls ECS (RoleNotConfiguredError).
  const passRoles = [...new Set(catalog.flatMap((s) => [s.taskRoleArn, s.executionRoleArn]).filter((r): r is string => r !== null))];
  if (passRoles.length > 0) {
    permissions.push({
      actions: ['iam:PassRole'],
      resources: passRoles,
      conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    });
  }
  return permissions;
}

/** The services' health, and their canary services' (a gray release waits for its canary too). */
function healthReads(context: GrantContext): Permission[] {
  const { catalog, arn } = context;
  const services = [...serviceArns(context), ...canaryServiceArns(context)];
  const deployments = serviceDeploymentArns(context);
  const alarmArns = [...new Set(catalog.flatMap((s) => s.health.alarms))].map((name) => arn('cloudwatch', `alarm:${name}`));
  return [
    { actions: ['ecs:DescribeServices'], resources: services },
    // Two required resource types (Service Authorization Reference): the service deployment and its service. A policy
    // that names only the deployments is denied every call.
    {
      actions: ['ecs:DescribeServiceDeployments'],
      resources: [...services, ...deployments],
      whyWildcard: 'ECS names each service deployment when the service is updated; the ARN pattern is limited to the configured service.',
    },
    ...(alarmArns.length > 0 ? [{ actions: ['cloudwatch:DescribeAlarms'], resources: alarmArns }] : []),
  ];
}

function hasAlarms(catalog: ServiceCatalog): boolean {
  return catalog.some((s) => s.health.alarms.length > 0);
}
