/**
 * The rollout figures of `npm run bench`, measured through the local run: the real synthesized state machine, run by
 * aws-local-stepfunctions against the simulated account (local/play.ts), in simulated time.
 *
 * Configuration: the example's (model-rollout.config.json), except that service `sentiment` gets a health deadline of
 * 120 minutes — the most the configuration allows, so that a rollout settling after 120 minutes is still healthy. Each
 * run is one release, v1.2.0 → v1.3.0, signed with the trusted key, whose ECS deployment completes (the rollout
 * COMPLETED, the service deployment SUCCESSFUL) after 5 or 120 simulated minutes from UpdateService.
 *
 * - State transitions and Lambda invocations per successful deployment: counted from the history of the run whose
 *   deployment completes at exactly the nominal duration (bench/execution-counts.ts says how Step Functions bills them);
 *   the invocations include those of the health wait by the ECS and alarm events its rules deliver, which no history
 *   shows.
 * - Detection delay: from the moment the simulated ECS finished the deployment (its service deployment's `finishedAt`)
 *   to the moment the execution knew it (the first health wait or check that exited healthy; the execution's start is
 *   its ledger record's `receivedAt`, the history gives seconds since then). The health wait is woken by the ECS event
 *   of the deployment completing, which the simulation delivers at once; it adds no event delivery time, Lambda run
 *   time or ECS lag, which in AWS come on top. The figure is the median over three runs whose deployment completes
 *   5, 15 and 25 s before the nominal duration (when health was polled every 30 s, the delay depended on that phase).
 */
import * as path from 'node:path';
import { writeConfig, readExampleConfig } from '../test/fixtures/example-config';
import { pipelineFor, playScenario, type ScenarioResult } from '../local/play';
import { scenarioSchema } from '../local/scenario';
import { median } from './median';
import { countBilledWork, firstHealthyCheckAt, type BilledWork } from './execution-counts';

const ROOT = path.resolve(__dirname, '..');
const SERVICE = 'sentiment';
/** The configuration's maximum (DEADLINE_MINUTES in lib/config/rules.ts): long enough for the 120-minute rollout. */
const HEALTH_DEADLINE_MINUTES = 120;
/** Where in a poll interval the deployment completes, for the detection delay: fractions of an interval before the nominal duration. */
const PHASES = [1 / 6, 1 / 2, 5 / 6];

export interface RolloutFigures {
  /** Simulated minutes from UpdateService until the ECS deployment completes. */
  settleMinutes: number;
  work: BilledWork;
  /** Median over the phases (PHASES), in simulated seconds. */
  detectionDelaySeconds: number;
}

/** Writes the bench's configuration into `folder`: the example's, with `sentiment`'s health deadline at 120 minutes. */
export function benchConfig(folder: string): string {
  const example = readExampleConfig();
  const services = example.services.map((service: { name: string; health: object }) =>
    service.name === SERVICE ? { ...service, health: { ...service.health, deadlineMinutes: HEALTH_DEADLINE_MINUTES } } : service,
  );
  return writeConfig(folder, 'bench-rollout', { ...example, services });
}

/** Plays one release whose ECS deployment completes `settlesAfterSeconds` after UpdateService; fails unless it deployed. */
async function playRelease(configFile: string, settlesAfterSeconds: number): Promise<ScenarioResult> {
  const scenario = scenarioSchema.parse({
    name: `bench: a rollout settling after ${settlesAfterSeconds} s`,
    config: configFile,
    service: SERVICE,
    running: { tag: 'v1.2.0' },
    steps: [
      {
        tag: 'v1.3.0',
        signature: 'trusted',
        rollout: { result: 'completes', settlesAfterSeconds },
        expect: { status: 'succeeded', error: null, running: 'v1.3.0', alerts: ['info'] },
      },
    ],
  });
  const result = await playScenario(scenario, ROOT);
  const [execution] = result.executions;
  if (result.executions.length !== 1 || execution!.report.status !== 'SUCCEEDED' || execution!.mismatches.length > 0) {
    throw new Error(`${scenario.name}: not one successful deployment (${execution?.mismatches.join('; ') ?? 'no execution'})`);
  }
  return result;
}

/** Simulated seconds from the ECS deployment's completion to the execution's first healthy check. */
function detectionDelaySeconds(result: ScenarioResult, healthCheckStates: ReadonlySet<string>): number {
  const { report } = result.executions[0]!;
  const record = result.ledger.deployments.find((deployment) => deployment.executionArn === report.executionArn);
  const knownAfter = firstHealthyCheckAt(report.history, healthCheckStates);
  const ecs = result.account.services.ecs;
  const [service] = ecs.describeServices({ cluster: result.service.cluster, services: [result.service.service] }).services;
  const [deployment] = ecs.describeServiceDeployments({
    serviceDeploymentArns: [service!.currentServiceDeployment ?? ''],
  }).serviceDeployments;
  if (!record || knownAfter === null || deployment?.status !== 'SUCCESSFUL' || !deployment.finishedAt) {
    throw new Error(`${report.executionArn}: no ledger record, healthy check or finished ECS deployment to time`);
  }
  return (Date.parse(record.receivedAt) + knownAfter * 1000 - deployment.finishedAt.getTime()) / 1000;
}

/** Plays the releases for each duration (in simulated minutes) and returns their figures. */
export async function measureRollouts(folder: string, settleMinutes: readonly number[]): Promise<RolloutFigures[]> {
  const configFile = benchConfig(folder);
  const pipeline = pipelineFor(configFile);
  // The phases of the 30-second poll the health used to be checked at, kept so the figure compares with before.
  const pollSeconds = 30;
  // Read from the synthesized definition: which Task states invoke a function, and which of them check health.
  const lambdaStates = new Set(pipeline.stepOfState.keys());
  const healthCheckStates = new Set(
    [...pipeline.stepOfState].filter(([, step]) => step === 'check-health' || step === 'await-health').map(([state]) => state),
  );
  const figures: RolloutFigures[] = [];
  for (const minutes of settleMinutes) {
    const nominal = await playRelease(configFile, minutes * 60);
    const delays = [];
    for (const phase of PHASES) {
      delays.push(detectionDelaySeconds(await playRelease(configFile, minutes * 60 - Math.round(phase * pollSeconds)), healthCheckStates));
    }
    const work = countBilledWork(nominal.executions[0]!.report.history, lambdaStates);
    figures.push({
      settleMinutes: minutes,
      work: { ...work, lambdaInvocations: work.lambdaInvocations + nominal.account.deliveredEvents.length },
      detectionDelaySeconds: median(delays),
    });
  }
  return figures;
}
