/** A gray release's changes to traffic and to the canary service, built from Elastic Load Balancing and ECS. */
import { DeploymentTarget } from '../adapters/deployment-target';
import { TrafficRouter } from '../adapters/traffic-router';
import { createSteerTrafficHandler } from '../steps/steer-traffic';
import type { FunctionClients, FunctionSettings } from './clients';

export function wireSteerTraffic(clients: Pick<FunctionClients, 'ecs' | 'elbv2'>, { clock }: Pick<FunctionSettings, 'clock'>) {
  return createSteerTrafficHandler({ router: new TrafficRouter(clients.elbv2), target: new DeploymentTarget(clients.ecs), clock });
}
