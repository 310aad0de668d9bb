import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The one Logger of every step. Handlers add the release's keys (service, version, digest) with
 * `logger.appendKeys` so every line of an execution can be found by them.
 */
export const logger = new Logger({ serviceName: 'model-rollout' });
