/**
 * How a scenario plays an `external: rule-reset` step: as a participant of simulated time, side by side with the push
 * before it (`afterSeconds`) or once everything before it ended. The synthesized pipeline cannot run a gray release yet
 * (synth refuses it), so the example configuration's rolling pipeline runs here against the gray configuration's world:
 * this tests the player, not a gray release.
 */
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig, toServiceCatalog } from '../../lib/config';
import { pipelineFor, playScenario } from '../../local/play';
import { scenarioSchema } from '../../local/scenario';
import { SimulatedAccount } from '../../local/simulated-account';
import { SimulatedElbv2 } from '../../local/simulated/elbv2';

const ROOT = path.resolve(__dirname, '..', '..');
const GRAY_CONFIG = path.join(ROOT, 'examples', 'gray-release.config.json');
/** When a simulated account's clock starts (SimulatedAccount's default). */
const START = new SimulatedAccount().clock();

afterEach(() => vi.restoreAllMocks());

describe('an external rule-reset step', () => {
  it('resets the rule while the push before it runs, and again once everything ended', { timeout: 60_000 }, async () => {
    const modifyRule = SimulatedElbv2.prototype.modifyRule;
    const resets: { at: string; actions: unknown }[] = [];
    vi.spyOn(SimulatedElbv2.prototype, 'modifyRule').mockImplementation(function (this: SimulatedElbv2, input) {
      // Its clock is the account's (private: read as the simulator holds it).
      const { clock } = (this as unknown as { deps: { clock: () => Date } }).deps;
      resets.push({ at: clock().toISOString(), actions: input.Actions });
      return modifyRule.call(this, input);
    });
    const scenario = scenarioSchema.parse({
      name: 'rule resets',
      config: 'examples/gray-release.config.json',
      service: 'sentiment',
      running: { tag: 'v1.2.0' },
      steps: [
        { tag: 'v1.3.0', expect: { status: 'succeeded', error: null, alerts: ['info'] } },
        { external: 'rule-reset', afterSeconds: 30, why: 'a cdk deploy mid-rollout' },
        { external: 'rule-reset' },
      ],
    });
    // The example's rolling pipeline, with the gray configuration's catalog: the world the player builds is gray.
    const pipeline = {
      ...pipelineFor(path.join(ROOT, 'model-rollout.config.json')),
      catalog: toServiceCatalog(loadConfig(GRAY_CONFIG), path.dirname(GRAY_CONFIG)),
    };
    const result = await playScenario(scenario, ROOT, pipeline);

    const [execution] = result.executions;
    expect(execution.mismatches).toEqual([]);
    const reported = result.timeline.flatMap((t) => (t.kind === 'external' ? [t.result] : []));
    expect(reported.map((r) => [r.step.why, r.at])).toEqual([
      ['a cdk deploy mid-rollout', resets[0]!.at],
      ['', resets[1]!.at],
    ]);
    // The template's weights, written by ModifyRule as CloudFormation would.
    expect(resets[0]!.actions).toEqual([
      expect.objectContaining({
        ForwardConfig: { TargetGroups: [expect.objectContaining({ Weight: 100 }), expect.objectContaining({ Weight: 0 })] },
      }),
    ]);
    // The push arrived when the scenario started; the first reset 30 s later, while its execution still ran (it ended
    // later); the second once it had ended, after the usual pause.
    const arrived = START.getTime();
    const ended = arrived + execution.report.history.at(-1)!.at * 1000;
    expect(new Date(resets[0]!.at).getTime()).toBe(arrived + 30_000);
    expect(ended).toBeGreaterThan(arrived + 30_000);
    expect(result.timeline.map((t) => t.kind)).toEqual(['external', 'execution', 'external']);
    expect(new Date(resets[1]!.at).getTime()).toBeGreaterThanOrEqual(ended + 60_000);
  });
});
