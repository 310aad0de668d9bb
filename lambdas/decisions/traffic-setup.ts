/**
 * "Check the traffic set-up", at the start of a gray release: whether the route and the canary service are as a gray
 * release needs them, before anything changes. What synth cannot see (the live rule, the canary service) is checked
 * here; a set-up that is not ready ends the release before the service changes, naming what is wrong. Pure: the caller
 * reads the rule (traffic-router) and the canary service (ECS).
 */
import type { ObservedWeights } from './traffic-drift';
import { ALL_TO_STABLE } from './traffic-steps';

export interface CanaryServiceSetup {
  /** null when ECS does not know the service (or it is not ACTIVE). */
  status: string | null;
  /** The family of the task definition its PRIMARY deployment runs; null when it has none. */
  taskDefinitionFamily: string | null;
  /** ECS, CODE_DEPLOY or EXTERNAL: the pipeline moves the canary with UpdateService, which only ECS services take so. */
  deploymentController: string | null;
  /** The target groups its tasks register with. */
  targetGroupArns: string[];
}

export interface TrafficSetupObservation {
  /** The route's forward action as read (null: it forwards to neither group). */
  weights: ObservedWeights | null;
  canary: CanaryServiceSetup;
  /** The configured names, for the reasons: the canary service, and the stable service's task definition family. */
  canaryService: string;
  stableTaskDefinitionFamily: string;
  /** The stable service's name and desired count: the canary is sized from it, and traffic returns to it. */
  stableService: string;
  stableDesiredCount: number;
  /** The target groups the stable service's tasks register with. */
  stableTargetGroupArns: string[];
  /** The configured target groups. */
  stableTargetGroupArn: string;
  canaryTargetGroupArn: string;
}

export interface TrafficSetup {
  ready: boolean;
  /** Every problem found, each naming the value it found; empty when ready. */
  problems: string[];
}

/**
 * Ready when the route forwards to the stable and canary target groups only, at rest (stable 100 / canary 0: no other
 * gray release is under way, nobody moved it by hand), and the canary service is ACTIVE, on ECS's own deployment
 * controller, running the stable service's task definition family, each service's tasks are in its own target group
 * (and not in the other's), and the stable service wants at least one task.
 */
export function checkTrafficSetup(o: TrafficSetupObservation): TrafficSetup {
  const problems: string[] = [];
  if (o.weights === null) {
    problems.push('the route forwards to neither the stable nor the canary target group');
  } else {
    if (o.weights.stable !== ALL_TO_STABLE.stable || o.weights.canary !== ALL_TO_STABLE.canary) {
      problems.push(
        `the route is not at rest: it sends stable ${o.weights.stable} / canary ${o.weights.canary}, not 100 / 0 ` +
          '(another gray release is under way, or it was changed by hand)',
      );
    }
    if (o.weights.otherTargetGroups.length > 0) problems.push(`the route also forwards to ${o.weights.otherTargetGroups.join(', ')}`);
  }
  if (o.canary.status !== 'ACTIVE') {
    problems.push(`the canary service ${o.canaryService} is ${o.canary.status === null ? 'not found' : o.canary.status}, not ACTIVE`);
  } else {
    if (o.canary.deploymentController !== 'ECS') {
      problems.push(`the canary service ${o.canaryService} uses the ${o.canary.deploymentController} deployment controller, not ECS`);
    }
    if (o.canary.taskDefinitionFamily !== o.stableTaskDefinitionFamily) {
      problems.push(
        `the canary service ${o.canaryService} runs family ${o.canary.taskDefinitionFamily ?? '(none)'}, not the stable service's ${o.stableTaskDefinitionFamily}`,
      );
    }
  }
  problems.push(...targetGroupProblems(o));
  if (o.stableDesiredCount < 1) {
    problems.push(`the stable service ${o.stableService} wants ${o.stableDesiredCount} tasks: traffic could never return to it`);
  }
  return { ready: problems.length === 0, problems };
}

/**
 * Each service's tasks must be in its own target group and not in the other's: a canary registered with the stable
 * group would serve stable traffic unanalysed, while the canary's weight went to a group without its tasks.
 */
function targetGroupProblems(o: TrafficSetupObservation): string[] {
  const problems: string[] = [];
  const check = (who: string, registered: string[], own: string, other: string, otherName: string) => {
    if (!registered.includes(own)) {
      problems.push(`${who} is not registered with its target group ${own} (its target groups: ${registered.join(', ') || 'none'})`);
    }
    if (registered.includes(other)) problems.push(`${who} is also registered with the ${otherName} target group ${other}`);
  };
  if (o.canary.status === 'ACTIVE') {
    check(`the canary service ${o.canaryService}`, o.canary.targetGroupArns, o.canaryTargetGroupArn, o.stableTargetGroupArn, 'stable');
  }
  check(`the stable service ${o.stableService}`, o.stableTargetGroupArns, o.stableTargetGroupArn, o.canaryTargetGroupArn, 'canary');
  return problems;
}
