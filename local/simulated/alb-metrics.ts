/**
 * CloudWatch `GetMetricData` for the Application Load Balancer's per-target-group metrics (namespace
 * AWS/ApplicationELB), computed from the traffic model in alb-traffic.ts. Written from:
 *
 * - "CloudWatch metrics for your Application Load Balancer"
 *   (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html):
 *   metrics are sent "in 60-second intervals" and only "when requests are flowing through the load balancer … If there
 *   are no requests flowing through the load balancer or no data for a metric, the metric is not reported"; health
 *   check requests are excluded; HTTPCode_Target_5XX_Count, TargetConnectionErrorCount and TargetResponseTime are
 *   reported when "there is a nonzero value", UnHealthyHostCount and HealthyHostCount "if health checks are enabled"
 *   (every minute, with or without requests); count metrics' "Minimum, Maximum, and Average all return 1";
 *   TargetResponseTime is in seconds; dimensions LoadBalancer `app/<name>/<id>` and TargetGroup
 *   `targetgroup/<name>/<id>`, "the final portion" of each ARN. Only the (LoadBalancer, TargetGroup) combination is
 *   simulated; the others AWS publishes (per load balancer, per Availability Zone) fail loudly as not simulated, and a
 *   combination AWS does not publish has no data ("You can't retrieve statistics using combinations of dimensions
 *   that were not specially published").
 * - The CloudWatch API reference, API_GetMetricData, API_MetricDataQuery, API_MetricStat, API_MetricDataResult
 *   (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html): at most 500 queries;
 *   Id "unique", "The first character must be a lowercase letter", letters, digits and underscores; StartTime
 *   inclusive, "rounded down to the nearest whole minute" when less than 15 days ago; EndTime exclusive; Period "for
 *   metrics with regular resolution … must be a multiple of 60"; ScanBy "TimestampDescending returns the newest data
 *   first" (the default); MaxDatapoints (default 100,800) and NextToken; StatusCode `Complete` when "all data points
 *   in the requested time range were returned", `PartialData` when more follow with NextToken; "The number of
 *   timestamps always matches the number of values"; a Unit given returns only data collected with that unit;
 *   InvalidNextToken for a token CloudWatch did not give.
 *
 * Not documented, chosen here: validation errors are `ValidationError` with the messages CloudWatch is seen to give
 * ("The value X for parameter MetricDataQueries.member.1.Id is not matching the expected pattern …"); a default
 * Label is the metric name; a page holds the queries' datapoints in query order, each query in every page (empty
 * once delivered); a minute's datapoints can be read `publishDelaySeconds` after it ends (ALB's real metric delay is
 * not documented). Metric math, Metrics Insights, cross-account queries and extended statistics other than pNN throw
 * NotSimulatedError: nothing may rely on them without simulating them first.
 */
import { createHash } from 'node:crypto';
import { SimulatedAwsError } from './aws-error';
import { AlbTrafficModel, type MinuteTraffic } from './alb-traffic';
import type { Clock } from './clock';
import { constantGroup, parseStatistic, statisticOf, type SampleGroup, type Statistic } from './metric-statistics';

const NAMESPACE = 'AWS/ApplicationELB';
const MAX_QUERIES = 500;
const DEFAULT_MAX_DATAPOINTS = 100_800;
const MINUTE = 60_000;
const FIFTEEN_DAYS = 15 * 24 * 60 * MINUTE;

/** The simulated metrics, with their unit and the samples one minute of traffic gives (null: not reported). */
const METRICS: Readonly<Record<string, { unit: string; samples: (m: MinuteTraffic) => SampleGroup | null }>> = {
  RequestCount: { unit: 'Count', samples: (m) => nonZero(m.requests) },
  HTTPCode_Target_5XX_Count: { unit: 'Count', samples: (m) => nonZero(m.targetErrors) },
  TargetConnectionErrorCount: { unit: 'Count', samples: (m) => nonZero(m.connectionErrors) },
  TargetResponseTime: {
    unit: 'Seconds',
    samples: (m) => (m.requests > 0 ? { count: m.requests, quantiles: m.latencyMs.map(([q, ms]) => [q, ms / 1000] as const) } : null),
  },
  UnHealthyHostCount: { unit: 'Count', samples: (m) => constantGroup(1, m.unhealthyHosts) },
  HealthyHostCount: { unit: 'Count', samples: (m) => constantGroup(1, m.healthyHosts) },
};

/** A count metric: one sample of 1 per request or error, reported only in a minute that has one. */
const nonZero = (count: number): SampleGroup | null => (count > 0 ? constantGroup(count, 1) : null);

/** A request the simulation does not answer as AWS would: a limitation of the simulator, never an AWS error. */
export class NotSimulatedError extends Error {
  readonly name = 'NotSimulatedError';
  constructor(what: string) {
    super(`simulated CloudWatch GetMetricData: ${what} is not simulated`);
  }
}

interface Query {
  id: string;
  label: string;
  returnData: boolean;
  metricName: string;
  /** The target group the dimensions name, when they name one; undefined: a metric with no data. */
  targetGroupArn?: string;
  period: number;
  statistic: Statistic;
  unit?: string;
}

interface Request {
  queries: Query[];
  /** StartTime rounded down to the minute. */
  start: number;
  end: number;
  ascending: boolean;
  maxDatapoints: number;
  fingerprint: string;
}

type Point = { timestamp: number; value: number };

export class SimulatedAlbMetrics {
  readonly traffic: AlbTrafficModel;
  /** Seconds after a minute ends before its datapoints can be read. */
  publishDelaySeconds: number;

  constructor(
    private readonly clock: Clock,
    options: { seed?: string; publishDelaySeconds?: number } = {},
  ) {
    this.traffic = new AlbTrafficModel(options.seed);
    this.publishDelaySeconds = options.publishDelaySeconds ?? 0;
  }

  getMetricData(input: any) {
    const request = this.parseRequest(input);
    const series = request.queries
      .filter((q) => q.returnData)
      .map((query) => ({ query, points: this.datapoints(query, request) }))
      .map(({ query, points }) => ({ query, points: request.ascending ? points : points.reverse() }));
    const offset = input.NextToken === undefined ? 0 : tokenOffset(input.NextToken, request.fingerprint);
    const total = series.reduce((n, s) => n + s.points.length, 0);
    const pageEnd = offset + request.maxDatapoints;
    let position = 0;
    const results = series.map(({ query, points }) => {
      const from = clamp(offset - position, points.length);
      const to = clamp(pageEnd - position, points.length);
      position += points.length;
      const page = points.slice(from, to);
      return {
        Id: query.id,
        Label: query.label,
        Timestamps: page.map((p) => new Date(p.timestamp)),
        Values: page.map((p) => p.value),
        StatusCode: to < points.length ? 'PartialData' : 'Complete',
      };
    });
    return { MetricDataResults: results, Messages: [], ...(pageEnd < total ? { NextToken: token(pageEnd, request.fingerprint) } : {}) };
  }

  /** One datapoint per period that has samples, in ascending time: minutes the ALB has published by now only. */
  private datapoints(query: Query, request: Request): Point[] {
    const metric = METRICS[query.metricName];
    if (!query.targetGroupArn || (query.unit !== undefined && query.unit !== metric.unit)) return [];
    const published = this.clock().getTime() - MINUTE - this.publishDelaySeconds * 1000;
    const points: Point[] = [];
    for (let bucket = request.start; bucket < request.end; bucket += query.period * 1000) {
      const groups: SampleGroup[] = [];
      for (let minute = bucket; minute < Math.min(bucket + query.period * 1000, request.end) && minute <= published; minute += MINUTE) {
        const traffic = this.traffic.minute(query.targetGroupArn, new Date(minute));
        const samples = traffic && metric.samples(traffic);
        if (samples) groups.push(samples);
      }
      const value = statisticOf(groups, query.statistic);
      if (value !== null) points.push({ timestamp: bucket, value });
    }
    return points;
  }

  private parseRequest(input: any): Request {
    const problems: string[] = [];
    const entries = (input.MetricDataQueries ?? []) as any[];
    if (entries.length === 0) problems.push('The parameter MetricDataQueries is required.');
    if (entries.length > MAX_QUERIES) problems.push(`The collection MetricDataQueries must not have more than ${MAX_QUERIES} members.`);
    const ids = entries.map((e) => e?.Id);
    for (const id of new Set(ids.filter((id, i) => ids.indexOf(id) !== i))) problems.push(`The Id ${id} is used by more than one query.`);
    const queries = entries.map((entry, i) => this.parseQuery(entry, `MetricDataQueries.member.${i + 1}`, problems));
    const [start, end] = [input.StartTime, input.EndTime].map((t) => (t === undefined ? Number.NaN : new Date(t).getTime()));
    if (Number.isNaN(start) || Number.isNaN(end)) problems.push('The parameters StartTime and EndTime are required.');
    else if (start >= end) problems.push('The parameter StartTime must be less than the parameter EndTime.');
    const scanBy = input.ScanBy ?? 'TimestampDescending';
    if (scanBy !== 'TimestampDescending' && scanBy !== 'TimestampAscending')
      problems.push(`The value ${scanBy} for parameter ScanBy is invalid.`);
    const maxDatapoints = input.MaxDatapoints ?? DEFAULT_MAX_DATAPOINTS;
    if (!Number.isInteger(maxDatapoints) || maxDatapoints < 1)
      problems.push(`The value ${maxDatapoints} for parameter MaxDatapoints is invalid.`);
    if (problems.length > 0) throw new SimulatedAwsError('ValidationError', problems.join('\n'));
    if (start < this.clock().getTime() - FIFTEEN_DAYS)
      throw new NotSimulatedError('a StartTime more than 15 days ago (5-minute and 1-hour data)');
    const { NextToken: _token, ...rest } = input;
    const fingerprint = createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 16);
    return {
      queries,
      start: Math.floor(start / MINUTE) * MINUTE,
      end,
      ascending: scanBy === 'TimestampAscending',
      maxDatapoints,
      fingerprint,
    };
  }

  private parseQuery(entry: any, at: string, problems: string[]): Query {
    const id = String(entry?.Id ?? '');
    if (!/^[a-z][a-zA-Z0-9_]*$/.test(id) || id.length > 255)
      problems.push(`The value ${id} for parameter ${at}.Id is not matching the expected pattern ^[a-z][a-zA-Z0-9_]*$.`);
    if (entry?.Expression !== undefined) throw new NotSimulatedError(`${at}.Expression (metric math and Metrics Insights)`);
    if (entry?.AccountId !== undefined) throw new NotSimulatedError(`${at}.AccountId (cross-account queries)`);
    const stat = entry?.MetricStat;
    if (!stat?.Metric) {
      problems.push(`The parameter ${at}.MetricStat is required when Expression is not given.`);
      return { id, label: id, returnData: false, metricName: '', period: 60, statistic: { kind: 'Sum' } };
    }
    const metric = stat.Metric;
    if (metric.Namespace !== NAMESPACE) throw new NotSimulatedError(`the namespace ${metric.Namespace} (only ${NAMESPACE} is)`);
    if (!(metric.MetricName in METRICS)) throw new NotSimulatedError(`the metric ${NAMESPACE} ${metric.MetricName}`);
    const period = stat.Period;
    if ([1, 5, 10, 20, 30].includes(period)) throw new NotSimulatedError(`${at}.MetricStat.Period ${period} (high resolution)`);
    if (!Number.isInteger(period) || period < 60 || period % 60 !== 0)
      problems.push(`The parameter ${at}.MetricStat.Period must be a multiple of 60.`);
    const statistic = parseStatistic(String(stat.Stat));
    if (statistic === 'unsimulated') throw new NotSimulatedError(`the statistic ${stat.Stat}`);
    if (statistic === null) problems.push(`The value for parameter ${at}.MetricStat.Stat is not a valid statistic.`);
    return {
      id,
      label: entry.Label ?? metric.MetricName,
      returnData: entry.ReturnData ?? true,
      metricName: metric.MetricName,
      targetGroupArn: this.targetGroupOf(metric.Dimensions ?? []),
      period,
      statistic: statistic ?? { kind: 'Sum' },
      unit: stat.Unit,
    };
  }

  /** The target group a (LoadBalancer, TargetGroup) pair names; other published combinations are not simulated. */
  private targetGroupOf(dimensions: { Name?: string; Value?: string }[]): string | undefined {
    const value = (name: string) => dimensions.find((d) => d.Name === name)?.Value;
    const names = dimensions.map((d) => d.Name).sort();
    if (names.includes('AvailabilityZone') || (names.length === 1 && names[0] === 'LoadBalancer')) {
      throw new NotSimulatedError(`the dimensions ${names.join(', ')} (only LoadBalancer and TargetGroup together are)`);
    }
    if (names.length !== 2 || names[0] !== 'LoadBalancer' || names[1] !== 'TargetGroup') return undefined;
    return this.traffic.targetGroupNamed(value('LoadBalancer')!, value('TargetGroup')!);
  }
}

const clamp = (n: number, max: number) => Math.min(Math.max(n, 0), max);

function token(offset: number, fingerprint: string): string {
  return Buffer.from(JSON.stringify({ offset, fingerprint })).toString('base64url');
}

/** Where the page a NextToken asks for starts; InvalidNextToken unless it came from the same request. */
function tokenOffset(nextToken: string, fingerprint: string): number {
  try {
    const parsed = JSON.parse(Buffer.from(nextToken, 'base64url').toString());
    if (parsed.fingerprint === fingerprint && Number.isInteger(parsed.offset)) return parsed.offset;
  } catch {}
  throw new SimulatedAwsError('InvalidNextToken', 'The next token specified is invalid.');
}
