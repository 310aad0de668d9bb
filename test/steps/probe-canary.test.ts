/** Probing the canary's tasks: their targets from the simulated load balancer, their answers scripted per address. */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HealthEndpoint, type HttpGet } from '../../lambdas/adapters/health-endpoint';
import { TrafficRouter } from '../../lambdas/adapters/traffic-router';
import { logger } from '../../lambdas/shared/logger';
import { createProbeCanaryHandler } from '../../lambdas/steps/probe-canary';
import { SimulatedAccount } from '../../local/simulated-account';
import { grayRelease, sentimentService } from '../fixtures/catalog';
import { grayReleaseAlb } from '../fixtures/gray-release-alb';

beforeAll(() => logger.setLogLevel('SILENT'));

let account: SimulatedAccount;
let canary: string;
beforeEach(() => {
  account = new SimulatedAccount();
  canary = grayReleaseAlb(account).canary;
});

/** Each address answers with its status after its latency (ms), on a clock the answers move. */
function probeWith(answers: Record<string, { status: number; latencyMs: number }>) {
  let clock = 0;
  const urls: string[] = [];
  const get: HttpGet = async (url) => {
    urls.push(url);
    const answer = answers[new URL(url).hostname]!;
    clock += answer.latencyMs;
    return { status: answer.status };
  };
  const handler = createProbeCanaryHandler({
    router: new TrafficRouter(account.elbv2 as never),
    endpoint: new HealthEndpoint(get, () => clock),
  });
  const service = sentimentService({ release: { ...grayRelease(), traffic: { ...grayRelease().traffic, canaryTargetGroupArn: canary } } });
  return { run: () => handler({ service }), urls };
}

describe('probe the canary health endpoint', () => {
  it('asks every task the load balancer routes to, on the probe port and path, and passes when all answer in time', async () => {
    account.services.elbv2.registerTargets(canary, [{ id: '10.0.1.7' }, { id: '10.0.2.9' }], { state: 'healthy' });
    const { run, urls } = probeWith({ '10.0.1.7': { status: 200, latencyMs: 40 }, '10.0.2.9': { status: 200, latencyMs: 60 } });
    const finding = await run();
    expect(finding).toMatchObject({
      passed: true,
      reason: expect.stringContaining('2 canary target(s) answered 200 on /health 4 time(s) each'),
    });
    expect(new Set(urls)).toEqual(new Set(['http://10.0.1.7:8080/health', 'http://10.0.2.9:8080/health']));
    expect(urls).toHaveLength(10);
  });

  it('fails on a task answering 200 in 350 ms, naming it', async () => {
    account.services.elbv2.registerTargets(canary, [{ id: '10.0.1.7' }, { id: '10.0.2.9' }], { state: 'healthy' });
    const { run } = probeWith({ '10.0.1.7': { status: 200, latencyMs: 40 }, '10.0.2.9': { status: 200, latencyMs: 350 } });
    await expect(run()).resolves.toMatchObject({
      passed: false,
      reason: expect.stringContaining('10.0.2.9:8080 answered 200 in 350 ms (expected 200 within 200 ms)'),
    });
  });

  it('asks neither a target still registering nor a draining one, and fails when no task takes traffic', async () => {
    account.services.elbv2.registerTargets(canary, [{ id: '10.0.1.7' }, { id: '10.0.2.9' }]);
    account.services.elbv2.deregisterTargets(canary, [{ id: '10.0.1.7' }]);
    const { run, urls } = probeWith({});
    // Named for what they are: another failure than an empty target group.
    await expect(run()).resolves.toMatchObject({ passed: false, reason: 'no canary target is healthy to probe (1 draining, 1 initial)' });
    expect(urls).toEqual([]);
  });

  it('fails on an unhealthy target at once, naming it, though another answers in time', async () => {
    account.services.elbv2.registerTargets(canary, [{ id: '10.0.1.7' }], { state: 'healthy' });
    account.services.elbv2.registerTargets(canary, [{ id: '10.0.2.9' }], { state: 'unhealthy' });
    const { run } = probeWith({ '10.0.1.7': { status: 200, latencyMs: 40 } });
    await expect(run()).resolves.toMatchObject({
      passed: false,
      reason: '1 canary target(s) unhealthy in the target group (1 healthy, 1 unhealthy): 10.0.2.9',
    });
  });

  it('fails when the canary target group has no target at all', async () => {
    await expect(probeWith({}).run()).resolves.toMatchObject({ passed: false, reason: 'the canary target group has no target to probe' });
  });
});
