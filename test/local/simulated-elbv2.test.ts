/**
 * The simulated ELBv2, through the SDK commands the simulated account answers: each behaviour its header cites from the
 * Elastic Load Balancing API reference and the Application Load Balancers guide.
 */
import {
  type Action,
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTargetHealthCommand,
  ModifyListenerCommand,
  ModifyRuleCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { beforeEach, describe, expect, it } from 'vitest';
import { SimulatedAccount } from '../../local/simulated-account';
import { type GrayReleaseAlb, grayReleaseAlb, NOT_FOUND_DEFAULT, OIDC_ACTION, weightedForward } from '../fixtures/gray-release-alb';

let account: SimulatedAccount;
let alb: GrayReleaseAlb;
const send = (command: unknown) => account.elbv2.send(command);
const failureOf = (call: Promise<unknown>) =>
  call.then(
    () => null,
    (error: unknown) => error,
  );
const ruleActions = async () => (await send(new DescribeRulesCommand({ RuleArns: [alb.ruleArn] }))).Rules[0].Actions as Action[];
const forwardTo = (weights: Record<string, number>) => [
  {
    ...OIDC_ACTION,
    AuthenticateOidcConfig: { ...OIDC_ACTION.AuthenticateOidcConfig!, ClientSecret: undefined, UseExistingClientSecret: true },
  },
  weightedForward(weights),
];

beforeEach(() => {
  account = new SimulatedAccount();
  alb = grayReleaseAlb(account);
});

describe('DescribeRules', () => {
  it("describes a listener's rules by priority, its default rule last, and a rule by ARN; never an OIDC client secret", async () => {
    const { Rules } = await send(new DescribeRulesCommand({ ListenerArn: alb.listenerArn }));
    expect(Rules.map((r: { Priority: string; IsDefault: boolean }) => [r.Priority, r.IsDefault])).toEqual([
      ['10', false],
      ['default', true],
    ]);
    expect(Rules[1].Actions).toEqual([NOT_FOUND_DEFAULT]);
    const [rule] = (await send(new DescribeRulesCommand({ RuleArns: [alb.ruleArn] }))).Rules;
    expect(rule).toEqual(Rules[0]);
    expect(rule.RuleArn).toMatch(
      /^arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule\/app\/models-internal\/[0-9a-f]{16}\/[0-9a-f]{16}\/[0-9a-f]{16}$/,
    );
    expect(rule.Actions[0].AuthenticateOidcConfig).not.toHaveProperty('ClientSecret');
    expect(rule.Actions[1]).toEqual(weightedForward({ [alb.stable]: 100, [alb.canary]: 0 }));
  });

  it('answers RuleNotFound (RuleNotFoundException to the SDK) for a rule it does not know, and ListenerNotFound for a listener', async () => {
    const missing = `${alb.ruleArn.slice(0, -4)}ffff`;
    expect(await failureOf(send(new DescribeRulesCommand({ RuleArns: [missing] })))).toMatchObject({
      name: 'RuleNotFoundException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
      message: expect.stringContaining(missing),
    });
    expect(await failureOf(send(new DescribeRulesCommand({ ListenerArn: `${alb.listenerArn}0` })))).toMatchObject({
      name: 'ListenerNotFoundException',
    });
  });
});

describe('ModifyRule', () => {
  it('replaces the whole action list: an action left out is gone, and absent Conditions stay', async () => {
    const { Rules } = await send(
      new ModifyRuleCommand({ RuleArn: alb.ruleArn, Actions: [{ Type: 'forward', TargetGroupArn: alb.canary }] }),
    );
    expect(Rules[0].Actions).toEqual([{ Type: 'forward', TargetGroupArn: alb.canary }]);
    expect(Rules[0].Conditions).toEqual([{ Field: 'path-pattern', PathPatternConfig: { Values: ['/sentiment/*'] } }]);
    expect(await ruleActions()).toEqual([{ Type: 'forward', TargetGroupArn: alb.canary }]);
  });

  it('shows a write in DescribeRules at once, while requests follow it only propagationSeconds later', async () => {
    const elb = account.services.elbv2;
    expect(elb.propagationSeconds).toBe(10);
    await send(new ModifyRuleCommand({ RuleArn: alb.ruleArn, Actions: forwardTo({ [alb.stable]: 95, [alb.canary]: 5 }) }));

    expect((await ruleActions())[1].ForwardConfig?.TargetGroups).toEqual([
      { TargetGroupArn: alb.stable, Weight: 95 },
      { TargetGroupArn: alb.canary, Weight: 5 },
    ]);
    expect(elb.routingWeights(alb.ruleArn)).toEqual([
      { targetGroupArn: alb.stable, weight: 100 },
      { targetGroupArn: alb.canary, weight: 0 },
    ]);
    account.advance(9);
    expect(elb.routingWeights(alb.ruleArn)[1]).toEqual({ targetGroupArn: alb.canary, weight: 0 });
    account.advance(1);
    expect(elb.routingWeights(alb.ruleArn)[1]).toEqual({ targetGroupArn: alb.canary, weight: 5 });
  });

  it('routes each of two quick writes from its own propagation, with a settable delay', async () => {
    const elb = account.services.elbv2;
    elb.propagationSeconds = 30;
    const start = account.clock();
    await send(new ModifyRuleCommand({ RuleArn: alb.ruleArn, Actions: forwardTo({ [alb.stable]: 90, [alb.canary]: 10 }) }));
    account.advance(20);
    await send(new ModifyRuleCommand({ RuleArn: alb.ruleArn, Actions: forwardTo({ [alb.stable]: 70, [alb.canary]: 30 }) }));
    const canaryAt = (seconds: number) => elb.routingWeights(alb.ruleArn, new Date(start.getTime() + seconds * 1000))[1].weight;
    expect([canaryAt(29), canaryAt(30), canaryAt(49), canaryAt(50)]).toEqual([0, 10, 10, 30]);
  });

  it('routes a plain TargetGroupArn forward to that group alone', async () => {
    await send(new ModifyRuleCommand({ RuleArn: alb.ruleArn, Actions: [{ Type: 'forward', TargetGroupArn: alb.stable }] }));
    account.advance(10);
    expect(account.services.elbv2.routingWeights(alb.ruleArn)).toEqual([{ targetGroupArn: alb.stable, weight: 1 }]);
  });

  it('refuses the default rule: its actions change through ModifyListener', async () => {
    const [, defaultRule] = (await send(new DescribeRulesCommand({ ListenerArn: alb.listenerArn }))).Rules;
    expect(await failureOf(send(new ModifyRuleCommand({ RuleArn: defaultRule.RuleArn, Actions: [NOT_FOUND_DEFAULT] })))).toMatchObject({
      name: 'OperationNotPermittedException',
      message: `Default rule '${alb.listenerArn}' cannot be modified`,
    });
  });

  it('answers RuleNotFound for a rule it does not know', async () => {
    const missing = `${alb.listenerArn.replace(':listener/', ':listener-rule/')}/0123456789abcdef`;
    expect(await failureOf(send(new ModifyRuleCommand({ RuleArn: missing, Actions: [NOT_FOUND_DEFAULT] })))).toMatchObject({
      name: 'RuleNotFoundException',
      message: expect.stringContaining(missing),
    });
  });

  it('keeps the OIDC client secret only when asked to (UseExistingClientSecret), as a modification may', async () => {
    const withoutSecret = { ...OIDC_ACTION, AuthenticateOidcConfig: { ...OIDC_ACTION.AuthenticateOidcConfig!, ClientSecret: undefined } };
    const refused = await failureOf(
      send(new ModifyRuleCommand({ RuleArn: alb.ruleArn, Actions: [withoutSecret, weightedForward({ [alb.stable]: 100 })] })),
    );
    expect(refused).toMatchObject({ name: 'ValidationError', message: expect.stringContaining('UseExistingClientSecret') });
    await send(new ModifyRuleCommand({ RuleArn: alb.ruleArn, Actions: forwardTo({ [alb.stable]: 100 }) }));
    expect((await ruleActions())[0]).toEqual({
      ...OIDC_ACTION,
      AuthenticateOidcConfig: { ...OIDC_ACTION.AuthenticateOidcConfig, ClientSecret: undefined },
    });
  });
});

describe('what ModifyRule and ModifyListener refuse (and leave the rule as it was)', () => {
  const tooMany = () =>
    Object.fromEntries(Array.from({ length: 6 }, (_, i) => [account.services.elbv2.addTargetGroup(`tg-${i}`, { port: 80 }), 1]));

  it.each([
    [
      'a weight above 999',
      () => weightedForward({ [alb.stable]: 1000, [alb.canary]: 0 }),
      'ValidationError',
      /Weight 1000 of target group .*sentiment-stable.* outside 0–999/,
    ],
    ['a negative weight', () => weightedForward({ [alb.stable]: 100, [alb.canary]: -1 }), 'ValidationError', /Weight -1 /],
    ['a fractional weight', () => weightedForward({ [alb.stable]: 99.5, [alb.canary]: 0.5 }), 'ValidationError', /Weight 99.5 /],
    ['six target groups', () => weightedForward(tooMany()), 'ValidationError', /at most 5 target groups; got 6/],
    [
      'an unknown target group',
      () => weightedForward({ [`${alb.canary}0`]: 1 }),
      'TargetGroupNotFoundException',
      /sentiment-canary\/[0-9a-f]{16}0'/,
    ],
    [
      'TargetGroupArn and a ForwardConfig naming other groups',
      () => ({ ...weightedForward({ [alb.stable]: 1, [alb.canary]: 1 }), TargetGroupArn: alb.stable }),
      'ValidationError',
      /TargetGroupArn .*sentiment-stable.* and ForwardConfig \[.*sentiment-stable.*, .*sentiment-canary.*\] disagree/,
    ],
    ['a forward action naming no target group', () => ({ Type: 'forward', Order: 2 }), 'ValidationError', /must name a target group/],
  ] as const)('%s', async (_, forward, name, message) => {
    const before = await ruleActions();
    const error = await failureOf(send(new ModifyRuleCommand({ RuleArn: alb.ruleArn, Actions: [OIDC_ACTION, forward() as Action] })));
    expect(error).toMatchObject({ name, $fault: 'client', message: expect.stringMatching(message) });
    expect(await ruleActions()).toEqual(before);
  });

  it('a routing action that is not performed last, or two of them', async () => {
    const last = { ...OIDC_ACTION, Order: 3 };
    const twoRouting = [weightedForward({ [alb.stable]: 1 }, 1), { ...NOT_FOUND_DEFAULT, Order: 2 }];
    for (const actions of [[weightedForward({ [alb.stable]: 1 }), last], twoRouting]) {
      expect(await failureOf(send(new ModifyRuleCommand({ RuleArn: alb.ruleArn, Actions: actions })))).toMatchObject({
        name: 'InvalidLoadBalancerActionException',
        message: expect.stringMatching(/exactly one forward, redirect or fixed-response action, performed last; got /),
      });
    }
  });

  it('several actions without an Order', async () => {
    const { Order, ...unordered } = weightedForward({ [alb.stable]: 1 });
    expect(await failureOf(send(new ModifyRuleCommand({ RuleArn: alb.ruleArn, Actions: [OIDC_ACTION, unordered] })))).toMatchObject({
      name: 'ValidationError',
      message: 'Order is required for every action of a rule with several actions; missing on: forward',
    });
  });

  it('the same refusals from ModifyListener', async () => {
    const error = await failureOf(
      send(new ModifyListenerCommand({ ListenerArn: alb.listenerArn, DefaultActions: [weightedForward({ [alb.stable]: 1000 }, 1)] })),
    );
    expect(error).toMatchObject({ name: 'ValidationError', message: expect.stringContaining('Weight 1000') });
  });
});

describe('DescribeListeners and ModifyListener', () => {
  it('describe a listener by ARN or by load balancer, and replace its default actions, routed after the propagation delay', async () => {
    const byArn = (await send(new DescribeListenersCommand({ ListenerArns: [alb.listenerArn] }))).Listeners;
    expect(byArn).toEqual([
      {
        ListenerArn: alb.listenerArn,
        LoadBalancerArn: alb.loadBalancerArn,
        Port: 443,
        Protocol: 'HTTPS',
        DefaultActions: [NOT_FOUND_DEFAULT],
      },
    ]);
    expect((await send(new DescribeListenersCommand({ LoadBalancerArn: alb.loadBalancerArn }))).Listeners).toEqual(byArn);

    const forward = weightedForward({ [alb.stable]: 80, [alb.canary]: 20 }, 1);
    const { Listeners } = await send(new ModifyListenerCommand({ ListenerArn: alb.listenerArn, DefaultActions: [forward] }));
    expect(Listeners[0].DefaultActions).toEqual([forward]);
    expect(account.services.elbv2.routingWeights(alb.listenerArn)).toEqual([]);
    account.advance(10);
    expect(account.services.elbv2.routingWeights(alb.listenerArn)).toEqual([
      { targetGroupArn: alb.stable, weight: 80 },
      { targetGroupArn: alb.canary, weight: 20 },
    ]);
  });

  it('answers ListenerNotFound for a listener it does not know', async () => {
    const missing = `${alb.listenerArn.slice(0, -1)}0`;
    for (const call of [
      send(new DescribeListenersCommand({ ListenerArns: [missing] })),
      send(new ModifyListenerCommand({ ListenerArn: missing, DefaultActions: [NOT_FOUND_DEFAULT] })),
    ]) {
      expect(await failureOf(call)).toMatchObject({ name: 'ListenerNotFoundException', message: expect.stringContaining(missing) });
    }
  });
});

describe('DescribeTargetHealth', () => {
  const health = async (targetGroupArn: string, Targets?: { Id: string; Port?: number }[]) =>
    (await send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn, Targets }))).TargetHealthDescriptions;

  it('reports ip targets by IP and port, initial while registering, healthy with no reason', async () => {
    const elb = account.services.elbv2;
    elb.registerTargets(alb.canary, [{ id: '10.0.1.17' }, { id: '10.0.2.31', port: 9000 }]);
    expect(await health(alb.canary)).toEqual([
      {
        Target: { Id: '10.0.1.17', Port: 8080 },
        HealthCheckPort: '8080',
        TargetHealth: { State: 'initial', Reason: 'Elb.RegistrationInProgress', Description: 'Target registration is in progress' },
      },
      expect.objectContaining({ Target: { Id: '10.0.2.31', Port: 9000 } }),
    ]);
    elb.setTargetHealth(alb.canary, { id: '10.0.1.17' }, { state: 'healthy', reason: 'ignored' });
    elb.setTargetHealth(alb.canary, { id: '10.0.2.31', port: 9000 }, { state: 'unhealthy', reason: 'Target.Timeout' });
    expect((await health(alb.canary)).map((d: any) => d.TargetHealth)).toEqual([
      { State: 'healthy' },
      { State: 'unhealthy', Reason: 'Target.Timeout' },
    ]);
  });

  it('reports a target asked for but not registered as unused (Target.NotRegistered), and one of a group no listener uses as unused (Target.NotInUse)', async () => {
    const elb = account.services.elbv2;
    expect((await health(alb.canary, [{ Id: '10.0.9.9' }]))[0].TargetHealth).toMatchObject({
      State: 'unused',
      Reason: 'Target.NotRegistered',
    });
    elb.registerTargets(alb.other, [{ id: '10.0.3.3' }], { state: 'healthy' });
    expect((await health(alb.other))[0].TargetHealth).toMatchObject({ State: 'unused', Reason: 'Target.NotInUse' });
  });

  it('drains a deregistered target for the deregistration delay (300 s by default), then forgets it', async () => {
    const elb = account.services.elbv2;
    elb.registerTargets(alb.canary, [{ id: '10.0.1.17' }], { state: 'healthy' });
    elb.deregisterTargets(alb.canary, [{ id: '10.0.1.17' }]);
    account.advance(299);
    expect((await health(alb.canary))[0].TargetHealth).toMatchObject({ State: 'draining', Reason: 'Target.DeregistrationInProgress' });
    account.advance(1);
    expect(await health(alb.canary)).toEqual([]);
  });

  it('answers TargetGroupNotFound for a target group it does not know', async () => {
    expect(await failureOf(health(`${alb.canary}0`))).toMatchObject({ name: 'TargetGroupNotFoundException' });
  });
});

describe('through the simulated account', () => {
  it('records the calls, and injects failures into them like any other command', async () => {
    account.failNext('ModifyRule', 'ThrottlingException');
    const error = await failureOf(send(new ModifyRuleCommand({ RuleArn: alb.ruleArn, Actions: forwardTo({ [alb.stable]: 100 }) })));
    expect(error).toMatchObject({ name: 'ThrottlingException', $retryable: { throttling: true } });
    expect(await ruleActions()).toEqual([
      { ...OIDC_ACTION, AuthenticateOidcConfig: { ...OIDC_ACTION.AuthenticateOidcConfig, ClientSecret: undefined } },
      weightedForward({ [alb.stable]: 100, [alb.canary]: 0 }),
    ]);

    account.failNext('ModifyRule', { error: 'TimeoutError', applied: true });
    await expect(
      send(new ModifyRuleCommand({ RuleArn: alb.ruleArn, Actions: forwardTo({ [alb.stable]: 50, [alb.canary]: 50 }) })),
    ).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    expect((await ruleActions())[1].ForwardConfig?.TargetGroups?.[1]).toEqual({ TargetGroupArn: alb.canary, Weight: 50 });
    expect(account.calls.map((c) => c.command)).toEqual(['ModifyRule', 'DescribeRules', 'ModifyRule', 'DescribeRules']);
  });
});
