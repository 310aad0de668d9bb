/**
 * Plays a scenario: builds the simulated account it describes, pushes each image (signed as the scenario says), runs
 * the synthesized state machine for each delivery of each push event — one after another, or side by side when pushes
 * arrive while others run — runs operators' commands through the real `model-rollout` CLI, and compares what happened
 * with what was expected. The ledger is a real DynamoDB-compatible server (dynalite), started for the scenario.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { DeploymentRecord, DigestRecord } from '../lambdas/contract/ledger-records';
import { startEvent } from '../lambdas/contract/start-events';
import { DeploymentLedger } from '../lambdas/adapters/ledger';
import { main as modelRollout } from '../cli/main';
import type { AwsClients } from '../cli/stack-resources';
import { createCosignSignature, generateSigningKeyPair } from './cosign-signer';
import { localReconciliation } from './functions';
import { authorizeRuleInvoke, authorizeTrigger } from './iam/authorize';
import { startLedgerDatabase, type LedgerDatabase } from './ledger-database';
import { matchesEventPattern } from './event-pattern';
import {
  isPush,
  isWait,
  NOT_STARTED,
  type Expectation,
  type Scenario,
  type ScenarioOperation,
  type ScenarioPush,
  type ScenarioStep,
  type ScenarioWait,
} from './scenario';
import { SimulatedAccount } from './simulated-account';
import { SimulatedTime } from './simulated-time';
import {
  describeLocalExecution,
  openExecutionWithInput,
  runExecution,
  synthesizePipeline,
  type ExecutionReport,
  type LocalWorld,
  type SynthesizedPipeline,
} from './workflow';

/** The demo key the example configuration trusts (test-only; see examples/keys/README.md). */
export const DEMO_SIGNING_KEY = 'examples/keys/demo-cosign.key';

export interface Observed {
  status: string;
  signature: string | null;
  error: string | null;
  running: string;
  alerts: string[];
}

/** One execution: started by a push delivery, an operator's rollback, or the reconciliation. */
export interface ExecutionResult {
  step: ScenarioStep;
  /** What started it, for people: `push v1.3.0`, `push v1.3.0 (delivery 2 of 3)`, `rollback`, `reconcile`. */
  label: string;
  digest: string;
  report: ExecutionReport;
  observed: Observed;
  /** Empty when everything expected happened. */
  mismatches: string[];
}

/** One operator command, as typed and as answered. */
export interface OperationResult {
  step: ScenarioOperation;
  command: string;
  exitCode: number;
  output: string[];
  mismatches: string[];
}

/** A push event the synthesized trigger rule does not match: EventBridge starts nothing. */
export interface NotStartedResult {
  step: ScenarioPush;
  label: string;
  event: unknown;
  mismatches: string[];
}

/** Time passing with nothing pushed (a `wait` step). */
export interface WaitResult {
  step: ScenarioWait;
  /** The simulated time it ended at. */
  until: string;
  mismatches: string[];
}

export type TimelineEntry =
  | { kind: 'execution'; result: ExecutionResult }
  | { kind: 'operation'; result: OperationResult }
  | { kind: 'not-started'; result: NotStartedResult }
  | { kind: 'wait'; result: WaitResult };

export interface ScenarioResult {
  scenario: Scenario;
  /** The account after the last execution, for tests to inspect (e.g. which ECS calls were made). */
  account: SimulatedAccount;
  service: { name: string; environment: string; cluster: string; service: string };
  /** Every execution, in the order it ended. */
  executions: ExecutionResult[];
  operations: OperationResult[];
  /** Executions and commands in the order they happened. */
  timeline: TimelineEntry[];
  /** The ledger at the end: the service's deployment records (oldest first) and digests. */
  ledger: { deployments: DeploymentRecord[]; digests: DigestRecord[] };
  /** `model-rollout history --service NAME` at the end, as it prints. */
  history: string[];
  /** Mismatches with `expectAtEnd`. */
  endMismatches: string[];
}

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

export async function playScenario(scenario: Scenario, root: string): Promise<ScenarioResult> {
  const database = await startLedgerDatabase();
  try {
    return await play(scenario, root, database);
  } finally {
    await database.close();
  }
}

async function play(scenario: Scenario, root: string, database: LedgerDatabase): Promise<ScenarioResult> {
  const pipeline = pipelineFor(path.resolve(root, scenario.config));
  const entry = pipeline.catalog.find((s) => s.name === scenario.service);
  if (!entry) {
    throw new Error(
      `Scenario "${scenario.name}": service "${scenario.service}" is not in ${scenario.config} (configured: ${pipeline.catalog.map((s) => s.name).join(', ')})`,
    );
  }
  const trustedKey = readFileSync(path.resolve(root, DEMO_SIGNING_KEY), 'utf8');
  const untrustedKey = generateSigningKeyPair().privateKeyPem;
  const account = new SimulatedAccount({ account: pipeline.env.account, region: pipeline.env.region });
  const time = new SimulatedTime(account);
  const ledger = new DeploymentLedger(database.documentClient, database.tableName);
  const world: LocalWorld = {
    pipeline,
    account,
    time,
    ledgerTable: { documentClient: database.documentClient, tableName: database.tableName },
  };
  const repositoryUri = account.repositoryUri(entry.repositoryName);
  const tagOfDigest = new Map<string, string>();
  const digestOfTag = new Map<string, string>();

  const pushRunningImage = (tag: string, behaviour: ScenarioPush['rollout']): string => {
    const digest = account.pushImage(entry.repositoryName, tag, behaviour);
    tagOfDigest.set(digest, tag);
    digestOfTag.set(tag, digest);
    account.pushSignature(entry.repositoryName, createCosignSignature({ privateKey: trustedKey, repositoryUri, digest }));
    return digest;
  };
  const runningDigest = pushRunningImage(scenario.running.tag, scenario.running.onRedeploy);
  const { deploying } = scenario.running;
  const deployingDigest = deploying ? pushRunningImage(deploying.tag, deploying) : undefined;
  const configuredAlarms = new Set(entry.health.alarms);
  const alarmsNamed = [
    ...scenario.running.alarmsInAlarm.map((alarm) => ['running.alarmsInAlarm', alarm]),
    ...(scenario.running.deploymentAlarms?.alarmNames ?? []).map((alarm) => ['running.deploymentAlarms.alarmNames', alarm]),
    ...[scenario.running.onRedeploy, ...scenario.steps.filter(isPush).map((push) => push.rollout)].flatMap((b) =>
      b.tripsAlarm ? [['rollout.tripsAlarm', b.tripsAlarm]] : [],
    ),
  ];
  for (const [field, alarm] of alarmsNamed) {
    if (!configuredAlarms.has(alarm)) {
      throw new Error(
        `Scenario "${scenario.name}": ${field} names alarm "${alarm}", which service ${entry.name} does not configure (its alarms: ${[...configuredAlarms].join(', ') || 'none'})`,
      );
    }
  }
  account.createService(
    {
      cluster: entry.cluster,
      service: entry.service,
      container: entry.container,
      family: entry.taskDefinitionFamily,
      desiredCount: scenario.running.desiredCount,
      repositoryName: entry.repositoryName,
      alarms: entry.health.alarms,
      deploymentController: scenario.running.deploymentController,
      circuitBreakerRollback: scenario.running.circuitBreakerRollback,
      ...(scenario.running.deploymentAlarms
        ? {
            deploymentAlarms: {
              ...scenario.running.deploymentAlarms,
              alarmNames: scenario.running.deploymentAlarms.alarmNames ?? entry.health.alarms,
            },
          }
        : {}),
    },
    // A drifted revision was registered by hand: the image by tag, none of the pipeline's tags on the revision.
    scenario.running.drifted
      ? { uri: `${repositoryUri}:${scenario.running.tag}` }
      : { uri: `${repositoryUri}@${runningDigest}`, versionTag: scenario.running.tag },
    deploying && deployingDigest ? { uri: `${repositoryUri}@${deployingDigest}`, behaviour: deploying } : undefined,
  );
  for (const alarm of scenario.running.alarmsInAlarm) account.setAlarm(alarm, 'ALARM');

  const runningTag = () => {
    const image = account.runningImage(entry.cluster, entry.service).image;
    return tagOfDigest.get(account.services.ecr.resolveImage(image) ?? '') ?? image;
  };
  const timeline: TimelineEntry[] = [];
  const observe = async (
    step: ScenarioStep,
    label: string,
    digest: string,
    report: ExecutionReport,
    expected: Expectation | undefined,
    crashAfter: string | undefined,
  ): Promise<ExecutionResult> => {
    const outcome = report.alerts.find((a) => a.event.source === 'model-rollout')?.event.detail ?? report.output;
    const observed: Observed = {
      status: outcome?.status ?? 'none',
      signature: outcome?.signature?.code ?? null,
      error: report.error,
      running: runningTag(),
      alerts: [...new Set(report.alerts.map((a) => a.severity))].sort(),
    };
    const mismatches = [
      ...(expected ? compare(expected, observed) : []),
      ...(expected ? await compareDetails(expected, report, ledger, entry.name, digest) : []),
      // A failure injected into this execution that it never reached is a knob with no effect: the scenario would lie.
      ...Object.entries(report.unusedFailures).map(
        ([command, n]) => `awsFailures.${command}: ${n} injected failure(s) never reached by this execution`,
      ),
      ...Object.entries(report.unusedLambdaFailures).map(
        ([state, n]) => `lambdaFailures.${state}: ${n} injected failure(s) for invocations that never came`,
      ),
      ...(crashAfter !== undefined && report.status !== 'ABORTED'
        ? [`crashAfter: the execution never ran "${crashAfter}", so it did not crash there`]
        : []),
    ];
    const result = { step, label, digest, report, observed, mismatches };
    timeline.push({ kind: 'execution', result });
    return result;
  };

  // Start events the pipeline receives from elsewhere than ECR (operator's rollback, reconciliation) run at once, in
  // the flow of whoever started them, exactly as the synthesized state machine would run them.
  const startExecution = async (name: string, input: unknown) => {
    const report = await runExecution(world, input, { name, abortAfter: pendingOperation?.crashAfter });
    const event = input as { source: string; detail: { 'image-digest': string; 'image-tag': string } };
    const step = pendingOperation!;
    await observe(step, `${step.run} → ${event.detail['image-tag']}`, event.detail['image-digest'], report, step.expect, step.crashAfter);
    return report.executionArn;
  };
  let pendingOperation: ScenarioOperation | undefined;
  const sfn = {
    send: async (command: unknown) => {
      if (command instanceof DescribeExecutionCommand) return describeLocalExecution(world, command.input.executionArn!);
      if (!(command instanceof StartExecutionCommand))
        throw new Error(`The local run's Step Functions does not answer ${(command as object).constructor.name}`);
      const input = JSON.parse(command.input.input!);
      // The same name and input as an execution still running: Step Functions answers with that one, starting nothing.
      const open = openExecutionWithInput(world, command.input.name!, input);
      if (open) return { executionArn: open, startDate: account.clock() };
      return { executionArn: await startExecution(command.input.name!, input), startDate: account.clock() };
    },
  };
  const clients = { dynamoDb: database.dynamoDb, sfn, cloudFormation: undefined } as unknown as AwsClients;
  const cli = async (args: string[]) => {
    const output: string[] = [];
    const io = {
      stdout: (l: string) => output.push(l),
      stderr: (l: string) => output.push(l),
      now: account.clock,
      sleep: (s: number) => time.sleep(s),
      user: () => 'local-operator',
      columns: () => 150,
    };
    const location = ['--service', entry.name, '--table', database.tableName, '--state-machine', pipeline.stateMachineArn];
    const exitCode = await modelRollout([...args, ...location], io, clients);
    return { command: `model-rollout ${[...args, '--service', entry.name].join(' ')}`, exitCode, output };
  };

  const pushImage = (push: ScenarioPush): string => {
    if (push.sameImageAs) {
      const digest = digestOfTag.get(push.sameImageAs);
      if (!digest)
        throw new Error(`Scenario "${scenario.name}": push ${push.tag} is sameImageAs ${push.sameImageAs}, which was not pushed before`);
      account.tagImage(entry.repositoryName, push.tag, digest);
      digestOfTag.set(push.tag, digest);
      return digest;
    }
    const digest = account.pushImage(entry.repositoryName, push.tag, push.rollout, push.labels);
    tagOfDigest.set(digest, push.tag);
    digestOfTag.set(push.tag, digest);
    if (push.signature !== 'none') {
      const otherDigest = `sha256:${'0'.repeat(64)}`;
      account.pushSignature(
        entry.repositoryName,
        createCosignSignature({
          privateKey: push.signature === 'untrusted' ? untrustedKey : trustedKey,
          repositoryUri,
          digest,
          payloadDigest: push.signature === 'another-digest' ? otherDigest : undefined,
          dockerReference: push.signature === 'another-repository' ? account.repositoryUri('models/someone-elses-model') : undefined,
        }),
        { appearsAfterSeconds: push.signatureArrivesAfterSeconds },
      );
    }
    return digest;
  };

  /**
   * One push, `delay` seconds from now: the image arrives, then each delivery of its event, 1 s apart, side by side.
   * Each delivery is one participant of simulated time (never nested: a participant waiting on another would stop the clock).
   */
  const playPush = (push: ScenarioPush, delay: number): Promise<unknown> => {
    const expectations: (Expectation | undefined)[] = Array.isArray(push.expect)
      ? push.expect
      : Array.from({ length: push.deliveries }, () => push.expect as Expectation | undefined);
    let digest: string | undefined;
    const arrive = () => (digest ??= pushImage(push));
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
          const pushed = arrive();
          const first = delivery === 0;
          const label = push.deliveries > 1 ? `push ${push.tag} (delivery ${delivery + 1} of ${push.deliveries})` : `push ${push.tag}`;
          const event = ecrPushEvent(account, push.repository ?? entry.repositoryName, push.tag, pushed, push.event);
          // EventBridge starts an execution only for what the synthesized trigger rule matches.
          if (!pipeline.triggerPatterns.some((pattern) => matchesEventPattern(event, pattern))) {
            const failuresPlanned =
              first &&
              (Object.keys(push.awsFailures).length > 0 || Object.keys(push.lambdaFailures).length > 0 || push.crashAfter !== undefined);
            const mismatches = [
              ...(expected && expected.status !== NOT_STARTED
                ? [`status: expected ${expected.status}, got ${NOT_STARTED} (the trigger rule does not match this event)`]
                : []),
              ...(failuresPlanned
                ? [
                    'awsFailures, lambdaFailures, crashAfter: the trigger rule starts no execution for this event, so nothing can fail in it',
                  ]
                : []),
            ];
            timeline.push({ kind: 'not-started', result: { step: push, label, event, mismatches } });
            return;
          }
          await authorizeTrigger(world, pipeline.stateMachineArn);
          // What goes wrong is injected into the first delivery's execution only.
          const report = await runExecution(world, event, {
            abortAfter: first ? push.crashAfter : undefined,
            lambdaFailures: first ? push.lambdaFailures : undefined,
            awsFailures: first ? push.awsFailures : undefined,
          });
          await observe(push, label, pushed, report, expected, first ? push.crashAfter : undefined);
        }),
      ),
    );
  };

  const playOperation = async (operation: ScenarioOperation): Promise<void> => {
    pendingOperation = operation;
    let answer: Omit<OperationResult, 'step' | 'mismatches'>;
    if (operation.run === 'reconcile') {
      // EventBridge's schedule invokes the reconciliation, which acts as its function's role; the CLI's commands run as
      // an operator, not authorized here.
      await authorizeRuleInvoke(world, 'reconcile');
      const reconcile = localReconciliation(
        world,
        sfn,
        pipeline.catalog.filter((s) => s.name === entry.name),
      );
      const { services } = await reconcile();
      answer = {
        command: 'scheduled reconciliation',
        exitCode: 0,
        output: services.map((s) => `${s.service}: ${s.action}${s.tag ? ` ${s.tag}` : ''}`),
      };
    } else if (operation.run === 'rollback') {
      answer = await cli(['rollback', ...(operation.to ? ['--to', operation.to] : []), '--reason', 'scenario: operator rollback']);
    } else {
      const digest = digestOfTag.get(operation.tag ?? '');
      if (!digest)
        throw new Error(
          `Scenario "${scenario.name}": release-quarantine needs the tag of an image pushed before (got ${operation.tag ?? 'none'})`,
        );
      answer = await cli(['quarantine', 'release', '--digest', digest, '--reason', 'scenario: fixed and re-verified']);
    }
    const started = timeline.some((t) => t.kind === 'execution' && t.result.step === operation);
    const mismatches = [
      ...(answer.exitCode !== operation.expectExit
        ? [`exit status: expected ${operation.expectExit}, got ${answer.exitCode} (${answer.output.join(' | ')})`]
        : []),
      ...(operation.expect && !started ? ['expected an execution to start, but none did'] : []),
      ...(!operation.expect && started ? ['an execution started, but none was expected'] : []),
    ];
    const result = { step: operation, ...answer, mismatches };
    timeline.push({ kind: 'operation', result });
    pendingOperation = undefined;
  };

  // Pushes that arrive while others run are started side by side; anything else waits for everything before it to end.
  let running: Promise<unknown>[] = [];
  let lastArrival = account.clock().getTime();
  for (const [index, step] of scenario.steps.entries()) {
    if (isPush(step) && step.arrivesAfterSeconds !== undefined && index > 0) {
      // Started now, arriving later: every participant must exist before simulated time may move.
      lastArrival += step.arrivesAfterSeconds * 1000;
      running.push(playPush(step, Math.max(0, lastArrival - account.clock().getTime()) / 1000));
      continue;
    }
    await Promise.all(running);
    running = [];
    if (isWait(step)) {
      // Jumps ahead instead of the usual pause: nothing runs meanwhile.
      account.advance(step.wait);
      // A push arriving "after" the step before it counts from the end of the wait.
      lastArrival = account.clock().getTime();
      timeline.push({ kind: 'wait', result: { step, until: account.clock().toISOString(), mismatches: [] } });
      continue;
    }
    if (index > 0 && !isWait(scenario.steps[index - 1]!)) account.advance(PAUSE_BETWEEN_STEPS_SECONDS);
    lastArrival = account.clock().getTime();
    // A push is not awaited here: pushes arriving while it runs are started beside it.
    if (isPush(step)) running.push(playPush(step, 0));
    else await time.participate(() => playOperation(step));
  }
  await Promise.all(running);

  const history = (await cli(['history', '--limit', '50'])).output;
  const final = runningTag();
  const endMismatches =
    scenario.expectAtEnd && scenario.expectAtEnd.running !== final
      ? [`at the end: expected ${scenario.expectAtEnd.running} running, got ${final}`]
      : [];
  const executions = timeline.flatMap((t) => (t.kind === 'execution' ? [t.result] : []));
  const operations = timeline.flatMap((t) => (t.kind === 'operation' ? [t.result] : []));
  return {
    scenario,
    account,
    service: { name: entry.name, environment: entry.environment, cluster: entry.cluster, service: entry.service },
    executions,
    operations,
    timeline,
    ledger: { deployments: await ledger.listDeployments(entry.name), digests: await ledger.listDigests(entry.name) },
    history,
    endMismatches,
  };
}

/** The expectations on what the execution did beyond its outcome: its AWS calls, the ledger after it, its alert. */
async function compareDetails(
  expected: Expectation,
  report: ExecutionReport,
  ledger: DeploymentLedger,
  service: string,
  digest: string,
): Promise<string[]> {
  const mismatches: string[] = [];
  for (const [command, count] of Object.entries(expected.calls ?? {})) {
    const made = report.calls.filter((c) => c.command === command).length;
    if (made !== count) mismatches.push(`calls.${command}: expected ${count}, got ${made}`);
  }
  if (expected.ledger?.status !== undefined) {
    const record = await ledger.findByExecution(report.executionArn);
    if (record?.status !== expected.ledger.status)
      mismatches.push(`ledger.status: expected ${expected.ledger.status}, got ${record?.status ?? 'no record of this execution'}`);
  }
  if (expected.ledger?.quarantined !== undefined) {
    const quarantined = Boolean((await ledger.getDigest(service, digest))?.quarantine);
    if (quarantined !== expected.ledger.quarantined)
      mismatches.push(`ledger.quarantined: expected ${expected.ledger.quarantined}, got ${quarantined}`);
  }
  const wanted = Object.entries(expected.alert ?? {});
  const alert = report.alerts.find((a) => a.event.source === 'model-rollout')?.event.detail;
  if (wanted.length > 0 && !alert) mismatches.push('alert: expected an outcome alert, but none was published');
  for (const [field, value] of alert ? wanted : []) {
    const actual = field.split('.').reduce<unknown>((at, key) => (at as Record<string, unknown> | null | undefined)?.[key], alert);
    const matches =
      value !== null && typeof value === 'object' ? typeof actual === 'string' && actual.includes(value.contains) : actual === value;
    if (!matches) mismatches.push(`alert.${field}: expected ${JSON.stringify(value)}, got ${JSON.stringify(actual)}`);
  }
  return mismatches;
}

function compare(expected: Expectation, observed: Observed): string[] {
  const mismatches: string[] = [];
  if (expected.status !== observed.status) mismatches.push(`status: expected ${expected.status}, got ${observed.status}`);
  if (expected.signature !== undefined && expected.signature !== observed.signature) {
    mismatches.push(`signature: expected ${expected.signature}, got ${observed.signature ?? 'not checked'}`);
  }
  if (expected.error !== observed.error) mismatches.push(`error: expected ${expected.error ?? 'none'}, got ${observed.error ?? 'none'}`);
  if (expected.running !== undefined && expected.running !== observed.running)
    mismatches.push(`running: expected ${expected.running}, got ${observed.running}`);
  const wanted = [...new Set(expected.alerts)].sort();
  if (wanted.join(',') !== observed.alerts.join(',')) {
    mismatches.push(`alerts: expected [${wanted.join(', ')}], got [${observed.alerts.join(', ')}]`);
  }
  return mismatches;
}

/**
 * The event ECR sends for a push (shape: shared/samples/events/ecr-image-push.json); an untagged push carries no
 * image-tag, a failed one result FAILURE (ecr-image-push-failed.json).
 */
export function ecrPushEvent(
  account: SimulatedAccount,
  repositoryName: string,
  tag: string,
  digest: string,
  kind: ScenarioPush['event'] = 'tagged',
) {
  const detail = {
    result: kind === 'failed' ? 'FAILURE' : 'SUCCESS',
    'repository-name': repositoryName,
    'image-digest': digest,
    'action-type': 'PUSH',
    'image-tag': tag,
  };
  if (kind === 'untagged') delete (detail as Partial<typeof detail>)['image-tag'];
  return startEvent(
    'push',
    { id: `local-${digest.slice(7, 15)}-${tag}`, account: account.account, region: account.region, time: account.clock().toISOString() },
    detail as never,
  );
}
