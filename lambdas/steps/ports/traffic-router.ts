/**
 * The weighted load-balancer forward action a gray release moves requests with, and the targets of a target group, as
 * the gray release's steps use them. Declared here, where it is used; `adapters/traffic-router.ts` implements it on
 * Elastic Load Balancing.
 */
import type { TrafficRoute } from '../../contract/release-strategy';
import type { ObservedWeights } from '../../decisions/traffic-drift';
import type { TrafficWeights } from '../../decisions/traffic-steps';

/** The two target groups a gray release weighs (the shape of the configuration's `traffic`). */
export interface TrafficGroups {
  stableTargetGroupArn: string;
  canaryTargetGroupArn: string;
}

/** A target's health as the load balancer reports it (Elastic Load Balancing's TargetHealth states). */
export const TARGET_STATES = ['initial', 'healthy', 'unhealthy', 'unhealthy.draining', 'unused', 'draining', 'unavailable'] as const;
export type TargetState = (typeof TARGET_STATES)[number];

export interface TrafficTarget {
  /** The IP address for `ip` targets (awsvpc tasks), the instance ID for `instance` targets. */
  id: string;
  port: number;
  state: TargetState;
}

export interface TrafficRouter {
  /** The stable and canary shares of the route's forward action, as configured now (requests follow a write a little later). */
  readWeights(route: TrafficRoute, groups: TrafficGroups): Promise<ObservedWeights>;
  /** Sets the route's forward action to exactly these two groups at these weights, leaving every other action as it is. */
  writeWeights(route: TrafficRoute, groups: TrafficGroups, weights: TrafficWeights): Promise<void>;
  /** The targets registered with a target group (the canary's), with their health. */
  canaryTargets(targetGroupArn: string): Promise<TrafficTarget[]>;
}
