/**
 * Observes a service as a health check does (ECS and, for a release, its alarms) and judges it: what "Check service
 * health" returns, and what the event-driven wait re-reads before it wakes an execution. Not a step of its own.
 */
import * as z from 'zod';
import type { CatalogEntry } from '../contract/catalog';
import type { CheckHealthInput, HealthResult } from '../contract/steps';
import { evaluateHealth } from '../decisions/health';
import type { Clock } from '../shared/clock';
import type { AlarmMonitor } from './ports/alarm-monitor';
import type { DeploymentTarget } from './ports/deployment-target';

export interface HealthObservers {
  target: Pick<DeploymentTarget, 'observeDeployment'>;
  alarms: Pick<AlarmMonitor, 'states'>;
  clock: Clock;
}

/** What a health check judges, besides the service: as a step's input, and as a waiter keeps it. */
export const healthCheckSchema = z.object({
  taskDefinitionArn: z.string().min(1),
  deadline: z.iso.datetime({ offset: true }),
  updateStartedAt: z.iso.datetime({ offset: true }).optional(),
  checkAlarms: z.boolean(),
  ecsService: z.string().min(1).optional(),
}) satisfies z.ZodType<Omit<CheckHealthInput, 'service'>>;
export type HealthCheck = z.infer<typeof healthCheckSchema>;

export async function observeHealth(
  { target, alarms, clock }: HealthObservers,
  service: CatalogEntry,
  { taskDefinitionArn, deadline, checkAlarms, updateStartedAt, ecsService }: HealthCheck,
): Promise<HealthResult> {
  const deployment = await target.observeDeployment(ecsService ? { ...service, service: ecsService } : service, taskDefinitionArn);
  const alarmStates = checkAlarms ? await alarms.states(service.health.alarms) : [];
  const now = clock();
  const { verdict, reason } = evaluateHealth(
    { ...deployment, alarms: alarmStates },
    { now, deadline: new Date(deadline), checkAlarms, updateStartedAt: updateStartedAt ? new Date(updateStartedAt) : null },
  );
  return { verdict, reason, checkedAt: now.toISOString() };
}
