/**
 * The gray release figures of `npm run bench`, measured through the local run like the rollout figures
 * (bench/rollout-figures.ts): the real synthesized state machine against the simulated account, in simulated time.
 *
 * Configuration: examples/gray-release.config.json, with its five steps (5, 10, 30, 60, 100 %) all baking 5 or
 * 30 minutes, analysed every 5 minutes over a 3-minute window ending 60 s before the analysis, and no standby
 * (keepPreviousMinutes 0). Each run is one release, v1.2.0 → v1.3.0, as good as the running version, with 6,000
 * requests a minute on the route, so that every analysis of every step has the sample it needs: the figures count a
 * release that passes every step, whose analyses all pass.
 *
 * - State transitions and Lambda invocations per release (bench/execution-counts.ts says how Step Functions bills
 *   them), the invocations including those of the health wait by ECS events, which no history shows.
 * - Analyses per release: the executions of "Analyse the canary against the stable version". The transitions should
 *   follow them (three per analysis: the bake's Wait, the analysis, the Choice), not the length of the bake as such.
 */
import * as path from 'node:path';
import { readFileSync } from 'node:fs';
import { writeConfig } from '../test/fixtures/example-config';
import { pipelineFor, playScenario } from '../local/play';
import { scenarioSchema } from '../local/scenario';
import { STATES } from '../lib/state-names';
import { countBilledWork, type BilledWork } from './execution-counts';

const ROOT = path.resolve(__dirname, '..');
const GRAY_CONFIG = path.join(ROOT, 'examples', 'gray-release.config.json');

export interface GrayFigures {
  bakeMinutes: number;
  work: BilledWork;
  analyses: number;
}

/** Writes the bench's gray configuration into `folder`: every step baking `bakeMinutes`, analysed every 5 minutes. */
function grayBenchConfig(folder: string, bakeMinutes: number): string {
  const example = JSON.parse(readFileSync(GRAY_CONFIG, 'utf8'));
  type ServiceConfig = { signing: { publicKeys: string[] }; release?: { strategy: string; steps: object[]; analysis: object } };
  const services = (example.services as ServiceConfig[]).map((service) => ({
    ...service,
    // The example names its keys relative to examples/; writeConfig resolves them from the project root.
    signing: { ...service.signing, publicKeys: service.signing.publicKeys.map((key: string) => path.join('examples', key)) },
    ...(service.release?.strategy === 'gray'
      ? {
          release: {
            ...service.release,
            steps: service.release.steps.map((step) => ({ ...step, bakeMinutes })),
            keepPreviousMinutes: 0,
            analysis: { ...service.release.analysis, intervalMinutes: 5, windowMinutes: 3, metricLagSeconds: 60, minRequests: 100 },
          },
        }
      : {}),
  }));
  return writeConfig(folder, `bench-gray-${bakeMinutes}`, { ...example, services });
}

/** Plays one gray release per bake length and returns its figures; fails unless it deployed through every step. */
export async function measureGrayReleases(folder: string, bakeMinutes: readonly number[]): Promise<GrayFigures[]> {
  const figures: GrayFigures[] = [];
  for (const minutes of bakeMinutes) {
    const configFile = grayBenchConfig(folder, minutes);
    const pipeline = pipelineFor(configFile);
    const scenario = scenarioSchema.parse({
      name: `bench: a gray release baking ${minutes} min per step`,
      config: configFile,
      service: 'sentiment',
      running: { tag: 'v1.2.0', requestsPerMinute: 6000 },
      steps: [{ tag: 'v1.3.0', expect: { status: 'succeeded', error: null, running: 'v1.3.0', alerts: ['info'] } }],
    });
    const result = await playScenario(scenario, ROOT, pipeline);
    const [execution] = result.executions;
    if (result.executions.length !== 1 || execution!.report.status !== 'SUCCEEDED' || execution!.mismatches.length > 0) {
      throw new Error(`${scenario.name}: not one successful release (${execution?.mismatches.join('; ') ?? 'no execution'})`);
    }
    const { history } = execution!.report;
    const work = countBilledWork(history, new Set(pipeline.stepOfState.keys()));
    const analyses = history.filter((entry) => entry.type === 'StateExited' && entry.state === STATES.analyseStep).length;
    figures.push({
      bakeMinutes: minutes,
      work: { ...work, lambdaInvocations: work.lambdaInvocations + result.account.deliveredEvents.length },
      analyses,
    });
  }
  return figures;
}
