/**
 * The ECS service a release is deployed to, as the steps use it. Declared here, where it is used;
 * `adapters/deployment-target.ts` implements it on ECS.
 */
import type { CatalogEntry } from '../../contract/catalog';
import type { RegisteredRevision, Release } from '../../contract/steps';
import type { HealthObservation } from '../../decisions/health';

export interface RunningRevision {
  taskDefinitionArn: string;
  /** ECS, CODE_DEPLOY or EXTERNAL: only the ECS (rolling update) controller lets UpdateService change the task definition. */
  deploymentController: string;
  /** The release tag the service runs; null when it cannot be told. */
  version: string | null;
  /** The image digest the service runs; null when the image is named by a tag and not tagged by the pipeline. */
  digest: string | null;
}

export type DeploymentObservation = Omit<HealthObservation, 'alarms'>;

/** The revision a release replaces: what it runs, the roles it names, and what the target needs to copy it. */
export interface RevisionInUse {
  taskDefinitionArn: string;
  /** What it runs (null when that cannot be told): where a rollback would go. */
  previous: { version: string | null; digest: string | null };
  /** The roles its task definition names, as ECS returns them: absent, a role name or a role ARN. */
  roles: { taskRoleArn?: string | null; executionRoleArn?: string | null };
  /** What the target copies when it registers the new revision: opaque to the steps, handed back to registerRevision. */
  source: unknown;
}

export type NewRevision = Pick<RegisteredRevision, 'previousTaskDefinitionArn' | 'previous' | 'newTaskDefinitionArn'>;

/** What a gray release's set-up check and step plan read of a service. */
export interface ServiceSetup {
  /** ACTIVE, DRAINING, INACTIVE; null when ECS does not know the service. */
  status: string | null;
  /** The task definition of its PRIMARY deployment. */
  taskDefinitionArn: string | null;
  deploymentController: string | null;
  desiredCount: number;
  /** The target groups its tasks register with (its load balancers). */
  targetGroupArns: string[];
}

export interface DeploymentTarget {
  describeRunning(entry: CatalogEntry): Promise<RunningRevision>;
  /** The revision the service deploys (PRIMARY), with its configured container and family checked. */
  revisionInUse(entry: CatalogEntry): Promise<RevisionInUse>;
  /** Registers a copy of `inUse` (as revisionInUse returned it) with only the configured container's image replaced. */
  registerRevision(entry: CatalogEntry, release: Release, inUse: RevisionInUse): Promise<NewRevision>;
  /** Points the service at a task definition; asking twice is harmless. */
  updateService(entry: CatalogEntry, taskDefinitionArn: string): Promise<void>;
  /** Sets the service's desired count and, when given, its task definition; asking twice is harmless. */
  scaleService(entry: CatalogEntry, desiredCount: number, taskDefinitionArn?: string): Promise<void>;
  serviceSetup(entry: CatalogEntry): Promise<ServiceSetup>;
  /** The task definition of the service's PRIMARY deployment. */
  primaryRevision(entry: CatalogEntry): Promise<string>;
  /** Whether the service's PRIMARY deployment is of this task definition. */
  runs(entry: CatalogEntry, taskDefinitionArn: string): Promise<boolean>;
  /** Whether any deployment of the service (PRIMARY or still ACTIVE) is of this task definition. */
  hasDeploymentOf(entry: CatalogEntry, taskDefinitionArn: string): Promise<boolean>;
  observeDeployment(entry: CatalogEntry, targetTaskDefinitionArn: string): Promise<DeploymentObservation>;
}
