/**
 * The ALB metrics of a gray release's two target groups over one analysis window, with CloudWatch GetMetricData
 * (namespace AWS/ApplicationELB, dimensions LoadBalancer and TargetGroup). Plain MetricStat queries only, added up
 * here: no metric math, so what is summed and how a missing datapoint counts is in this file, tested.
 *
 * From "CloudWatch metrics for your Application Load Balancer"
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html):
 * the dimension values are "the final portion" of the ARNs, `app/<name>/<id>` and `targetgroup/<name>/<id>`;
 * HTTPCode_Target_5XX_Count and TargetConnectionErrorCount are reported only when non-zero, so a minute without a
 * datapoint had none; with no request flowing nothing is reported, so no RequestCount datapoint is no request;
 * TargetResponseTime is in seconds. The p99 is asked with Period = the whole window, so CloudWatch computes one
 * percentile over every request of the window instead of per minute (per-minute p99s cannot be averaged into one).
 */
import { GetMetricDataCommand, type CloudWatchClient, type MetricDataQuery, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import type { TargetGroupWindow } from '../decisions/step-analysis';
import { InvalidInputError, TransientAwsError, UnexpectedAwsAnswerError, callAws } from '../errors';
import type { TargetGroupMetrics as TargetGroupMetricsPort, WindowQuery } from '../steps/ports/target-group-metrics';

const MINUTE = 60_000;
const ROLES = ['stable', 'canary'] as const;
type Role = (typeof ROLES)[number];

/** What is read of each target group: per minute, except the p99, which is one value over the whole window. */
const READINGS = [
  { name: 'requests', metric: 'RequestCount', stat: 'Sum' },
  { name: 'targetErrors', metric: 'HTTPCode_Target_5XX_Count', stat: 'Sum' },
  { name: 'connectionErrors', metric: 'TargetConnectionErrorCount', stat: 'Sum' },
  { name: 'unhealthyHosts', metric: 'UnHealthyHostCount', stat: 'Maximum' },
  { name: 'p99', metric: 'TargetResponseTime', stat: 'p99', wholeWindow: true },
] as const;
type Reading = (typeof READINGS)[number]['name'];

/** A query's Id: it must start with a lowercase letter (API_MetricDataQuery). */
const queryId = (reading: Reading, role: Role) => `${reading}_${role}`;

export class TargetGroupMetrics implements TargetGroupMetricsPort {
  /**
   * @param options.maxDatapoints datapoints per GetMetricData page. @default - CloudWatch's own (100,800): one page
   */
  constructor(
    private readonly cloudWatch: Pick<CloudWatchClient, 'send'>,
    private readonly options: { maxDatapoints?: number } = {},
  ) {}

  async observeWindow(query: WindowQuery): Promise<{ stable: TargetGroupWindow; canary: TargetGroupWindow }> {
    const dimensions = dimensionsOf(query);
    const window = alignedWindow(query.start, query.end);
    const queries = ROLES.flatMap((role) =>
      READINGS.map(
        (reading): MetricDataQuery => ({
          Id: queryId(reading.name, role),
          MetricStat: {
            Metric: { Namespace: 'AWS/ApplicationELB', MetricName: reading.metric, Dimensions: dimensions[role] },
            Period: 'wholeWindow' in reading ? (window.end.getTime() - window.start.getTime()) / 1000 : 60,
            Stat: reading.stat,
          },
        }),
      ),
    );
    const values = await this.read(queries, window);
    return { stable: windowOf(values, 'stable'), canary: windowOf(values, 'canary') };
  }

  /** Every value of every query, by Id, across all pages. */
  private async read(queries: MetricDataQuery[], window: { start: Date; end: Date }): Promise<Map<string, number[]>> {
    const values = new Map<string, number[]>(queries.map((q) => [q.Id!, []]));
    const status = new Map<string, string | undefined>();
    let nextToken: string | undefined;
    do {
      const page = await callAws('GetMetricData', () =>
        this.cloudWatch.send(
          new GetMetricDataCommand({
            MetricDataQueries: queries,
            StartTime: window.start,
            EndTime: window.end,
            ScanBy: 'TimestampAscending',
            MaxDatapoints: this.options.maxDatapoints,
            NextToken: nextToken,
          }),
        ),
      );
      for (const result of page.MetricDataResults ?? []) {
        checkStatus(result);
        values.get(result.Id ?? '')?.push(...(result.Values ?? []));
        status.set(result.Id ?? '', result.StatusCode);
      }
      nextToken = page.NextToken;
    } while (nextToken);
    const incomplete = [...values.keys()].filter((id) => status.get(id) !== 'Complete');
    if (incomplete.length > 0) {
      // PartialData with no NextToken left: some datapoints were never returned, and a sum without them would be wrong.
      throw new UnexpectedAwsAnswerError(
        `GetMetricData ended without all the data of ${incomplete.join(', ')} (${incomplete.map((id) => status.get(id)).join(', ')})`,
      );
    }
    return values;
  }
}

/**
 * MetricDataResult StatusCode (API_MetricDataResult): `Complete`; `PartialData`, "You can use the NextToken value
 * that was returned and repeat your request to get more data points" (followed); `InternalError`, "an error occurred.
 * Retry your request": thrown as TransientAwsError so the state machine retries the whole analysis rather than judge
 * a canary on part of its errors; `Forbidden`: no retry can help (permissions), thrown as UnexpectedAwsAnswerError.
 */
function checkStatus(result: MetricDataResult): void {
  if (result.StatusCode === 'InternalError') throw new TransientAwsError(`GetMetricData could not read ${result.Id}: InternalError`);
  if (result.StatusCode === 'Forbidden') throw new UnexpectedAwsAnswerError(`GetMetricData may not read ${result.Id}: Forbidden`);
}

function windowOf(values: Map<string, number[]>, role: Role): TargetGroupWindow {
  const of = (reading: Reading) => values.get(queryId(reading, role))!;
  const sum = (reading: Reading) => of(reading).reduce((total, v) => total + v, 0);
  const p99 = of('p99');
  if (p99.length > 1) throw new UnexpectedAwsAnswerError(`GetMetricData gave ${p99.length} datapoints for a single-period p99 of ${role}`);
  const requests = sum('requests');
  return {
    requests,
    // A minute without a 5XX, connection error or unhealthy host has no datapoint: 0.
    targetErrors: sum('targetErrors'),
    connectionErrors: sum('connectionErrors'),
    // TargetResponseTime is in seconds; rounded to the microsecond so 0.12 s is 120 ms, not 120.00000000000001.
    p99Ms: requests > 0 && p99.length === 1 ? Math.round(p99[0] * 1e6) / 1e3 : null,
    unhealthyHosts: Math.max(0, ...of('unhealthyHosts')),
  };
}

/**
 * The window in whole minutes: start and end are both rounded down to the minute. CloudWatch rounds StartTime down
 * itself (API_GetMetricData: "Round down to the nearest whole minute") and ALB publishes one datapoint per minute, so
 * the window keeps its length, moves back by less than a minute, and never reads the minute still under way.
 */
export function alignedWindow(start: Date, end: Date): { start: Date; end: Date } {
  const floor = (d: Date) => new Date(Math.floor(d.getTime() / MINUTE) * MINUTE);
  const window = { start: floor(start), end: floor(end) };
  if (!(window.end.getTime() > window.start.getTime())) {
    throw new InvalidInputError(`The analysis window ${start.toISOString()} – ${end.toISOString()} holds no whole minute.`);
  }
  return window;
}

const ELB_ARN = /^arn:[\w-]+:elasticloadbalancing:([\w-]+):(\d{12}):(.+)$/;

/** The LoadBalancer and TargetGroup dimensions of each target group, from the ARNs. */
export function dimensionsOf(query: WindowQuery): Record<Role, { Name: string; Value: string }[]> {
  const loadBalancer = loadBalancerDimension(query.routeArn);
  const { stable, canary } = query.targetGroups;
  if (stable === canary) throw new InvalidInputError(`The stable and canary target groups are the same: ${stable}`);
  for (const arn of [stable, canary]) {
    // Metrics are regional and per account: the target groups must be where the load balancer is.
    if (ELB_ARN.exec(arn)?.slice(1, 3).join(':') !== ELB_ARN.exec(query.routeArn)?.slice(1, 3).join(':')) {
      throw new InvalidInputError(`The target group ${arn} is not in the region and account of ${query.routeArn}`);
    }
  }
  const dimensions = (targetGroupArn: string) => [
    { Name: 'LoadBalancer', Value: loadBalancer },
    { Name: 'TargetGroup', Value: targetGroupDimension(targetGroupArn) },
  ];
  return { stable: dimensions(stable), canary: dimensions(canary) };
}

/**
 * `app/<name>/<id>` from an Application Load Balancer's ARN (`loadbalancer/app/<name>/<id>`), one of its listeners'
 * (`listener/app/<name>/<id>/<listener-id>`) or one of its rules' (`listener-rule/app/<name>/<id>/<listener-id>/<rule-id>`).
 */
export function loadBalancerDimension(arn: string): string {
  const resource = ELB_ARN.exec(arn)?.[3] ?? '';
  const match = /^(loadbalancer|listener|listener-rule)\/((app|net|gwy)\/[^/]+\/[^/]+)((?:\/[^/]+)*)$/.exec(resource);
  const trailing = { loadbalancer: 0, listener: 1, 'listener-rule': 2 }[match?.[1] as 'loadbalancer'];
  if (!match || match[4].split('/').length - 1 !== trailing) {
    throw new InvalidInputError(`${arn} is not the ARN of an Application Load Balancer, of its listener or of its listener rule.`);
  }
  if (match[3] !== 'app')
    throw new InvalidInputError(`${arn} is not an Application Load Balancer's: its metrics are not in AWS/ApplicationELB.`);
  return match[2];
}

/** `targetgroup/<name>/<id>` from a target group's ARN. */
export function targetGroupDimension(arn: string): string {
  const resource = ELB_ARN.exec(arn)?.[3] ?? '';
  if (!/^targetgroup\/[^/]+\/[^/]+$/.test(resource)) throw new InvalidInputError(`${arn} is not the ARN of a target group.`);
  return resource;
}
