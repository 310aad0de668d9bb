/**
 * CloudWatch statistics over the samples of one period, as "CloudWatch statistics definitions" gives them
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html): SampleCount "the number
 * of data points during the period", Sum, Average "Sum/SampleCount", Minimum, Maximum, and the percentile pNN, "95
 * percent of the data in the period is lower than this value" — written `pNN.NN`, "up to two decimal places (for
 * example, p95.45)" (Application Load Balancer metrics page, "Statistics for Application Load Balancer metrics").
 *
 * The samples of a period come in groups: `count` samples drawn from one distribution, given by its quantile function
 * (points `[quantile, value]` joined by straight lines, from quantile 0 to 1). A percentile is then the percentile of
 * the mixture of all the period's groups, weighted by their counts: one percentile over every sample of the period,
 * as CloudWatch computes it, never an average of per-minute percentiles. A constant (every sample 1, as ALB's count
 * metrics have) is a group whose quantile function is flat.
 */

/** Points `[quantile, value]`, quantiles rising from 0 to 1, values never falling. */
export type Quantiles = readonly (readonly [quantile: number, value: number])[];

/** `count` samples drawn from the distribution `quantiles`. */
export interface SampleGroup {
  count: number;
  quantiles: Quantiles;
}

export type Statistic = { kind: 'SampleCount' | 'Sum' | 'Average' | 'Minimum' | 'Maximum' } | { kind: 'percentile'; fraction: number };

/** Valid CloudWatch statistics the simulation does not compute (trimmed and winsorized means, ranks, counts, sums). */
const UNSIMULATED_STATISTIC = /^(?:(?:tm|wm|tc|ts)\d|(?:TM|WM|TC|TS|PR)\(|IQM$)/;

/** A constant sample, `count` times. */
export const constantGroup = (count: number, value: number): SampleGroup => ({
  count,
  quantiles: [
    [0, value],
    [1, value],
  ],
});

/** The statistic named `stat`; 'unsimulated' for an extended statistic this simulation does not compute; null when invalid. */
export function parseStatistic(stat: string): Statistic | 'unsimulated' | null {
  if (stat === 'SampleCount' || stat === 'Sum' || stat === 'Average' || stat === 'Minimum' || stat === 'Maximum') return { kind: stat };
  const percentile = /^p(\d{1,3}(?:\.\d{1,2})?)$/.exec(stat);
  if (percentile) {
    const value = Number(percentile[1]);
    return value <= 100 ? { kind: 'percentile', fraction: value / 100 } : null;
  }
  return UNSIMULATED_STATISTIC.test(stat) ? 'unsimulated' : null;
}

/** Throws unless `quantiles` is a quantile function: from quantile 0 to 1, quantiles rising, values never falling. */
export function checkQuantiles(quantiles: Quantiles, what: string): void {
  const ok =
    quantiles.length >= 2 &&
    quantiles[0][0] === 0 &&
    quantiles[quantiles.length - 1][0] === 1 &&
    quantiles.every(([q, v], i) => v >= 0 && (i === 0 || (q > quantiles[i - 1][0] && v >= quantiles[i - 1][1])));
  if (!ok) throw new Error(`${what}: quantiles must go from [0, …] to [1, …], quantiles rising and values never falling`);
}

/** The statistic over every sample of `groups` (groups with no samples are ignored); null when there is no sample. */
export function statisticOf(groups: readonly SampleGroup[], statistic: Statistic): number | null {
  const present = groups.filter((g) => g.count > 0);
  const sampleCount = present.reduce((n, g) => n + g.count, 0);
  if (sampleCount === 0) return null;
  const sum = present.reduce((total, g) => total + g.count * meanOf(g.quantiles), 0);
  switch (statistic.kind) {
    case 'SampleCount':
      return sampleCount;
    case 'Sum':
      return sum;
    case 'Average':
      return sum / sampleCount;
    case 'Minimum':
      return Math.min(...present.map((g) => g.quantiles[0][1]));
    case 'Maximum':
      return Math.max(...present.map((g) => g.quantiles[g.quantiles.length - 1][1]));
    case 'percentile':
      return mixtureQuantile(present, sampleCount, statistic.fraction);
  }
}

/** The mean of a distribution given by its quantile function: the integral of the function from 0 to 1. */
function meanOf(quantiles: Quantiles): number {
  let mean = 0;
  for (let k = 1; k < quantiles.length; k++)
    mean += ((quantiles[k][0] - quantiles[k - 1][0]) * (quantiles[k][1] + quantiles[k - 1][1])) / 2;
  return mean;
}

/**
 * The smallest x at which the mixture's distribution function reaches `fraction`. Between two consecutive knots (the
 * values any group's quantile function bends at) the mixture's distribution function is a straight line, with a jump
 * at a knot where some group has a point mass, so the answer is exact.
 */
function mixtureQuantile(groups: readonly SampleGroup[], total: number, fraction: number): number {
  const cdf = (x: number, left: boolean) => groups.reduce((f, g) => f + g.count * distributionAt(g.quantiles, x, left), 0) / total;
  const knots = [...new Set(groups.flatMap((g) => g.quantiles.map(([, v]) => v)))].sort((a, b) => a - b);
  let previous = knots[0];
  for (const knot of knots) {
    if (cdf(knot, false) >= fraction) {
      const below = cdf(knot, true);
      if (knot === previous || fraction > below) return knot;
      const from = cdf(previous, false);
      return previous + ((fraction - from) / (below - from)) * (knot - previous);
    }
    previous = knot;
  }
  return knots[knots.length - 1];
}

/**
 * The share of one distribution's samples at or below `x` (`left`: strictly below), from its quantile function: the
 * largest quantile whose value is ≤ x (< x).
 */
function distributionAt(quantiles: Quantiles, x: number, left: boolean): number {
  const within = (v: number) => (left ? v < x : v <= x);
  let share = 0;
  for (let k = 1; k < quantiles.length; k++) {
    const [q0, v0] = quantiles[k - 1];
    const [q1, v1] = quantiles[k];
    if (within(v1)) share = q1;
    else if (within(v0)) share = Math.max(share, q0 + ((x - v0) / (v1 - v0)) * (q1 - q0));
  }
  return share;
}
