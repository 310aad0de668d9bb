/**
 * One analysis of a gray release's step with the real adapters on the simulated account: the rule's weights written by
 * the traffic router, requests split by the weights the load balancer routes by, the canary service in ECS, the ALB
 * metrics and alarms in CloudWatch. What the scripted test cannot show: that the pieces fit.
 */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AlarmMonitor } from '../../lambdas/adapters/alarm-monitor';
import { DeploymentTarget } from '../../lambdas/adapters/deployment-target';
import { TargetGroupMetrics } from '../../lambdas/adapters/target-group-metrics';
import { TrafficRouter } from '../../lambdas/adapters/traffic-router';
import type { GrayRelease } from '../../lambdas/contract/release-strategy';
import { logger } from '../../lambdas/shared/logger';
import { createAnalyseStepHandler } from '../../lambdas/steps/analyse-step';
import { SimulatedAccount } from '../../local/simulated-account';
import { grayRelease, sentimentService } from '../fixtures/catalog';
import { analyseStepInput } from '../fixtures/analyse-step-input';
import { grayReleaseAlb } from '../fixtures/gray-release-alb';

beforeAll(() => logger.setLogLevel('SILENT'));

const T0 = new Date('2026-12-06T10:00:00.000Z');
let account: SimulatedAccount;
let gray: GrayRelease;
let canaryRevision: string;

beforeEach(async () => {
  account = new SimulatedAccount({ start: T0 });
  const alb = grayReleaseAlb(account);
  gray = {
    ...grayRelease(),
    traffic: {
      ...grayRelease().traffic,
      route: { kind: 'listener-rule', arn: alb.ruleArn },
      stableTargetGroupArn: alb.stable,
      canaryTargetGroupArn: alb.canary,
    },
    analysis: { ...grayRelease().analysis, alarms: ['sentiment-canary-5xx'] },
  };
  // The canary service runs the release on 2 tasks.
  account.createService(
    {
      cluster: 'models-prod',
      service: 'sentiment-canary',
      container: 'model',
      family: 'sentiment-task',
      desiredCount: 2,
      repositoryName: 'models/sentiment',
      alarms: ['sentiment-canary-5xx'],
    },
    { uri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/models/sentiment:v1.3.0' },
  );
  canaryRevision = account.runningImage('models-prod', 'sentiment-canary').taskDefinitionArn;
  // 30 % to the canary, written as the pipeline writes it; requests follow the weights the load balancer routes by.
  await new TrafficRouter(account.elbv2 as never).writeWeights(gray.traffic.route, gray.traffic, { stable: 70, canary: 30 });
  const traffic = account.services.albMetrics.traffic;
  traffic.addTargetGroup(alb.stable, alb.loadBalancerArn, 'v1.2.0');
  traffic.addTargetGroup(alb.canary, alb.loadBalancerArn, 'v1.3.0');
  traffic.setRequestsPerMinute(2000);
  traffic.connect({
    shareAt: (targetGroupArn, minuteStart) => {
      const routed = account.services.elbv2.routingWeights(alb.ruleArn, minuteStart);
      const total = routed.reduce((sum, g) => sum + g.weight, 0);
      return (routed.find((g) => g.targetGroupArn === targetGroupArn)?.weight ?? 0) / total;
    },
  });
  traffic.setImageBehaviour('v1.2.0', { latencyMs: { p50: 40, p99: 120 } });
});

function analyse(canaryBehaviour: Parameters<SimulatedAccount['services']['albMetrics']['traffic']['setImageBehaviour']>[1]) {
  account.services.albMetrics.traffic.setImageBehaviour('v1.3.0', canaryBehaviour);
  account.advance(20 * 60);
  const handler = createAnalyseStepHandler({
    metrics: new TargetGroupMetrics(account.cloudwatch as never),
    alarms: new AlarmMonitor(account.cloudwatch as never),
    router: new TrafficRouter(account.elbv2 as never),
    target: new DeploymentTarget(account.ecs as never),
    ledger: { listDeployments: async () => [], noteGrayProgress: async () => true },
    clock: account.clock,
  });
  // Its health alarms are analysed too: here the canary's own, which the account has.
  const service = sentimentService({ release: gray, health: { alarms: ['sentiment-canary-5xx'] } });
  return handler(analyseStepInput(service, canaryRevision));
}

describe('one analysis on the simulated account', () => {
  it('passes a canary as good as the stable version, seeing 30 % of the requests', async () => {
    const result = await analyse({ latencyMs: { p50: 45, p99: 130 } });
    expect(result).toMatchObject({ decision: 'keep-baking', analysis: { verdict: 'passed' } });
    // 5 minutes of 2,000 requests a minute, 30 % of them the canary's.
    expect(result.analysis.reasons[0]).toMatch(/^canary: 3000 requests, 0 % errors, p99 130 ms/);
  });

  it('aborts a canary whose p99 is far above the stable version', async () => {
    const result = await analyse({ latencyMs: { p50: 60, p99: 600 } });
    expect(result).toMatchObject({ decision: 'abort', analysis: { verdict: 'failed' } });
    expect(result.reason).toContain("canary's p99 600 ms is more than 1.25 × the stable version's 120 ms");
  });

  it('aborts when the rule was reset to its template meanwhile (a cdk deploy)', async () => {
    await new TrafficRouter(account.elbv2 as never).writeWeights(gray.traffic.route, gray.traffic, { stable: 100, canary: 0 });
    const result = await analyse({ latencyMs: { p50: 45, p99: 130 } });
    expect(result.decision).toBe('abort');
    expect(result.reason).toContain('the rule routes stable 100 / canary 0, the pipeline set stable 70 / canary 30');
  });
});
