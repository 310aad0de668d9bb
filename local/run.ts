/**
 * `npm start [-- SCENARIO.json ...]`: plays the demo scenarios (examples/scenarios/) or the given files through the
 * real synthesized state machine against a simulated account, prints each execution like the Step Functions console
 * would show it, the alerts that would be sent, and a summary. Exits 1 when any scenario did not go as expected.
 */
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
// Handler logs would drown the execution history; the local run shows warnings and errors only.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

const ROOT = path.resolve(__dirname, '..');
const DEFAULT_SCENARIOS = path.join(ROOT, 'examples', 'scenarios');

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(
      'usage: npm start [-- SCENARIO.json ...]\n  Plays examples/scenarios/*.json, or the given scenario files (format: README.md, "Scenario format").',
    );
    return 0;
  }
  // Imported after the log level is set: the Logger reads it once, when created.
  const { loadScenario } = await import('./scenario');
  const { playScenario } = await import('./play');
  const { printScenario, printSummary } = await import('./report');

  const files =
    argv.length > 0
      ? argv.map((f) => path.resolve(f))
      : readdirSync(DEFAULT_SCENARIOS)
          .filter((f) => f.endsWith('.json'))
          .sort()
          .map((f) => path.join(DEFAULT_SCENARIOS, f));
  const results = [];
  for (const file of files) {
    const scenario = loadScenario(file);
    const result = await playScenario(scenario, ROOT);
    printScenario(result, path.relative(process.cwd(), file));
    results.push(result);
  }
  return printSummary(results) ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`model-rollout local run failed: ${error.message}`);
    process.exit(2);
  },
);
