/**
 * The gray release's branches the demo scenarios (26-29) do not take, played with the real synthesized definition and
 * handlers on the simulated account: a canary that never becomes healthy, a promotion the stable service refuses, and
 * traffic that cannot be returned to stable.
 */
import * as path from 'node:path';
import { DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { TrafficRouter } from '../../lambdas/adapters/traffic-router';
import { toReleaseStrategy } from '../../lib/config/mapping';
import { loadConfig } from '../../lib/config';
import { playScenario } from '../../local/play';
import { scenarioSchema } from '../../local/scenario';
import type { ScenarioResult } from '../../local/scenario-results';

const ROOT = path.resolve(__dirname, '..', '..');
const CONFIG = 'examples/gray-release.config.json';
const GRAY = (() => {
  const release = toReleaseStrategy(loadConfig(path.join(ROOT, CONFIG)).services[0]!.release);
  if (release.strategy !== 'gray') throw new Error(`${CONFIG} must release sentiment gray`);
  return release;
})();

function play(push: Record<string, unknown>, ...after: Record<string, unknown>[]): Promise<ScenarioResult> {
  const scenario = scenarioSchema.parse({
    name: 'gray branch',
    config: CONFIG,
    service: 'sentiment',
    running: { tag: 'v1.2.0', requestsPerMinute: 600 },
    steps: [{ tag: 'v1.3.0', ...push }, ...after],
  });
  return playScenario(scenario, ROOT);
}

/** The route's weights and the canary service's desired count, as the account holds them at the end. */
async function trafficAtEnd(result: ScenarioResult) {
  const weights = await new TrafficRouter(result.account.elbv2 as never).readWeights(GRAY.traffic.route, GRAY.traffic);
  const { services } = await result.account.ecs.send(
    new DescribeServicesCommand({ cluster: 'models-prod', services: ['sentiment-canary'] }),
  );
  return { stable: weights.stable, canary: weights.canary, canaryDesiredCount: services[0].desiredCount };
}

const statesOf = (result: ScenarioResult) => result.executions[0]!.report.history.map((entry) => entry.state).filter(Boolean);

describe('a gray release on the simulated account', () => {
  it('returns all traffic to stable when the canary never becomes healthy, before any request reached it', async () => {
    const result = await play({
      rollout: { result: 'fails', settlesAfterSeconds: 120 },
      expect: { status: 'rolled-back', error: 'ReleaseRolledBack', running: 'v1.2.0', alerts: ['warning'] },
    });
    expect(result.executions[0]!.mismatches).toEqual([]);
    expect(statesOf(result)).not.toContain('Shift traffic to the next step');
    expect(result.executions[0]!.report.cause).toMatch(/The gray release stopped: .*circuit breaker/);
    expect(await trafficAtEnd(result)).toEqual({ stable: 100, canary: 0, canaryDesiredCount: 0 });
  });

  it('returns the stable service to the previous version and all traffic to it when the stable service refuses the promotion', async () => {
    // UpdateService: the canary scaled for each of the 5 steps, then the promotion of the stable service, refused.
    const result = await play({
      awsFailures: { UpdateService: [null, null, null, null, null, 'AccessDeniedException'] },
      expect: { status: 'rolled-back', error: 'ReleaseRolledBack', running: 'v1.2.0', alerts: ['warning'] },
    });
    expect(result.executions[0]!.mismatches).toEqual([]);
    expect(statesOf(result)).toContain('Is the stable service back on the previous version?');
    expect(result.executions[0]!.report.cause).toMatch(/The gray release stopped: UpdateRefusedError: .*AccessDeniedException/);
    expect(await trafficAtEnd(result)).toEqual({ stable: 100, canary: 0, canaryDesiredCount: 0 });
  });

  it('never writes over a rule reset while the canary scales for the next step: the shift finds it and the release aborts', async () => {
    // Step 4 (60 %) scales the canary from 1 to 2 tasks at 31:30; they run a minute later (the service's steady-state
    // event wakes the wait). The reset comes in between, after step 3's last analysis.
    const result = await play(
      { expect: { status: 'rolled-back', error: 'ReleaseRolledBack', running: 'v1.2.0', alerts: ['warning'] } },
      { external: 'rule-reset', afterSeconds: 1920, why: 'a cdk deploy while the canary scales' },
    );
    expect(result.executions[0]!.mismatches).toEqual([]);
    expect(result.executions[0]!.report.cause).toMatch(
      /Traffic changed outside the pipeline \(e\.g\. a cdk deploy\): the rule routes stable 100 \/ canary 0, the pipeline set stable 70 \/ canary 30; nothing was written over it/,
    );
    expect(await trafficAtEnd(result)).toEqual({ stable: 100, canary: 0, canaryDesiredCount: 0 });
  });

  it('records a deployed release with a critical alert when traffic cannot be returned to the promoted stable service', async () => {
    // ModifyRule: the five shifts, then the return to the promoted stable service, refused.
    const result = await play({
      awsFailures: { ModifyRule: [null, null, null, null, null, 'AccessDeniedException'] },
      expect: { status: 'succeeded', error: null, running: 'v1.3.0', alerts: ['critical'] },
    });
    expect(result.executions[0]!.mismatches).toEqual([]);
    expect(result.executions[0]!.report.output.reason).toMatch(
      /^The stable service runs the release, but traffic could not be returned to it \(.*AccessDeniedException.*\): all traffic stays on the canary service sentiment-canary/,
    );
    expect(await trafficAtEnd(result)).toEqual({ stable: 0, canary: 100, canaryDesiredCount: 2 });
  });

  it('raises a critical alert, naming why, when traffic cannot be returned to stable for a higher release', async () => {
    // ModifyRule: the shifts to 5 and 10 %, then the return to stable for v1.4.0, refused.
    const result = await play(
      {
        awsFailures: { ModifyRule: [null, null, 'AccessDeniedException'] },
        expect: { status: 'rollback-failed', error: 'RollbackFailed', alerts: ['critical'] },
      },
      // v1.4.0 waits, then finds the route not at rest (stable 90 / canary 10): nothing changes for it.
      { tag: 'v1.4.0', arrivesAfterSeconds: 900, expect: { status: 'deployment-failed', error: 'DeploymentFailed', alerts: ['warning'] } },
    );
    expect(result.executions.map((e) => e.mismatches)).toEqual([[], []]);
    expect(result.executions[0]!.report.cause).toMatch(
      /Traffic could not be returned to the stable service \(.*AccessDeniedException.*\).*The gray release stopped because: v1\.4\.0 is waiting for the service/,
    );
  });

  it('raises a critical alert when traffic cannot be returned to stable after an abort, naming why', async () => {
    // ModifyRule: the shifts to 5, 10 and 30 %, then the return to stable, refused.
    const result = await play({
      traffic: { underLoad: { fromWeight: 30, latencyMs: { p50: 180, p99: 900 } } },
      awsFailures: { ModifyRule: [null, null, null, 'AccessDeniedException'] },
      expect: { status: 'rollback-failed', error: 'RollbackFailed', alerts: ['critical'] },
    });
    expect(result.executions[0]!.mismatches).toEqual([]);
    expect(result.executions[0]!.report.cause).toMatch(
      /Traffic could not be returned to the stable service \(.*AccessDeniedException.*\).*The gray release stopped because: failed analysis 1/,
    );
    // Nothing else was changed behind the route's back: the canary keeps its tasks while it has traffic.
    expect(await trafficAtEnd(result)).toEqual({ stable: 70, canary: 30, canaryDesiredCount: 1 });
  });
});
