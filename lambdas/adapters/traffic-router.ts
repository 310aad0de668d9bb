/**
 * The weighted forward action of a gray release's traffic route, and the canary's targets, on Elastic Load Balancing.
 * Uses DescribeRules and ModifyRule (a listener rule), DescribeListeners and ModifyListener (a listener's default action:
 * "To modify the actions for the default rule, use ModifyListener", API_ModifyRule), DescribeTargetHealth.
 *
 * Percents and ALB weights: the steps speak whole percents; ALB weighs a forward action's target groups with integers
 * 0–999 (API_TargetGroupTuple) and routes each group its weight's share of the sum. A split is written as the percents
 * themselves (stable 100 − w, canary w: weights that add up to 100 are percents), and read back as each group's share of
 * the sum, unrounded, so a split written elsewhere (999 / 1) reads as what it routes. A forward action with a plain
 * `TargetGroupArn` sends everything to that group.
 *
 * Writing: ModifyRule and ModifyListener replace the whole action list ("you must provide the entire list",
 * API_ModifyRule), so every action is re-sent as Describe* gave it, and only the forward action's target groups change:
 * the two groups at their weights and no other (a group the analysis does not look at gets no requests once written);
 * the forward action keeps its Order and stickiness. An authenticate-oidc action is re-sent with UseExistingClientSecret,
 * the only way a modification may leave out the client secret (API_AuthenticateOidcActionConfig), which Describe* do not
 * give back. AWS failures are classified by `callAws` (throttling and 5xx become TransientAwsError, the rest pass
 * unchanged: RuleNotFoundException, AccessDenied…); a route without a forward action is a NoForwardActionError.
 */
import {
  type Action,
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  ModifyRuleCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { TrafficRoute } from '../contract/release-strategy';
import { callAws, InvalidInputError, NoForwardActionError, UnexpectedAwsAnswerError } from '../errors';
import type { ObservedWeights } from '../decisions/traffic-drift';
import type { TrafficWeights } from '../decisions/traffic-steps';
import {
  TARGET_STATES,
  type TargetState,
  type TrafficGroups,
  type TrafficRouter as TrafficRouterPort,
  type TrafficTarget,
} from '../steps/ports/traffic-router';

export class TrafficRouter implements TrafficRouterPort {
  constructor(private readonly elb: Pick<ElasticLoadBalancingV2Client, 'send'>) {}

  async readWeights(route: TrafficRoute, groups: TrafficGroups): Promise<ObservedWeights> {
    return sharesOf(forwardActionOf(await this.actionsOf(route), route), groups);
  }

  async writeWeights(route: TrafficRoute, groups: TrafficGroups, weights: TrafficWeights): Promise<void> {
    checkWeights(groups, weights);
    const actions = await this.actionsOf(route);
    const forward = forwardActionOf(actions, route);
    const written = actions.map((action) => (action === forward ? weighted(forward, groups, weights) : resendable(action)));
    if (route.kind === 'listener-rule') {
      await callAws('ModifyRule', () => this.elb.send(new ModifyRuleCommand({ RuleArn: route.arn, Actions: written })));
    } else {
      await callAws('ModifyListener', () => this.elb.send(new ModifyListenerCommand({ ListenerArn: route.arn, DefaultActions: written })));
    }
  }

  async canaryTargets(targetGroupArn: string): Promise<TrafficTarget[]> {
    const { TargetHealthDescriptions } = await callAws('DescribeTargetHealth', () =>
      this.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn })),
    );
    return (TargetHealthDescriptions ?? []).map(({ Target, TargetHealth }) => {
      if (!Target?.Id || Target.Port === undefined) {
        throw new UnexpectedAwsAnswerError(
          `DescribeTargetHealth of ${targetGroupArn} gave a target without an ID and a port: ${JSON.stringify(Target)}`,
        );
      }
      return { id: Target.Id, port: Target.Port, state: toTargetState(TargetHealth?.State) };
    });
  }

  /** The route's actions as configured now: the rule's, or the listener's default actions. */
  private async actionsOf(route: TrafficRoute): Promise<Action[]> {
    if (route.kind === 'listener-rule') {
      const { Rules } = await callAws('DescribeRules', () => this.elb.send(new DescribeRulesCommand({ RuleArns: [route.arn] })));
      const rule = Rules?.find((r) => r.RuleArn === route.arn);
      if (!rule?.Actions) throw new UnexpectedAwsAnswerError(`DescribeRules did not describe the rule ${route.arn}`);
      return rule.Actions;
    }
    const { Listeners } = await callAws('DescribeListeners', () =>
      this.elb.send(new DescribeListenersCommand({ ListenerArns: [route.arn] })),
    );
    const listener = Listeners?.find((l) => l.ListenerArn === route.arn);
    if (!listener?.DefaultActions) throw new UnexpectedAwsAnswerError(`DescribeListeners did not describe the listener ${route.arn}`);
    return listener.DefaultActions;
  }
}

function forwardActionOf(actions: Action[], route: TrafficRoute): Action {
  const forward = actions.find((a) => a.Type === 'forward');
  if (!forward) {
    const where = route.kind === 'listener-rule' ? `The listener rule ${route.arn}` : `The default action of the listener ${route.arn}`;
    throw new NoForwardActionError(
      `${where} has no forward action (${actions.map((a) => a.Type).join(', ')}): there are no weights to move`,
    );
  }
  return forward;
}

/** Each target group the forward action names, with its ALB weight (a plain TargetGroupArn: that group alone). */
function targetGroupWeights(forward: Action): { arn: string; weight: number }[] {
  const tuples = forward.ForwardConfig?.TargetGroups ?? [];
  if (tuples.length === 0) return forward.TargetGroupArn ? [{ arn: forward.TargetGroupArn, weight: 1 }] : [];
  return tuples.map((t) => ({ arn: t.TargetGroupArn ?? '', weight: t.Weight ?? 1 }));
}

function sharesOf(forward: Action, groups: TrafficGroups): ObservedWeights {
  const weights = targetGroupWeights(forward);
  const total = weights.reduce((sum, w) => sum + w.weight, 0);
  const share = (arn: string) => {
    const weight = weights.filter((w) => w.arn === arn).reduce((sum, w) => sum + w.weight, 0);
    return total === 0 ? 0 : (weight * 100) / total;
  };
  const ours = [groups.stableTargetGroupArn, groups.canaryTargetGroupArn];
  const stickiness = forward.ForwardConfig?.TargetGroupStickinessConfig;
  return {
    stable: share(groups.stableTargetGroupArn),
    canary: share(groups.canaryTargetGroupArn),
    otherTargetGroups: weights.map((w) => w.arn).filter((arn) => !ours.includes(arn)),
    ...(stickiness?.Enabled ? { stickinessSeconds: stickiness.DurationSeconds ?? 0 } : {}),
  };
}

function checkWeights(groups: TrafficGroups, weights: TrafficWeights): void {
  const whole = (w: number) => Number.isInteger(w) && w >= 0 && w <= 100;
  if (!whole(weights.stable) || !whole(weights.canary) || weights.stable + weights.canary !== 100) {
    throw new InvalidInputError(`Weights stable ${weights.stable} / canary ${weights.canary} are not whole percents that add up to 100`);
  }
  if (groups.stableTargetGroupArn === groups.canaryTargetGroupArn) {
    throw new InvalidInputError(`The stable and canary target groups are the same: ${groups.stableTargetGroupArn}`);
  }
}

/** The forward action with exactly the two groups at their weights; its other fields (Order, stickiness) kept. */
function weighted(forward: Action, groups: TrafficGroups, weights: TrafficWeights): Action {
  // With two groups, ForwardConfig alone names them: TargetGroupArn may only repeat a single group (API_Action).
  const { TargetGroupArn, ...kept } = forward;
  return {
    ...kept,
    ForwardConfig: {
      ...forward.ForwardConfig,
      TargetGroups: [
        { TargetGroupArn: groups.stableTargetGroupArn, Weight: weights.stable },
        { TargetGroupArn: groups.canaryTargetGroupArn, Weight: weights.canary },
      ],
    },
  };
}

/** An action as a modification may re-send it: an OIDC action described without its secret keeps the existing one. */
function resendable(action: Action): Action {
  const oidc = action.AuthenticateOidcConfig;
  if (!oidc || oidc.ClientSecret !== undefined) return action;
  return { ...action, AuthenticateOidcConfig: { ...oidc, UseExistingClientSecret: true } };
}

/** A state ELB may add later tells nothing about the target's health yet. */
function toTargetState(state: string | undefined): TargetState {
  return TARGET_STATES.find((s) => s === state) ?? 'unavailable';
}
