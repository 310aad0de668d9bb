import { CloudWatchClient, GetMetricDataCommand, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  TargetGroupMetrics,
  alignedWindow,
  loadBalancerDimension,
  targetGroupDimension,
} from '../../lambdas/adapters/target-group-metrics';
import { InvalidInputError, TransientAwsError, UnexpectedAwsAnswerError } from '../../lambdas/errors';
import { SimulatedAccount } from '../../local/simulated-account';

const ELB = 'arn:aws:elasticloadbalancing:us-east-1:123456789012';
const LB = `${ELB}:loadbalancer/app/models-internal/50dc6c495c0c9188`;
const RULE = `${ELB}:listener-rule/app/models-internal/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee`;
const LISTENER = `${ELB}:listener/app/models-internal/50dc6c495c0c9188/f2f7dc8efc522ab2`;
const STABLE = `${ELB}:targetgroup/sentiment-stable/73e2d6bc24d8a067`;
const CANARY = `${ELB}:targetgroup/sentiment-canary/0f1e2d3c4b5a6978`;
const T0 = new Date('2026-11-20T01:00:00Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const QUERY = { routeArn: RULE, targetGroups: { stable: STABLE, canary: CANARY }, start: at(0), end: at(30) };

describe('TargetGroupMetrics against the simulated account', () => {
  let account: SimulatedAccount;
  const metrics = (options = {}) => new TargetGroupMetrics(account.cloudwatch as never, options);

  beforeEach(() => {
    account = new SimulatedAccount({ start: T0 });
    const traffic = account.services.albMetrics.traffic;
    traffic.addTargetGroup(STABLE, LB, 'v1.2.0');
    traffic.addTargetGroup(CANARY, LB, 'v1.3.0');
    traffic.setRequestsPerMinute(2000);
    traffic.connect({ shareAt: (tg) => (tg === CANARY ? 0.1 : 0.9) });
    traffic.setImageBehaviour('v1.2.0', { latencyMs: { p50: 40, p99: 120 } });
    traffic.setImageBehaviour('v1.3.0', {
      errorRate: 0.01,
      connectionErrorRate: 0.002,
      latencyMs: { p50: 60, p99: 350 },
      unhealthyHosts: 1,
    });
    account.advance(31 * 60);
  });

  it('sums each target group over the window, takes the p99 over the whole window in milliseconds, and the most unhealthy hosts', async () => {
    const observed = await metrics().observeWindow(QUERY);

    expect(observed.stable).toEqual({ requests: 30 * 1800, targetErrors: 0, connectionErrors: 0, p99Ms: 120, unhealthyHosts: 0 });
    expect(observed.canary.p99Ms).toBe(350);
    expect(observed.canary.unhealthyHosts).toBe(1);
    expect(observed.canary.requests + observed.canary.connectionErrors).toBe(30 * 200);
    expect(observed.canary.targetErrors).toBeGreaterThan(30);
    expect(observed.canary.targetErrors).toBeLessThan(90); // ≈ 6,000 × 1 %
    expect(observed.canary.connectionErrors).toBeGreaterThan(0);
  });

  it('asks plain per-minute Sums and Maximum, and a p99 over the whole window, with dimension values derived from the ARNs', async () => {
    await metrics().observeWindow(QUERY);

    const [call] = account.calls.filter((c) => c.command === 'GetMetricData');
    const input = call.input as any;
    expect(input).toMatchObject({ StartTime: at(0), EndTime: at(30), ScanBy: 'TimestampAscending' });
    expect(input.MetricDataQueries.map((q: any) => [q.Id, q.MetricStat.Metric.MetricName, q.MetricStat.Stat, q.MetricStat.Period])).toEqual(
      ['stable', 'canary'].flatMap((role) => [
        [`requests_${role}`, 'RequestCount', 'Sum', 60],
        [`targetErrors_${role}`, 'HTTPCode_Target_5XX_Count', 'Sum', 60],
        [`connectionErrors_${role}`, 'TargetConnectionErrorCount', 'Sum', 60],
        [`unhealthyHosts_${role}`, 'UnHealthyHostCount', 'Maximum', 60],
        [`p99_${role}`, 'TargetResponseTime', 'p99', 1800],
      ]),
    );
    expect(input.MetricDataQueries.some((q: any) => q.Expression)).toBe(false);
    expect(input.MetricDataQueries[5].MetricStat.Metric).toEqual({
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'RequestCount',
      Dimensions: [
        { Name: 'LoadBalancer', Value: 'app/models-internal/50dc6c495c0c9188' },
        { Name: 'TargetGroup', Value: 'targetgroup/sentiment-canary/0f1e2d3c4b5a6978' },
      ],
    });
  });

  it('counts minutes without 5XX, connection error or unhealthy datapoint as 0', async () => {
    account.services.albMetrics.traffic.setImageBehaviour('v1.3.0', { errorRate: 0.002 });
    const { canary } = await metrics().observeWindow(QUERY);
    expect(canary.unhealthyHosts).toBe(0);
    expect(canary.connectionErrors).toBe(0);
    expect(canary.targetErrors).toBeGreaterThan(0);
    expect(canary.targetErrors).toBeLessThan(30); // fewer than one a minute: most minutes had none
  });

  it('reads no traffic as 0 requests and no p99', async () => {
    account.services.albMetrics.traffic.connect({ shareAt: (tg) => (tg === CANARY ? 0 : 1) });
    const { canary, stable } = await metrics().observeWindow(QUERY);
    expect(canary).toEqual({ requests: 0, targetErrors: 0, connectionErrors: 0, p99Ms: null, unhealthyHosts: 1 });
    expect(stable.requests).toBe(30 * 2000);
  });

  it('follows NextToken to the last page', async () => {
    const observed = await metrics({ maxDatapoints: 25 }).observeWindow(QUERY);
    expect(account.calls.filter((c) => c.command === 'GetMetricData').length).toBeGreaterThan(5);
    expect(observed).toEqual(await metrics().observeWindow(QUERY));
  });

  it('reads the same window through a listener ARN (a default action) or the load balancer ARN', async () => {
    const byRule = await metrics().observeWindow(QUERY);
    expect(await metrics().observeWindow({ ...QUERY, routeArn: LISTENER })).toEqual(byRule);
    expect(await metrics().observeWindow({ ...QUERY, routeArn: LB })).toEqual(byRule);
  });

  it('rounds the window down to whole minutes', async () => {
    const observed = await metrics().observeWindow({
      ...QUERY,
      start: new Date(at(0).getTime() + 42_000),
      end: new Date(at(30).getTime() + 42_000),
    });
    expect(observed).toEqual(await metrics().observeWindow(QUERY));
  });
});

describe('dimension values and the window', () => {
  it('derives LoadBalancer from a load balancer, listener or listener-rule ARN, and TargetGroup from a target group ARN', () => {
    for (const arn of [LB, LISTENER, RULE]) expect(loadBalancerDimension(arn)).toBe('app/models-internal/50dc6c495c0c9188');
    expect(targetGroupDimension(CANARY)).toBe('targetgroup/sentiment-canary/0f1e2d3c4b5a6978');
  });

  it.each([
    ['a Network Load Balancer', `${ELB}:listener/net/models/50dc6c495c0c9188/f2f7dc8efc522ab2`],
    ['a listener ARN cut short', `${ELB}:listener/app/models-internal/50dc6c495c0c9188`],
    ['a rule ARN with a segment too many', `${RULE}/extra`],
    ['a target group ARN', STABLE],
    ['not an ARN', 'models-internal'],
  ])('refuses %s as the route', (_what, arn) => {
    expect(() => loadBalancerDimension(arn)).toThrow(InvalidInputError);
  });

  it('refuses a target group ARN that is not one, the same group twice, and one in another region', async () => {
    const metrics = new TargetGroupMetrics({ send: async () => ({}) } as never);
    expect(() => targetGroupDimension(LB)).toThrow(InvalidInputError);
    await expect(metrics.observeWindow({ ...QUERY, targetGroups: { stable: STABLE, canary: STABLE } })).rejects.toThrow(InvalidInputError);
    const elsewhere = CANARY.replace('us-east-1', 'eu-west-1');
    await expect(metrics.observeWindow({ ...QUERY, targetGroups: { stable: STABLE, canary: elsewhere } })).rejects.toThrow(
      /region and account/,
    );
  });

  it('refuses a window that holds no whole minute', () => {
    expect(() => alignedWindow(new Date('2026-11-20T01:00:10Z'), new Date('2026-11-20T01:00:50Z'))).toThrow(InvalidInputError);
    expect(alignedWindow(new Date('2026-11-20T01:00:10Z'), new Date('2026-11-20T01:31:50Z'))).toEqual({ start: at(0), end: at(31) });
  });
});

describe('StatusCode handling (aws-sdk-client-mock)', () => {
  const cloudWatch = mockClient(CloudWatchClient);
  const metrics = new TargetGroupMetrics(new CloudWatchClient({ region: 'us-east-1' }));
  const ids = ['stable', 'canary'].flatMap((role) =>
    ['requests', 'targetErrors', 'connectionErrors', 'unhealthyHosts', 'p99'].map((r) => `${r}_${role}`),
  );
  const results = (status: MetricDataResult['StatusCode'], values: Record<string, number[]> = {}): MetricDataResult[] =>
    ids.map((Id) => ({ Id, StatusCode: status, Values: values[Id] ?? [], Timestamps: [] }));

  beforeEach(() => cloudWatch.reset());

  it('throws TransientAwsError on InternalError, so the analysis is retried rather than judged on part of the data', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: results('InternalError') });
    await expect(metrics.observeWindow(QUERY)).rejects.toThrow(TransientAwsError);
  });

  it('throws UnexpectedAwsAnswerError on Forbidden, and on PartialData with no NextToken left', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: results('Forbidden') });
    await expect(metrics.observeWindow(QUERY)).rejects.toThrow(UnexpectedAwsAnswerError);
    cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: results('PartialData') });
    await expect(metrics.observeWindow(QUERY)).rejects.toThrow(/without all the data/);
  });

  it('merges PartialData pages by query Id', async () => {
    cloudWatch
      .on(GetMetricDataCommand)
      .resolvesOnce({ MetricDataResults: results('PartialData', { requests_canary: [10, 20] }), NextToken: 'page-2' })
      .resolvesOnce({ MetricDataResults: results('Complete', { requests_canary: [30], p99_canary: [0.2505] }) });
    const { canary } = await metrics.observeWindow(QUERY);
    expect(canary).toEqual({ requests: 60, targetErrors: 0, connectionErrors: 0, p99Ms: 250.5, unhealthyHosts: 0 });
    expect(cloudWatch.commandCalls(GetMetricDataCommand)[1].args[0].input.NextToken).toBe('page-2');
  });

  it('turns throttling into TransientAwsError', async () => {
    cloudWatch.on(GetMetricDataCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $fault: 'client' }));
    await expect(metrics.observeWindow(QUERY)).rejects.toThrow(TransientAwsError);
  });
});
