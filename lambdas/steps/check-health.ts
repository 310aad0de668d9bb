/** "Check service health" and "Check rolled-back service health": observe ECS (and alarms) and decide. */
import * as z from 'zod';
import { catalogEntrySchema } from '../contract/catalog';
import type { CheckHealthInput, HealthResult } from '../contract/steps';
import type { AlarmMonitor } from './ports/alarm-monitor';
import type { DeploymentTarget } from './ports/deployment-target';
import { evaluateHealth } from '../decisions/health';
import type { Clock } from '../shared/clock';
import { logger } from '../shared/logger';
import { parseStepInput } from './step-input';

const inputSchema = z.object({
  service: catalogEntrySchema,
  taskDefinitionArn: z.string().min(1),
  deadline: z.iso.datetime({ offset: true }),
  updateStartedAt: z.iso.datetime({ offset: true }).optional(),
  checkAlarms: z.boolean(),
}) satisfies z.ZodType<CheckHealthInput>;

export interface CheckHealthDependencies {
  target: Pick<DeploymentTarget, 'observeDeployment'>;
  alarms: Pick<AlarmMonitor, 'states'>;
  clock: Clock;
}

export function createCheckHealthHandler({ target, alarms, clock }: CheckHealthDependencies) {
  return async (event: unknown): Promise<HealthResult> => {
    const { service, taskDefinitionArn, deadline, checkAlarms, updateStartedAt } = parseStepInput(
      inputSchema,
      event,
      'Check service health',
    );
    logger.resetKeys();
    logger.appendKeys({ targetService: service.name });

    const deployment = await target.observeDeployment(service, taskDefinitionArn);
    const alarmStates = checkAlarms ? await alarms.states(service.health.alarms) : [];
    const now = clock();
    const { verdict, reason } = evaluateHealth(
      { ...deployment, alarms: alarmStates },
      {
        now,
        deadline: new Date(deadline),
        checkAlarms,
        updateStartedAt: updateStartedAt ? new Date(updateStartedAt) : null,
      },
    );
    logger.info('Service health checked', { taskDefinitionArn, verdict, reason });
    return { verdict, reason, checkedAt: now.toISOString() };
  };
}
