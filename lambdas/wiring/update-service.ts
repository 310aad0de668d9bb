/** "Update service to new revision" and "Roll back to last known good revision", built from ECS. */
import { DeploymentTarget } from '../adapters/deployment-target';
import { createUpdateServiceHandler } from '../steps/update-service';
import type { FunctionClients, FunctionSettings } from './clients';

export function wireUpdateService(clients: Pick<FunctionClients, 'ecs'>, { clock }: Pick<FunctionSettings, 'clock'>) {
  return createUpdateServiceHandler({ target: new DeploymentTarget(clients.ecs), clock });
}
