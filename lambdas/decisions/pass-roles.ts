/**
 * Which IAM roles a task definition names that the service's catalog entry does not configure. Registering a revision
 * passes the task definition's roles to ECS, and IAM allows iam:PassRole on the configured roles only, so any other
 * role would end in an opaque AccessDenied from RegisterTaskDefinition. Pure: the adapter reads the task definition,
 * this decides.
 */

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
