/** "Check service health" and "Check rolled-back service health": observe ECS (and alarms) and decide. */
import type * as z from 'zod';
import { catalogEntrySchema } from '../contract/catalog';
import type { CheckHealthInput, HealthResult } from '../contract/steps';
import { logger } from '../shared/logger';
import { type HealthObservers, healthCheckSchema, observeHealth } from './observe-health';
import { parseStepInput } from './step-input';

const inputSchema = healthCheckSchema.extend({ service: catalogEntrySchema }) satisfies z.ZodType<CheckHealthInput>;

export type CheckHealthDependencies = HealthObservers;

export function createCheckHealthHandler(observers: CheckHealthDependencies) {
  return async (event: unknown): Promise<HealthResult> => {
    const { service, ...check } = parseStepInput(inputSchema, event, 'Check service health');
    logger.resetKeys();
    logger.appendKeys({ targetService: service.name });

    const result = await observeHealth(observers, service, check);
    logger.info('Service health checked', { taskDefinitionArn: check.taskDefinitionArn, verdict: result.verdict, reason: result.reason });
    return result;
  };
}
