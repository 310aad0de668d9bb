/**
 * How a service's deployments go, in simulated time: a new deployment and its service deployment, settling, the
 * bake under deployment alarms, the circuit breaker, and ECS's own rollback (see the AWS references in ecs.ts).
 */
import type { Deployment, EcsDependencies, RolloutBehaviour, ServiceDeployment, ServiceState } from './ecs-model';
import { recordServed } from './ecs-served';

/**
 * ECS's "ECS Deployment State Change" events
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_deployment_events.html):
 * SERVICE_DEPLOYMENT_IN_PROGRESS when a deployment (or ECS's rollback of one) starts, SERVICE_DEPLOYMENT_COMPLETED once
 * the service reaches steady state, SERVICE_DEPLOYMENT_FAILED (an ERROR) when the circuit breaker or a deployment alarm
 * fails it; `resources` is the service's ARN and `deploymentId` the deployment's `ecs-svc/…` id, not its service
 * deployment's ARN.
 */
/** How long after a deployment completes the service's other alarms, already in ALARM, clear (a simulation choice). */
const ALARM_CLEAR_SECONDS = 120;
/** How long the tasks a scale-out starts take to run (a simulation choice: pulling the image, the model loading). */
const SCALE_OUT_SECONDS = 60;

type DeploymentEventName = 'SERVICE_DEPLOYMENT_IN_PROGRESS' | 'SERVICE_DEPLOYMENT_COMPLETED' | 'SERVICE_DEPLOYMENT_FAILED';
let eventCounter = 0;

/** An ECS event about `state`'s service, as EventBridge delivers it (`resources`: the service's ARN). */
function emitServiceEvent(deps: EcsDependencies, state: ServiceState, detailType: string, at: number, detail: Record<string, unknown>) {
  const time = new Date(at);
  deps.emit({
    version: '0',
    id: `local-ecs-event-${++eventCounter}`,
    'detail-type': detailType,
    source: 'aws.ecs',
    account: deps.account,
    time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: deps.region,
    resources: [`arn:aws:ecs:${deps.region}:${deps.account}:service/${state.spec.cluster}/${state.spec.service}`],
    detail,
  });
}

function deploymentEvent(
  deps: EcsDependencies,
  state: ServiceState,
  eventName: DeploymentEventName,
  deployment: Deployment,
  at: number,
  reason: string,
) {
  emitServiceEvent(deps, state, 'ECS Deployment State Change', at, {
    eventType: eventName === 'SERVICE_DEPLOYMENT_FAILED' ? 'ERROR' : 'INFO',
    eventName,
    deploymentId: deployment.id,
    updatedAt: new Date(at).toISOString(),
    reason,
  });
}

/**
 * ECS's "ECS Service Action" SERVICE_STEADY_STATE (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_events.html):
 * "The service is healthy and at the desired number of tasks, thus reaching a steady state". ECS reports it
 * periodically; the simulation sends it once, when a scale-out's tasks run (the change it tells about).
 */
function steadyStateEvent(deps: EcsDependencies, state: ServiceState, at: number) {
  emitServiceEvent(deps, state, 'ECS Service Action', at, {
    eventType: 'INFO',
    eventName: 'SERVICE_STEADY_STATE',
    clusterArn: `arn:aws:ecs:${deps.region}:${deps.account}:cluster/${state.spec.cluster}`,
    createdAt: new Date(at).toISOString(),
  });
}
import type { TaskDefinitions } from './ecs-task-definitions';
import { reconcileTasks } from './ecs-tasks';

export class DeploymentLifecycle {
  private sequence = 0;

  constructor(
    private readonly deps: EcsDependencies,
    private readonly taskDefinitions: TaskDefinitions,
  ) {}

  /** A new PRIMARY deployment and its service deployment (with a new service revision); the previous ones go ACTIVE. */
  start(state: ServiceState, taskDefinition: string, behaviour: RolloutBehaviour): Deployment {
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
    deploymentEvent(this.deps, state, 'SERVICE_DEPLOYMENT_IN_PROGRESS', deployment, now.getTime(), deployment.rolloutStateReason!);
    this.served(state, now.getTime());
    return deployment;
  }

  /**
   * A change of the desired count alone, which starts no deployment (UpdateService: a new deployment comes with a
   * changed task definition or forceNewDeployment): a settled deployment stops tasks at once on a scale-in, and runs the
   * tasks of a scale-out after SCALE_OUT_SECONDS (a simulation choice: the image pulled, the model loaded, the target
   * group's health checks passed); one still rolling out comes up with the new count when it completes.
   */
  scale(state: ServiceState): void {
    const primary = primaryOf(state);
    if (primary.rolloutState !== 'COMPLETED' && primary.bakesUntil === null) return;
    const now = this.deps.clock().getTime();
    if (state.desiredCount <= primary.runningCount) {
      Object.assign(primary, { runningCount: state.desiredCount, scalesOutAt: null, updatedAt: new Date(now) });
      this.served(state, now);
    } else {
      primary.scalesOutAt = now + SCALE_OUT_SECONDS * 1000;
    }
  }

  /** When time alone will change the service next: its deployment settling, its bake ending, a scale-out, an alarm tripping (ms). */
  pendingChanges(state: ServiceState): number[] {
    const primary = primaryOf(state);
    const settling = primary.rolloutState === 'IN_PROGRESS' && primary.bakesUntil === null ? primary.settlesAt : null;
    return [settling, primary.bakesUntil, primary.scalesOutAt ?? null, ...state.alarmTrips.map((t) => t.at)].filter(
      (t): t is number => t !== null,
    );
  }

  /** Applies, in time order, every change simulated time has brought since the last look. */
  settle(state: ServiceState): void {
    const now = this.deps.clock().getTime();
    for (;;) {
      const primary = primaryOf(state);
      if (primary.scalesOutAt != null && primary.scalesOutAt <= now) {
        const at = primary.scalesOutAt;
        Object.assign(primary, { runningCount: state.desiredCount, scalesOutAt: null, updatedAt: new Date(at) });
        this.served(state, at);
        steadyStateEvent(this.deps, state, at);
        continue;
      }
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
        this.deps.setAlarm(trip.alarm, trip.value);
        if (trip.value === 'OK') continue;
        // ECS watches its deployment alarms while the deployment runs and through the bake (not during a rollback).
        const watching = currentOf(state)?.status === 'IN_PROGRESS' && primary.rolloutState === 'IN_PROGRESS';
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
  complete(state: ServiceState, deployment: Deployment, at: number): void {
    const current = currentOf(state);
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
    // The version now serving decides the alarms: a bad one trips its alarm once it serves; the others clear once the
    // alarm has evaluated the new version's datapoints — not at once (CloudWatch changes an alarm's state only after
    // DatapointsToAlarm of its EvaluationPeriods, API_PutMetricAlarm; ALARM_CLEAR_SECONDS stands for two 1-minute ones).
    const tripped = deployment.behaviour.tripsAlarm;
    state.alarmTrips = state.spec.alarms
      .filter((alarm) => alarm !== tripped)
      .map((alarm) => ({ alarm, at: at + ALARM_CLEAR_SECONDS * 1000, value: 'OK' as const }));
    if (tripped) {
      state.alarmTrips.push({ alarm: tripped, at: at + (deployment.behaviour.tripsAlarmAfterSeconds ?? 0) * 1000, value: 'ALARM' });
    }
    this.served(state, at);
  }

  /** The deployment is done: COMPLETED, the older ones gone, its service deployment SUCCESSFUL (or ROLLBACK_SUCCESSFUL). */
  finishBake(state: ServiceState, deployment: Deployment, at: number): void {
    const current = currentOf(state);
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
    deploymentEvent(this.deps, state, 'SERVICE_DEPLOYMENT_COMPLETED', deployment, at, `ECS deployment ${deployment.id} completed.`);
    this.served(state, at);
  }

  /** A deployment alarm went to ALARM during the bake: ECS fails the deployment, and rolls it back when configured to. */
  private failOnAlarm(state: ServiceState, deployment: Deployment, at: number, alarm: string): void {
    const current = currentOf(state);
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
    const current = currentOf(state);
    const wasRollback = current?.status === 'ROLLBACK_IN_PROGRESS';
    Object.assign(deployment, {
      rolloutState: 'FAILED',
      rolloutStateReason: cause.why,
      runningCount: cause.keepsTasks ? deployment.runningCount : 0,
      failedTasks: cause.failedTasks,
      updatedAt: new Date(at),
    });
    deploymentEvent(this.deps, state, 'SERVICE_DEPLOYMENT_FAILED', deployment, at, cause.why);
    this.served(state, at);
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
    const image = this.taskDefinitions.imageOf(target.taskDefinition, state.spec.container);
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
    // "sent for both initial deployments and rollback deployments … The difference between the two is in the reason".
    deploymentEvent(
      this.deps,
      state,
      'SERVICE_DEPLOYMENT_IN_PROGRESS',
      target,
      at,
      `${cause.rollbackReason} Rolling back to ${target.id}.`,
    );
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

  /** Notes what the service's tasks serve from `at` on (ecs-served.ts), and starts or stops its tasks (ecs-tasks.ts). */
  private served(state: ServiceState, at: number): void {
    recordServed(state, at, (taskDefinition) => this.taskDefinitions.imageOf(taskDefinition, state.spec.container));
    reconcileTasks(state, at, this.deps.loadBalancing);
  }
}

/** The service's PRIMARY deployment. */
export function primaryOf(state: ServiceState): Deployment {
  return state.deployments.find((d) => d.status === 'PRIMARY')!;
}

/** The service deployment under way or last finished (currentServiceDeployment), if any. */
export function currentOf(state: ServiceState): ServiceDeployment | undefined {
  return state.serviceDeployments.find((sd) => sd.serviceDeploymentArn === state.currentServiceDeployment);
}
