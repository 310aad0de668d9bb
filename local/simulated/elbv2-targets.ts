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
      group.targets.push({ id: ref.id, port, health: { ...health }, leavesAt: null });
    }
  }

  /** Starts deregistering targets: `draining` for the group's deregistration delay, then gone. */
  deregister(arn: string, targets: TargetRef[]): void {
    const group = this.group(arn);
    const leavesAt = this.clock().getTime() + group.deregistrationDelaySeconds * 1000;
    for (const target of this.matching(group, targets)) {
      target.health = { state: 'draining', reason: 'Target.DeregistrationInProgress', description: 'Target deregistration is in progress' };
      target.leavesAt = leavesAt;
    }
  }

  setHealth(arn: string, target: TargetRef, health: SimulatedTargetHealth): void {
    const found = this.matching(this.group(arn), [target]);
    if (found.length === 0) throw new Error(`simulated ELB: ${target.id} is not registered with ${arn}`);
    for (const t of found) t.health = { ...health };
  }

  /** DescribeTargetHealth; `inUse`: whether a listener or rule forwards to the group. */
  describeTargetHealth(arn: string, targets: TargetRef[] | undefined, inUse: boolean) {
    const group = this.group(arn);
    const now = this.clock().getTime();
    group.targets = group.targets.filter((t) => t.leavesAt === null || t.leavesAt > now);
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
