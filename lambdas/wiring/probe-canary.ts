/** The gray release's /health probe, built from Elastic Load Balancing (the canary's targets) and HTTP. */
import { HealthEndpoint } from '../adapters/health-endpoint';
import { TrafficRouter } from '../adapters/traffic-router';
import { createProbeCanaryHandler } from '../steps/probe-canary';
import type { FunctionClients } from './clients';

export function wireProbeCanary(clients: Pick<FunctionClients, 'elbv2' | 'healthEndpoint'>) {
  return createProbeCanaryHandler({
    router: new TrafficRouter(clients.elbv2),
    endpoint: new HealthEndpoint(clients.healthEndpoint.get, clients.healthEndpoint.now),
  });
}
