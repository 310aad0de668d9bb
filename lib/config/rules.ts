/**
 * The configuration's bounds, and the rules the RolloutPipeline construct checks again for callers that give it a
 * catalog directly. Each rule's test is written here once. The schema words a broken rule per field path and reports
 * every problem at once; the `require…` guards word it for the construct's props and throw the first.
 */
import type { ServiceCatalog } from '../../lambdas/contract/catalog';
import { ConfigError } from './config-error';

/** Inclusive bounds of a number in the configuration: a whole number unless the field says otherwise. */
export interface Range {
  readonly min: number;
  readonly max: number;
}

export const DEADLINE_MINUTES: Range = { min: 1, max: 120 };
export const THRESHOLD: Range = { min: 1, max: 10 };
export const LATE_SIGNATURE_SECONDS: Range = { min: 0, max: 1800 };
export const POLL_SECONDS: Range = { min: 5, max: 300 };
export const RECONCILE_MINUTES: Range = { min: 1, max: 1440 };
/** Reserved concurrency per function: below 1 no function could run. */
export const CONCURRENCY: Range = { min: 1, max: 100 };

/** Two weeks: the longest any single wait of a gray release may be, and the cap on all of them together (below). */
const TWO_WEEKS_IN_MINUTES = 14 * 24 * 60;

// A gray release (`services[].release`, strategy "gray"). User-facing durations are minutes, as `health.deadlineMinutes`.
/** A step's bake: at least one minute, at most the whole planned duration. */
export const BAKE_MINUTES: Range = { min: 1, max: TWO_WEEKS_IN_MINUTES };
/** How long an approval may wait for a human. */
export const APPROVAL_TIMEOUT_MINUTES: Range = { min: 1, max: TWO_WEEKS_IN_MINUTES };
/** How long the previous version stays on standby after the 100 % step; 0 promotes at once. */
export const KEEP_PREVIOUS_MINUTES: Range = { min: 0, max: TWO_WEEKS_IN_MINUTES };
/** Canary tasks at the least, whatever the weight. */
export const CANARY_MIN_TASKS: Range = { min: 1, max: 100 };
/** ALB publishes its metrics per minute, so interval and window are whole minutes; an hour is the longest sensible look. */
export const ANALYSIS_INTERVAL_MINUTES: Range = { min: 1, max: 60 };
export const ANALYSIS_WINDOW_MINUTES: Range = { min: 1, max: 60 };
/** How long ALB metrics take to arrive: the window ends this long before now. */
export const METRIC_LAG_SECONDS: Range = { min: 0, max: 900 };
export const MIN_REQUESTS: Range = { min: 1, max: 1_000_000 };
/** Percent and percentage points (not whole numbers). */
export const ERROR_RATE_PERCENT: Range = { min: 0, max: 100 };
export const P99_MS: Range = { min: 1, max: 600_000 };
/** The canary's p99 over the stable service's (not a whole number): 1 allows no slowdown at all. */
export const P99_RATIO: Range = { min: 1, max: 10 };
/** Failed or inconclusive analyses a step tolerates. */
export const ANALYSIS_LIMIT: Range = { min: 0, max: 20 };
export const PORT: Range = { min: 1, max: 65535 };
export const HTTP_STATUS: Range = { min: 100, max: 599 };
export const PROBE_LATENCY_MS: Range = { min: 1, max: 10_000 };
export const PROBE_TIMEOUT_MS: Range = { min: 1, max: 10_000 };
export const PROBE_ATTEMPTS: Range = { min: 1, max: 10 };

/**
 * The longest a gray release may be planned to take: the steps' bakes, every approval that can wait, and the standby
 * of the previous version. Far under Step Functions' one-year limit on a Standard execution; what it really bounds is
 * the number of analyses (each a few history events), so that an execution stays well under the 25,000 events its
 * history may hold before Step Functions fails it (Step Functions service quotas, "Quotas related to state machine
 * executions": https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html).
 */
export const MAX_PLANNED_MINUTES = TWO_WEEKS_IN_MINUTES;
/**
 * The most analyses a gray release may plan (Σ over the steps of bakeMinutes ÷ analysis.intervalMinutes, each step
 * rounded up): a bake is a wait that wakes at each interval, and each analysis costs some 15 history events (the wait
 * that wakes, the analysis task, the Choice on its verdict), so 1,000 of them leave room for the rest of the release
 * under the 25,000 events Step Functions allows an execution's history (same quotas page as above).
 */
export const MAX_ANALYSES = 1000;

/** Defaults the configuration and the RolloutPipeline construct share (each documents them as `@default`). */
export const DEFAULT_CONCURRENCY_PER_FUNCTION = 5;
export const DEFAULT_RECONCILE_EVERY_MINUTES = 15;

export function inRange(n: number, { min, max }: Range): boolean {
  return Number.isInteger(n) && n >= min && n <= max;
}

/** Notation signatures (AWS Signer signing profiles) verify only against the pinned AWS Signer root certificate. */
export function needsSignerRoot(signingProfiles: readonly string[]): boolean {
  return signingProfiles.length > 0;
}

/**
 * The pipeline releases to the services of its catalog: with none it could never release anything.
 * @throws ConfigError when the catalog is empty
 */
export function requireServices(catalog: ServiceCatalog): void {
  if (catalog.length === 0) {
    throw new ConfigError('RolloutPipeline: the catalog names no service; configure at least one.');
  }
}

/**
 * Every service that trusts AWS Signer signing profiles needs the pinned root certificate(s) given.
 * @param rootCertificates PEM of the pinned root certificate(s), '' when none
 * @throws ConfigError naming the services that trust signing profiles when no root certificate is given
 */
export function requireSignerRoots(catalog: ServiceCatalog, rootCertificates: string): void {
  const needsRoot = catalog.filter((s) => needsSignerRoot(s.signing.signingProfiles)).map((s) => s.name);
  if (needsRoot.length > 0 && rootCertificates.trim() === '') {
    throw new ConfigError(
      `RolloutPipeline: service(s) ${needsRoot.join(', ')} trust AWS Signer signing profiles, but no signerRootCertificates ` +
        'were given: Notation signatures could never verify.',
    );
  }
}

/**
 * Reserved concurrency is `none` or a whole number of at least 1. The construct sets no upper bound of its own (the
 * account's quota does); the configuration also caps it at CONCURRENCY.max.
 * @throws ConfigError naming the bad value
 */
export function requireConcurrency(concurrency: number | 'none'): void {
  if (concurrency !== 'none' && (!Number.isInteger(concurrency) || concurrency < CONCURRENCY.min)) {
    throw new ConfigError(
      `RolloutPipeline: concurrencyPerFunction ${concurrency} is not a whole number of at least ${CONCURRENCY.min}: no function could run.`,
    );
  }
}
