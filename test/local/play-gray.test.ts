/**
 * How a scenario plays an `external: rule-reset` step: as a participant of simulated time, side by side with the push
 * before it (`afterSeconds`) or once everything before it ended. What a reset does to a gray release under way is
 * examples/scenarios/28-cdk-deploy-resets-the-gray-rule.json's.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pipelineFor, playScenario } from '../../local/play';
import { scenarioSchema } from '../../local/scenario';
import { SimulatedAccount } from '../../local/simulated-account';

const ROOT = path.resolve(__dirname, '..', '..');
const GRAY_CONFIG = path.join(ROOT, 'examples', 'gray-release.config.json');
/** When a simulated account's clock starts (SimulatedAccount's default). */
const START = new SimulatedAccount().clock();

describe('an external rule-reset step', () => {
  it('resets the rule while the push before it runs, and again once everything ended', { timeout: 60_000 }, async () => {
    const scenario = scenarioSchema.parse({
      name: 'rule resets',
      config: 'examples/gray-release.config.json',
      service: 'sentiment',
      running: { tag: 'v1.2.0' },
      steps: [
        // Reset 30 s in, before the first shift: the rule is still at rest, the release goes on.
        { tag: 'v1.3.0', expect: { status: 'succeeded', error: null, alerts: ['info'] } },
        { external: 'rule-reset', afterSeconds: 30, why: 'a cdk deploy mid-rollout' },
        { external: 'rule-reset' },
      ],
    });
    const result = await playScenario(scenario, ROOT, pipelineFor(GRAY_CONFIG));

    const [execution] = result.executions;
    expect(execution.mismatches).toEqual([]);
    const resets = result.timeline.flatMap((t) => (t.kind === 'external' ? [t.result] : []));
    expect(resets.map((r) => r.step.why)).toEqual(['a cdk deploy mid-rollout', '']);
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
