/** "Update service to new revision" and "Roll back to previous revision": point the service at a task definition. */
import { z } from 'zod';
import { catalogEntrySchema, type UpdateServiceInput, type UpdateServiceResult } from '../contract';
import type { DeploymentTarget } from '../adapters/deployment-target';
import type { Clock } from '../shared/clock';
import { errorMessageOf, withoutRuntimeErrorJson } from '../shared/failure-message';
import { logger } from '../shared/logger';
import { parseStepInput } from './step-input';

const inputSchema = z.object({
  service: catalogEntrySchema,
  taskDefinitionArn: z.string().min(1),
  // What a Step Functions Catch puts at its ResultPath.
  failure: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
}) satisfies z.ZodType<UpdateServiceInput>;

export interface UpdateServiceDependencies {
  target: Pick<DeploymentTarget, 'updateService'>;
  clock: Clock;
}

export function createUpdateServiceHandler({ target, clock }: UpdateServiceDependencies) {
  return async (event: unknown): Promise<UpdateServiceResult> => {
    const { service, taskDefinitionArn, failure } = parseStepInput(inputSchema, event, 'Update service');
    logger.resetKeys();
    logger.appendKeys({ targetService: service.name });

    await target.updateService(service, taskDefinitionArn);
    const startedAt = clock();
    const deadline = new Date(startedAt.getTime() + service.health.deadlineSeconds * 1000);
    const reason = failure ? describeFailure(failure) : `Rolling out ${taskDefinitionArn}`;
    logger.info('Service update started', { taskDefinitionArn, deadline: deadline.toISOString(), reason });
    return { taskDefinitionArn, startedAt: startedAt.toISOString(), deadline: deadline.toISOString(), reason };
  };
}

/** A sentence from a Catch's `{ Error, Cause }`; a Lambda error's Cause is JSON whose `errorMessage` says what happened. */
function describeFailure({ Error: error, Cause: cause }: NonNullable<UpdateServiceInput['failure']>): string {
  const detail = cause ? (errorMessageOf(cause) ?? withoutRuntimeErrorJson(cause)) : undefined;
  if (error && detail) return `${error}: ${detail}`;
  return error ?? detail ?? 'An unspecified failure';
}
