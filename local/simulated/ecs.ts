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
 */
import type { ContainerDefinition, Tag } from '@aws-sdk/client-ecs';
import { SimulatedAwsError } from './aws-error';
import type { Clock } from './clock';

/** How ECS treats a deployment of an image, decided by the scenario. */
export interface RolloutBehaviour {
  /** `completes`: tasks start and stay up; `fails`: the circuit breaker fails the deployment; `stalls`: never finishes. */
  result: 'completes' | 'fails' | 'stalls';
  /** Simulated seconds from UpdateService until the deployment settles. */
  settlesAfterSeconds: number;
  /** A CloudWatch alarm that goes to ALARM once this image serves traffic (e.g. latency or error rate). */
  tripsAlarm?: string;
  /** Seconds after the deployment completed that `tripsAlarm` goes to ALARM (default 0: as soon as it serves). */
  tripsAlarmAfterSeconds?: number;
}

export type DeploymentController = 'ECS' | 'CODE_DEPLOY' | 'EXTERNAL';

export interface SimulatedServiceSpec {
  cluster: string;
  service: string;
  container: string;
  /** The task definition family. Default `<service>-task`. */
  family?: string;
  desiredCount: number;
  repositoryName: string;
  /** Alarms that exist in the account for this service (initially OK). */
  alarms: string[];
  /** Default ECS (rolling update). */
  deploymentController?: DeploymentController;
  /** The circuit breaker is on; `rollback` says whether ECS rolls a failed deployment back itself. Default false. */
  circuitBreakerRollback?: boolean;
  /** ECS's deployment alarms (deploymentConfiguration.alarms), with the bake time ECS watches them after scale-in. */
  deploymentAlarms?: { alarmNames: string[]; rollback: boolean; bakeSeconds: number };
}

/** A ServiceDeploymentStatus, exactly the values ECS defines (client-ecs ServiceDeploymentStatus). */
export type ServiceDeploymentStatus =
  | 'PENDING'
  | 'IN_PROGRESS'
  | 'STOP_REQUESTED'
  | 'ROLLBACK_REQUESTED'
  | 'ROLLBACK_IN_PROGRESS'
  | 'SUCCESSFUL'
  | 'STOPPED'
  | 'ROLLBACK_SUCCESSFUL'
  | 'ROLLBACK_FAILED';

/** One entry of DescribeServices' `deployments`. */
interface Deployment {
  id: string;
  status: 'PRIMARY' | 'ACTIVE';
  taskDefinition: string;
  serviceRevisionArn: string;
  createdAt: Date;
  updatedAt: Date;
  rolloutState: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  rolloutStateReason: string;
  runningCount: number;
  failedTasks: number;
  behaviour: RolloutBehaviour;
  /** Epoch ms at which the rollout (or the rollback onto it) settles; null: never (stalls). */
  settlesAt: number | null;
  /** With deployment alarms: epoch ms at which the bake ends and the deployment completes; null when not baking. */
  bakesUntil: number | null;
}

interface ServiceDeployment {
  serviceDeploymentArn: string;
  status: ServiceDeploymentStatus;
  statusReason?: string;
  createdAt: Date;
  startedAt: Date;
  finishedAt?: Date;
  stoppedAt?: Date;
  sourceServiceRevisionArns: string[];
  targetServiceRevisionArn: string;
  rollback?: { reason: string; startedAt: Date; serviceRevisionArn: string };
  /** The deployment alarms that failed it (ServiceDeploymentAlarms.triggeredAlarmNames). */
  triggeredAlarmNames?: string[];
}

interface ServiceState {
  spec: SimulatedServiceSpec;
  arn: string;
  status: 'ACTIVE' | 'DRAINING' | 'INACTIVE';
  desiredCount: number;
  controller: DeploymentController;
  circuitBreakerRollback: boolean;
  deployments: Deployment[];
  serviceDeployments: ServiceDeployment[];
  /** Null for a service whose last deployment predates service deployments (before 25 October 2024). */
  currentServiceDeployment: string | null;
  /** Alarms to trip at a time: the new version's bad behaviour once it serves. */
  alarmTrips: { alarm: string; at: number }[];
}

type TaskDefinition = {
  taskDefinitionArn: string;
  family: string;
  revision: number;
  containerDefinitions: ContainerDefinition[];
  status: 'ACTIVE' | 'INACTIVE';
  [key: string]: unknown;
};

export interface EcsDependencies {
  clock: Clock;
  account: string;
  region: string;
  /** How the image a deployment runs behaves (the scenario's say for each pushed digest). */
  behaviourOf: (image: string) => RolloutBehaviour;
  /** Sets an alarm's state (the new version tripping it; a deployment completing clears the service's alarms). */
  setAlarm: (name: string, value: 'OK' | 'ALARM') => void;
}

export class SimulatedEcs {
  private readonly taskDefinitions = new Map<string, TaskDefinition>();
  private readonly taskDefinitionTags = new Map<string, Tag[]>();
  private readonly services = new Map<string, ServiceState>();
  private sequence = 0;

  constructor(private readonly deps: EcsDependencies) {}

  // ---- set-up (what the account holds before the pipeline runs)

  /**
   * Creates a service running `image` (revision 1 of its family), settled and healthy; with `deploying`, a deployment
   * of another image is under way when the pipeline first looks (a service that starts mid-deployment).
   */
  createService(
    spec: SimulatedServiceSpec,
    runningImage: { uri: string; versionTag?: string; digestTag?: string },
    deploying?: { uri: string; behaviour: RolloutBehaviour },
  ): void {
    const family = spec.family ?? `${spec.service}-task`;
    const taskDefinitionArn = this.registerTaskDefinition(this.familyDefinition(spec, family, runningImage.uri), [
      ...(runningImage.versionTag ? [{ key: 'model-rollout:version', value: runningImage.versionTag }] : []),
      ...(runningImage.digestTag ? [{ key: 'model-rollout:digest', value: runningImage.digestTag }] : []),
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
    };
    this.services.set(`${spec.cluster}/${spec.service}`, state);
    const initial = this.startDeployment(state, taskDefinitionArn, { result: 'completes', settlesAfterSeconds: 0 });
    this.complete(state, initial, this.deps.clock().getTime());
    // The service was created long ago: its first deployment's bake, if any, is over.
    if (initial.bakesUntil !== null) this.finishBake(state, initial, this.deps.clock().getTime());
    if (deploying) {
      const arn = this.registerTaskDefinition(this.familyDefinition(spec, family, deploying.uri), []);
      this.startDeployment(state, arn, deploying.behaviour);
    }
  }

  /** Marks a task definition INACTIVE (DeregisterTaskDefinition). */
  deregisterTaskDefinition(taskDefinitionArn: string): void {
    const taskDefinition = this.taskDefinitions.get(taskDefinitionArn);
    if (!taskDefinition) throw new Error(`simulated ECS: no task definition ${taskDefinitionArn}`);
    taskDefinition.status = 'INACTIVE';
  }

  /** The image (by URI) the service's primary deployment runs, and that deployment's rollout state. */
  runningImage(cluster: string, service: string): { image: string; rolloutState: string; taskDefinitionArn: string } {
    const state = this.serviceState(cluster, service);
    this.settle(state);
    const primary = this.primaryOf(state);
    const container = this.taskDefinitions.get(primary.taskDefinition)!.containerDefinitions.find((c) => c.name === state.spec.container)!;
    return { image: container.image!, rolloutState: primary.rolloutState, taskDefinitionArn: primary.taskDefinition };
  }

  /** Lets simulated time act on every service: deployments settle, ECS rolls back, the new version trips alarms. */
  settleAll(): void {
    for (const state of this.services.values()) this.settle(state);
  }

  // ---- the API

  describeServices(input: { cluster: string; services: string[] }) {
    const services = [];
    const failures = [];
    for (const name of input.services) {
      const state = this.services.get(`${input.cluster}/${name}`);
      if (!state) {
        failures.push({ arn: `arn:aws:ecs:${this.deps.region}:${this.deps.account}:service/${input.cluster}/${name}`, reason: 'MISSING' });
        continue;
      }
      const primary = this.primaryOf(state);
      services.push({
        serviceArn: state.arn,
        serviceName: state.spec.service,
        clusterArn: `arn:aws:ecs:${this.deps.region}:${this.deps.account}:cluster/${input.cluster}`,
        status: state.status,
        desiredCount: state.desiredCount,
        runningCount: state.deployments.reduce((sum, d) => sum + d.runningCount, 0),
        taskDefinition: primary.taskDefinition,
        deploymentController: { type: state.controller },
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
      });
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
      if (!found) {
        failures.push({ arn, reason: 'MISSING' });
        continue;
      }
      const { state, sd } = found;
      serviceDeployments.push({
        serviceDeploymentArn: sd.serviceDeploymentArn,
        serviceArn: state.arn,
        clusterArn: `arn:aws:ecs:${this.deps.region}:${this.deps.account}:cluster/${state.spec.cluster}`,
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
      });
    }
    return { serviceDeployments, failures };
  }

  describeTaskDefinition(input: { taskDefinition: string; include?: string[] }) {
    const taskDefinition = this.taskDefinitions.get(input.taskDefinition);
    if (!taskDefinition) throw new SimulatedAwsError('ClientException', 'Unable to describe task definition.');
    return {
      taskDefinition: structuredClone(taskDefinition),
      tags: input.include?.includes('TAGS') ? structuredClone(this.taskDefinitionTags.get(input.taskDefinition) ?? []) : undefined,
    };
  }

  registerTaskDefinitionCommand(input: Record<string, unknown> & { tags?: Tag[] }) {
    const { tags, ...definition } = input;
    const arn = this.registerTaskDefinition(definition, tags ?? []);
    return { taskDefinition: structuredClone(this.taskDefinitions.get(arn)), tags };
  }

  updateService(input: { cluster?: string; service: string; taskDefinition?: string; forceNewDeployment?: boolean }) {
    const state = this.serviceState(input.cluster ?? 'default', input.service);
    if (state.status !== 'ACTIVE') throw new SimulatedAwsError('ServiceNotActiveException', 'Service was not ACTIVE.');
    if (input.taskDefinition !== undefined && state.controller !== 'ECS') {
      throw new SimulatedAwsError(
        'InvalidParameterException',
        state.controller === 'CODE_DEPLOY'
          ? 'Unable to update task definition on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment.'
          : 'Unable to update task definition on services with a EXTERNAL deployment controller. Use CreateTaskSet.',
      );
    }
    const primary = this.primaryOf(state);
    const taskDefinitionArn =
      input.taskDefinition === undefined ? primary.taskDefinition : this.resolveTaskDefinition(input.taskDefinition);
    // No property that requires a deployment changed, and no forced one: ECS starts nothing.
    if (taskDefinitionArn !== primary.taskDefinition || input.forceNewDeployment) {
      const image =
        this.taskDefinitions.get(taskDefinitionArn)!.containerDefinitions.find((c) => c.name === state.spec.container)?.image ?? '';
      this.startDeployment(state, taskDefinitionArn, this.deps.behaviourOf(image));
    }
    return { service: this.describeServices({ cluster: state.spec.cluster, services: [state.spec.service] }).services[0] };
  }

  // ---- internals

  private familyDefinition(spec: SimulatedServiceSpec, family: string, image: string): Record<string, unknown> {
    return {
      family,
      taskRoleArn: `arn:aws:iam::${this.deps.account}:role/${spec.service}-task`,
      executionRoleArn: `arn:aws:iam::${this.deps.account}:role/${spec.service}-execution`,
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '1024',
      memory: '4096',
      containerDefinitions: [
        { name: spec.container, image, essential: true, portMappings: [{ containerPort: 8080 }] },
        { name: 'log-router', image: 'public.ecr.aws/aws-observability/aws-for-fluent-bit:stable', essential: false },
      ],
    };
  }

  /** A task definition ARN, or `family:revision`, or `family` (its latest ACTIVE revision); must be ACTIVE to deploy. */
  private resolveTaskDefinition(reference: string): string {
    const byArn = this.taskDefinitions.get(reference);
    const found =
      byArn ??
      [...this.taskDefinitions.values()].find((t) => `${t.family}:${t.revision}` === reference) ??
      [...this.taskDefinitions.values()].filter((t) => t.family === reference && t.status === 'ACTIVE').pop();
    if (!found) throw new SimulatedAwsError('ClientException', 'Unable to describe task definition.');
    if (found.status !== 'ACTIVE') throw new SimulatedAwsError('ClientException', `TaskDefinition is inactive: ${found.taskDefinitionArn}`);
    return found.taskDefinitionArn;
  }

  private registerTaskDefinition(definition: Record<string, unknown>, tags: Tag[]): string {
    const family = String(definition.family);
    const revision = [...this.taskDefinitions.values()].filter((t) => t.family === family).length + 1;
    const taskDefinitionArn = `arn:aws:ecs:${this.deps.region}:${this.deps.account}:task-definition/${family}:${revision}`;
    this.taskDefinitions.set(taskDefinitionArn, {
      ...structuredClone(definition),
      family,
      revision,
      taskDefinitionArn,
      containerDefinitions: structuredClone(definition.containerDefinitions as ContainerDefinition[]),
      status: 'ACTIVE',
      requiresAttributes: [{ name: 'com.amazonaws.ecs.capability.task-iam-role' }],
      compatibilities: ['EC2', 'FARGATE'],
      registeredAt: this.deps.clock(),
      registeredBy: `arn:aws:iam::${this.deps.account}:role/simulated`,
    });
    this.taskDefinitionTags.set(taskDefinitionArn, structuredClone(tags));
    return taskDefinitionArn;
  }

  /** A new PRIMARY deployment and its service deployment (with a new service revision); the previous ones go ACTIVE. */
  private startDeployment(state: ServiceState, taskDefinition: string, behaviour: RolloutBehaviour): Deployment {
    const now = this.deps.clock();
    const number = String(++this.sequence).padStart(19, '0');
    const prefix = `arn:aws:ecs:${this.deps.region}:${this.deps.account}`;
    const deployment: Deployment = {
      id: `ecs-svc/${number}`,
      status: 'PRIMARY',
      taskDefinition,
      serviceRevisionArn: `${prefix}:service-revision/${state.spec.cluster}/${state.spec.service}/${number}`,
      createdAt: now,
      updatedAt: now,
      rolloutState: 'IN_PROGRESS',
      rolloutStateReason: `ECS deployment ecs-svc/${number} in progress.`,
      runningCount: 0,
      failedTasks: 0,
      behaviour,
      settlesAt: behaviour.result === 'stalls' ? null : now.getTime() + behaviour.settlesAfterSeconds * 1000,
      bakesUntil: null,
    };
    const sources = state.deployments.map((d) => d.serviceRevisionArn);
    for (const d of state.deployments) Object.assign(d, { status: 'ACTIVE', bakesUntil: null });
    // A service deployment still under way is replaced by the new one [unverified: the status ECS gives it].
    for (const sd of state.serviceDeployments) {
      if (sd.status === 'IN_PROGRESS' || sd.status === 'ROLLBACK_IN_PROGRESS' || sd.status === 'PENDING') {
        Object.assign(sd, { status: 'STOPPED', stoppedAt: now, statusReason: 'A newer service deployment started.' });
      }
    }
    state.deployments.push(deployment);
    const serviceDeploymentArn = `${prefix}:service-deployment/${state.spec.cluster}/${state.spec.service}/${number}`;
    state.serviceDeployments.push({
      serviceDeploymentArn,
      status: 'IN_PROGRESS',
      createdAt: now,
      startedAt: now,
      sourceServiceRevisionArns: sources,
      targetServiceRevisionArn: deployment.serviceRevisionArn,
    });
    state.currentServiceDeployment = serviceDeploymentArn;
    return deployment;
  }

  private primaryOf(state: ServiceState): Deployment {
    return state.deployments.find((d) => d.status === 'PRIMARY')!;
  }

  private currentOf(state: ServiceState): ServiceDeployment | undefined {
    return state.serviceDeployments.find((sd) => sd.serviceDeploymentArn === state.currentServiceDeployment);
  }

  /** Applies, in time order, every change simulated time has brought since the last look. */
  private settle(state: ServiceState): void {
    const now = this.deps.clock().getTime();
    for (;;) {
      const primary = this.primaryOf(state);
      const trip = state.alarmTrips.filter((t) => t.at <= now).sort((a, b) => a.at - b.at)[0];
      const baking = primary.bakesUntil !== null;
      const settles =
        !baking && primary.rolloutState === 'IN_PROGRESS' && primary.settlesAt !== null && primary.settlesAt <= now
          ? primary.settlesAt
          : null;
      const bakeEnds = baking && primary.bakesUntil! <= now ? primary.bakesUntil : null;
      const next = Math.min(settles ?? Infinity, bakeEnds ?? Infinity);
      if (trip && trip.at <= next) {
        state.alarmTrips = state.alarmTrips.filter((t) => t !== trip);
        this.deps.setAlarm(trip.alarm, 'ALARM');
        // ECS watches its deployment alarms while the deployment runs and through the bake (not during a rollback).
        const watching = this.currentOf(state)?.status === 'IN_PROGRESS' && primary.rolloutState === 'IN_PROGRESS';
        if (watching && state.spec.deploymentAlarms?.alarmNames.includes(trip.alarm)) this.failOnAlarm(state, primary, trip.at, trip.alarm);
        continue;
      }
      if (bakeEnds !== null) {
        this.finishBake(state, primary, bakeEnds);
        continue;
      }
      if (settles === null) return;
      if (primary.behaviour.result === 'fails') this.fail(state, primary, settles);
      else this.complete(state, primary, settles);
    }
  }

  /**
   * The deployment reached steady state: its tasks run, older ones are drained, the service deployment ends — or, with
   * deployment alarms on a rollout (not a rollback), the bake starts: the older deployments are kept, without tasks, to
   * return to, and the service deployment ends when the bake does.
   */
  private complete(state: ServiceState, deployment: Deployment, at: number): void {
    const current = this.currentOf(state);
    const bake = state.spec.deploymentAlarms && current?.status === 'IN_PROGRESS' ? state.spec.deploymentAlarms.bakeSeconds : 0;
    Object.assign(deployment, { runningCount: state.desiredCount, updatedAt: new Date(at) });
    if (bake > 0) {
      for (const older of state.deployments) if (older !== deployment) older.runningCount = 0;
      Object.assign(deployment, {
        bakesUntil: at + bake * 1000,
        rolloutStateReason: 'ECS deployment is in its bake time: deployment alarms are monitored.',
      });
    } else {
      this.finishBake(state, deployment, at);
    }
    // The version now serving decides the alarms: healthy ones clear, a bad one trips its alarm once it serves.
    for (const alarm of state.spec.alarms) this.deps.setAlarm(alarm, 'OK');
    state.alarmTrips = [];
    if (deployment.behaviour.tripsAlarm) {
      state.alarmTrips.push({ alarm: deployment.behaviour.tripsAlarm, at: at + (deployment.behaviour.tripsAlarmAfterSeconds ?? 0) * 1000 });
    }
  }

  /** The deployment is done: COMPLETED, the older ones gone, its service deployment SUCCESSFUL (or ROLLBACK_SUCCESSFUL). */
  private finishBake(state: ServiceState, deployment: Deployment, at: number): void {
    const current = this.currentOf(state);
    Object.assign(deployment, {
      rolloutState: 'COMPLETED',
      rolloutStateReason: 'ECS deployment completed.',
      bakesUntil: null,
      updatedAt: new Date(at),
    });
    state.deployments = [deployment];
    if (current && (current.status === 'IN_PROGRESS' || current.status === 'ROLLBACK_IN_PROGRESS')) {
      current.status = current.status === 'IN_PROGRESS' ? 'SUCCESSFUL' : 'ROLLBACK_SUCCESSFUL';
      current.finishedAt = new Date(at);
    }
  }

  /** A deployment alarm went to ALARM during the bake: ECS fails the deployment, and rolls it back when configured to. */
  private failOnAlarm(state: ServiceState, deployment: Deployment, at: number, alarm: string): void {
    const current = this.currentOf(state);
    if (current) current.triggeredAlarmNames = [alarm];
    deployment.bakesUntil = null;
    this.fail(state, deployment, at, {
      why: `ECS deployment alarms: ${alarm} is in ALARM.`,
      failedTasks: 0,
      // Its tasks started and serve: they keep running unless a rollback replaces them.
      keepsTasks: true,
      rollback: state.spec.deploymentAlarms!.rollback,
      // [unverified: ECS's exact wording]
      rollbackReason: `Service deployment rolled back because the deployment alarm ${alarm} went into ALARM.`,
    });
  }

  /**
   * The circuit breaker tripped: the deployment is FAILED and launches nothing more. With rollback on, ECS rolls back to
   * the most recent COMPLETED deployment inside the same service deployment; otherwise the service deployment STOPS.
   */
  private fail(
    state: ServiceState,
    deployment: Deployment,
    at: number,
    cause: { why: string; failedTasks: number; keepsTasks?: boolean; rollback: boolean; rollbackReason: string } = {
      why: 'ECS deployment circuit breaker: tasks failed to start.',
      failedTasks: Math.max(3, Math.ceil(state.desiredCount / 2)),
      rollback: state.circuitBreakerRollback,
      rollbackReason: 'Service deployment rolled back because the circuit breaker threshold was exceeded.',
    },
  ): void {
    const current = this.currentOf(state);
    const wasRollback = current?.status === 'ROLLBACK_IN_PROGRESS';
    Object.assign(deployment, {
      rolloutState: 'FAILED',
      rolloutStateReason: cause.why,
      runningCount: cause.keepsTasks ? deployment.runningCount : 0,
      failedTasks: cause.failedTasks,
      updatedAt: new Date(at),
    });
    if (wasRollback) {
      Object.assign(current!, {
        status: 'ROLLBACK_FAILED',
        finishedAt: new Date(at),
        statusReason: 'The rollback deployment failed: tasks failed to start.',
      });
      return;
    }
    const target = cause.rollback ? state.deployments.filter((d) => d !== deployment && d.rolloutState === 'COMPLETED').pop() : undefined;
    if (!target) {
      if (current?.status === 'IN_PROGRESS') {
        Object.assign(current, { status: 'STOPPED', stoppedAt: new Date(at), statusReason: cause.why });
      }
      return;
    }
    const image =
      this.taskDefinitions.get(target.taskDefinition)!.containerDefinitions.find((c) => c.name === state.spec.container)?.image ?? '';
    const behaviour = this.deps.behaviourOf(image);
    deployment.status = 'ACTIVE';
    Object.assign(target, {
      status: 'PRIMARY',
      rolloutState: 'IN_PROGRESS',
      rolloutStateReason: `${cause.why} Rolling back to deployment ${target.id}.`,
      behaviour,
      settlesAt: behaviour.result === 'stalls' ? null : at + behaviour.settlesAfterSeconds * 1000,
      updatedAt: new Date(at),
    });
    if (current) {
      Object.assign(current, {
        status: 'ROLLBACK_IN_PROGRESS',
        rollback: {
          reason: cause.rollbackReason,
          startedAt: new Date(at),
          serviceRevisionArn: target.serviceRevisionArn,
        },
      });
    }
  }

  private serviceState(cluster: string, service: string): ServiceState {
    const state = this.services.get(`${cluster}/${service}`);
    if (!state) throw new SimulatedAwsError('ServiceNotFoundException', 'Service not found.');
    return state;
  }
}
