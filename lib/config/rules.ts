/**
 * The configuration's bounds, and the rules the RolloutPipeline construct checks again for callers that give it a
 * catalog directly. Each rule's test is written here once. The schema words a broken rule per field path and reports
 * every problem at once; the `require…` guards word it for the construct's props and throw the first.
 */
import type { ServiceCatalog } from '../../lambdas/contract/catalog';
import { ConfigError } from './config-error';

/** Inclusive bounds of a whole number in the configuration. */
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

/**
 * The state machine cannot run a gray release yet (issue 14 is built in steps): a service configured for one must fail
 * the synth rather than be deployed with ECS's rolling deployment, which would release to all traffic at once.
 * @throws ConfigError naming every service whose release strategy is gray
 */
export function requireRunnableStrategies(catalog: ServiceCatalog): void {
  const gray = catalog.filter((s) => s.release.strategy === 'gray').map((s) => s.name);
  if (gray.length > 0) {
    throw new ConfigError(
      `RolloutPipeline: service(s) ${gray.join(', ')} are configured for a gray release, which this version cannot run yet ` +
        '(its states are still being built); set their release strategy to "rolling" (or leave release out) to deploy.',
    );
  }
}
