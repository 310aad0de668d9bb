/** "Check release against policy", built from ECS and the service catalog. */
import { DeploymentTarget } from '../adapters/deployment-target';
import { createCheckReleaseHandler } from '../steps/check-release';
import type { FunctionClients, FunctionSettings } from './clients';

export function wireCheckRelease(clients: Pick<FunctionClients, 'ecs'>, { catalog }: Pick<FunctionSettings, 'catalog'>) {
  return createCheckReleaseHandler({ catalog, target: new DeploymentTarget(clients.ecs) });
}
