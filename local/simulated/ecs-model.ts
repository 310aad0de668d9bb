/** The ECS model the simulated ECS keeps: services, their deployments and service deployments, task definitions. */
import type { ContainerDefinition } from '@aws-sdk/client-ecs';
import type { Clock } from './clock';
import type { Served } from './ecs-served';
import type { SimulatedTask, TaskRegistrar } from './ecs-tasks';

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
  /** The target groups its tasks register with (API_LoadBalancer: targetGroupArn, containerName, containerPort). */
  loadBalancers?: { targetGroupArn: string; containerName: string; containerPort: number }[];
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
export interface Deployment {
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
  /** When the tasks a scale-out (UpdateService with only a higher desiredCount) started run (ms); null when none is under way. */
  scalesOutAt?: number | null;
}

export interface ServiceDeployment {
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

export interface ServiceState {
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
  /**
   * Alarms to change at a time: the new version's bad behaviour tripping one once it serves (ALARM), the others
   * clearing once its datapoints have come in (OK).
   */
  alarmTrips: { alarm: string; at: number; value: 'OK' | 'ALARM' }[];
  /** What its tasks served, oldest first (ecs-served.ts). */
  served: Served[];
  /** Its number in order of creation, from 1 (its tasks' subnet: ecs-tasks.ts). */
  serviceNumber: number;
  /** Its running tasks, oldest first (ecs-tasks.ts). */
  tasks: SimulatedTask[];
  /** How many tasks it has ever started (the next task's number). */
  tasksStarted: number;
}

export type TaskDefinition = {
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
  /** Puts an event on the default bus (as ECS does for its service deployments). */
  emit: (event: AwsEvent) => void;
  /** Elastic Load Balancing, which ECS registers the tasks of services with `loadBalancers` with (ecs-tasks.ts). */
  loadBalancing?: TaskRegistrar;
}

/** An event as EventBridge delivers it from an AWS service (EventBridge user guide, "Amazon EventBridge events"). */
export interface AwsEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}
