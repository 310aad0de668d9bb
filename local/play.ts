/**
 * Plays a scenario: builds the simulated account it describes, pushes each image (signed as the scenario says), runs
 * the synthesized state machine for each delivery of each push event — one after another, or side by side when pushes
 * arrive while others run — runs operators' commands through the real `model-rollout` CLI, and compares what happened
 * with what was expected. The ledger is a real DynamoDB-compatible server (dynalite), started for the scenario.
 */
import * as path from 'node:path';
import { DeploymentLedger } from '../lambdas/adapters/ledger';
import type { CatalogEntry } from '../lambdas/contract/catalog';
import { authorizeTrigger } from './iam/authorize';
import { startLedgerDatabase, type LedgerDatabase } from './ledger-database';
import { matchesEventPattern } from './event-pattern';
import { executionMismatches, notStartedMismatches, observe, operationMismatches } from './expectations';
import { localStepFunctions, runCli, runReconciliation, type CommandAnswer } from './operator-commands';
import {
  isDecision,
  isExternal,
  isOperation,
  isPush,
  isWait,
  type Expectation,
  type Scenario,
  type ScenarioExternal,
  type ScenarioOperation,
  type ScenarioPush,
  type ScenarioStep,
} from './scenario';
import { ecrPushEvent, scenarioAccount, type ScenarioImages } from './scenario-account';
import type { ScenarioGray } from './scenario-gray';
import type { ExecutionResult, ScenarioResult, TimelineEntry } from './scenario-results';
import { SimulatedTime } from './simulated-time';
import { LocalTaskTokens } from './task-tokens';
import { runExecution, synthesizePipeline, type ExecutionReport, type LocalWorld, type SynthesizedPipeline } from './workflow';

export { DEMO_SIGNING_KEY, ecrPushEvent } from './scenario-account';
export type * from './scenario-results';

const pipelines = new Map<string, SynthesizedPipeline>();

/** Synthesizes each configuration once per process: several scenarios usually share one. */
export function pipelineFor(configPath: string): SynthesizedPipeline {
  const resolved = path.resolve(configPath);
  if (!pipelines.has(resolved)) pipelines.set(resolved, synthesizePipeline(resolved));
  return pipelines.get(resolved)!;
}

/** Seconds between two pushes that do not overlap, and between two deliveries of one event. */
const PAUSE_BETWEEN_STEPS_SECONDS = 60;
const REDELIVERY_SECONDS = 1;

/**
 * Plays `scenario` against the synthesized pipeline of its configuration (relative to `root`), or against `pipeline`
 * when given (a test's: e.g. one pipeline's definition with another configuration's catalog).
 */
export async function playScenario(scenario: Scenario, root: string, pipeline?: SynthesizedPipeline): Promise<ScenarioResult> {
  const database = await startLedgerDatabase();
  try {
    return await new ScenarioPlay(scenario, pipeline ?? pipelineFor(path.resolve(root, scenario.config)), root, database).play();
  } finally {
    await database.close();
  }
}

/** One scenario as it plays: its world, its images, and the timeline of what happened. */
class ScenarioPlay {
  private readonly entry: CatalogEntry;
  private readonly world: LocalWorld;
  private readonly images: ScenarioImages;
  /** The service's load balancer and canary, when it is released gray. */
  private readonly gray: ScenarioGray | undefined;
  private readonly ledger: DeploymentLedger;
  private readonly timeline: TimelineEntry[] = [];
  /** The local Step Functions, for the CLI and the reconciliation. */
  private readonly stepFunctions;
  /** The operator command that is running: what an execution it starts is observed against. */
  private pendingOperation: ScenarioOperation | undefined;

  constructor(
    private readonly scenario: Scenario,
    pipeline: SynthesizedPipeline,
    root: string,
    private readonly database: LedgerDatabase,
  ) {
    const entry = pipeline.catalog.find((s) => s.name === scenario.service);
    if (!entry) {
      throw new Error(
        `Scenario "${scenario.name}": service "${scenario.service}" is not in ${scenario.config} (configured: ${pipeline.catalog.map((s) => s.name).join(', ')})`,
      );
    }
    this.entry = entry;
    const { account, images, gray } = scenarioAccount(scenario, entry, pipeline, root);
    this.images = images;
    this.gray = gray;
    this.ledger = new DeploymentLedger(database.documentClient, database.tableName);
    const time = new SimulatedTime(account);
    this.world = {
      pipeline,
      account,
      time,
      ledgerTable: { documentClient: database.documentClient, tableName: database.tableName },
      tokens: new LocalTaskTokens(time),
    };
    // Start events the pipeline receives from elsewhere than ECR (operator's rollback, reconciliation) run at once, in
    // the flow of whoever started them, exactly as the synthesized state machine would run them.
    this.stepFunctions = localStepFunctions(this.world, (name, input) => this.startedByOperation(name, input));
  }

  async play(): Promise<ScenarioResult> {
    await this.playSteps();
    const { scenario, entry, world, ledger, timeline } = this;
    const history = (await this.cli(['history', '--limit', '50'])).output;
    const final = this.images.runningTag();
    const endMismatches =
      scenario.expectAtEnd && scenario.expectAtEnd.running !== final
        ? [`at the end: expected ${scenario.expectAtEnd.running} running, got ${final}`]
        : [];
    return {
      scenario,
      account: world.account,
      service: { name: entry.name, environment: entry.environment, cluster: entry.cluster, service: entry.service },
      executions: timeline.flatMap((t) => (t.kind === 'execution' ? [t.result] : [])),
      operations: timeline.flatMap((t) => (t.kind === 'operation' ? [t.result] : [])),
      timeline,
      ledger: { deployments: await ledger.listDeployments(entry.name), digests: await ledger.listDigests(entry.name) },
      history,
      endMismatches,
    };
  }

  /**
   * Pushes that arrive while others run are started side by side, and so are changes made outside the pipeline
   * (`afterSeconds`); anything else waits for everything before it to end.
   */
  private async playSteps(): Promise<void> {
    const { account, time } = this.world;
    const steps = this.scenario.steps;
    let running: Promise<unknown>[] = [];
    let lastArrival = account.clock().getTime();
    for (const [index, step] of steps.entries()) {
      if (isPush(step) && step.arrivesAfterSeconds !== undefined && index > 0) {
        // Started now, arriving later: every participant must exist before simulated time may move.
        lastArrival += step.arrivesAfterSeconds * 1000;
        running.push(this.playPush(step, Math.max(0, lastArrival - account.clock().getTime()) / 1000));
        continue;
      }
      if ((isExternal(step) || isOperation(step)) && step.afterSeconds !== undefined && index > 0) {
        lastArrival += step.afterSeconds * 1000;
        const delay = Math.max(0, lastArrival - account.clock().getTime()) / 1000;
        running.push(
          isExternal(step)
            ? this.playExternal(step, delay)
            : time.participate(async () => {
                await time.sleep(delay);
                await this.playOperation(step);
              }),
        );
        continue;
      }
      await Promise.all(running);
      running = [];
      if (isWait(step)) {
        // Jumps ahead instead of the usual pause: nothing runs meanwhile.
        account.advance(step.wait);
        // A push arriving "after" the step before it counts from the end of the wait.
        lastArrival = account.clock().getTime();
        this.timeline.push({ kind: 'wait', result: { step, until: account.clock().toISOString(), mismatches: [] } });
        continue;
      }
      if (index > 0 && !isWait(steps[index - 1]!)) account.advance(PAUSE_BETWEEN_STEPS_SECONDS);
      lastArrival = account.clock().getTime();
      // A push is not awaited here: pushes arriving while it runs are started beside it.
      if (isPush(step)) running.push(this.playPush(step, 0));
      else if (isExternal(step)) await this.playExternal(step, 0);
      else await time.participate(() => this.playOperation(step));
    }
    await Promise.all(running);
  }

  /**
   * One push, `delay` seconds from now: the image arrives, then each delivery of its event, 1 s apart, side by side.
   * Each delivery is one participant of simulated time (never nested: a participant waiting on another would stop the clock).
   */
  private playPush(push: ScenarioPush, delay: number): Promise<unknown> {
    const { time } = this.world;
    const expectations: (Expectation | undefined)[] = Array.isArray(push.expect)
      ? push.expect
      : Array.from({ length: push.deliveries }, () => push.expect as Expectation | undefined);
    let digest: string | undefined;
    const arrive = () => (digest ??= this.images.push(push));
    if (push.deliveries === 0) {
      return time.participate(async () => {
        await time.sleep(delay);
        arrive();
      });
    }
    return Promise.all(
      expectations.map((expected, delivery) =>
        time.participate(async () => {
          await time.sleep(delay + delivery * REDELIVERY_SECONDS);
          await this.deliver(push, arrive(), delivery, expected);
        }),
      ),
    );
  }

  /** A change made outside the pipeline, `delay` seconds from now: one participant of simulated time. */
  private playExternal(step: ScenarioExternal, delay: number): Promise<void> {
    const { time, account } = this.world;
    return time.participate(async () => {
      await time.sleep(delay);
      // scenarioAccount refuses the step for a service that is not released gray.
      this.gray!.resetRoute();
      this.timeline.push({ kind: 'external', result: { step, at: account.clock().toISOString(), mismatches: [] } });
    });
  }

  /** One delivery of a push's event: an execution if the synthesized trigger rule matches it, else nothing. */
  private async deliver(push: ScenarioPush, digest: string, delivery: number, expected: Expectation | undefined): Promise<void> {
    const { world } = this;
    const first = delivery === 0;
    const label = push.deliveries > 1 ? `push ${push.tag} (delivery ${delivery + 1} of ${push.deliveries})` : `push ${push.tag}`;
    const event = ecrPushEvent(world.account, push.repository ?? this.entry.repository, push.tag, digest, push.event);
    // EventBridge starts an execution only for what the synthesized trigger rule matches.
    if (!world.pipeline.triggerPatterns.some((pattern) => matchesEventPattern(event, pattern))) {
      const mismatches = notStartedMismatches(push, expected, first);
      this.timeline.push({ kind: 'not-started', result: { step: push, label, event, mismatches } });
      return;
    }
    await authorizeTrigger(world, world.pipeline.stateMachineArn);
    // What goes wrong is injected into the first delivery's execution only.
    const report = await runExecution(world, event, {
      abortAfter: first ? push.crashAfter : undefined,
      lambdaFailures: first ? push.lambdaFailures : undefined,
      awsFailures: first ? push.awsFailures : undefined,
    });
    await this.observed(push, label, digest, report, expected, first ? push.crashAfter : undefined);
  }

  /** An execution the pending operator command (or the reconciliation) started; its ARN. */
  private async startedByOperation(name: string, input: unknown): Promise<string> {
    const step = this.pendingOperation!;
    const report = await runExecution(this.world, input, { name, abortAfter: step.crashAfter });
    const event = input as { detail: { 'image-digest': string; 'image-tag': string } };
    await this.observed(
      step,
      `${step.run} → ${event.detail['image-tag']}`,
      event.detail['image-digest'],
      report,
      step.expect,
      step.crashAfter,
    );
    return report.executionArn;
  }

  /** Notes an execution in the timeline, compared with what was expected of it. */
  private async observed(
    step: ScenarioStep,
    label: string,
    digest: string,
    report: ExecutionReport,
    expected: Expectation | undefined,
    crashAfter: string | undefined,
  ): Promise<ExecutionResult> {
    const observed = observe(report, this.images.runningTag());
    const where = { ledger: this.ledger, service: this.entry.name, digest, crashAfter };
    const result = { step, label, digest, report, observed, mismatches: await executionMismatches(expected, observed, report, where) };
    this.timeline.push({ kind: 'execution', result });
    return result;
  }

  private async playOperation(operation: ScenarioOperation): Promise<void> {
    this.pendingOperation = operation;
    const answer = await this.operatorAnswer(operation);
    const started = this.timeline.some((t) => t.kind === 'execution' && t.result.step === operation);
    this.timeline.push({
      kind: 'operation',
      result: { step: operation, ...answer, mismatches: operationMismatches(operation, answer, started) },
    });
    this.pendingOperation = undefined;
  }

  private async operatorAnswer(operation: ScenarioOperation): Promise<CommandAnswer> {
    if (operation.run === 'reconcile') return runReconciliation(this.world, this.stepFunctions, this.entry);
    if (operation.run === 'status') return this.cli(['status']);
    if (isDecision(operation.run)) {
      const command = operation.run === 'promote-full' ? ['promote', '--full'] : [operation.run];
      return this.cli([...command, '--reason', `scenario: the operator's ${operation.run}`]);
    }
    if (operation.run === 'rollback') {
      return this.cli(['rollback', ...(operation.to ? ['--to', operation.to] : []), '--reason', 'scenario: operator rollback']);
    }
    const digest = this.images.digestOf(operation.tag ?? '');
    if (!digest)
      throw new Error(
        `Scenario "${this.scenario.name}": release-quarantine needs the tag of an image pushed before (got ${operation.tag ?? 'none'})`,
      );
    return this.cli(['quarantine', 'release', '--digest', digest, '--reason', 'scenario: fixed and re-verified']);
  }

  private cli(args: string[]): Promise<CommandAnswer> {
    return runCli(this.world, this.database, this.stepFunctions, this.entry, args);
  }
}
