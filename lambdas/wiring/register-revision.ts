/** "Register new task definition revision", built from ECS. */
import { DeploymentTarget } from '../adapters/deployment-target';
import { createRegisterRevisionHandler } from '../steps/register-revision';
import type { FunctionClients } from './clients';

export function wireRegisterRevision(clients: Pick<FunctionClients, 'ecs'>) {
  return createRegisterRevisionHandler({ target: new DeploymentTarget(clients.ecs) });
}
