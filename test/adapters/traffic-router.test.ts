/**
 * The traffic router against the simulated account's ELB: it reads and writes the weights of the route's forward action
 * and nothing else, through a listener rule or a listener's default action, reads a rule changed outside the pipeline
 * as what it routes, and needs only ModifyRule on its own rule.
 */
import { type Action, DescribeRulesCommand, ModifyRuleCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { beforeEach, describe, expect, it } from 'vitest';
import { TrafficRouter } from '../../lambdas/adapters/traffic-router';
import type { TrafficRoute } from '../../lambdas/contract/release-strategy';
import { InvalidInputError, NoForwardActionError, TransientAwsError } from '../../lambdas/errors';
import { authorizing, type IamWorld } from '../../local/iam/authorize';
import type { AccountPolicies, PrincipalName, RolePrincipal } from '../../local/iam/policies';
import { SimulatedAccount } from '../../local/simulated-account';
import { type GrayReleaseAlb, grayReleaseAlb, NOT_FOUND_DEFAULT, OIDC_ACTION, weightedForward } from '../fixtures/gray-release-alb';

let account: SimulatedAccount;
let alb: GrayReleaseAlb;
let router: TrafficRouter;
let rule: TrafficRoute;
let groups: { stableTargetGroupArn: string; canaryTargetGroupArn: string };

beforeEach(() => {
  account = new SimulatedAccount();
  alb = grayReleaseAlb(account);
  router = new TrafficRouter(account.elbv2 as never);
  rule = { kind: 'listener-rule', arn: alb.ruleArn };
  groups = { stableTargetGroupArn: alb.stable, canaryTargetGroupArn: alb.canary };
});

const describedRule = async (arn = alb.ruleArn) => (await account.elbv2.send(new DescribeRulesCommand({ RuleArns: [arn] }))).Rules[0];
/** Someone else's ModifyRule (a `cdk deploy`, a console edit): drift. */
const externalModifyRule = (Actions: Action[]) => account.elbv2.send(new ModifyRuleCommand({ RuleArn: alb.ruleArn, Actions }));
const failureOf = (call: Promise<unknown>) =>
  call.then(
    () => null,
    (error: unknown) => error,
  );
const { ClientSecret, ...describedOidcConfig } = OIDC_ACTION.AuthenticateOidcConfig!;
/** The OIDC action as Describe* show it: without its client secret. */
const describedOidc: Action = { ...OIDC_ACTION, AuthenticateOidcConfig: describedOidcConfig };

describe('TrafficRouter.readWeights', () => {
  it('reads the forward action of a rule at rest: all to stable, and its target group stickiness', async () => {
    // The fixture's forward action keeps a client on its target group for 300 s.
    await expect(router.readWeights(rule, groups)).resolves.toEqual({
      stable: 100,
      canary: 0,
      otherTargetGroups: [],
      stickinessSeconds: 300,
    });
  });

  it('reads a drifted rule as what it routes: an extra target group named, the canary missing at 0', async () => {
    await externalModifyRule([describedOidc, weightedForward({ [alb.stable]: 70, [alb.other]: 30 })].map(withExistingSecret));
    await expect(router.readWeights(rule, groups)).resolves.toEqual({
      stable: 70,
      canary: 0,
      otherTargetGroups: [alb.other],
      stickinessSeconds: 300,
    });
  });

  it('reads shares of the weights, not rounded, whatever they add up to', async () => {
    await externalModifyRule([withExistingSecret(describedOidc), weightedForward({ [alb.stable]: 999, [alb.canary]: 1 })]);
    await expect(router.readWeights(rule, groups)).resolves.toMatchObject({ stable: 99.9, canary: 0.1 });
    await externalModifyRule([withExistingSecret(describedOidc), weightedForward({ [alb.stable]: 1, [alb.canary]: 1 })]);
    await expect(router.readWeights(rule, groups)).resolves.toMatchObject({ stable: 50, canary: 50 });
  });

  it('reads a plain TargetGroupArn forward as all requests to that group', async () => {
    await externalModifyRule([{ Type: 'forward', TargetGroupArn: alb.stable }]);
    await expect(router.readWeights(rule, groups)).resolves.toEqual({ stable: 100, canary: 0, otherTargetGroups: [] });
  });

  it('names a route without a forward action (a fixed response) as NoForwardActionError', async () => {
    await externalModifyRule([NOT_FOUND_DEFAULT]);
    const error = await failureOf(router.readWeights(rule, groups));
    expect(error).toBeInstanceOf(NoForwardActionError);
    expect(error).toMatchObject({
      name: 'NoForwardActionError',
      message: expect.stringMatching(/listener rule .* has no forward action \(fixed-response\)/),
    });
  });
});

describe('TrafficRouter.writeWeights', () => {
  it('changes only the weights of the forward action: the OIDC action, the conditions, Order and stickiness stay', async () => {
    const before = await describedRule();

    await router.writeWeights(rule, groups, { stable: 95, canary: 5 });

    const after = await describedRule();
    expect(after).toEqual({ ...before, Actions: [before.Actions[0], weightedForward({ [alb.stable]: 95, [alb.canary]: 5 })] });
    // The OIDC action went back with UseExistingClientSecret: Describe* never give its secret.
    const modify = account.calls.find((c) => c.command === 'ModifyRule')?.input as { Actions: Action[] };
    expect(modify.Actions[0].AuthenticateOidcConfig).toMatchObject({ UseExistingClientSecret: true });
    expect(account.calls.map((c) => c.command)).toEqual(['DescribeRules', 'DescribeRules', 'ModifyRule', 'DescribeRules']);
  });

  it('is read back at once, while requests follow after the propagation delay', async () => {
    await router.writeWeights(rule, groups, { stable: 70, canary: 30 });
    await expect(router.readWeights(rule, groups)).resolves.toMatchObject({ stable: 70, canary: 30, otherTargetGroups: [] });
    expect(account.services.elbv2.routingWeights(alb.ruleArn)[1]).toEqual({ targetGroupArn: alb.canary, weight: 0 });
    account.advance(account.services.elbv2.propagationSeconds);
    expect(account.services.elbv2.routingWeights(alb.ruleArn)[1]).toEqual({ targetGroupArn: alb.canary, weight: 30 });
  });

  it('writes exactly the two groups: an extra one from a drifted rule gets no more requests, a missing canary is added', async () => {
    await externalModifyRule([withExistingSecret(describedOidc), weightedForward({ [alb.stable]: 70, [alb.other]: 30 })]);
    await router.writeWeights(rule, groups, { stable: 100, canary: 0 });
    await expect(router.readWeights(rule, groups)).resolves.toMatchObject({ stable: 100, canary: 0, otherTargetGroups: [] });
  });

  it('turns a plain TargetGroupArn forward into a weighted one (ForwardConfig alone may name two groups)', async () => {
    await externalModifyRule([{ Type: 'forward', TargetGroupArn: alb.stable }]);
    await router.writeWeights(rule, groups, { stable: 90, canary: 10 });
    expect((await describedRule()).Actions).toEqual([
      {
        Type: 'forward',
        ForwardConfig: {
          TargetGroups: [
            { TargetGroupArn: alb.stable, Weight: 90 },
            { TargetGroupArn: alb.canary, Weight: 10 },
          ],
        },
      },
    ]);
  });

  it("writes a listener's default action with ModifyListener, which ModifyRule cannot change", async () => {
    const listenerArn = account.services.elbv2.addListener(alb.loadBalancerArn, {
      port: 8443,
      defaultActions: [{ Type: 'forward', TargetGroupArn: alb.stable }],
    });
    const route: TrafficRoute = { kind: 'listener-default-action', arn: listenerArn };
    account.calls.length = 0;

    await router.writeWeights(route, groups, { stable: 60, canary: 40 });

    expect(account.calls.map((c) => c.command)).toEqual(['DescribeListeners', 'ModifyListener']);
    expect(account.calls[1].input).toEqual({
      ListenerArn: listenerArn,
      DefaultActions: [
        {
          Type: 'forward',
          ForwardConfig: {
            TargetGroups: [
              { TargetGroupArn: alb.stable, Weight: 60 },
              { TargetGroupArn: alb.canary, Weight: 40 },
            ],
          },
        },
      ],
    });
    await expect(router.readWeights(route, groups)).resolves.toEqual({ stable: 60, canary: 40, otherTargetGroups: [] });
  });

  it.each([
    [{ stable: 95, canary: 4 }, /stable 95 \/ canary 4 are not whole percents that add up to 100/],
    [{ stable: 97.5, canary: 2.5 }, /stable 97.5 \/ canary 2.5/],
    [{ stable: 101, canary: -1 }, /stable 101 \/ canary -1/],
  ])('refuses %o before any call', async (weights, message) => {
    await expect(router.writeWeights(rule, groups, weights)).rejects.toThrow(message);
    await expect(router.writeWeights(rule, groups, weights)).rejects.toBeInstanceOf(InvalidInputError);
    expect(account.calls).toEqual([]);
  });

  it('names a route without a forward action, and writes nothing', async () => {
    await externalModifyRule([NOT_FOUND_DEFAULT]);
    await expect(router.writeWeights(rule, groups, { stable: 100, canary: 0 })).rejects.toBeInstanceOf(NoForwardActionError);
    expect((await describedRule()).Actions).toEqual([NOT_FOUND_DEFAULT]);
  });
});

describe('AWS failures', () => {
  it("lets ELB's own errors through unchanged (RuleNotFoundException), and makes throttling a TransientAwsError", async () => {
    const gone: TrafficRoute = { kind: 'listener-rule', arn: `${alb.ruleArn.slice(0, -1)}0` };
    await expect(router.readWeights(gone, groups)).rejects.toMatchObject({ name: 'RuleNotFoundException' });
    account.failNext('ModifyRule', 'ThrottlingException');
    const error = await failureOf(router.writeWeights(rule, groups, { stable: 90, canary: 10 }));
    expect(error).toBeInstanceOf(TransientAwsError);
    expect((error as Error).message).toMatch(/^ModifyRule failed: ThrottlingException/);
  });
});

describe('TrafficRouter.canaryTargets', () => {
  it('lists the target group’s targets by IP and port, with their health', async () => {
    const elb = account.services.elbv2;
    elb.registerTargets(alb.canary, [{ id: '10.0.1.17' }, { id: '10.0.2.31' }]);
    elb.setTargetHealth(alb.canary, { id: '10.0.1.17' }, { state: 'healthy' });
    await expect(router.canaryTargets(alb.canary)).resolves.toEqual([
      { id: '10.0.1.17', port: 8080, state: 'healthy' },
      { id: '10.0.2.31', port: 8080, state: 'initial' },
    ]);
  });
});

describe('under IAM: ModifyRule granted on the release’s rule only', () => {
  const SHIFT_TRAFFIC = 'shift-traffic' as PrincipalName;
  const SESSION = 'arn:aws:sts::123456789012:assumed-role/ShiftTrafficRole/ShiftTraffic';

  function world(statements: Record<string, unknown>[]): IamWorld {
    const principal: RolePrincipal = {
      name: SHIFT_TRAFFIC,
      roleArn: 'arn:aws:iam::123456789012:role/ShiftTrafficRole',
      sessionArn: SESSION,
      identityPolicies: [{ name: 'ShiftTrafficPolicy', policy: { Version: '2012-10-17', Statement: statements } }],
    };
    const iam = {
      env: { account: account.account, region: account.region, partition: 'aws' },
      principals: { [SHIFT_TRAFFIC]: principal },
      keyPolicies: new Map(),
      functionPolicies: new Map(),
      busPolicies: new Map(),
      endpointPolicies: new Map(),
      functionArns: {},
      ledger: { tableArn: '', keyArn: '' },
    } as unknown as AccountPolicies;
    return { pipeline: { iam }, account, ledgerTable: { documentClient: account.ecs as never, tableName: 'unused' } };
  }
  const policy = () => [
    { Effect: 'Allow', Action: 'elasticloadbalancing:ModifyRule', Resource: alb.ruleArn },
    {
      Effect: 'Allow',
      Action: ['elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeListeners', 'elasticloadbalancing:DescribeTargetHealth'],
      Resource: '*',
    },
  ];

  it('moves the release’s rule, and is refused (AccessDenied, 403) on another service’s rule, which stays as it was', async () => {
    const otherRule = account.services.elbv2.addRule(alb.listenerArn, {
      priority: 20,
      actions: [weightedForward({ [alb.other]: 100 }, 1)],
    });
    const asShiftTraffic = new TrafficRouter(authorizing(world(policy()), SHIFT_TRAFFIC, account.elbv2) as never);

    await asShiftTraffic.writeWeights(rule, groups, { stable: 95, canary: 5 });
    await expect(asShiftTraffic.readWeights(rule, groups)).resolves.toMatchObject({ stable: 95, canary: 5 });

    const refused = await failureOf(
      asShiftTraffic.writeWeights({ kind: 'listener-rule', arn: otherRule }, groups, { stable: 100, canary: 0 }),
    );
    expect(refused).toMatchObject({
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
      message: `User: ${SESSION} is not authorized to perform: elasticloadbalancing:ModifyRule on resource: ${otherRule} because no identity-based policy allows the elasticloadbalancing:ModifyRule action`,
    });
    expect((await describedRule(otherRule)).Actions).toEqual([weightedForward({ [alb.other]: 100 }, 1)]);
  });

  it("is refused ModifyListener on the listener's default action it was not granted", async () => {
    const asShiftTraffic = new TrafficRouter(authorizing(world(policy()), SHIFT_TRAFFIC, account.elbv2) as never);
    const listenerArn = account.services.elbv2.addListener(alb.loadBalancerArn, {
      port: 8443,
      defaultActions: [{ Type: 'forward', TargetGroupArn: alb.stable }],
    });
    const route: TrafficRoute = { kind: 'listener-default-action', arn: listenerArn };
    await expect(asShiftTraffic.writeWeights(route, groups, { stable: 100, canary: 0 })).rejects.toMatchObject({
      name: 'AccessDenied',
      message: expect.stringContaining(`elasticloadbalancing:ModifyListener on resource: ${listenerArn}`),
    });
  });
});

/** An OIDC action as a modification re-sends it without its secret. */
function withExistingSecret(action: Action): Action {
  if (!action.AuthenticateOidcConfig) return action;
  return { ...action, AuthenticateOidcConfig: { ...action.AuthenticateOidcConfig, UseExistingClientSecret: true } };
}
