/** "Check service health" and "Check rolled-back service health", built from ECS and CloudWatch. */
import { AlarmMonitor } from '../adapters/alarm-monitor';
import { DeploymentTarget } from '../adapters/deployment-target';
import { createCheckHealthHandler } from '../steps/check-health';
import type { FunctionClients, FunctionSettings } from './clients';

export function wireCheckHealth(clients: Pick<FunctionClients, 'ecs' | 'cloudwatch'>, { clock }: Pick<FunctionSettings, 'clock'>) {
  return createCheckHealthHandler({ target: new DeploymentTarget(clients.ecs), alarms: new AlarmMonitor(clients.cloudwatch), clock });
}
