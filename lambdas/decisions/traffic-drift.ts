/**
 * Whether the traffic set-up is still as the pipeline left it. Someone else's write (a `cdk deploy` resetting the rule
 * to its template, aws/aws-cdk#36649; a hand-made UpdateService) is never fought: the release aborts to stable. Pure:
 * the caller reads the rule and the canary service.
 */
import type { TrafficWeights } from './traffic-steps';

/** What the listener rule's forward action routes by, in percent; null when it forwards to no target groups. */
export interface ObservedWeights extends TrafficWeights {
  /** Target groups other than the stable and canary ones that the forward action names. */
  otherTargetGroups: string[];
  /**
   * The forward action's target group stickiness, when enabled: how long a client keeps going to the target group it
   * was sent to, whatever the weights say since (API_TargetGroupStickinessConfig, 1 to 604,800 s).
   */
  stickinessSeconds?: number;
}

export interface CanaryServiceObservation {
  /** The task definition of the service's PRIMARY deployment; null when it has none. */
  taskDefinitionArn: string | null;
  desiredCount: number;
}

export interface TrafficExpectation {
  /** The weights the pipeline wrote last. */
  weights: TrafficWeights;
  /** The release's revision, which the canary must run. */
  canaryTaskDefinitionArn: string;
  /** The count the pipeline set on the canary service. */
  canaryDesiredCount: number;
}

export interface TrafficObservation {
  weights: ObservedWeights | null;
  canary: CanaryServiceObservation;
}

const show = (w: TrafficWeights) => `stable ${w.stable} / canary ${w.canary}`;

/**
 * Null when the rule and the canary service are as the pipeline left them; otherwise why not, starting "Traffic
 * changed outside the pipeline". Only what the pipeline set is compared: the canary's running count moves on its own
 * while tasks start, and is judged by health, not here.
 */
export function detectDrift(expected: TrafficExpectation, observed: TrafficObservation): string | null {
  const changes: string[] = [];
  const { weights, canary } = observed;
  if (weights === null) {
    changes.push('the rule no longer forwards to the stable and canary target groups');
  } else {
    if (weights.stable !== expected.weights.stable || weights.canary !== expected.weights.canary) {
      changes.push(`the rule routes ${show(weights)}, the pipeline set ${show(expected.weights)}`);
    }
    if (weights.otherTargetGroups.length > 0) {
      changes.push(`the rule also forwards to ${weights.otherTargetGroups.join(', ')}`);
    }
  }
  if (canary.taskDefinitionArn !== expected.canaryTaskDefinitionArn) {
    changes.push(`the canary service runs ${canary.taskDefinitionArn ?? 'no deployment'}, not ${expected.canaryTaskDefinitionArn}`);
  }
  if (canary.desiredCount !== expected.canaryDesiredCount) {
    changes.push(`the canary service wants ${canary.desiredCount} tasks, the pipeline set ${expected.canaryDesiredCount}`);
  }
  return changes.length === 0 ? null : `Traffic changed outside the pipeline (e.g. a cdk deploy): ${changes.join('; ')}`;
}
