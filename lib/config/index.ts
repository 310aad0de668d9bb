/**
 * The configuration file (`model-rollout.config.json` by default), read once by `bin/` and validated at synth.
 *
 * Everything below `bin/` receives the typed, validated result: constructs never read files or the environment.
 * Every error names the field path and the bad value, e.g.
 * `services[1].environment: "prod" is not one of production | staging | development`.
 *
 * - `types.ts`: the documented configuration, as the rest of the app sees it
 * - `schema/`: one zod block per section of the file (`config.ts` the whole file, `network.ts`, `service.ts`,
 *   `release.ts` a service's release strategy)
 * - `loading.ts` reads the file; `key-files.ts` reads the key and certificate files it names
 * - `mapping.ts`: configuration → the service catalog the functions receive
 * - `rules.ts`: bounds, and the rules the RolloutPipeline construct checks again; `messages.ts`: how problems are worded
 */
export { ConfigError } from './config-error';
export { readSignerRootCertificate } from './key-files';
export { loadConfig, parseConfig } from './loading';
export { toServiceCatalog } from './mapping';
export {
  CONCURRENCY,
  DEFAULT_CONCURRENCY_PER_FUNCTION,
  DEFAULT_RECONCILE_EVERY_MINUTES,
  requireConcurrency,
  requireServices,
  requireSignerRoots,
} from './rules';
export type {
  AlertAddresses,
  AnalysisConfig,
  ApprovalConfig,
  GrayReleaseConfig,
  HealthConfig,
  NetworkConfig,
  ProbeConfig,
  ReleaseConfig,
  RollingReleaseConfig,
  RolloutConfig,
  ServiceConfig,
  SigningConfig,
  TrafficConfig,
  TrafficStepConfig,
} from './types';
