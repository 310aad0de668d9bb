/**
 * The simulated ELB set up at the ARNs a configuration names: it answers for exactly those ARNs, and refuses an ARN that
 * is malformed, elsewhere, already taken, or under a load balancer or listener it does not hold, naming the value.
 */
import { DescribeListenersCommand, DescribeRulesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { beforeEach, describe, expect, it } from 'vitest';
import { SimulatedAccount } from '../../local/simulated-account';
import type { SimulatedElbv2 } from '../../local/simulated/elbv2';
import { NOT_FOUND_DEFAULT, weightedForward } from '../fixtures/gray-release-alb';

const ELB = 'arn:aws:elasticloadbalancing:us-east-1:123456789012';
const LOAD_BALANCER = `${ELB}:loadbalancer/app/models-internal/5d1e2f3a4b5c6d7e`;
const LISTENER = `${ELB}:listener/app/models-internal/5d1e2f3a4b5c6d7e/8a9b0c1d2e3f4a5b`;
const RULE = `${ELB}:listener-rule/app/models-internal/5d1e2f3a4b5c6d7e/8a9b0c1d2e3f4a5b/1c2d3e4f5a6b7c8d`;
const STABLE = `${ELB}:targetgroup/sentiment-stable/2b3c4d5e6f7a8b9c`;
const CANARY = `${ELB}:targetgroup/sentiment-canary/3c4d5e6f7a8b9c0d`;

let account: SimulatedAccount;
let elb: SimulatedElbv2;
const rule = { priority: 10, actions: [weightedForward({ [STABLE]: 100, [CANARY]: 0 }, 1)] };

beforeEach(() => {
  account = new SimulatedAccount();
  elb = account.services.elbv2;
});

function setUp(): void {
  elb.addLoadBalancerAt(LOAD_BALANCER);
  elb.addTargetGroupAt(STABLE, { port: 8080 });
  elb.addTargetGroupAt(CANARY, { port: 8080 });
  elb.addListenerAt(LISTENER, { port: 443, protocol: 'HTTPS', defaultActions: [NOT_FOUND_DEFAULT] });
  elb.addRuleAt(RULE, rule);
}

describe('a load balancer, listener, rule and target groups at given ARNs', () => {
  it('answers DescribeRules and DescribeListeners for exactly those ARNs, and routes by the rule', async () => {
    setUp();
    const { Rules } = await account.elbv2.send(new DescribeRulesCommand({ ListenerArn: LISTENER }));
    expect(Rules.map((r: { RuleArn: string }) => r.RuleArn)).toEqual([RULE, expect.stringMatching(/^arn:.*:listener-rule\/app\//)]);
    // The default rule lives under the given listener.
    expect(Rules[1].RuleArn.startsWith(`${LISTENER.replace(':listener/', ':listener-rule/')}/`)).toBe(true);
    const { Listeners } = await account.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: LOAD_BALANCER }));
    expect(Listeners).toEqual([expect.objectContaining({ ListenerArn: LISTENER, LoadBalancerArn: LOAD_BALANCER, Port: 443 })]);
    expect(elb.routingWeights(RULE)).toEqual([
      { targetGroupArn: STABLE, weight: 100 },
      { targetGroupArn: CANARY, weight: 0 },
    ]);
  });

  it('keeps the generated ARNs working beside them', () => {
    setUp();
    const other = elb.addTargetGroup('summarizer', { port: 8080 });
    expect(other).toMatch(/^arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup\/summarizer\/[0-9a-f]{16}$/);
    const listener = elb.addListener(LOAD_BALANCER, { port: 8443, defaultActions: [{ Type: 'forward', TargetGroupArn: other }] });
    expect(listener).toMatch(new RegExp(`^${ELB}:listener/app/models-internal/5d1e2f3a4b5c6d7e/[0-9a-f]{16}$`));
  });
});

describe('refused ARNs, each named in the error', () => {
  it.each([
    [
      'a listener ARN given as a load balancer',
      () => elb.addLoadBalancerAt(LISTENER),
      /"arn:.*listener\/app\/.*" is not an Application Load Balancer's ARN/,
    ],
    [
      'a Network Load Balancer',
      () => elb.addLoadBalancerAt(`${ELB}:loadbalancer/net/models-internal/5d1e2f3a4b5c6d7e`),
      /loadbalancer\/net\/models-internal\/5d1e2f3a4b5c6d7e" is not an Application Load Balancer's ARN/,
    ],
    [
      'an ID that is not hexadecimal',
      () => elb.addTargetGroupAt(`${ELB}:targetgroup/sentiment-stable/2b3c4d5e6f7a8bXY`, { port: 8080 }),
      /targetgroup\/sentiment-stable\/2b3c4d5e6f7a8bXY" is not a target group's ARN \(arn:aws:elasticloadbalancing:<region>:<account>:targetgroup\/<name>\/<id>\)/,
    ],
    [
      'a name ending with a hyphen',
      () => elb.addTargetGroupAt(`${ELB}:targetgroup/sentiment-/2b3c4d5e6f7a8b9c`, { port: 8080 }),
      /targetgroup\/sentiment-\/2b3c4d5e6f7a8b9c" is not a target group's ARN/,
    ],
    [
      'another region',
      () => elb.addLoadBalancerAt(LOAD_BALANCER.replace('us-east-1', 'eu-west-1')),
      /is in eu-west-1 of account 123456789012, not in the simulated us-east-1 of 123456789012/,
    ],
    [
      'another account',
      () => elb.addTargetGroupAt(STABLE.replace('123456789012', '210987654321'), { port: 8080 }),
      /is in us-east-1 of account 210987654321, not in the simulated us-east-1 of 123456789012/,
    ],
    [
      'a load balancer named internal-…',
      () => elb.addLoadBalancerAt(`${ELB}:loadbalancer/app/internal-models/5d1e2f3a4b5c6d7e`),
      /names the load balancer "internal-models", and a load balancer's name must not begin with internal-/,
    ],
  ])('%s', (_, add, message) => {
    expect(add).toThrow(message);
  });

  it('a listener whose load balancer does not exist, and a rule whose listener does not', () => {
    elb.addTargetGroupAt(STABLE, { port: 8080 });
    elb.addTargetGroupAt(CANARY, { port: 8080 });
    expect(() => elb.addListenerAt(LISTENER, { port: 443, defaultActions: [NOT_FOUND_DEFAULT] })).toThrow(
      `simulated ELB: listener "${LISTENER}" belongs to the load balancer ${LOAD_BALANCER}, which does not exist: add it first`,
    );
    elb.addLoadBalancerAt(LOAD_BALANCER);
    expect(() => elb.addRuleAt(RULE, rule)).toThrow(
      `simulated ELB: rule "${RULE}" belongs to the listener ${LISTENER}, which does not exist: add it first`,
    );
    // A rule under another load balancer's listener (same listener ID, other load balancer ID) is not under this one.
    elb.addListenerAt(LISTENER, { port: 443, defaultActions: [NOT_FOUND_DEFAULT] });
    const elsewhere = RULE.replace('5d1e2f3a4b5c6d7e', '5d1e2f3a4b5c6d7f');
    expect(() => elb.addRuleAt(elsewhere, rule)).toThrow(
      /belongs to the listener .*5d1e2f3a4b5c6d7f\/8a9b0c1d2e3f4a5b, which does not exist/,
    );
  });

  it('an ARN or a name taken already', () => {
    setUp();
    expect(() => elb.addRuleAt(RULE, rule)).toThrow(`simulated ELB: "${RULE}" exists already`);
    expect(() => elb.addTargetGroupAt(STABLE.replace('2b3c', 'ffff'), { port: 8080 })).toThrow(
      /a target group named sentiment-stable exists already/,
    );
    expect(() => elb.addLoadBalancer('models-internal')).toThrow(/a load balancer named models-internal exists already/);
  });

  it('a rule whose actions ELB would refuse, as ModifyRule refuses them', () => {
    elb.addLoadBalancerAt(LOAD_BALANCER);
    elb.addListenerAt(LISTENER, { port: 443, defaultActions: [NOT_FOUND_DEFAULT] });
    expect(() => elb.addRuleAt(RULE, rule)).toThrow(expect.objectContaining({ name: 'TargetGroupNotFoundException' }));
  });
});
