/**
 * The resources the stages' permissions name, computed once from the catalog: every function that touches a service,
 * a repository or a task definition family names it the same way.
 */
import { canaryServicesOf } from '../../lambdas/contract/catalog';
import type { GrantContext, Permission } from './stage';

/** `arn:aws:ecs:<region>:<account>:cluster/<name>` → `<name>`; a name stays as it is (the configuration takes either). */
export function clusterNameOf(cluster: string): string {
  return cluster.replace(/^arn:[^:]+:ecs:[^:]*:\d*:cluster\//, '');
}

/** The configured ECS services. */
export function serviceArns({ catalog, arn }: GrantContext): string[] {
  return catalog.map((s) => arn('ecs', `service/${clusterNameOf(s.cluster)}/${s.service}`));
}

/** The canary ECS services of the services released gray. */
export function canaryServiceArns({ catalog, arn }: GrantContext): string[] {
  return catalog.flatMap((s) => canaryServicesOf(s).map((name) => arn('ecs', `service/${clusterNameOf(s.cluster)}/${name}`)));
}

/** The service deployments of the configured services and of their canary services (or of the canaries only). */
export function serviceDeploymentArns({ catalog, arn }: GrantContext, { canariesOnly = false } = {}): string[] {
  return catalog.flatMap((s) =>
    [...(canariesOnly ? [] : [s.service]), ...canaryServicesOf(s)].map((name) =>
      arn('ecs', `service-deployment/${clusterNameOf(s.cluster)}/${name}/*`),
    ),
  );
}

/** The configured repositories, each once. */
export function repositoryArns({ catalog, arn }: GrantContext): string[] {
  return [...new Set(catalog.map((s) => arn('ecr', `repository/${s.repository}`)))];
}

/** DescribeTaskDefinition supports no resource-level permissions (Service Authorization Reference, Amazon ECS). */
export const DESCRIBE_TASK_DEFINITION: Permission = {
  actions: ['ecs:DescribeTaskDefinition'],
  resources: ['*'],
  whyWildcard: 'supports no resource-level permissions.',
};
