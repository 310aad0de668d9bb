/**
 * Whether a rollout (or a rollback) is healthy, still progressing, or has failed. Pure: the caller observes ECS and
 * CloudWatch and passes the time in.
 */
import type { HealthVerdict } from '../contract';

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA' | 'MISSING';

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
  /** Status of the service's current ECS service deployment, when ECS reports one. */
  serviceDeploymentStatus: string | null;
  alarms: { name: string; state: AlarmState }[];
}

export interface HealthCriteria {
  now: Date;
  /** From this moment on, a service that is not healthy counts as unhealthy. */
  deadline: Date;
  /** false during a rollback: alarms raised by the bad release may take minutes to clear. */
  checkAlarms: boolean;
}

export interface HealthEvaluation {
  verdict: HealthVerdict;
  reason: string;
}

/** Service deployment statuses after which the target revision will not become healthy on its own. */
const FAILED_SERVICE_DEPLOYMENT_STATUSES: ReadonlySet<string> = new Set([
  'FAILED',
  'STOPPED',
  'STOP_REQUESTED',
  'ROLLBACK_REQUESTED',
  'ROLLBACK_IN_PROGRESS',
  'ROLLBACK_SUCCESSFUL',
  'ROLLBACK_FAILED',
]);

export function evaluateHealth(observation: HealthObservation, criteria: HealthCriteria): HealthEvaluation {
  const { primary } = observation;
  if (!primary || primary.taskDefinitionArn !== observation.targetTaskDefinitionArn) {
    return unhealthy(describeWrongRevision(observation));
  }
  const ecsFailure = describeEcsFailure(primary, observation.serviceDeploymentStatus);
  if (ecsFailure) return unhealthy(ecsFailure);
  const alarmFailure = criteria.checkAlarms ? describeAlarmFailure(observation.alarms) : null;
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

function describeWrongRevision({ primary, targetTaskDefinitionArn, serviceDeploymentStatus }: HealthObservation): string {
  // The ECS status often tells which of the two happened (e.g. ROLLBACK_SUCCESSFUL after a circuit breaker trip).
  const ecsStatus = serviceDeploymentStatus ? ` (ECS service deployment status: ${serviceDeploymentStatus})` : '';
  if (!primary) {
    return `The service has no PRIMARY deployment, so ${targetTaskDefinitionArn} is not running${ecsStatus}.`;
  }
  return (
    `The service's primary deployment runs ${primary.taskDefinitionArn}, not ${targetTaskDefinitionArn}${ecsStatus}: ` +
    'the ECS deployment circuit breaker rolled it back or someone else deployed.'
  );
}

function describeEcsFailure(primary: PrimaryDeployment, serviceDeploymentStatus: string | null): string | null {
  // ECS's own reason usually ends with a full stop already.
  const ecsReason = primary.rolloutStateReason ? `: ${primary.rolloutStateReason.replace(/\.$/, '')}` : '';
  if (primary.rolloutState === 'FAILED') return `ECS reports the rollout FAILED${ecsReason}.`;
  if (serviceDeploymentStatus && FAILED_SERVICE_DEPLOYMENT_STATUSES.has(serviceDeploymentStatus)) {
    return `ECS reports the service deployment ${serviceDeploymentStatus}${ecsReason}.`;
  }
  return null;
}

function describeAlarmFailure(alarms: HealthObservation['alarms']): string | null {
  const firing = alarms.filter((alarm) => alarm.state === 'ALARM').map((alarm) => alarm.name);
  if (firing.length > 0) return `Alarm ${firing.join(', ')} is in ALARM.`;
  // Fail closed: an alarm that does not exist cannot vouch for the release.
  const missing = alarms.filter((alarm) => alarm.state === 'MISSING').map((alarm) => alarm.name);
  if (missing.length > 0) return `Configured alarm ${missing.join(', ')} does not exist.`;
  return null;
}

/** What still stands between the service and "healthy"; empty when nothing does. */
function describePending(primary: PrimaryDeployment, observation: HealthObservation, checkAlarms: boolean): string[] {
  const pending: string[] = [];
  const rolloutComplete = primary.rolloutState === 'COMPLETED' || observation.serviceDeploymentStatus === 'SUCCESSFUL';
  if (!rolloutComplete) {
    pending.push(`rollout ${primary.rolloutState ?? observation.serviceDeploymentStatus ?? 'state unknown'}`);
  }
  if (primary.runningCount !== primary.desiredCount) {
    pending.push(`${primary.runningCount}/${primary.desiredCount} tasks running`);
  }
  if (observation.deploymentCount !== 1) {
    pending.push(`${observation.deploymentCount} deployments active (older tasks still draining)`);
  }
  if (checkAlarms) {
    for (const alarm of observation.alarms.filter((a) => a.state !== 'OK')) pending.push(`alarm ${alarm.name} ${alarm.state}`);
  }
  // Failed task launches do not block health by themselves (ECS retries them) but explain a slow rollout.
  if (pending.length > 0 && primary.failedTasks > 0) pending.push(`${primary.failedTasks} task(s) failed to start so far`);
  return pending;
}
