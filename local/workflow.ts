/**
 * Runs the real synthesized state machine locally: the definition comes from the stack the CDK app synthesizes,
 * each Lambda task runs its real handler in-process against a SimulatedAccount, and the outcome event is routed
 * through the synthesized alert rules to tell which topics would be notified.
 */
import { DescribeExecutionCommand, ExecutionAlreadyExists, ExecutionDoesNotExist } from '@aws-sdk/client-sfn';
import { ExecutionAbortedError, ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { ServiceCatalog } from '../lambdas/contract/catalog';
import type { Severity } from '../lambdas/contract/outcomes';
import { AlarmMonitor } from '../lambdas/adapters/alarm-monitor';
import { DeploymentTarget } from '../lambdas/adapters/deployment-target';
import { executionArnOf, PipelineExecutions } from '../lambdas/adapters/executions';
import { ImageRegistry } from '../lambdas/adapters/image-registry';
import { KeyStore } from '../lambdas/adapters/key-store';
import { SigningAuthority } from '../lambdas/adapters/signing-authority';
import { readRootCertificates } from '../lambdas/signature/root-certificates';
import { createCheckHealthHandler } from '../lambdas/steps/check-health';
import { createCheckReleaseHandler } from '../lambdas/steps/check-release';
import { createRegisterRevisionHandler } from '../lambdas/steps/register-revision';
import { createUpdateServiceHandler } from '../lambdas/steps/update-service';
import { createVerifySignatureHandler } from '../lambdas/steps/verify-signature';
import { createFinaliseExecutionHandler } from '../lambdas/steps/finalise-execution';
import { createRecordOutcomeHandler } from '../lambdas/steps/record-outcome';
import { createRecordReleaseHandler } from '../lambdas/steps/record-release';
import { createTakeTurnHandler } from '../lambdas/steps/take-turn';
import { LOCK_POLL_SECONDS } from '../lambdas/contract/steps';
import type { AlertRouting } from '../lib/alert-routing';
import { buildApp } from '../lib/build-app';
import type { RolloutPipeline } from '../lib/rollout-pipeline';
import { STATES, STEP_FUNCTIONS, type StepFunctionName } from '../lib/state-names';
import { lambdaArnFor, resolveIntrinsics, type SimulatedEnvironment } from './cloudformation';
import { authorizeIntegration, authorizeRuleInvoke, authorizing, clientsAs, integrationCommand, type LedgerTable } from './iam/authorize';
import { readAccountPolicies, type AccountPolicies } from './iam/policies';
import { LambdaInvocations, type LambdaFailures } from './lambda-invocation';
import { matchesEventPattern } from './event-pattern';
import type { FailurePlan, SimulatedAccount } from './simulated-account';
import type { SimulatedTime } from './simulated-time';

/**
 * What one local run shares between its executions: the account, its clock's scheduler, and the ledger table (each
 * step reaches it through a client acting as its own role).
 */
export interface LocalWorld {
  pipeline: SynthesizedPipeline;
  account: SimulatedAccount;
  time: SimulatedTime;
  ledgerTable: LedgerTable;
}

export interface RunOptions {
  /** Execution name (default: local-NNNN). */
  name?: string;
  /** Abort the execution as soon as this state has run (a crash: the outcome is never recorded by the execution). */
  abortAfter?: string;
  /** Lambda invocations of this execution that time out or are throttled, by Task state name (see LambdaFailures). */
  lambdaFailures?: LambdaFailures;
  /** AWS calls of this execution (and of no other) that fail, by command name (see SimulatedAccount.asExecution). */
  awsFailures?: FailurePlan;
  /**
   * Answers these steps with these handlers instead of the ones built from the TypeScript sources (e.g. the bundles
   * `cdk deploy` uploads). Everything around them stays: the Wait before a step, the state machine's authorization to
   * invoke it, failing the way Lambda fails.
   */
  handlers?: Partial<Record<StepFunctionName, (input: Json) => Promise<Json>>>;
}

type Json = any;
type Template = { Resources: Record<string, { Type: string; Properties: Json }> };

export interface SynthesizedPipeline {
  definition: Json;
  catalog: ServiceCatalog;
  /** Task state name → the Lambda step it invokes. */
  stepOfState: Map<string, StepFunctionName>;
  /** Each step function's configured timeout (its `Timeout`), in seconds. */
  timeoutSecondsOf: Record<StepFunctionName, number>;
  /** Each step function's environment variables, as the template sets them (intrinsics resolved). */
  environmentOf: Record<StepFunctionName, Record<string, string>>;
  /** Synthesized with `bundleInto`: each step function's staged asset (the folder holding its bundled index.js). */
  bundleOf?: Record<StepFunctionName, string>;
  /** Alert rules of the synthesized stack: the bus each listens on, its pattern and the severity of the topic it targets. */
  alertRules: { name: string; bus: string; pattern: Json; severities: Severity[] }[];
  /** The pattern of the rule that sends ended executions to the crash finaliser. */
  finaliserPattern: Json;
  /** The patterns of the rules that start an execution for an ECR push (what EventBridge lets through). */
  triggerPatterns: Json[];
  stateMachineArn: string;
  env: SimulatedEnvironment;
  /** The verify step's pinned AWS Signer root certificates (its SIGNER_ROOT_CERTIFICATES), PEM; '' when none. */
  signerRootCertificates: string;
  /** The roles' policies and the key policies every simulated call is authorized against. */
  iam: AccountPolicies;
}

export interface HistoryEntry {
  /** Simulated seconds since the execution started. */
  at: number;
  type: string;
  state?: string;
  stateType?: string;
  detail?: string;
}

export interface Alert {
  severity: Severity;
  rule: string;
  event: Json;
}

export interface ExecutionReport {
  executionArn: string;
  status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  error: string | null;
  cause: string | null;
  output: Json;
  history: HistoryEntry[];
  alerts: Alert[];
  /** What the crash finaliser did with the execution's ledger record; null when it did not run (the execution succeeded). */
  finalised: 'finalised' | 'already-final' | 'ignored' | null;
  /** The commands the simulated account answered for this execution, in order. */
  calls: { command: string; input: unknown }[];
  /** Injected AWS failures (`awsFailures`) this execution never reached, per command. */
  unusedFailures: Record<string, number>;
  /** Injected Lambda failures (`lambdaFailures`) for invocations that never came, per Task state. */
  unusedLambdaFailures: Record<string, number>;
}

/**
 * Synthesizes the CDK app for a configuration and extracts what a local run needs: without bundling (the handlers run
 * from source), or with `bundleInto` a folder, bundling every function as `cdk deploy` would, into that assembly.
 */
export function synthesizePipeline(
  configPath: string,
  env: Partial<SimulatedEnvironment> = {},
  options: { bundleInto?: string } = {},
): SynthesizedPipeline {
  const environment: SimulatedEnvironment = { account: '123456789012', region: 'us-east-1', partition: 'aws', ...env };
  const { app, stack } = buildApp(
    configPath,
    options.bundleInto ? { outdir: options.bundleInto } : { context: { 'aws:cdk:bundling-stacks': [] } },
  );
  const assembly = app.synth();
  const template = assembly.getStackByName(stack.stackName).template as Template;
  const pipeline = stack.node.findChild('Pipeline') as RolloutPipeline;
  const alerts = stack.node.findChild('Alerts') as AlertRouting;

  const stateMachineId = stack.getLogicalId(pipeline.stateMachine.node.defaultChild as never);
  const stateMachineArn = `arn:aws:states:${environment.region}:${environment.account}:stateMachine:${stateMachineId}`;
  const resolve = (value: unknown) => resolveIntrinsics(value, environment, template.Resources, { [stateMachineId]: stateMachineArn });
  const definition = JSON.parse(resolve(template.Resources[stateMachineId].Properties.DefinitionString) as string);

  const stepOfArn = new Map<string, StepFunctionName>(
    STEP_FUNCTIONS.map((step) => [
      lambdaArnFor(environment, stack.getLogicalId(pipeline.functions[step].node.defaultChild as CfnFunction)),
      step,
    ]),
  );
  const stepOfState = new Map<string, StepFunctionName>();
  for (const [name, state] of Object.entries<Json>(definition.States)) {
    const step = state.Type === 'Task' ? stepOfArn.get(state.Resource) : undefined;
    if (step) stepOfState.set(name, step);
  }

  const severityOfTopic = new Map<string, Severity>(
    (Object.entries(alerts.topics) as [Severity, { node: { defaultChild: unknown } }][]).map(([severity, topic]) => [
      stack.getLogicalId(topic.node.defaultChild as never),
      severity,
    ]),
  );
  const alertRules = Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Events::Rule')
    .map(([name, r]) => ({
      name,
      // A rule only sees the events of its own bus (EventBusName: the bus's name; the default bus when absent).
      bus: r.Properties.EventBusName ? (resolve(r.Properties.EventBusName) as string) : 'default',
      pattern: resolve(r.Properties.EventPattern),
      severities: (r.Properties.Targets ?? [])
        .map((t: Json) => severityOfTopic.get(t.Arn?.Ref))
        .filter((s: Severity | undefined): s is Severity => s !== undefined),
    }))
    .filter((rule) => rule.severities.length > 0);

  const functionOf = (step: StepFunctionName) =>
    template.Resources[stack.getLogicalId(pipeline.functions[step].node.defaultChild as CfnFunction)];
  const perStep = <T>(value: (step: StepFunctionName) => T) =>
    Object.fromEntries(STEP_FUNCTIONS.map((step) => [step, value(step)])) as Record<StepFunctionName, T>;
  const timeoutSecondsOf = perStep((step) => functionOf(step).Properties.Timeout ?? 3);
  const environmentOf = perStep((step) => resolve(functionOf(step).Properties.Environment?.Variables ?? {}) as Record<string, string>);
  // The default synthesizer stages a file asset `<hash>.zip` as the assembly's folder `asset.<hash>`.
  const bundleOf = options.bundleInto
    ? perStep((step) => `${assembly.directory}/asset.${String(functionOf(step).Properties.Code.S3Key).replace(/\.zip$/, '')}`)
    : undefined;
  const finaliserPattern = resolve(
    template.Resources[stack.getLogicalId(pipeline.crashFinaliser.node.defaultChild as never)].Properties.EventPattern,
  );
  // One rule per group of repositories (EventBridge's pattern size quota): a push starts an execution if any matches.
  const triggerPatterns = pipeline.triggers.map((rule) =>
    resolve(template.Resources[stack.getLogicalId(rule.node.defaultChild as never)].Properties.EventPattern),
  );
  const verifyFunction = template.Resources[stack.getLogicalId(pipeline.functions['verify-signature'].node.defaultChild as CfnFunction)];
  const signerRootCertificates: string = verifyFunction.Properties.Environment?.Variables?.SIGNER_ROOT_CERTIFICATES ?? '';
  const iam = readAccountPolicies(stack, template, environment);
  return {
    definition,
    catalog: pipeline.catalog,
    stepOfState,
    timeoutSecondsOf,
    environmentOf,
    bundleOf,
    alertRules,
    finaliserPattern,
    triggerPatterns,
    stateMachineArn,
    env: environment,
    signerRootCertificates,
    iam,
  };
}

/**
 * The step handlers, built exactly as the Lambda entry points build them, but on the simulated account's clients, its
 * clock and the local ledger, each step's clients acting as that step's function role (every call authorized against
 * the synthesized policies, refused as AWS would), and each invocation authorized as the state machine's role. Where a
 * Wait state comes before a step, the wait elapses in simulated time inside the step (the Wait states themselves take
 * no time locally), so executions running side by side interleave as in AWS.
 */
function localStepHandlers(
  world: LocalWorld,
  startedAt: Date,
  overrides: RunOptions['handlers'] = {},
): Record<StepFunctionName, (input: Json) => Promise<Json>> {
  const { pipeline, account, time } = world;
  const clock = account.clock;
  const as = (step: StepFunctionName) => clientsAs(world, step);
  const target = (step: StepFunctionName) => new DeploymentTarget(as(step).ecs as never);
  const registry = (step: StepFunctionName) => new ImageRegistry(as(step).ecr as never, account.fetchBlob);
  const invoke = (step: StepFunctionName) =>
    authorizeIntegration(world, integrationCommand('InvokeCommand', { FunctionName: pipeline.iam.functionArns[step] }));
  const checkHealth = createCheckHealthHandler({
    target: target('check-health'),
    alarms: new AlarmMonitor(as('check-health').cloudwatch as never),
    clock,
  });
  const verifying = as('verify-signature');
  const verifySignature = createVerifySignatureHandler({
    registry: registry('verify-signature'),
    keyStore: new KeyStore(verifying.kms as never),
    signingAuthority: new SigningAuthority(verifying.signer as never),
    trustedRoots: readRootCertificates(pipeline.signerRootCertificates, 'SIGNER_ROOT_CERTIFICATES'),
    now: clock,
  });
  const recordRelease = createRecordReleaseHandler({ ledger: as('record-release').ledger, registry: registry('record-release'), clock });
  const takeTurn = createTakeTurnHandler({ ledger: as('take-turn').ledger, clock });
  const handlers: Record<StepFunctionName, (input: Json) => Promise<Json>> = {
    'check-release': createCheckReleaseHandler({ catalog: pipeline.catalog, target: target('check-release') }),
    'record-release': recordRelease,
    'verify-signature': verifySignature,
    'take-turn': takeTurn,
    'register-revision': createRegisterRevisionHandler({ target: target('register-revision') }),
    'update-service': createUpdateServiceHandler({ target: target('update-service'), clock }),
    'check-health': checkHealth,
    'record-outcome': createRecordOutcomeHandler({ ledger: as('record-outcome').ledger, clock }),
    ...overrides,
  };
  let signatureChecks = 0;
  let turns = 0;
  // aws-local-stepfunctions sets $$.Execution.StartTime to the wall clock whatever context it is given: the steps that
  // read it get the simulated start instead.
  const simulatedStart = startedAt.toISOString();
  // The Wait state (if any) comes first, then the state machine invokes the function.
  const step =
    (name: StepFunctionName, wait: (input: Json) => Promise<void>, input: (input: Json) => Json = (i) => i) =>
    async (stepInput: Json) => {
      await wait(stepInput);
      await invoke(name);
      return handlers[name](input(stepInput));
    };
  const noWait = async () => {};
  return {
    'check-release': step('check-release', noWait),
    'record-release': step('record-release', noWait, (input) => ({ ...input, startedAt: simulatedStart })),
    // Every look after the first follows a "Wait for the signature to arrive".
    'verify-signature': step(
      'verify-signature',
      async (input) => {
        if (signatureChecks++ > 0) await time.sleep(input.trust.signaturePollSeconds);
      },
      (input) => ({ ...input, waitingSince: simulatedStart }),
    ),
    // Every attempt after the first follows a "Wait for the service to be free".
    'take-turn': step('take-turn', async () => {
      if (turns++ > 0) await time.sleep(LOCK_POLL_SECONDS);
    }),
    'register-revision': step('register-revision', noWait),
    'update-service': step('update-service', noWait),
    // Every check follows a "Wait before checking health".
    'check-health': step('check-health', (input) => time.sleep(input.service.health.pollSeconds)),
    'record-outcome': step('record-outcome', noWait),
  };
}

let executionCounter = 0;

/**
 * The execution names each world has used, with each execution's status. Step Functions refuses a name used before by
 * an open or closed execution (for 90 days after it closed) with ExecutionAlreadyExists, whatever the input, unless an
 * open one has the very same input (StartExecution API reference, "name":
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html).
 */
const executionNames = new WeakMap<LocalWorld, Map<string, { status: ExecutionReport['status'] | 'RUNNING'; input: string }>>();

function claimExecutionName(world: LocalWorld, name: string, executionArn: string, input: Json): void {
  const names = executionNames.get(world) ?? new Map();
  executionNames.set(world, names);
  if (names.has(name)) throw new ExecutionAlreadyExists({ message: `Execution Already Exists: '${executionArn}'`, $metadata: {} });
  names.set(name, { status: 'RUNNING', input: JSON.stringify(input) });
}

/** StartExecution's idempotent case: an open execution of that name with the very same input; its ARN, else null. */
export function openExecutionWithInput(world: LocalWorld, name: string, input: Json): string | null {
  const known = executionNames.get(world)?.get(name);
  return known?.status === 'RUNNING' && known.input === JSON.stringify(input) ? executionArnOf(world.pipeline.stateMachineArn, name) : null;
}

/** DescribeExecution of one of the world's executions, by ARN: its status, as the local run knows it. */
export function describeLocalExecution(world: LocalWorld, executionArn: string) {
  const name = executionArn.slice(executionArn.lastIndexOf(':') + 1);
  const known = executionArn === executionArnOf(world.pipeline.stateMachineArn, name) ? executionNames.get(world)?.get(name) : undefined;
  if (known === undefined) throw new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${executionArn}'`, $metadata: {} });
  return { executionArn, stateMachineArn: world.pipeline.stateMachineArn, name, status: known.status };
}

/** The local Step Functions as a function sees it: DescribeExecution only (the finaliser confirms an execution's end). */
function describingStepFunctions(world: LocalWorld) {
  return {
    send: async (command: unknown) => {
      if (!(command instanceof DescribeExecutionCommand))
        throw new Error(`The crash finaliser does not call ${(command as object).constructor.name}`);
      return describeLocalExecution(world, command.input.executionArn!);
    },
  };
}

/**
 * Runs one execution of the synthesized definition for `input` (a start event) against the simulated account. Call it
 * from within one participant of the world's simulated time (see SimulatedTime). When it ends FAILED or ABORTED, the
 * status-change event goes through the synthesized rules: to the alert topics, and to the crash finaliser, which runs
 * against the local ledger.
 */
export async function runExecution(world: LocalWorld, input: Json, options: RunOptions = {}): Promise<ExecutionReport> {
  const { result, calls, unusedFailures } = await world.account.asExecution(options.awsFailures ?? {}, () => run(world, input, options));
  return { ...result, calls, unusedFailures };
}

async function run(world: LocalWorld, input: Json, options: RunOptions): Promise<Omit<ExecutionReport, 'calls' | 'unusedFailures'>> {
  const { pipeline, account } = world;
  const startedAt = account.clock();
  const steps = localStepHandlers(world, startedAt, options.handlers);
  const invocations = new LambdaInvocations(options.lambdaFailures);
  const invocation = (step: StepFunctionName) => ({
    sleep: (s: number) => world.time.sleep(s),
    clock: account.clock,
    timeoutSeconds: pipeline.timeoutSecondsOf[step],
  });
  const published: Json[] = [];
  let abort: (() => void) | undefined;
  const taskResourceLocalHandlers: Record<string, (input: Json) => Promise<Json>> = {};
  for (const [name, state] of Object.entries<Json>(pipeline.definition.States)) {
    if (state.Type !== 'Task') continue;
    const step = pipeline.stepOfState.get(name);
    if (step) {
      taskResourceLocalHandlers[name] = async (stepInput: Json) => {
        // As Lambda runs it: a throw becomes the runtime's error JSON; a timeout or throttle can be injected.
        const result = await invocations.invoke(name, () => steps[step]!(stepInput), invocation(step));
        // The crash happens once the state's work is done, before the execution can go on.
        if (options.abortAfter === name) abort?.();
        return result;
      };
    } else if (state.Resource === 'arn:aws:states:::events:putEvents') {
      taskResourceLocalHandlers[name] = async (params: Json) => {
        // The state machine's own integration: authorized as its role.
        await authorizeIntegration(world, integrationCommand('PutEventsCommand', params));
        // A failure that took effect (its response lost) published the events all the same.
        account.throwScheduledFailure('PutEvents', () => published.push(...params.Entries));
        published.push(...params.Entries);
        return { Entries: params.Entries.map(() => ({ EventId: `local-${published.length}` })), FailedEntryCount: 0 };
      };
    } else {
      throw new Error(`The local run has no handler for task state "${name}" (${state.Resource})`);
    }
  }
  const waits = Object.entries<Json>(pipeline.definition.States)
    .filter(([, s]) => s.Type === 'Wait')
    .map(([n]) => n);
  const retriers = Object.entries<Json>(pipeline.definition.States)
    .filter(([, s]) => s.Retry)
    .map(([n]) => n);

  const name = options.name ?? `local-${String(++executionCounter).padStart(4, '0')}`;
  const executionArn = executionArnOf(pipeline.stateMachineArn, name);
  claimExecutionName(world, name, executionArn, input);
  const execution = new StateMachine(pipeline.definition, { validationOptions: { checkArn: false } }).run(input, {
    overrides: {
      taskResourceLocalHandlers,
      waitTimeOverrides: Object.fromEntries(waits.map((w) => [w, 0])),
      retryIntervalOverrides: Object.fromEntries(retriers.map((r) => [r, 0])),
    },
    context: {
      Execution: { Id: executionArn, Name: name, StartTime: startedAt.toISOString(), Input: input },
      StateMachine: { Id: pipeline.stateMachineArn, Name: pipeline.stateMachineArn.split(':').pop() },
    } as never,
  });
  abort = () => execution.abort();

  const history: HistoryEntry[] = [];
  const collecting = (async () => {
    for await (const event of execution.eventLogs) {
      history.push(toHistoryEntry(event, (account.clock().getTime() - startedAt.getTime()) / 1000));
    }
  })();
  let report: Pick<ExecutionReport, 'status' | 'error' | 'cause' | 'output'>;
  try {
    report = { status: 'SUCCEEDED', error: null, cause: null, output: await execution.result };
  } catch (error) {
    if (error instanceof ExecutionAbortedError) {
      report = { status: 'ABORTED', error: null, cause: `aborted after "${options.abortAfter}"`, output: null };
    } else {
      if (!(error instanceof ExecutionError)) throw error;
      const failure = history.findLast((h) => h.type === 'ExecutionFailed');
      const { Error: errorName, Cause } = (error as unknown as { cause: { name: string; message: string } }).cause
        ? { Error: (error as Json).cause.name, Cause: (error as Json).cause.message }
        : { Error: 'States.Runtime', Cause: error.message };
      report = {
        status: 'FAILED',
        error: failureField(failure, 'Error') ?? errorName,
        cause: failureField(failure, 'Cause') ?? Cause,
        output: null,
      };
    }
  }
  await collecting;
  executionNames.get(world)!.get(name)!.status = report.status;

  const events: (Json & { bus: string })[] = published.map((entry) => ({
    // The bus the entry was put on, by name (the state machine names it by ARN).
    bus: entry.EventBusName ? String(entry.EventBusName).split('event-bus/').pop() : 'default',
    source: entry.Source,
    'detail-type': entry.DetailType,
    account: pipeline.env.account,
    region: pipeline.env.region,
    resources: [],
    detail: typeof entry.Detail === 'string' ? JSON.parse(entry.Detail) : entry.Detail,
  }));
  let finalised: ExecutionReport['finalised'] = null;
  if (report.status !== 'SUCCEEDED') {
    const statusChange = statusChangeEvent(pipeline, executionArn, name, startedAt, input, report);
    // AWS puts its services' events on the default bus only (EventBridge user guide, "Events").
    events.push({ ...statusChange, bus: 'default' });
    if (matchesEventPattern(statusChange, pipeline.finaliserPattern)) {
      // EventBridge invokes the crash finaliser (as its rule allows), which acts as its own role.
      await authorizeRuleInvoke(world, 'finalise-execution');
      const finalise = createFinaliseExecutionHandler({
        catalog: pipeline.catalog,
        ledger: clientsAs(world, 'finalise-execution').ledger,
        executions: new PipelineExecutions(
          authorizing(world, 'finalise-execution', describingStepFunctions(world)) as never,
          pipeline.stateMachineArn,
        ),
        clock: account.clock,
      });
      finalised = (await finalise(statusChange)).action;
    }
  }
  return { executionArn, ...report, history, alerts: routeAlerts(pipeline, events), finalised, unusedLambdaFailures: invocations.unused() };
}

function failureField(entry: HistoryEntry | undefined, field: 'Error' | 'Cause'): string | undefined {
  const raw = (entry as Json)?.[field];
  return raw === undefined ? undefined : String(raw);
}

/** The "Step Functions Execution Status Change" event AWS would emit for an execution that did not succeed. */
function statusChangeEvent(
  pipeline: SynthesizedPipeline,
  executionArn: string,
  name: string,
  startedAt: Date,
  input: Json,
  report: Pick<ExecutionReport, 'status' | 'error' | 'cause'>,
): Json {
  return {
    source: 'aws.states',
    'detail-type': 'Step Functions Execution Status Change',
    account: pipeline.env.account,
    region: pipeline.env.region,
    resources: [executionArn],
    detail: {
      executionArn,
      stateMachineArn: pipeline.stateMachineArn,
      name,
      status: report.status,
      startDate: startedAt.getTime(),
      input: JSON.stringify(input),
      error: report.error,
      cause: report.cause,
    },
  };
}

function routeAlerts(pipeline: SynthesizedPipeline, events: (Json & { bus: string })[]): Alert[] {
  return events.flatMap(({ bus, ...event }) =>
    pipeline.alertRules
      .filter((rule) => rule.bus === bus && matchesEventPattern(event, rule.pattern))
      .flatMap((rule) => rule.severities.map((severity) => ({ severity, rule: rule.name, event }))),
  );
}

/** One event of the local runner's log (the library does not export its EventLog type). */
type EventLog = Awaited<ReturnType<ReturnType<StateMachine['run']>['eventLogs']['next']>>['value'] & {};

function toHistoryEntry(event: Exclude<EventLog, void>, at: number): HistoryEntry {
  const entry: HistoryEntry & Record<string, unknown> = { at, type: event.type };
  if ('state' in event) {
    entry.state = event.state.name;
    entry.stateType = event.state.type;
    if (event.type === 'StateExited') entry.detail = summarizeOutput(event.state.name, event.state.output);
    if (event.type === 'StateRetried') entry.detail = `attempt ${event.retry.attempt}`;
  }
  if ('Error' in event) {
    entry.Error = event.Error;
    entry.Cause = typeof event.Cause === 'string' ? event.Cause : JSON.stringify(event.Cause);
    entry.detail = `${event.Error}: ${entry.Cause}`;
  }
  return entry;
}

/** What an operator would look for in a state's output, in one line. */
function summarizeOutput(state: string, output: Json): string | undefined {
  const at: Record<string, (o: Json) => Json> = {
    [STATES.checkRelease]: (o) => o.policy,
    [STATES.recordRelease]: (o) => o.ledger,
    [STATES.takeTurn]: (o) => o.turn,
    [STATES.waitForTurn]: () => ({ reason: `waiting ${LOCK_POLL_SECONDS} s for the service lock` }),
    [STATES.recordInLedger]: (o) => ({ reason: `${o.outcome?.status} recorded` }),
    [STATES.verifySignature]: (o) => o.signature,
    [STATES.waitForSignature]: (o) => ({ reason: `waiting ${o.service?.trust?.signaturePollSeconds} s for a signature` }),
    [STATES.noteVerificationError]: (o) => o.signature,
    [STATES.registerRevision]: (o) => ({
      reason: `registered ${o.deployment?.newTaskDefinitionArn} (was ${o.deployment?.previousTaskDefinitionArn})`,
    }),
    [STATES.updateService]: (o) => o.rollout,
    [STATES.checkHealth]: (o) => o.health,
    [STATES.noteUnhealthy]: (o) => ({ reason: o.failure?.Cause }),
    [STATES.noteRollbackUnstable]: (o) => ({ reason: o.rollbackFailure?.Cause }),
    [STATES.rollBack]: (o) => o.rollback,
    [STATES.checkRollback]: (o) => o.rollbackHealth,
    [STATES.publishOutcome]: (o) => ({ reason: `${o.outcome?.status} published (${o.outcome?.severity})` }),
  };
  const pick =
    at[state] ??
    (state.startsWith('Record outcome') ? (o: Json) => ({ verdict: o.outcome?.status, reason: o.outcome?.reason }) : undefined);
  const value = pick?.(output);
  if (!value) return undefined;
  return [value.verdict, value.reason].filter(Boolean).join(' — ');
}
