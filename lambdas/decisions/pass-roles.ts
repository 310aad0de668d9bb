/**
 * Which IAM roles a task definition names that the service's catalog entry does not configure. Registering a revision
 * passes the task definition's roles to ECS, and IAM allows iam:PassRole on the configured roles only, so any other
 * role would end in an opaque AccessDenied from RegisterTaskDefinition. Pure: the adapter reads the task definition,
 * this decides, and "Register new task definition revision" refuses (RoleNotConfiguredError) before it registers.
 */
import type { CatalogEntry } from '../contract/catalog';
import { ecsServiceLabel } from '../shared/service-label';

export type RoleKind = 'task' | 'execution';

/** A role the task definition names but the catalog entry does not configure. */
export interface UnconfiguredRole {
  kind: RoleKind;
  /** As the task definition names it: a role name or a role ARN. */
  named: string;
  /** The configured role ARN of that kind; null when none is configured. */
  configured: string | null;
}

export interface PassRolesInput {
  /** The task definition's roles, as ECS returns them: absent, a role name or a role ARN (possibly with a path). */
  taskDefinition: { taskRoleArn?: string | null; executionRoleArn?: string | null };
  /** The catalog entry's roles: full role ARNs, or null for none. */
  configured: { taskRoleArn: string | null; executionRoleArn: string | null };
}

/** The roles the task definition names that are not configured, task role first; empty when every named role is. */
export function unconfiguredRoles({ taskDefinition, configured }: PassRolesInput): UnconfiguredRole[] {
  const roles: Array<[RoleKind, string | null | undefined, string | null]> = [
    ['task', taskDefinition.taskRoleArn, configured.taskRoleArn],
    ['execution', taskDefinition.executionRoleArn, configured.executionRoleArn],
  ];
  return roles.flatMap(([kind, named, configuredArn]) =>
    !named || isConfiguredRole(named, configuredArn) ? [] : [{ kind, named, configured: configuredArn }],
  );
}

/**
 * A role ARN must equal the configured ARN (account, partition and path included). A bare role name stands for the
 * role of that name in the pipeline's own account, so it matches the configured ARN's name (its last path segment).
 */
function isConfiguredRole(named: string, configuredArn: string | null): boolean {
  if (configuredArn === null) return false;
  if (named.startsWith('arn:')) return named === configuredArn;
  return named === configuredArn.slice(configuredArn.lastIndexOf('/') + 1);
}

/** The catalog entry field that configures each kind of role. */
const ROLE_FIELD: Record<RoleKind, 'taskRoleArn' | 'executionRoleArn'> = { task: 'taskRoleArn', execution: 'executionRoleArn' };

export interface RoleRefusalInput {
  service: Pick<CatalogEntry, 'name' | 'service' | 'cluster' | 'taskRoleArn' | 'executionRoleArn'>;
  /** The task definition in use, whose roles a new revision would pass on. */
  taskDefinitionArn: string;
  taskDefinition: PassRolesInput['taskDefinition'];
}

/**
 * Why a revision of this task definition may not be registered: each role it names that the entry does not configure,
 * and which fields to set. null when every role it names is configured.
 */
export function roleRefusal({ service, taskDefinitionArn, taskDefinition }: RoleRefusalInput): string | null {
  const unconfigured = unconfiguredRoles({
    taskDefinition,
    configured: { taskRoleArn: service.taskRoleArn, executionRoleArn: service.executionRoleArn },
  });
  if (unconfigured.length === 0) return null;
  const findings = unconfigured
    .map(
      ({ kind, named, configured }) =>
        `${kind} role ${named}, but services[].${ROLE_FIELD[kind]} for service "${service.name}" is ${configured ?? 'none'}`,
    )
    .join(', and ');
  const fields = unconfigured.map(({ kind }) => ROLE_FIELD[kind]).join(' and ');
  return (
    `Task definition ${taskDefinitionArn} of ${ecsServiceLabel(service)} names ${findings}: the pipeline may pass only the configured roles to ECS; ` +
    `set ${fields} to the role${unconfigured.length === 1 ? '' : 's'} the task definition uses.`
  );
}
