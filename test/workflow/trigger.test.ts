/**
 * Push events go through the synthesized trigger rule, as EventBridge would: signature and attestation tags, tags the
 * policy can never accept, untagged and failed pushes, and pushes to other repositories start nothing; a push under a
 * release-shaped tag (v…) to the configured repository starts one execution.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { playScenario } from '../../local/play';
import { scenarioSchema } from '../../local/scenario';

const ROOT = path.resolve(__dirname, '..', '..');
const notStarted = { status: 'not-started', error: null, alerts: [] };

async function play(steps: unknown[]) {
  return playScenario(scenarioSchema.parse({ name: 'trigger', service: 'sentiment', running: { tag: 'v1.2.0' }, steps }), ROOT);
}

describe('the synthesized trigger rule decides what starts an execution', () => {
  it.each([
    ['a cosign signature tag', { tag: `sha256-${'a'.repeat(64)}.sig` }],
    ['a cosign attestation tag', { tag: `sha256-${'a'.repeat(64)}.att` }],
    ['a tag the release policy can never accept', { tag: 'latest' }],
    ['an untagged push (no image-tag)', { tag: 'v1.3.0', event: 'untagged' }],
    ['a failed push', { tag: 'v1.3.0', event: 'failed' }],
    ['a push to a repository no service is configured for', { tag: 'v1.3.0', repository: 'models/someone-elses-model' }],
  ])('starts nothing for %s', async (_case, push) => {
    const result = await play([{ ...push, expect: notStarted }]);

    expect(result.executions).toEqual([]);
    const entries = result.timeline.filter((t) => t.kind === 'not-started');
    expect(entries).toHaveLength(1);
    expect(entries[0].result.mismatches).toEqual([]);
    expect(result.account.calls).toEqual([]);
  });

  it('starts one execution for a tagged push to the configured repository', async () => {
    const result = await play([{ tag: 'v1.3.0', expect: { status: 'succeeded', error: null, alerts: ['info'] } }]);
    expect(result.executions).toHaveLength(1);
    expect(result.executions[0].mismatches).toEqual([]);
  });

  it('reports a mismatch when a scenario expects an execution the rule would never start', async () => {
    const result = await play([{ tag: 'v1.3.0', event: 'untagged', expect: { status: 'succeeded', error: null, alerts: ['info'] } }]);
    const [entry] = result.timeline;
    expect(entry.result.mismatches).toEqual(['status: expected succeeded, got not-started (the trigger rule does not match this event)']);
  });
});
