/**
 * The ECS service a release is deployed to. Uses only DescribeServices, DescribeTaskDefinition, RegisterTaskDefinition,
 * UpdateService and DescribeServiceDeployments (the local simulator implements exactly these).
 */
import {
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type ECSClient,
  type RegisterTaskDefinitionCommandInput,
  type Service,
  type Tag,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import type { CatalogEntry } from '../contract/catalog';
import type { Release } from '../contract/steps';
import type { ServiceDeploymentObservation } from '../decisions/health';
import { ecsServiceLabel as serviceLabel } from '../shared/service-label';
import type * as ports from '../steps/ports/deployment-target';
import {
  ContainerNotFoundError,
  FamilyNotConfiguredError,
  ServiceNotFoundError,
  UnexpectedAwsAnswerError,
  UpdateRefusedError,
  callAws,
  classifyAwsError,
} from '../errors';

/** Task definition tags the pipeline writes, so the running version can be read back without parsing image names. */
export const VERSION_TAG = 'model-rollout:version';
export const DIGEST_TAG = 'model-rollout:digest';

// ECS's own "service is gone" exceptions, reported as our named configuration error.
const ECS_SERVICE_MISSING_ERRORS = new Set(['ServiceNotFoundException', 'ServiceNotActiveException']);
/**
 * Errors with which AWS refuses an UpdateService before doing anything (API_UpdateService "Errors", and IAM's
 * AccessDeniedException): the service is exactly as it was.
 */
const UPDATE_REFUSALS = new Set([
  'AccessDeniedException',
  'ClientException',
  'InvalidParameterException',
  'ClusterNotFoundException',
  'PlatformUnknownException',
  'PlatformTaskDefinitionIncompatibilityException',
  'UnsupportedFeatureException',
  'NamespaceNotFoundException',
]);

/** What registerRevision copies: the task definition in use as ECS described it, with its tags. */
interface RevisionSource {
  taskDefinition: TaskDefinition;
  tags: Tag[];
}

export class DeploymentTarget implements ports.DeploymentTarget {
  constructor(private readonly ecs: Pick<ECSClient, 'send'>) {}

  async describeRunning(entry: CatalogEntry): Promise<ports.RunningRevision> {
    const service = await this.describeService(entry);
    const taskDefinitionArn = currentTaskDefinitionArn(entry, service);
    const { taskDefinition, tags } = await this.describeTaskDefinition(taskDefinitionArn);
    // Checked even when the version tag is there: a misconfigured container or family should stop the release before any change.
    const container = requireContainer(entry, taskDefinitionArn, taskDefinition);
    requireConfiguredFamily(entry, taskDefinitionArn, taskDefinition);
    return {
      taskDefinitionArn,
      // A service created without one uses ECS (API_DeploymentController: "The default is ECS").
      deploymentController: service.deploymentController?.type ?? 'ECS',
      ...versionOf(container.image, tags),
    };
  }

  /**
   * The revision the service deploys (PRIMARY) and what it runs. IAM lets the pipeline register only the configured
   * family: refused here (FamilyNotConfiguredError) rather than met as an AccessDenied from ECS. Its roles are the
   * step's to check (decisions/pass-roles.ts) before it registers a successor.
   */
  async revisionInUse(entry: CatalogEntry): Promise<ports.RevisionInUse> {
    const taskDefinitionArn = currentTaskDefinitionArn(entry, await this.describeService(entry));
    const { taskDefinition, tags } = await this.describeTaskDefinition(taskDefinitionArn);
    const previous = versionOf(requireContainer(entry, taskDefinitionArn, taskDefinition).image, tags);
    requireConfiguredFamily(entry, taskDefinitionArn, taskDefinition);
    const source: RevisionSource = { taskDefinition, tags };
    return {
      taskDefinitionArn,
      previous,
      roles: { taskRoleArn: taskDefinition.taskRoleArn, executionRoleArn: taskDefinition.executionRoleArn },
      source,
    };
  }

  /** Registers a copy of the revision in use with only the configured container's image replaced. */
  async registerRevision(entry: CatalogEntry, release: Release, inUse: ports.RevisionInUse): Promise<ports.NewRevision> {
    const { taskDefinition, tags } = inUse.source as RevisionSource;
    const input: RegisterTaskDefinitionCommandInput = {
      ...withoutReadOnlyFields(taskDefinition),
      family: taskDefinition.family,
      containerDefinitions: (taskDefinition.containerDefinitions ?? []).map((container) =>
        container.name === entry.container ? { ...container, image: release.imageUri } : container,
      ),
      tags: [
        ...tags.filter((tag) => !isManagedTag(tag)),
        { key: VERSION_TAG, value: release.tag },
        { key: DIGEST_TAG, value: release.digest },
      ],
    };
    const output = await callAws('RegisterTaskDefinition', () => this.ecs.send(new RegisterTaskDefinitionCommand(input)));
    const newTaskDefinitionArn = output.taskDefinition?.taskDefinitionArn;
    if (!newTaskDefinitionArn)
      throw new UnexpectedAwsAnswerError(`RegisterTaskDefinition for family ${input.family} returned no task definition ARN`);
    return { previousTaskDefinitionArn: inUse.taskDefinitionArn, previous: inUse.previous, newTaskDefinitionArn };
  }

  /**
   * Points the service at a task definition. ECS starts no deployment when the service already runs it (no
   * forceNewDeployment), so asking twice is harmless. A request ECS refused changed nothing: UpdateRefusedError. A
   * failure that may have taken effect (timeout, server fault) is checked against what the service runs: if it runs the
   * task definition, the update happened; otherwise the failure is thrown as it came (transient ones as
   * TransientAwsError, retried by the state machine).
   */
  async updateService(entry: CatalogEntry, taskDefinitionArn: string): Promise<void> {
    await this.update(entry, { taskDefinition: taskDefinitionArn }, () => this.runs(entry, taskDefinitionArn));
  }

  /**
   * Sets the service's desired count and, when given, its task definition (a gray release's canary, for a step), as
   * updateService does: refusals are UpdateRefusedError, a failure that may have taken effect is checked first.
   */
  async scaleService(entry: CatalogEntry, desiredCount: number, taskDefinitionArn?: string): Promise<void> {
    await this.update(entry, { desiredCount, ...(taskDefinitionArn ? { taskDefinition: taskDefinitionArn } : {}) }, async () => {
      const service = await this.describeService(entry);
      return (
        service.desiredCount === desiredCount && (!taskDefinitionArn || currentTaskDefinitionArn(entry, service) === taskDefinitionArn)
      );
    });
  }

  /** The service as a gray release's set-up check reads it; `status` null when ECS does not know it. */
  async serviceSetup(entry: CatalogEntry): Promise<ports.ServiceSetup> {
    const output = await callAws('DescribeServices', () =>
      this.ecs.send(new DescribeServicesCommand({ cluster: entry.cluster, services: [entry.service] })),
    );
    const service = output.services?.[0];
    if (!service) return { status: null, taskDefinitionArn: null, deploymentController: null, desiredCount: 0, targetGroupArns: [] };
    const primary = service.deployments?.find((deployment) => deployment.status === 'PRIMARY');
    return {
      status: service.status ?? null,
      taskDefinitionArn: primary?.taskDefinition ?? service.taskDefinition ?? null,
      deploymentController: service.deploymentController?.type ?? 'ECS',
      desiredCount: service.desiredCount ?? 0,
      targetGroupArns: (service.loadBalancers ?? []).flatMap((lb) => (lb.targetGroupArn ? [lb.targetGroupArn] : [])),
    };
  }

  private async update(
    entry: CatalogEntry,
    change: { taskDefinition?: string; desiredCount?: number },
    tookEffect: () => Promise<boolean>,
  ): Promise<void> {
    const wanted = [change.taskDefinition, change.desiredCount === undefined ? undefined : `${change.desiredCount} task(s)`]
      .filter((part) => part !== undefined)
      .join(' on ');
    try {
      await this.ecs.send(new UpdateServiceCommand({ cluster: entry.cluster, service: entry.service, ...change }));
    } catch (error) {
      const name = (error as Error)?.name;
      if (ECS_SERVICE_MISSING_ERRORS.has(name)) {
        throw new ServiceNotFoundError(`${serviceLabel(entry)} cannot be updated: ${(error as Error).message}`, { cause: error });
      }
      if (UPDATE_REFUSALS.has(name)) {
        throw new UpdateRefusedError(
          `ECS refused to update ${serviceLabel(entry)} to ${wanted} (${name}: ${(error as Error).message}); the service did not change.`,
          { cause: error },
        );
      }
      if (await tookEffect().catch(() => false)) return;
      classifyAwsError(error, 'UpdateService');
    }
  }

  /** The task definition of the service's PRIMARY deployment (what it runs, or is moving to). */
  async primaryRevision(entry: CatalogEntry): Promise<string> {
    return currentTaskDefinitionArn(entry, await this.describeService(entry));
  }

  /** Whether the service's PRIMARY deployment is of this task definition (the service runs it, or is moving to it). */
  async runs(entry: CatalogEntry, taskDefinitionArn: string): Promise<boolean> {
    return (await this.primaryRevision(entry)) === taskDefinitionArn;
  }

  /** Whether any deployment of the service (PRIMARY or still ACTIVE) is of this task definition. */
  async hasDeploymentOf(entry: CatalogEntry, taskDefinitionArn: string): Promise<boolean> {
    const service = await this.describeService(entry);
    return (service.deployments ?? []).some((deployment) => deployment.taskDefinition === taskDefinitionArn);
  }

  async observeDeployment(entry: CatalogEntry, targetTaskDefinitionArn: string): Promise<ports.DeploymentObservation> {
    const service = await this.describeService(entry);
    const deployments = service.deployments ?? [];
    const primary = deployments.find((deployment) => deployment.status === 'PRIMARY');
    return {
      targetTaskDefinitionArn,
      primary: primary
        ? {
            taskDefinitionArn: primary.taskDefinition ?? '',
            rolloutState: primary.rolloutState ?? null,
            rolloutStateReason: primary.rolloutStateReason ?? null,
            runningCount: primary.runningCount ?? 0,
            desiredCount: primary.desiredCount ?? 0,
            failedTasks: primary.failedTasks ?? 0,
          }
        : null,
      deploymentCount: deployments.length,
      serviceDeployment: service.currentServiceDeployment ? await this.serviceDeployment(service.currentServiceDeployment) : null,
    };
  }

  /** The service, which must exist and be ACTIVE. */
  private async describeService(entry: CatalogEntry): Promise<Service> {
    const output = await callAws('DescribeServices', () =>
      this.ecs.send(new DescribeServicesCommand({ cluster: entry.cluster, services: [entry.service] })),
    );
    const service = output.services?.[0];
    if (!service) {
      const failure = output.failures?.[0];
      const why = failure ? `${failure.reason ?? 'unknown reason'}${failure.detail ? `: ${failure.detail}` : ''}` : 'not returned';
      throw new ServiceNotFoundError(`${serviceLabel(entry)} was not found (${why}).`);
    }
    if (service.status !== 'ACTIVE') {
      throw new ServiceNotFoundError(`${serviceLabel(entry)} is ${service.status ?? 'of unknown status'}, not ACTIVE.`);
    }
    return service;
  }

  private async describeTaskDefinition(taskDefinitionArn: string): Promise<{ taskDefinition: TaskDefinition; tags: Tag[] }> {
    const output = await callAws('DescribeTaskDefinition', () =>
      this.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: taskDefinitionArn, include: ['TAGS'] })),
    );
    if (!output.taskDefinition) throw new UnexpectedAwsAnswerError(`DescribeTaskDefinition returned nothing for ${taskDefinitionArn}`);
    return { taskDefinition: output.taskDefinition, tags: output.tags ?? [] };
  }

  private async serviceDeployment(serviceDeploymentArn: string): Promise<ServiceDeploymentObservation | null> {
    const output = await callAws('DescribeServiceDeployments', () =>
      this.ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [serviceDeploymentArn] })),
    );
    const found = output.serviceDeployments?.[0];
    if (!found?.status) return null;
    return { status: found.status, rollbackReason: found.rollback?.reason ?? null, statusReason: found.statusReason ?? null };
  }
}

/** The revision the service is deploying (PRIMARY), falling back to the service's own task definition. */
function currentTaskDefinitionArn(entry: CatalogEntry, service: Service): string {
  const primary = service.deployments?.find((deployment) => deployment.status === 'PRIMARY');
  const arn = primary?.taskDefinition ?? service.taskDefinition;
  if (!arn) throw new ServiceNotFoundError(`${serviceLabel(entry)} has no task definition to release from.`);
  return arn;
}

function requireContainer(entry: CatalogEntry, taskDefinitionArn: string, taskDefinition: TaskDefinition) {
  const containers = taskDefinition.containerDefinitions ?? [];
  const container = containers.find((candidate) => candidate.name === entry.container);
  if (!container) {
    const existing = containers.map((candidate) => `"${candidate.name}"`).join(', ') || 'none';
    throw new ContainerNotFoundError(
      `Task definition ${taskDefinitionArn} of ${serviceLabel(entry)} has no container "${entry.container}"; its containers are: ${existing}.`,
    );
  }
  return container;
}

function requireConfiguredFamily(entry: CatalogEntry, taskDefinitionArn: string, taskDefinition: TaskDefinition): void {
  if (taskDefinition.family === entry.taskDefinitionFamily) return;
  throw new FamilyNotConfiguredError(
    `Task definition ${taskDefinitionArn} of ${serviceLabel(entry)} is of family ${taskDefinition.family ?? '(none)'}, but services[].taskDefinitionFamily ` +
      `for service "${entry.name}" is ${entry.taskDefinitionFamily}: the pipeline may register revisions of the configured family only; set ` +
      `taskDefinitionFamily to ${taskDefinition.family ?? "the service's family"}.`,
  );
}

/** The version and digest a revision runs: the pipeline's tags on it, else what its image reference says. */
function versionOf(image: string | undefined, tags: Tag[]): { version: string | null; digest: string | null } {
  const versionTag = tags.find((tag) => tag.key === VERSION_TAG)?.value;
  const digestTag = tags.find((tag) => tag.key === DIGEST_TAG)?.value;
  return { version: versionTag || imageTag(image), digest: digestTag || imageDigest(image) };
}

/** The tag of `repository:tag`; null for `repository@sha256:…` (or no tag), which says nothing about the version. */
function imageTag(image: string | undefined): string | null {
  if (!image || image.includes('@')) return null;
  const lastPart = image.slice(image.lastIndexOf('/') + 1); // a registry host may carry a port: host:5000/repo
  const colon = lastPart.lastIndexOf(':');
  return colon === -1 ? null : lastPart.slice(colon + 1) || null;
}

/** The digest of `repository@sha256:…`; null for an image named by tag. */
function imageDigest(image: string | undefined): string | null {
  const at = image?.lastIndexOf('@') ?? -1;
  return image && at !== -1 ? image.slice(at + 1) : null;
}

/** Tags rewritten on every release, and `aws:` tags, which RegisterTaskDefinition refuses (CloudFormation adds them). */
function isManagedTag(tag: Tag): boolean {
  return tag.key === VERSION_TAG || tag.key === DIGEST_TAG || /^aws:/i.test(tag.key ?? '');
}

type ReadOnlyField =
  | 'taskDefinitionArn'
  | 'revision'
  | 'status'
  | 'requiresAttributes'
  | 'compatibilities'
  | 'registeredAt'
  | 'registeredBy'
  | 'deregisteredAt'
  | 'deleteRequestedAt';

/** The task definition without the fields ECS sets itself (RegisterTaskDefinition does not accept them). */
function withoutReadOnlyFields(taskDefinition: TaskDefinition): Omit<TaskDefinition, ReadOnlyField> {
  const {
    taskDefinitionArn,
    revision,
    status,
    requiresAttributes,
    compatibilities,
    registeredAt,
    registeredBy,
    deregisteredAt,
    deleteRequestedAt,
    ...registrable
  } = taskDefinition;
  return registrable;
}
