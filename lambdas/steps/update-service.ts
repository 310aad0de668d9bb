/** "Update service to new revision" and "Roll back to previous revision": point the service at a task definition. */
import * as z from 'zod';
import { catalogEntrySchema, type CatalogEntry } from '../contract/catalog';
import type { UpdateAction, UpdateServiceInput, UpdateServiceResult } from '../contract/steps';
import type { DeploymentTarget } from './ports/deployment-target';
import type { Clock } from '../shared/clock';
import { errorMessageOf, withoutRuntimeErrorJson } from '../shared/failure-message';
import { logger } from '../shared/logger';
import { healthRecheckSeconds } from '../decisions/time-budget';
import { InvalidInputError } from '../errors';
import { parseStepInput } from './step-input';

const inputSchema = z.object({
  service: catalogEntrySchema,
  taskDefinitionArn: z.string().min(1).nullable(),
  // What a Step Functions Catch puts at its ResultPath (and "Note the update may not have reached the service" adds).
  failure: z.object({ Error: z.string().optional(), Cause: z.string().optional(), updateUncertain: z.boolean().optional() }).optional(),
  releasedTaskDefinitionArn: z.string().min(1).optional(),
}) satisfies z.ZodType<UpdateServiceInput>;

export interface UpdateServiceDependencies {
  target: Pick<DeploymentTarget, 'updateService' | 'runs' | 'hasDeploymentOf' | 'primaryRevision'>;
  clock: Clock;
}

export function createUpdateServiceHandler({ target, clock }: UpdateServiceDependencies) {
  return async (event: unknown): Promise<UpdateServiceResult> => {
    const { service, taskDefinitionArn, failure, releasedTaskDefinitionArn } = parseStepInput(inputSchema, event, 'Update service');
    logger.resetKeys();
    logger.appendKeys({ targetService: service.name });

    if (!failure && taskDefinitionArn === null)
      throw new InvalidInputError(
        'Update service: a rollout needs the taskDefinitionArn to roll out; null is for a rollback with no known good version',
      );
    const { action, reason } = failure
      ? await rollBack(target, service, taskDefinitionArn, failure, releasedTaskDefinitionArn)
      : { action: 'updated' as const, reason: `Rolling out ${taskDefinitionArn}` };
    if (action === 'updated' && !failure) await target.updateService(service, taskDefinitionArn!);
    const startedAt = clock();
    const deadline = new Date(startedAt.getTime() + service.health.deadlineSeconds * 1000);
    logger.info('Service update started', { taskDefinitionArn, action, deadline: deadline.toISOString(), reason });
    return {
      action,
      taskDefinitionArn,
      startedAt: startedAt.toISOString(),
      deadline: deadline.toISOString(),
      recheckSeconds: healthRecheckSeconds(service.health.deadlineSeconds),
      reason,
    };
  };
}

/**
 * The rollback: first what the service runs. A release whose own update failed and never reached the service leaves
 * nothing to roll back; with no known good version (no target) nothing is rolled back, and the reason says what the
 * service runs; a service ECS already rolled back to the target gets no competing update; otherwise update.
 */
async function rollBack(
  target: UpdateServiceDependencies['target'],
  service: CatalogEntry,
  taskDefinitionArn: string | null,
  failure: NonNullable<UpdateServiceInput['failure']>,
  releasedTaskDefinitionArn: string | undefined,
): Promise<{ action: UpdateAction; reason: string }> {
  const why = describeFailure(failure);
  if (failure.updateUncertain && releasedTaskDefinitionArn && !(await target.hasDeploymentOf(service, releasedTaskDefinitionArn))) {
    return {
      action: 'unchanged',
      reason: `The update to ${releasedTaskDefinitionArn} failed and never reached the service, so nothing changed: ${why}`,
    };
  }
  if (taskDefinitionArn === null) {
    const primary = await target.primaryRevision(service);
    const runs =
      primary === releasedTaskDefinitionArn
        ? `the service runs the new revision ${primary}, as far as the update took effect.`
        : `the service's primary deployment runs ${primary}, not the new revision ${releasedTaskDefinitionArn ?? '(unknown)'}: ECS rolled the release back itself, or someone else deployed.`;
    return { action: 'no-target', reason: `Nothing was rolled back by the pipeline: ${runs}` };
  }
  if (await target.runs(service, taskDefinitionArn)) {
    return { action: 'already-running', reason: `${why} (the service was already back on ${taskDefinitionArn}: no competing update)` };
  }
  await target.updateService(service, taskDefinitionArn);
  return { action: 'updated', reason: why };
}

/** A sentence from a Catch's `{ Error, Cause }`; a Lambda error's Cause is JSON whose `errorMessage` says what happened. */
function describeFailure({ Error: error, Cause: cause }: NonNullable<UpdateServiceInput['failure']>): string {
  const detail = cause ? (errorMessageOf(cause) ?? withoutRuntimeErrorJson(cause)) : undefined;
  if (error && detail) return `${error}: ${detail}`;
  return error ?? detail ?? 'An unspecified failure';
}
