/**
 * ECS services, their deployments, service deployments and task definitions, as the ECS developer guide and API
 * reference describe them. What the pipeline depends on, and where AWS says so:
 *
 * - A new deployment (and service deployment) starts only when a service is created, updated with
 *   `forceNewDeployment`, or updated in a property that requires a deployment: an UpdateService naming the task
 *   definition the service already runs changes nothing
 *   (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-deployment.html, "Service deployment lifecycle").
 * - Service deployment statuses are PENDING, IN_PROGRESS, STOP_REQUESTED, ROLLBACK_REQUESTED, ROLLBACK_IN_PROGRESS
 *   (ongoing) and SUCCESSFUL, STOPPED, ROLLBACK_SUCCESSFUL, ROLLBACK_FAILED (completed) (same page); a deployment stops
 *   when "the rollback option is not in use for the failure detection mechanism and the service fails"
 *   (API_ServiceDeployment, stoppedAt).
 * - The circuit breaker's rollback is a phase of the same service deployment, and creates no new service revision
 *   (developerguide/service-revision.html: "Amazon ECS doesn't create a new service revision for a rollback
 *   operation"); it "looks for the most recent deployment that is in a COMPLETED state … When the rollback starts, the
 *   deployment changes from a COMPLETED to IN_PROGRESS"; with none COMPLETED, it launches nothing and the deployment
 *   is stalled (developerguide/deployment-circuit-breaker.html).
 * - `rolloutState` is "only returned for services that use the rolling update (ECS) deployment type that aren't behind
 *   a Classic Load Balancer"; a FAILED deployment launches no new tasks (API_Deployment).
 * - Deployment alarms (API_DeploymentAlarms; developerguide/deployment-alarm-failure.html): "When the alarms are
 *   generated, Amazon ECS sets the service deployment to failed", and with `rollback` rolls back to the last completed
 *   deployment; ECS watches them while the deployment runs and for a bake time after the new version has scaled out
 *   and the old one scaled in ("Amazon ECS computes this time period based on the alarm configuration": here the
 *   scenario gives it). During the bake the service deployment stays IN_PROGRESS and the old deployment is kept to
 *   return to [unverified: what rolloutState DescribeServices shows during the bake; IN_PROGRESS here].
 * - CODE_DEPLOY and EXTERNAL services cannot have their task definition changed by UpdateService (API_UpdateService).
 * - An INACTIVE task definition can still be described, but no service may be updated to it
 *   (developerguide/deregister-task-definition-v2.html).
 * - UpdateService's `desiredCount` adds to or removes tasks from the service (API_UpdateService); it is not among the
 *   changes that start a service deployment (service-deployment.html, "Service deployment lifecycle": creating the
 *   service, forcing a new deployment, "service properties that require a deployment"), so the running deployment is
 *   scaled [unverified: that no page lists desiredCount as such a property means it is not one].
 * - What the tasks served over time is recorded for the simulated ALB (ecs-served.ts); the tasks themselves, their
 *   private IPs and their targets in the service's target groups are kept as ecs-tasks.ts says.
 */
import type { Tag } from '@aws-sdk/client-ecs';
import { SimulatedAwsError } from './aws-error';
import { DeploymentLifecycle, primaryOf } from './ecs-deployments';
import { describedService, describedServiceDeployment } from './ecs-describe';
import { servedAt } from './ecs-served';
import { registerRunningTasks } from './ecs-tasks';
import type { EcsDependencies, RolloutBehaviour, ServiceState, SimulatedServiceSpec } from './ecs-model';

/** The image a new service runs, as its first task definition names it, and the pipeline's tags on that revision. */
export interface RunningImage {
  uri: string;
  versionTag?: string;
  digestTag?: string;
}
import { TaskDefinitions } from './ecs-task-definitions';

export type {
  DeploymentController,
  EcsDependencies,
  RolloutBehaviour,
  ServiceDeploymentStatus,
  SimulatedServiceSpec,
} from './ecs-model';

export class SimulatedEcs {
  private readonly taskDefinitions: TaskDefinitions;
  private readonly deployments: DeploymentLifecycle;
  private readonly services = new Map<string, ServiceState>();

  constructor(private readonly deps: EcsDependencies) {
    this.taskDefinitions = new TaskDefinitions(deps);
    this.deployments = new DeploymentLifecycle(deps, this.taskDefinitions);
  }

  // ---- set-up (what the account holds before the pipeline runs)

  /**
   * Creates a service running `image` (the next revision of its family), or a task definition registered before (a
   * second service of the same revision), settled and healthy; with `deploying`, a deployment of another image is
   * under way when the pipeline first looks (a service that starts mid-deployment).
   */
  createService(
    spec: SimulatedServiceSpec,
    running: RunningImage | { taskDefinitionArn: string },
    deploying?: { uri: string; behaviour: RolloutBehaviour },
  ): void {
    const family = spec.family ?? `${spec.service}-task`;
    const taskDefinitionArn =
      'taskDefinitionArn' in running
        ? this.taskDefinitions.resolve(running.taskDefinitionArn)
        : this.taskDefinitions.register(this.taskDefinitions.familyDefinition(spec, family, running.uri), [
            ...(running.versionTag ? [{ key: 'model-rollout:version', value: running.versionTag }] : []),
            ...(running.digestTag ? [{ key: 'model-rollout:digest', value: running.digestTag }] : []),
          ]);
    const state: ServiceState = {
      spec,
      arn: `arn:aws:ecs:${this.deps.region}:${this.deps.account}:service/${spec.cluster}/${spec.service}`,
      status: 'ACTIVE',
      desiredCount: spec.desiredCount,
      controller: spec.deploymentController ?? 'ECS',
      circuitBreakerRollback: spec.circuitBreakerRollback ?? false,
      deployments: [],
      serviceDeployments: [],
      currentServiceDeployment: null,
      alarmTrips: [],
      served: [],
      serviceNumber: this.services.size + 1,
      tasks: [],
      tasksStarted: 0,
    };
    this.services.set(`${spec.cluster}/${spec.service}`, state);
    const initial = this.deployments.start(state, taskDefinitionArn, { result: 'completes', settlesAfterSeconds: 0 });
    this.deployments.complete(state, initial, this.deps.clock().getTime());
    // The service was created long ago: its first deployment's bake, if any, is over.
    if (initial.bakesUntil !== null) this.deployments.finishBake(state, initial, this.deps.clock().getTime());
    // Its tasks have long passed their health checks.
    for (const lb of spec.loadBalancers ?? []) registerRunningTasks(state, lb, this.deps.clock().getTime(), this.deps.loadBalancing);
    if (deploying) {
      const arn = this.taskDefinitions.register(this.taskDefinitions.familyDefinition(spec, family, deploying.uri), []);
      this.deployments.start(state, arn, deploying.behaviour);
    }
  }

  /** Marks a task definition INACTIVE (DeregisterTaskDefinition). */
  deregisterTaskDefinition(taskDefinitionArn: string): void {
    this.taskDefinitions.deregister(taskDefinitionArn);
  }

  /** The image (by URI) the service's primary deployment runs, and that deployment's rollout state. */
  runningImage(cluster: string, service: string): { image: string; rolloutState: string; taskDefinitionArn: string } {
    const state = this.serviceState(cluster, service);
    this.deployments.settle(state);
    const primary = primaryOf(state);
    const image = this.taskDefinitions.imageOf(primary.taskDefinition, state.spec.container);
    return { image, rolloutState: primary.rolloutState, taskDefinitionArn: primary.taskDefinition };
  }

  /**
   * What the service's tasks served at `at` (ecs-served.ts): the image of most running tasks (as its task definition
   * names it) and how many ran; `image` null when none ran, undefined before the service existed.
   */
  servedAt(cluster: string, service: string, at: Date): { image: string | null; tasks: number } | undefined {
    const state = this.serviceState(cluster, service);
    this.deployments.settle(state);
    const served = servedAt(state, at.getTime());
    return served && { image: served.image, tasks: served.tasks };
  }

  /** Lets simulated time act on every service: deployments settle, ECS rolls back, the new version trips alarms. */
  settleAll(): void {
    for (const state of this.services.values()) this.deployments.settle(state);
  }

  /** The earliest moment (ms) at which time alone changes a service, after settling every service; null when none will. */
  nextChangeAt(): number | null {
    this.settleAll();
    const times = [...this.services.values()].flatMap((state) => this.deployments.pendingChanges(state));
    return times.length === 0 ? null : Math.min(...times);
  }

  // ---- the API

  describeServices(input: { cluster: string; services: string[] }) {
    const services = [];
    const failures = [];
    for (const name of input.services) {
      const state = this.services.get(`${input.cluster}/${name}`);
      if (state) services.push(describedService(state, this.deps, input.cluster));
      else
        failures.push({ arn: `arn:aws:ecs:${this.deps.region}:${this.deps.account}:service/${input.cluster}/${name}`, reason: 'MISSING' });
    }
    return { services, failures };
  }

  describeServiceDeployments(input: { serviceDeploymentArns: string[] }) {
    const serviceDeployments = [];
    const failures = [];
    for (const arn of input.serviceDeploymentArns) {
      const found = [...this.services.values()]
        .flatMap((state) => state.serviceDeployments.map((sd) => ({ state, sd })))
        .find(({ sd }) => sd.serviceDeploymentArn === arn);
      if (found) serviceDeployments.push(describedServiceDeployment(found.state, found.sd, this.deps));
      else failures.push({ arn, reason: 'MISSING' });
    }
    return { serviceDeployments, failures };
  }

  describeTaskDefinition(input: { taskDefinition: string; include?: string[] }) {
    return this.taskDefinitions.describe(input);
  }

  registerTaskDefinitionCommand(input: Record<string, unknown> & { tags?: Tag[] }) {
    const { tags, ...definition } = input;
    const arn = this.taskDefinitions.register(definition, tags ?? []);
    return { taskDefinition: this.taskDefinitions.copyOf(arn), tags };
  }

  /**
   * Registers the service's tasks with a target group from now on (a set-up change, as `cdk deploy` would make it), its
   * running tasks at once and healthy (in AWS, ECS starts a new deployment whose tasks register (API_LoadBalancer); the
   * set-up stands for the state reached long after).
   */
  attachTargetGroup(
    cluster: string,
    service: string,
    loadBalancer: { targetGroupArn: string; containerName: string; containerPort: number },
  ) {
    const state = this.serviceState(cluster, service);
    this.deployments.settle(state);
    state.spec = { ...state.spec, loadBalancers: [...(state.spec.loadBalancers ?? []), loadBalancer] };
    registerRunningTasks(state, loadBalancer, this.deps.clock().getTime(), this.deps.loadBalancing);
  }

  /**
   * The running task with this private IP (not an API: what a request to that address meets), with its service, the
   * image its container runs and the container's ports; undefined when no task has it.
   */
  taskAt(ip: string): { cluster: string; service: string; image: string; containerPorts: number[] } | undefined {
    this.settleAll();
    for (const state of this.services.values()) {
      const task = state.tasks.find((t) => t.ip === ip);
      if (!task) continue;
      const { image, containerPorts } = this.taskDefinitions.containerOf(task.taskDefinition, state.spec.container);
      return { cluster: state.spec.cluster, service: state.spec.service, image, containerPorts };
    }
    return undefined;
  }

  /** The private IPs of the service's running tasks, oldest first. */
  taskIps(cluster: string, service: string): string[] {
    const state = this.serviceState(cluster, service);
    this.deployments.settle(state);
    return state.tasks.map((t) => t.ip);
  }

  updateService(input: {
    cluster?: string;
    service: string;
    taskDefinition?: string;
    desiredCount?: number;
    forceNewDeployment?: boolean;
  }) {
    const state = this.serviceState(input.cluster ?? 'default', input.service);
    this.deployments.settle(state);
    if (state.status !== 'ACTIVE') throw new SimulatedAwsError('ServiceNotActiveException', 'Service was not ACTIVE.');
    const { desiredCount } = input;
    if (desiredCount !== undefined && !(Number.isInteger(desiredCount) && desiredCount >= 0)) {
      // [unverified: ECS's wording]
      throw new SimulatedAwsError('InvalidParameterException', `desiredCount ${desiredCount} is not a whole number of 0 or more.`);
    }
    if (input.taskDefinition !== undefined && state.controller !== 'ECS') {
      throw new SimulatedAwsError(
        'InvalidParameterException',
        state.controller === 'CODE_DEPLOY'
          ? 'Unable to update task definition on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment.'
          : 'Unable to update task definition on services with a EXTERNAL deployment controller. Use CreateTaskSet.',
      );
    }
    const primary = primaryOf(state);
    const taskDefinitionArn =
      input.taskDefinition === undefined ? primary.taskDefinition : this.taskDefinitions.resolve(input.taskDefinition);
    if (desiredCount !== undefined) state.desiredCount = desiredCount;
    // No property that requires a deployment changed, and no forced one: ECS starts nothing (a new desired count
    // scales the running deployment).
    if (taskDefinitionArn !== primary.taskDefinition || input.forceNewDeployment) {
      const image = this.taskDefinitions.imageOf(taskDefinitionArn, state.spec.container);
      this.deployments.start(state, taskDefinitionArn, this.deps.behaviourOf(image));
    } else if (desiredCount !== undefined) {
      this.deployments.scale(state);
    }
    return { service: this.describeServices({ cluster: state.spec.cluster, services: [state.spec.service] }).services[0] };
  }

  private serviceState(cluster: string, service: string): ServiceState {
    const state = this.services.get(`${cluster}/${service}`);
    if (!state) throw new SimulatedAwsError('ServiceNotFoundException', 'Service not found.');
    return state;
  }
}
