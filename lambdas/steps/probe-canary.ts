/**
 * "Probe the canary's health endpoint" (function probe-canary, before each analysis): asks each canary task
 * that takes traffic — the canary target group's healthy targets, the ones the load balancer routes to — for its health
 * endpoint, and judges the answers (decisions/health-probe.ts). The load balancer's own health check cannot say
 * "within 200 ms". Targets still registering, draining or unused are not asked; an unhealthy one fails the probe at
 * once, and none at all fails it too.
 */
import * as z from 'zod';
import { catalogEntrySchema } from '../contract/catalog';
import { judgeProbe, type TargetProbe } from '../decisions/health-probe';
import type { ProbeResult } from '../contract/steps';
import { InvalidInputError } from '../errors';
import { logger } from '../shared/logger';
import type { HealthEndpoint } from './ports/health-endpoint';
import type { TrafficRouter } from './ports/traffic-router';
import { parseStepInput } from './step-input';

const inputSchema = z.object({ service: catalogEntrySchema });
export type ProbeCanaryInput = z.input<typeof inputSchema>;

/** The state of a target the load balancer sends requests to. */
const PROBED_STATES: ReadonlySet<string> = new Set(['healthy']);

export interface ProbeCanaryDependencies {
  router: Pick<TrafficRouter, 'canaryTargets'>;
  endpoint: HealthEndpoint;
}

export function createProbeCanaryHandler({ router, endpoint }: ProbeCanaryDependencies) {
  return async (event: unknown): Promise<ProbeResult> => {
    const { service } = parseStepInput(inputSchema, event, "Probe the canary's health endpoint");
    if (service.release.strategy !== 'gray') throw new InvalidInputError(`Probe the canary: ${service.name} is not released gray`);
    const { traffic, probe } = service.release;
    logger.resetKeys();
    logger.appendKeys({ targetService: service.name });
    const registered = await router.canaryTargets(traffic.canaryTargetGroupArn);
    const targets = registered.filter((t) => PROBED_STATES.has(t.state));
    // An unhealthy target fails the probe now: the analysis's UnHealthyHostCount lags by metricLagSeconds, and with every
    // target unhealthy the load balancer still routes to them all (it fails open).
    const unhealthy = registered.filter((t) => t.state === 'unhealthy');
    if (unhealthy.length > 0 || (targets.length === 0 && registered.length > 0)) {
      // Say what the targets are, not that there are none: "2 unhealthy" is another failure than an empty group.
      const states = [...new Set(registered.map((t) => t.state))].map(
        (state) => `${registered.filter((t) => t.state === state).length} ${state}`,
      );
      const reason =
        unhealthy.length > 0
          ? `${unhealthy.length} canary target(s) unhealthy in the target group (${states.join(', ')}): ${unhealthy.map((t) => t.id).join(', ')}`
          : `no canary target is healthy to probe (${states.join(', ')})`;
      logger.info('Canary probed', { passed: false, reason });
      return { passed: false, reason, targets: 0 };
    }
    // The tasks are asked side by side; each task's attempts one after the other.
    const probes = await Promise.all(
      targets.map(async (t): Promise<TargetProbe> => ({ target: `${t.id}:${probe.port}`, attempts: await endpoint.probe(t.id, probe) })),
    );
    const finding = judgeProbe(probes, probe);
    // Each answer is logged; the execution keeps the finding (a state is limited to 256 KB, a canary may have many tasks).
    logger.info('Canary probed', { passed: finding.passed, reason: finding.reason, probes });
    return { ...finding, targets: probes.length };
  };
}
