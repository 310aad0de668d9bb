/**
 * The simulated account's ALB per-target-group metrics, through GetMetricDataCommand as the SDK sends it: what the ALB
 * metrics page and the GetMetricData reference document (see local/simulated/alb-metrics.ts).
 */
import { GetMetricDataCommand, type GetMetricDataCommandInput, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { beforeEach, describe, expect, it } from 'vitest';
import { SimulatedAccount } from '../../local/simulated-account';
import { NotSimulatedError } from '../../local/simulated/alb-metrics';
import type { AlbTrafficModel } from '../../local/simulated/alb-traffic';

const ELB = 'arn:aws:elasticloadbalancing:us-east-1:123456789012';
const LB = `${ELB}:loadbalancer/app/models-internal/50dc6c495c0c9188`;
const STABLE = `${ELB}:targetgroup/sentiment-stable/73e2d6bc24d8a067`;
const CANARY = `${ELB}:targetgroup/sentiment-canary/0f1e2d3c4b5a6978`;
const T0 = new Date('2026-11-20T01:00:00Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

let account: SimulatedAccount;
let traffic: AlbTrafficModel;

beforeEach(() => {
  account = new SimulatedAccount({ start: T0 });
  traffic = account.services.albMetrics.traffic;
  traffic.addTargetGroup(STABLE, LB, 'v1.2.0');
  traffic.addTargetGroup(CANARY, LB, 'v1.3.0');
  traffic.setRequestsPerMinute(1000);
  account.advance(30 * 60);
});

type Dimensions = { Name: string; Value: string }[];
const dimensionsOf = (targetGroupArn: string): Dimensions => [
  { Name: 'LoadBalancer', Value: 'app/models-internal/50dc6c495c0c9188' },
  { Name: 'TargetGroup', Value: targetGroupArn.slice(targetGroupArn.indexOf('targetgroup/')) },
];

function query(
  id: string,
  metricName: string,
  stat: string,
  options: { period?: number; tg?: string; dims?: Dimensions } = {},
): MetricDataQuery {
  const Dimensions = options.dims ?? dimensionsOf(options.tg ?? CANARY);
  return {
    Id: id,
    MetricStat: {
      Metric: { Namespace: 'AWS/ApplicationELB', MetricName: metricName, Dimensions },
      Period: options.period ?? 60,
      Stat: stat,
    },
  };
}

async function getMetricData(queries: MetricDataQuery[], input: Partial<GetMetricDataCommandInput> = {}) {
  return account.cloudwatch.send(
    new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: at(0), EndTime: at(10), ScanBy: 'TimestampAscending', ...input }),
  );
}

/** The values of one query, by Id. */
async function values(queries: MetricDataQuery[], input: Partial<GetMetricDataCommandInput> = {}): Promise<Record<string, number[]>> {
  const output = await getMetricData(queries, input);
  return Object.fromEntries(output.MetricDataResults.map((r: any) => [r.Id, r.Values]));
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('GetMetricData on AWS/ApplicationELB per target group', () => {
  it('reports RequestCount per minute, shared out across the target groups, with its timestamps, label and status', async () => {
    traffic.connect({ shareAt: (tg) => (tg === CANARY ? 0.05 : 0.95) });
    const output = await getMetricData([
      query('rc', 'RequestCount', 'Sum'),
      { ...query('rs', 'RequestCount', 'Sum', { tg: STABLE }), Label: 'stable' },
    ]);

    const [canary, stable] = output.MetricDataResults;
    expect(canary).toMatchObject({ Id: 'rc', Label: 'RequestCount', StatusCode: 'Complete' });
    expect(canary.Timestamps).toEqual(Array.from({ length: 10 }, (_, i) => at(i)));
    expect(canary.Values).toEqual(Array(10).fill(50));
    expect(stable).toMatchObject({ Id: 'rs', Label: 'stable', Values: Array(10).fill(950) });
    expect(output.NextToken).toBeUndefined();
  });

  it('splits the requests evenly across the load balancer target groups until connected to routing weights', async () => {
    expect(await values([query('rc', 'RequestCount', 'Sum', { period: 600 })])).toEqual({ rc: [5000] });
  });

  it('returns the newest datapoint first by default (ScanBy TimestampDescending)', async () => {
    const output = await getMetricData([query('rc', 'RequestCount', 'Sum')], { ScanBy: undefined });
    expect(output.MetricDataResults[0].Timestamps[0]).toEqual(at(9));
    expect(output.MetricDataResults[0].Timestamps.at(-1)).toEqual(at(0));
  });

  it('omits HTTPCode_Target_5XX_Count and TargetConnectionErrorCount in minutes with none, as ALB reports only non-zero values', async () => {
    traffic.connect({ shareAt: (tg) => (tg === CANARY ? 0.05 : 0.95) });
    traffic.setImageBehaviour('v1.3.0', { errorRate: 0.01, connectionErrorRate: 0.004 });
    const window = { EndTime: at(30) };
    const got = await values(
      [
        query('ec', 'HTTPCode_Target_5XX_Count', 'Sum'),
        query('cc', 'TargetConnectionErrorCount', 'Sum'),
        query('es', 'HTTPCode_Target_5XX_Count', 'Sum', { tg: STABLE }),
      ],
      window,
    );

    for (const series of [got.ec, got.cc]) {
      expect(series.length).toBeGreaterThan(0);
      expect(series.length).toBeLessThan(30);
      expect(series.every((v) => v > 0)).toBe(true);
    }
    expect(sum(got.ec)).toBeGreaterThan(5);
    expect(sum(got.ec)).toBeLessThan(25); // ≈ 30 minutes × 50 requests × 1 %
    expect(got.es).toEqual([]); // the stable image answers no 5XX
  });

  it('counts a failed connection as a connection error, not as a request', async () => {
    traffic.setImageBehaviour('v1.3.0', { connectionErrorRate: 0.1 });
    const got = await values([query('rc', 'RequestCount', 'Sum'), query('cc', 'TargetConnectionErrorCount', 'Sum')]);
    expect(got.rc.map((requests, i) => requests + got.cc[i])).toEqual(Array(10).fill(500));
    expect(sum(got.cc)).toBeGreaterThan(400);
    expect(sum(got.cc)).toBeLessThan(600);
  });

  it('answers as an image does under load once its target group gets that share of the requests (a scenario knob)', async () => {
    // The canary gets 10 % for the first 5 minutes, then 30 %; it slows down from 30 % on.
    traffic.connect({
      shareAt: (tg, minute) =>
        (minute < at(5) ? 0.1 : 0.3) * (tg === CANARY ? 1 : 0) + (tg === STABLE ? 1 : 0) * (minute < at(5) ? 0.9 : 0.7),
    });
    traffic.setImageBehaviour('v1.3.0', {
      latencyMs: { p50: 40, p99: 120 },
      underLoad: { fromShare: 0.3, latencyMs: { p50: 180, p99: 900 } },
    });
    const p99 = async (from: number, to: number) =>
      (await values([query('p99', 'TargetResponseTime', 'p99', { period: 300 })], { StartTime: at(from), EndTime: at(to) })).p99;
    expect((await p99(0, 5))[0]).toBeCloseTo(0.12, 10);
    expect((await p99(5, 10))[0]).toBeCloseTo(0.9, 10);
    expect(() => traffic.setImageBehaviour('v1.3.0', { underLoad: { fromShare: 0 } })).toThrow(
      /fromShare must be above 0 and at most 1, not 0/,
    );
  });

  it('reports TargetResponseTime in seconds: its average and percentiles over every request of the period', async () => {
    traffic.setImageBehaviour('v1.3.0', { latencyMs: { p50: 40, p99: 120 } });
    const got = await values(
      ['Average', 'p50', 'p99', 'p100', 'Minimum', 'Maximum', 'SampleCount'].map((stat) =>
        query(stat.toLowerCase(), 'TargetResponseTime', stat, { period: 600 }),
      ),
    );
    expect(got.p50[0]).toBeCloseTo(0.04, 10);
    expect(got.p99[0]).toBeCloseTo(0.12, 10);
    expect(got.p100[0]).toBeCloseTo(0.15, 10);
    expect(got.maximum[0]).toBeCloseTo(0.15, 10);
    expect(got.minimum[0]).toBeCloseTo(0.02, 10);
    // The mean of the quantile function [0, 20] [0.5, 40] [0.99, 120] [1, 150] ms.
    expect(got.average[0]).toBeCloseTo((0.5 * 30 + 0.49 * 80 + 0.01 * 135) / 1000, 10);
    expect(got.samplecount).toEqual([5000]);
  });

  it('computes the p99 of a multi-minute period over all its requests, not as the mean of per-minute p99s', async () => {
    traffic.setImageBehaviour('fast', { latencyMs: { p50: 40, p99: 100 } });
    traffic.setImageBehaviour('slow', { latencyMs: { p50: 400, p99: 2000 } });
    traffic.connect({ imageOf: (_tg, minute) => (minute.getTime() < at(9).getTime() ? 'fast' : 'slow') });
    const got = await values([
      query('perminute', 'TargetResponseTime', 'p99'),
      query('window', 'TargetResponseTime', 'p99', { period: 600 }),
    ]);

    const meanOfMinutes = sum(got.perminute) / got.perminute.length;
    expect(meanOfMinutes).toBeCloseTo((9 * 0.1 + 2) / 10, 10);
    // 90 % of the requests are fast (all below 125 ms), so the window's p99 is the slow minute's p90:
    // 400 ms + (0.9 − 0.5) / 0.49 × 1600 ms.
    expect(got.window).toHaveLength(1);
    expect(got.window[0]).toBeCloseTo((400 + (0.4 / 0.49) * 1600) / 1000, 10);
  });

  it('reports nothing but host counts for minutes without requests', async () => {
    traffic.setRequestsPerMinute((minute) => (minute.getTime() < at(5).getTime() ? 1000 : 0));
    traffic.setImageBehaviour('v1.3.0', { errorRate: 0.5, unhealthyHosts: 1, healthyHosts: 2 });
    const got = await values([
      query('rc', 'RequestCount', 'Sum'),
      query('ec', 'HTTPCode_Target_5XX_Count', 'Sum'),
      query('pc', 'TargetResponseTime', 'p99'),
      query('uh', 'UnHealthyHostCount', 'Maximum'),
      query('hh', 'HealthyHostCount', 'Minimum'),
    ]);
    expect([got.rc.length, got.ec.length, got.pc.length]).toEqual([5, 5, 5]);
    expect(got.uh).toEqual(Array(10).fill(1));
    expect(got.hh).toEqual(Array(10).fill(2));

    traffic.setRequestsPerMinute(0);
    expect(
      await values([query('rc', 'RequestCount', 'Sum', { period: 600 }), query('pc', 'TargetResponseTime', 'p99', { period: 600 })]),
    ).toEqual({
      rc: [],
      pc: [],
    });
  });

  it('reports nothing for a target group that serves no image (no targets)', async () => {
    traffic.connect({ imageOf: (tg) => (tg === STABLE ? 'v1.2.0' : undefined) });
    expect(await values([query('rc', 'RequestCount', 'Sum'), query('uh', 'UnHealthyHostCount', 'Maximum')])).toEqual({ rc: [], uh: [] });
  });

  it('rounds StartTime down to the minute, excludes EndTime, and lets the last period end at EndTime', async () => {
    const output = await getMetricData([query('rc', 'RequestCount', 'Sum', { period: 240 })], {
      StartTime: new Date(at(1).getTime() + 34_000),
      EndTime: at(10),
    });
    expect(output.MetricDataResults[0].Timestamps).toEqual([at(1), at(5), at(9)]);
    expect(output.MetricDataResults[0].Values).toEqual([2000, 2000, 500]);
  });

  it('has no datapoint for a minute not yet over, nor before the publish delay has passed', async () => {
    const got = await values([query('rc', 'RequestCount', 'Sum')], { StartTime: at(25), EndTime: at(31) });
    expect(got.rc).toHaveLength(5); // 01:25 … 01:29; 01:30 has just begun

    account.services.albMetrics.publishDelaySeconds = 120;
    expect((await values([query('rc', 'RequestCount', 'Sum')], { StartTime: at(25), EndTime: at(31) })).rc).toHaveLength(3);
  });

  it('returns only data of the Unit asked for, and nothing for a dimension combination ALB does not publish', async () => {
    const rc = query('rc', 'RequestCount', 'Sum');
    const tgOnly = query('tg', 'RequestCount', 'Sum', { dims: [dimensionsOf(CANARY)[1]] });
    const got = await values([
      { ...rc, Id: 'count', MetricStat: { ...rc.MetricStat!, Unit: 'Count' } },
      { ...rc, Id: 'seconds', MetricStat: { ...rc.MetricStat!, Unit: 'Seconds' } },
      tgOnly,
    ]);
    expect(got).toEqual({ count: Array(10).fill(500), seconds: [], tg: [] });
  });

  it('leaves out a query with ReturnData false', async () => {
    expect(
      await values([{ ...query('rc', 'RequestCount', 'Sum'), ReturnData: false }, query('rs', 'RequestCount', 'Sum', { tg: STABLE })]),
    ).toEqual({
      rs: Array(10).fill(500),
    });
  });

  it('answers the same scenario with the same datapoints', async () => {
    traffic.setImageBehaviour('v1.3.0', { errorRate: 0.003 });
    const first = await values([query('ec', 'HTTPCode_Target_5XX_Count', 'Sum')], { EndTime: at(30) });
    const again = new SimulatedAccount({ start: T0 });
    again.services.albMetrics.traffic.addTargetGroup(STABLE, LB, 'v1.2.0');
    again.services.albMetrics.traffic.addTargetGroup(CANARY, LB, 'v1.3.0');
    again.services.albMetrics.traffic.setRequestsPerMinute(1000);
    again.services.albMetrics.traffic.setImageBehaviour('v1.3.0', { errorRate: 0.003 });
    again.advance(30 * 60);
    account = again;
    expect(await values([query('ec', 'HTTPCode_Target_5XX_Count', 'Sum')], { EndTime: at(30) })).toEqual(first);
  });
});

describe('GetMetricData pagination (MaxDatapoints, NextToken)', () => {
  const queries = [query('rc', 'RequestCount', 'Sum'), query('rs', 'RequestCount', 'Sum', { tg: STABLE })];

  it('pages after MaxDatapoints, query by query, with PartialData until a query is complete', async () => {
    const pages: any[] = [];
    let NextToken: string | undefined;
    do {
      const page = await getMetricData(queries, { MaxDatapoints: 7, NextToken });
      pages.push(page);
      NextToken = page.NextToken;
    } while (NextToken);

    expect(pages.map((p) => p.MetricDataResults.map((r: any) => `${r.Values.length} ${r.StatusCode}`))).toEqual([
      ['7 PartialData', '0 PartialData'],
      ['3 Complete', '4 PartialData'],
      ['0 Complete', '6 Complete'],
    ]);
    const merged = (id: string) => pages.flatMap((p) => p.MetricDataResults.find((r: any) => r.Id === id).Timestamps);
    expect(merged('rc')).toEqual(Array.from({ length: 10 }, (_, i) => at(i)));
    expect(merged('rs')).toEqual(Array.from({ length: 10 }, (_, i) => at(i)));
  });

  it('refuses a NextToken it did not give for this very request', async () => {
    const { NextToken } = await getMetricData(queries, { MaxDatapoints: 7 });
    await expect(getMetricData(queries, { MaxDatapoints: 7, NextToken: 'bm90LWEtdG9rZW4' })).rejects.toMatchObject({
      name: 'InvalidNextToken',
    });
    await expect(getMetricData(queries, { MaxDatapoints: 7, NextToken, EndTime: at(9) })).rejects.toMatchObject({
      name: 'InvalidNextToken',
      $fault: 'client',
    });
  });
});

describe('GetMetricData validation', () => {
  const rc = query('rc', 'RequestCount', 'Sum');
  const rejects = (queries: MetricDataQuery[], message: RegExp, input: Partial<GetMetricDataCommandInput> = {}) =>
    expect(getMetricData(queries, input)).rejects.toMatchObject({
      name: 'ValidationError',
      $fault: 'client',
      message: expect.stringMatching(message),
    });

  it('rejects an Id that does not start with a lowercase letter, and Ids used twice', async () => {
    await rejects([{ ...rc, Id: 'RequestsCanary' }], /RequestsCanary for parameter MetricDataQueries\.member\.1\.Id is not matching/);
    await rejects([{ ...rc, Id: '5xx' }], /member\.1\.Id/);
    await rejects([rc, rc], /The Id rc is used by more than one query/);
  });

  it('rejects a Period that is not a multiple of 60, and an invalid statistic', async () => {
    await rejects([query('rc', 'RequestCount', 'Sum', { period: 90 })], /Period must be a multiple of 60/);
    await rejects([query('rc', 'RequestCount', 'Total')], /Stat is not a valid statistic/);
    await rejects([query('rc', 'TargetResponseTime', 'p101')], /not a valid statistic/);
    expect(await values([query('p', 'TargetResponseTime', 'p99.99', { period: 600 })])).toEqual({ p: [expect.any(Number)] });
  });

  it('rejects a StartTime not before EndTime, and more than 500 queries', async () => {
    await rejects([rc], /StartTime must be less than the parameter EndTime/, { StartTime: at(10), EndTime: at(10) });
    const many = Array.from({ length: 501 }, (_, i) => ({ ...rc, Id: `q${i}` }));
    await rejects(many, /must not have more than 500 members/);
  });

  it('refuses what it does not simulate, loudly: metric math, other namespaces and dimensions, extended statistics', async () => {
    const refuses = (queries: MetricDataQuery[]) => expect(getMetricData(queries)).rejects.toThrow(NotSimulatedError);
    await refuses([rc, { Id: 'rate', Expression: '100 * rc / rc' }]);
    await refuses([{ ...rc, MetricStat: { ...rc.MetricStat!, Metric: { ...rc.MetricStat!.Metric, Namespace: 'AWS/ECS' } } }]);
    await refuses([query('rc', 'HTTPCode_Target_2XX_Count', 'Sum')]);
    await refuses([query('rc', 'RequestCount', 'Sum', { dims: [dimensionsOf(CANARY)[0]] })]);
    await refuses([
      query('rc', 'RequestCount', 'Sum', { dims: [...dimensionsOf(CANARY), { Name: 'AvailabilityZone', Value: 'us-east-1a' }] }),
    ]);
    await refuses([query('rc', 'TargetResponseTime', 'tm99')]);
  });

  it('lets a scenario fail the call as AWS would (injected failures)', async () => {
    account.failNext('GetMetricData', 'Throttling');
    await expect(getMetricData([rc])).rejects.toMatchObject({ name: 'Throttling' });
    await expect(getMetricData([rc])).resolves.toMatchObject({ MetricDataResults: [{ Id: 'rc' }] });
  });
});
