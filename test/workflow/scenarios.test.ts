/** The demo scenarios `npm start` plays must keep going as they say they do. */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { playScenario } from '../../local/play';
import { loadScenario } from '../../local/scenario';

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
    for (const push of result.pushes) expect(push.mismatches).toEqual([]);
  });

  it('reports what differs when a scenario expects something else', async () => {
    const scenario = loadScenario(path.join(DIRECTORY, FILES[0]));
    scenario.pushes[0].expect = { ...scenario.pushes[0].expect, status: 'rolled-back', running: 'v1.2.0' };
    const [push] = (await playScenario(scenario, ROOT)).pushes;
    expect(push.mismatches).toEqual(['status: expected rolled-back, got succeeded', 'running: expected v1.2.0, got v1.3.0']);
  });

  it('names the field of an invalid scenario file', () => {
    expect(() => loadScenario(path.join(ROOT, 'test', 'fixtures', 'scenarios', 'invalid.json'))).toThrow(/pushes\.0\.signature/);
  });
});
