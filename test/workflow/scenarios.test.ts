/** The demo scenarios `npm start` plays must keep going as they say they do. */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { playScenario } from '../../local/play';
import { isPush, loadScenario } from '../../local/scenario';

const ROOT = path.resolve(__dirname, '..', '..');
const DIRECTORY = path.join(ROOT, 'examples', 'scenarios');
const FILES = readdirSync(DIRECTORY).filter((f) => f.endsWith('.json')).sort();

describe('examples/scenarios', () => {
  it('holds exactly the demo scenarios the README lists', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const listed = [...readme.matchAll(/^\| `(\d\d-[a-z0-9-]+)` \|/gm)].map((m) => `${m[1]}.json`).sort();
    expect(listed.length).toBeGreaterThan(0);
    expect(FILES).toEqual(listed);
  });

  it.each(FILES)('%s goes as it expects', async (file) => {
    const result = await playScenario(loadScenario(path.join(DIRECTORY, file)), ROOT);
    expect(result.executions.length).toBeGreaterThan(0);
    for (const execution of result.executions) expect({ execution: execution.label, mismatches: execution.mismatches }).toEqual({ execution: execution.label, mismatches: [] });
    for (const operation of result.operations) expect({ command: operation.command, mismatches: operation.mismatches }).toEqual({ command: operation.command, mismatches: [] });
    expect(result.endMismatches).toEqual([]);
  });

  it('reports what differs when a scenario expects something else', async () => {
    const scenario = loadScenario(path.join(DIRECTORY, FILES[0]));
    const [first] = scenario.steps;
    if (!isPush(first) || first.expect === undefined || Array.isArray(first.expect)) throw new Error(`${FILES[0]} must start with a push expecting one outcome`);
    first.expect = { ...first.expect, status: 'rolled-back', running: 'v1.2.0' };
    const [execution] = (await playScenario(scenario, ROOT)).executions;
    expect(execution.mismatches).toEqual(['status: expected rolled-back, got succeeded', 'running: expected v1.2.0, got v1.3.0']);
  });

  it('names the bad field of an invalid step, though a step may be a push or a command', () => {
    expect(() => loadScenario(path.join(ROOT, 'test', 'fixtures', 'scenarios', 'invalid.json'))).toThrow(/\n {2}steps\.0\.signature: /);
  });
});
