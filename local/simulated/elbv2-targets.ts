/**
 * Target groups and the health of their targets, as DescribeTargetHealth reports them (Elastic Load Balancing API
 * reference: API_DescribeTargetHealth, API_TargetHealthDescription, API_TargetDescription, API_TargetHealth):
 *
 * - `Target.Id` is "an instance ID" for `instance` targets and "an IP address" for `ip` targets (awsvpc tasks);
 *   `HealthCheckPort` is a string.
 * - `TargetHealth.State` is initial | healthy | unhealthy | unhealthy.draining | unused | draining | unavailable. "If the
 *   target state is healthy, a reason code is not provided"; a target being registered is `initial` with
 *   `Elb.RegistrationInProgress`; `unused` with `Target.NotRegistered` when asked for a target "not registered with the
 *   target group", with `Target.NotInUse` when "The target group is not used by any load balancer"; `draining` with
 *   `Target.DeregistrationInProgress` while it deregisters, for the group's deregistration delay
 *   (`deregistration_delay.timeout_seconds`, default 300: API_TargetGroupAttribute), after which it is gone.
 * - A target group that does not exist is TargetGroupNotFound (DescribeTargetHealth's documented errors).
 * - ECS registers a service's tasks itself (registerTask: ecs-tasks.ts). "After your target is registered, it must pass
 *   one health check to be considered healthy" (application/target-group-health-checks.html); "For newly registered
 *   targets, only one successful health check is required … regardless of the healthy threshold count setting. The
 *   healthy threshold count only applies when a target recovers from an unhealthy state"
 *   (AmazonECS/latest/developerguide/load-balancer-healthcheck.html). So a task's target is `initial` for one
 *   HealthCheckIntervalSeconds (default 30 for HTTP/HTTPS target groups, same pages), then `healthy`: the task's
 *   container is taken to pass the load balancer's check (whose timeout is whole seconds, default 5).
 *   [unverified: when within the first interval the first check is sent; a whole interval here.]
 */
import type { TargetHealthStateEnum } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SimulatedAwsError } from './aws-error';
import type { Clock } from './clock';

/** A target's health as the scenario sets it (a registered target starts `initial`). */
export interface SimulatedTargetHealth {
  state: TargetHealthStateEnum;
  reason?: string;
  description?: string;
}

export interface TargetGroupSpec {
  port: number;
  protocol?: string;
  targetType?: 'ip' | 'instance';
  deregistrationDelaySeconds?: number;
  /** HealthCheckIntervalSeconds (API_CreateTargetGroup: default 30 for HTTP and HTTPS). */
  healthCheckIntervalSeconds?: number;
}

/** A target as RegisterTargets takes it: the port defaults to the target group's. */
export interface TargetRef {
  id: string;
  port?: number;
}

interface Target {
  id: string;
  port: number;
  health: SimulatedTargetHealth;
  /** While deregistering: when it is gone. */
  leavesAt: number | null;
  /** A task ECS registered: when it passed its first health check (ms), `initial` until then. */
  healthyAt: number | null;
}

interface TargetGroup extends Required<TargetGroupSpec> {
  arn: string;
  name: string;
  targets: Target[];
}

const REGISTERING: SimulatedTargetHealth = {
  state: 'initial',
  reason: 'Elb.RegistrationInProgress',
  description: 'Target registration is in progress',
};

export class TargetGroups {
  private readonly groups = new Map<string, TargetGroup>();

  constructor(private readonly clock: Clock) {}

  add(arn: string, name: string, spec: TargetGroupSpec): void {
    this.groups.set(arn, {
      arn,
      name,
      port: spec.port,
      protocol: spec.protocol ?? 'HTTP',
      targetType: spec.targetType ?? 'ip',
      deregistrationDelaySeconds: spec.deregistrationDelaySeconds ?? 300,
      healthCheckIntervalSeconds: spec.healthCheckIntervalSeconds ?? 30,
      targets: [],
    });
  }

  /** The ARN of the target group called `name`, if there is one. */
  named(name: string): string | undefined {
    return [...this.groups.values()].find((g) => g.name === name)?.arn;
  }

  has(arn: string): boolean {
    return this.groups.has(arn);
  }

  /** Registers targets (again, if they were deregistering), `initial` unless `health` says otherwise. */
  register(arn: string, targets: TargetRef[], health: SimulatedTargetHealth = REGISTERING): void {
    const group = this.group(arn);
    for (const ref of targets) {
      const port = ref.port ?? group.port;
      group.targets = group.targets.filter((t) => !(t.id === ref.id && t.port === port));
      group.targets.push({ id: ref.id, port, health: { ...health }, leavesAt: null, healthyAt: null });
    }
  }

  /**
   * Registers a task's targets as ECS does when it starts the task at `at` (ms, default now): `initial` until its first
   * health check, one HealthCheckIntervalSeconds later, then `healthy`; with `settled`, healthy at once (a task that
   * ran before the simulation started).
   */
  registerTask(arn: string, targets: TargetRef[], at: number = this.clock().getTime(), settled = false): void {
    const group = this.group(arn);
    this.register(arn, targets, settled ? { state: 'healthy' } : REGISTERING);
    if (settled) return;
    for (const target of this.matching(group, targets)) target.healthyAt = at + group.healthCheckIntervalSeconds * 1000;
  }

  /**
   * Registers the targets of tasks ECS counts running at `runningAt` (ms): ECS counts a task of a service behind a load
   * balancer healthy only once the load balancer reports its target healthy — "The Amazon ECS agent monitors, and waits
   * for the load balancer to report on the container health" (AmazonECS/latest/developerguide/load-balancer-healthcheck.html);
   * "tasks for services that do use a load balancer are considered healthy if they are in the RUNNING state and … reported
   * as healthy by the load balancer" (API_UpdateService). So they were registered one HealthCheckIntervalSeconds
   * before, and are `healthy` from `runningAt`.
   */
  registerRunningTask(arn: string, targets: TargetRef[], runningAt: number): void {
    this.registerTask(arn, targets, runningAt - this.group(arn).healthCheckIntervalSeconds * 1000);
  }

  /** Starts deregistering targets at `at` (ms, default now): `draining` for the group's deregistration delay, then gone. */
  deregister(arn: string, targets: TargetRef[], at: number = this.clock().getTime()): void {
    const group = this.group(arn);
    const leavesAt = at + group.deregistrationDelaySeconds * 1000;
    for (const target of this.matching(group, targets)) {
      target.health = { state: 'draining', reason: 'Target.DeregistrationInProgress', description: 'Target deregistration is in progress' };
      target.leavesAt = leavesAt;
      target.healthyAt = null;
    }
  }

  setHealth(arn: string, target: TargetRef, health: SimulatedTargetHealth): void {
    const found = this.matching(this.group(arn), [target]);
    if (found.length === 0) throw new Error(`simulated ELB: ${target.id} is not registered with ${arn}`);
    for (const t of found) Object.assign(t, { health: { ...health }, healthyAt: null });
  }

  /** DescribeTargetHealth; `inUse`: whether a listener or rule forwards to the group. */
  describeTargetHealth(arn: string, targets: TargetRef[] | undefined, inUse: boolean) {
    const group = this.group(arn);
    const now = this.clock().getTime();
    group.targets = group.targets.filter((t) => t.leavesAt === null || t.leavesAt > now);
    for (const t of group.targets) {
      if (t.healthyAt !== null && t.healthyAt <= now) Object.assign(t, { health: { state: 'healthy' }, healthyAt: null });
    }
    const asked = targets ?? group.targets.map((t) => ({ id: t.id, port: t.port }));
    return {
      TargetHealthDescriptions: asked.map((ref) => {
        const port = ref.port ?? group.port;
        const target = group.targets.find((t) => t.id === ref.id && t.port === port);
        const health: SimulatedTargetHealth = !target
          ? { state: 'unused', reason: 'Target.NotRegistered', description: 'Target is not registered to the target group' }
          : !inUse && target.leavesAt === null
            ? {
                state: 'unused',
                reason: 'Target.NotInUse',
                description: 'Target group is not configured to receive traffic from the load balancer',
              }
            : target.health;
        return {
          Target: { Id: ref.id, Port: port },
          HealthCheckPort: String(port),
          TargetHealth: {
            State: health.state,
            ...(health.state !== 'healthy' && health.reason ? { Reason: health.reason } : {}),
            ...(health.state !== 'healthy' && health.description ? { Description: health.description } : {}),
          },
        };
      }),
    };
  }

  private matching(group: TargetGroup, refs: TargetRef[]): Target[] {
    return group.targets.filter((t) => refs.some((r) => r.id === t.id && (r.port ?? group.port) === t.port));
  }

  private group(arn: string): TargetGroup {
    const group = this.groups.get(arn);
    if (!group) throw new SimulatedAwsError('TargetGroupNotFoundException', `One or more target groups not found: '${arn}'`);
    return group;
  }
}
