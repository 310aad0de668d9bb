/**
 * What the simulated ELB accepts as a rule's actions or a listener's default actions, and where a forward action sends
 * requests. From the Elastic Load Balancing API reference and the Application Load Balancers guide:
 *
 * - "Each rule must include exactly one of the following types of actions: forward, fixed-response, or redirect, and it
 *   must be the last action to be performed"; `Order` "is required for rules with multiple actions. The action with the
 *   lowest value for order is performed first" (1–50000) (API_Action).
 * - "If you specify both ForwardConfig and TargetGroupArn, you can specify only one target group using ForwardConfig and
 *   it must be the same target group specified in TargetGroupArn" (API_Action, ForwardConfig).
 * - A target group's weight: "The range is 0 to 999" (API_TargetGroupTuple); "Target Groups per Action per Application
 *   Load Balancer: 5", not adjustable (application/load-balancer-limits.html).
 * - `ClientSecret` of an authenticate-oidc action "is required if you are creating a rule. If you are modifying a rule,
 *   you can omit this parameter if you set UseExistingClientSecret to true" (API_AuthenticateOidcActionConfig).
 *
 * Error codes: a target group that does not exist is TargetGroupNotFound, an action list against the rules above
 * InvalidLoadBalancerAction ("The requested action is not valid"), both among ModifyRule's and ModifyListener's
 * documented errors; a value outside a documented range is ValidationError, the code ELB answers for input constraints
 * (e.g. "You cannot specify multiple target groups in a single action with a load balancer of type 'network' … Error
 * Code: ValidationError", aws-cloudformation/cloudformation-coverage-roadmap#385). [unverified: which code AWS picks for
 * each case below; the messages are ours and name the offending values.] The SDK names a modelled error
 * `<Code>Exception` (RuleNotFound reaches the caller as RuleNotFoundException); ValidationError is not modelled and keeps
 * its code as its name.
 */
import type { Action } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SimulatedAwsError } from './aws-error';

/** Target Groups per Action per Application Load Balancer (application/load-balancer-limits.html). */
export const MAX_TARGET_GROUPS_PER_ACTION = 5;
/** TargetGroupTuple Weight: "The range is 0 to 999". */
export const MAX_WEIGHT = 999;
const ROUTING_ACTIONS = ['forward', 'redirect', 'fixed-response'];

/** A target group of a forward action and the weight requests are distributed by. */
export interface WeightedTargetGroup {
  targetGroupArn: string;
  weight: number;
}

const invalid = (message: string) => new SimulatedAwsError('ValidationError', message);

/** The actions in the order ELB performs them (lowest Order first; a single action needs none). */
export function inOrder(actions: readonly Action[]): Action[] {
  return [...actions].sort((a, b) => (a.Order ?? 0) - (b.Order ?? 0));
}

/** Throws as ELB refuses `actions` (a rule's, or a listener's default actions). */
export function checkActions(actions: readonly Action[] | undefined, targetGroupExists: (arn: string) => boolean): void {
  if (!actions || actions.length === 0) throw invalid('At least one action is required');
  if (actions.length > 1) {
    const unordered = actions.filter((a) => a.Order === undefined).map((a) => a.Type);
    if (unordered.length > 0)
      throw invalid(`Order is required for every action of a rule with several actions; missing on: ${unordered.join(', ')}`);
  }
  const badOrder = actions.find((a) => a.Order !== undefined && (!Number.isInteger(a.Order) || a.Order < 1 || a.Order > 50000));
  if (badOrder) throw invalid(`Order ${badOrder.Order} of the ${badOrder.Type} action is outside 1–50000`);
  const ordered = inOrder(actions);
  const routing = ordered.filter((a) => ROUTING_ACTIONS.includes(a.Type ?? ''));
  if (routing.length !== 1 || ordered[ordered.length - 1] !== routing[0]) {
    throw new SimulatedAwsError(
      'InvalidLoadBalancerActionException',
      `A rule needs exactly one forward, redirect or fixed-response action, performed last; got ${ordered.map((a) => a.Type).join(', ')}`,
    );
  }
  for (const action of actions) {
    if (action.Type === 'forward') checkForward(action, targetGroupExists);
    if (action.Type === 'authenticate-oidc') checkOidc(action);
  }
}

function checkForward(action: Action, targetGroupExists: (arn: string) => boolean): void {
  const tuples = action.ForwardConfig?.TargetGroups ?? [];
  const named = tuples.map((t) => t.TargetGroupArn ?? '');
  if (!action.TargetGroupArn && tuples.length === 0)
    throw invalid('A forward action must name a target group: TargetGroupArn or ForwardConfig.TargetGroups');
  if (action.TargetGroupArn && tuples.length > 0 && (tuples.length !== 1 || named[0] !== action.TargetGroupArn)) {
    throw invalid(
      `TargetGroupArn ${action.TargetGroupArn} and ForwardConfig [${named.join(', ')}] disagree: with both, ForwardConfig may name only that target group`,
    );
  }
  if (tuples.length > MAX_TARGET_GROUPS_PER_ACTION) {
    throw invalid(`A forward action may name at most ${MAX_TARGET_GROUPS_PER_ACTION} target groups; got ${tuples.length}`);
  }
  const twice = named.find((arn, i) => named.indexOf(arn) !== i);
  if (twice) throw invalid(`Target group ${twice} is named twice in one forward action`);
  for (const tuple of tuples) {
    const weight = tuple.Weight;
    if (weight !== undefined && (!Number.isInteger(weight) || weight < 0 || weight > MAX_WEIGHT)) {
      throw invalid(`Weight ${weight} of target group ${tuple.TargetGroupArn} is outside 0–${MAX_WEIGHT}`);
    }
  }
  const missing = [action.TargetGroupArn, ...named].find((arn) => arn !== undefined && !targetGroupExists(arn));
  if (missing !== undefined) throw new SimulatedAwsError('TargetGroupNotFoundException', `Target groups '${missing}' not found`);
}

function checkOidc(action: Action): void {
  const config = action.AuthenticateOidcConfig;
  if (config && config.ClientSecret === undefined && config.UseExistingClientSecret !== true) {
    throw invalid(
      `The authenticate-oidc action (issuer ${config.Issuer}) needs ClientSecret, or UseExistingClientSecret true to keep the rule's`,
    );
  }
}

/**
 * `actions` as ELB keeps them: an authenticate-oidc action that asks to keep the existing client secret gets the one
 * `previous` had, and the request-only flag is not kept.
 */
export function storedActions(actions: readonly Action[], previous: readonly Action[]): Action[] {
  const previousSecret = previous.find((a) => a.Type === 'authenticate-oidc')?.AuthenticateOidcConfig?.ClientSecret;
  return structuredClone(actions as Action[]).map((action) => {
    const config = action.AuthenticateOidcConfig;
    if (!config) return action;
    const { UseExistingClientSecret, ...kept } = config;
    return { ...action, AuthenticateOidcConfig: UseExistingClientSecret ? { ...kept, ClientSecret: previousSecret } : kept };
  });
}

/**
 * `actions` as Describe* shows them. [unverified: the API reference does not say whether Describe* returns an OIDC client
 * secret; the simulation never does, which is why a modification re-sends UseExistingClientSecret.]
 */
export function describedActions(actions: readonly Action[]): Action[] {
  return structuredClone(actions as Action[]).map((action) => {
    if (!action.AuthenticateOidcConfig) return action;
    const { ClientSecret, ...shown } = action.AuthenticateOidcConfig;
    return { ...action, AuthenticateOidcConfig: shown };
  });
}

/**
 * The target groups the forward action of `actions` sends requests to, with their weights; none when the routing action
 * is not a forward. A plain `TargetGroupArn` is that group alone; a weight left out counts as 1. [unverified: the
 * Application Load Balancers guide asks for a weight on each of several target groups; we do not refuse its absence.]
 */
export function forwardWeights(actions: readonly Action[]): WeightedTargetGroup[] {
  const forward = actions.find((a) => a.Type === 'forward');
  if (!forward) return [];
  const tuples = forward.ForwardConfig?.TargetGroups ?? [];
  if (tuples.length === 0) return forward.TargetGroupArn ? [{ targetGroupArn: forward.TargetGroupArn, weight: 1 }] : [];
  return tuples.map((t) => ({ targetGroupArn: t.TargetGroupArn ?? '', weight: t.Weight ?? 1 }));
}

/** Every target group `actions` name. */
export function targetGroupsOf(actions: readonly Action[]): string[] {
  return actions
    .flatMap((a) => [a.TargetGroupArn, ...(a.ForwardConfig?.TargetGroups ?? []).map((t) => t.TargetGroupArn)])
    .filter((arn): arn is string => arn !== undefined);
}
