/**
 * Whether a rollout (or a rollback) is healthy, still progressing, or has failed. Pure: the caller observes ECS and
 * CloudWatch and passes the time in.
 */
import type { HealthVerdict } from '../contract/steps';

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA' | 'MISSING';

export interface AlarmObservation {
  name: string;
  state: AlarmState;
  /** When the alarm's state value last changed (CloudWatch's StateTransitionedTimestamp); null when unknown. */
  since?: Date | null;
}

/** The service deployment ECS reports as current (DescribeServiceDeployments), when it reports one. */
export interface ServiceDeploymentObservation {
  status: string;
  /** Why ECS rolled it back itself (circuit breaker or deployment alarms); null when it did not. */
  rollbackReason: string | null;
  statusReason: string | null;
}

export interface PrimaryDeployment {
  taskDefinitionArn: string;
  rolloutState: string | null;
  rolloutStateReason: string | null;
  runningCount: number;
  desiredCount: number;
  failedTasks: number;
}

export interface HealthObservation {
  /** The task definition the service should be running. */
  targetTaskDefinitionArn: string;
  primary: PrimaryDeployment | null;
  /** All deployments of the service (PRIMARY and the ACTIVE ones still draining). */
  deploymentCount: number;
  /** The service's current ECS service deployment, when ECS reports one (services updated since 25 October 2024). */
  serviceDeployment: ServiceDeploymentObservation | null;
  alarms: AlarmObservation[];
}

export interface HealthCriteria {
  now: Date;
  /** From this moment on, a service that is not healthy counts as unhealthy. */
  deadline: Date;
  /**
   * true for the release (its alarms must be OK); false during a rollback, which is judged only by what the service
   * runs and whether it is steady (alarms raised by the bad release may take minutes to clear).
   */
  checkAlarms: boolean;
  /**
   * When the update started. An alarm that went to ALARM after it fails the release at once; one already in ALARM
   * before (an incident the running version caused) must clear before the deadline instead.
   */
  updateStartedAt?: Date | null;
}

export interface HealthEvaluation {
  verdict: HealthVerdict;
  reason: string;
}

/** Service deployment statuses of ECS rolling a deployment back itself (circuit breaker or deployment alarms). */
const ECS_ROLLBACK_STATUSES: ReadonlySet<string> = new Set([
  'ROLLBACK_REQUESTED',
  'ROLLBACK_IN_PROGRESS',
  'ROLLBACK_SUCCESSFUL',
  'ROLLBACK_FAILED',
]);
/** Service deployment statuses after which the target revision will not become healthy on its own. */
const ENDED_WITHOUT_SUCCESS: ReadonlySet<string> = new Set(['STOPPED', 'STOP_REQUESTED', 'ROLLBACK_FAILED']);
/** Service deployment statuses that say the deployment finished on its target. */
const SETTLED_STATUSES: ReadonlySet<string> = new Set(['SUCCESSFUL', 'ROLLBACK_SUCCESSFUL']);

/**
 * The release (checkAlarms true) is judged on the new revision: ECS rolling it back, running another revision, or
 * failing it is unhealthy; so is an alarm that went to ALARM after the update started. The rollback (checkAlarms false)
 * is judged by what the service runs and whether it is steady — not by the status of the service deployment it ended
 * (a rollback ECS did itself ends ROLLBACK_SUCCESSFUL on the very revision the pipeline wants).
 */
export function evaluateHealth(observation: HealthObservation, criteria: HealthCriteria): HealthEvaluation {
  const { primary } = observation;
  if (criteria.checkAlarms) {
    const ecsRollback = describeEcsRollback(observation.serviceDeployment);
    if (ecsRollback) return unhealthy(ecsRollback);
  }
  if (!primary || primary.taskDefinitionArn !== observation.targetTaskDefinitionArn) {
    return unhealthy(describeWrongRevision(observation));
  }
  const ecsFailure = describeEcsFailure(primary, observation.serviceDeployment, criteria.checkAlarms);
  if (ecsFailure) return unhealthy(ecsFailure);
  const alarmFailure = criteria.checkAlarms ? describeAlarmFailure(observation.alarms, criteria.updateStartedAt ?? null) : null;
  if (alarmFailure) return unhealthy(alarmFailure);

  const pending = describePending(primary, observation, criteria.checkAlarms);
  if (pending.length === 0) {
    const alarms = criteria.checkAlarms ? `all ${observation.alarms.length} alarm(s) OK` : 'alarms not checked';
    return {
      verdict: 'healthy',
      reason: `Running ${primary.taskDefinitionArn} with ${primary.runningCount}/${primary.desiredCount} tasks, rollout complete, ${alarms}.`,
    };
  }
  if (criteria.now.getTime() >= criteria.deadline.getTime()) {
    return unhealthy(`Not healthy within the deadline (${criteria.deadline.toISOString()}): ${pending.join(', ')}.`);
  }
  return { verdict: 'progressing', reason: `Still rolling out: ${pending.join(', ')}.` };
}

function unhealthy(reason: string): HealthEvaluation {
  return { verdict: 'unhealthy', reason };
}

function describeWrongRevision({ primary, targetTaskDefinitionArn, serviceDeployment }: HealthObservation): string {
  const ecsStatus = serviceDeployment ? ` (ECS service deployment status: ${serviceDeployment.status})` : '';
  if (!primary) {
    return `The service has no PRIMARY deployment, so ${targetTaskDefinitionArn} is not running${ecsStatus}.`;
  }
  return (
    `The service's primary deployment runs ${primary.taskDefinitionArn}, not ${targetTaskDefinitionArn}${ecsStatus}: ` +
    'the ECS deployment circuit breaker rolled it back or someone else deployed.'
  );
}

/** ECS rolled the release back itself: its circuit breaker or its deployment alarms found the new revision unhealthy. */
function describeEcsRollback(serviceDeployment: ServiceDeploymentObservation | null): string | null {
  if (!serviceDeployment || !ECS_ROLLBACK_STATUSES.has(serviceDeployment.status)) return null;
  const why = serviceDeployment.rollbackReason ?? serviceDeployment.statusReason ?? 'no reason given';
  return `ECS rolled the new revision back itself (service deployment ${serviceDeployment.status}): ${why.replace(/\.$/, '')}.`;
}

function describeEcsFailure(
  primary: PrimaryDeployment,
  serviceDeployment: ServiceDeploymentObservation | null,
  judgingRelease: boolean,
): string | null {
  // ECS's own reason usually ends with a full stop already.
  const ecsReason = primary.rolloutStateReason ? `: ${primary.rolloutStateReason.replace(/\.$/, '')}` : '';
  if (primary.rolloutState === 'FAILED') return `ECS reports the rollout FAILED${ecsReason}.`;
  // A rollback on a steady revision is judged by the revision, whatever became of the deployment that led there.
  if (!judgingRelease && primary.rolloutState === 'COMPLETED') return null;
  if (serviceDeployment && ENDED_WITHOUT_SUCCESS.has(serviceDeployment.status)) {
    const why = serviceDeployment.statusReason ? `: ${serviceDeployment.statusReason.replace(/\.$/, '')}` : ecsReason;
    return `ECS reports the service deployment ${serviceDeployment.status}${why}.`;
  }
  return null;
}

/**
 * Alarms that went to ALARM after the update started fail the release at once; one already in ALARM before the update
 * (or of unknown age) stays pending until it clears or the deadline passes.
 */
function describeAlarmFailure(alarms: AlarmObservation[], updateStartedAt: Date | null): string | null {
  const firing = alarms.filter((alarm) => alarm.state === 'ALARM' && !raisedBefore(alarm, updateStartedAt)).map((alarm) => alarm.name);
  if (firing.length > 0) return `Alarm ${firing.join(', ')} is in ALARM.`;
  // Fail closed: an alarm that does not exist cannot vouch for the release.
  const missing = alarms.filter((alarm) => alarm.state === 'MISSING').map((alarm) => alarm.name);
  if (missing.length > 0) return `Configured alarm ${missing.join(', ')} does not exist.`;
  return null;
}

function raisedBefore(alarm: AlarmObservation, updateStartedAt: Date | null): boolean {
  return updateStartedAt !== null && alarm.since != null && alarm.since.getTime() <= updateStartedAt.getTime();
}

/** What still stands between the service and "healthy"; empty when nothing does. */
function describePending(primary: PrimaryDeployment, observation: HealthObservation, checkAlarms: boolean): string[] {
  const pending: string[] = [];
  // rolloutState is absent for services behind a Classic Load Balancer: then the service deployment says.
  const status = observation.serviceDeployment?.status ?? null;
  const rolloutComplete =
    primary.rolloutState === 'COMPLETED' || (primary.rolloutState === null && status !== null && SETTLED_STATUSES.has(status));
  if (!rolloutComplete) {
    pending.push(`rollout ${primary.rolloutState ?? status ?? 'state unknown'}`);
  }
  if (primary.runningCount !== primary.desiredCount) {
    pending.push(`${primary.runningCount}/${primary.desiredCount} tasks running`);
  }
  if (observation.deploymentCount !== 1) {
    pending.push(`${observation.deploymentCount} deployments active (older tasks still draining)`);
  }
  if (checkAlarms) {
    for (const alarm of observation.alarms.filter((a) => a.state !== 'OK')) {
      pending.push(`alarm ${alarm.name} ${alarm.state}${alarm.state === 'ALARM' ? ' since before the update' : ''}`);
    }
  }
  // Failed task launches do not block health by themselves (ECS retries them) but explain a slow rollout.
  if (pending.length > 0 && primary.failedTasks > 0) pending.push(`${primary.failedTasks} task(s) failed to start so far`);
  return pending;
}
