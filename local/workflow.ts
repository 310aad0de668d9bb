/**
 * Runs the real synthesized state machine locally: the definition comes from the stack the CDK app synthesizes,
 * each Lambda task runs its real handler in-process against a SimulatedAccount, and the outcome event is routed
 * through the synthesized alert rules to tell which topics would be notified.
 */
import { ExecutionAbortedError, ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { executionArnOf } from '../lambdas/adapters/executions';
import type { StepFunctionName } from '../lib/state-names';
import { claimExecutionName, closeExecution, nextExecutionName } from './execution-names';
import { localFinaliser, localHealthWake, localStepHandlers, type StepHandler } from './functions';
import { failureField, toHistoryEntry, type HistoryEntry } from './history';
import { authorizeIntegration, authorizeRuleInvoke, integrationCommand, type LedgerTable } from './iam/authorize';
import { LambdaInvocations, type LambdaFailures } from './lambda-invocation';
import { matchesEventPattern } from './event-pattern';
import { publishedEvents, routeAlerts, statusChangeEvent, type Alert } from './outcome-events';
import {
  runnableDefinition,
  type TokenTask,
  tokenTasks,
  tokenTaskTimeoutSeconds,
  waitSeconds,
  waitStates,
  withTaskToken,
} from './runnable-definition';
import type { LocalTaskTokens } from './task-tokens';
import type { FailurePlan, SimulatedAccount } from './simulated-account';
import type { SimulatedTime } from './simulated-time';
import type { SynthesizedPipeline } from './synthesized-pipeline';

export { describeLocalExecution, openExecutionWithInput } from './execution-names';
export type { HistoryEntry } from './history';
export type { Alert } from './outcome-events';
export { synthesizePipeline, type SynthesizedPipeline } from './synthesized-pipeline';

/**
 * What one local run shares between its executions: the account, its clock's scheduler, and the ledger table (each
 * step reaches it through a client acting as its own role).
 */
export interface LocalWorld {
  pipeline: SynthesizedPipeline;
  account: SimulatedAccount;
  time: SimulatedTime;
  ledgerTable: LedgerTable;
  /** Step Functions' task tokens: the Tasks waiting for one, and the answers they get. */
  tokens: LocalTaskTokens;
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
  handlers?: Partial<Record<StepFunctionName, StepHandler>>;
}

type Json = any;

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

type Ending = Pick<ExecutionReport, 'status' | 'error' | 'cause' | 'output'>;

/** One execution as it runs: who it is, and what its states did that outlives the runner. */
interface Execution {
  name: string;
  executionArn: string;
  input: Json;
  startedAt: Date;
  invocations: LambdaInvocations;
  /** The entries its PutEvents states published. */
  published: Json[];
  abort?: () => void;
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
  const name = options.name ?? nextExecutionName();
  const execution: Execution = {
    name,
    executionArn: executionArnOf(pipeline.stateMachineArn, name),
    input,
    startedAt: account.clock(),
    invocations: new LambdaInvocations(options.lambdaFailures),
    published: [],
  };
  claimExecutionName(world, name, execution.executionArn, input);
  const { ending, history } = await runStates(world, execution, options);
  closeExecution(world, name, ending.status);
  world.tokens.closeExecution(execution.executionArn);

  const events = publishedEvents(pipeline, execution.published);
  let finalised: ExecutionReport['finalised'] = null;
  if (ending.status !== 'SUCCEEDED') {
    const statusChange = statusChangeEvent(pipeline, execution, ending);
    // AWS puts its services' events on the default bus only (EventBridge user guide, "Events").
    events.push({ ...statusChange, bus: 'default' });
    if (matchesEventPattern(statusChange, pipeline.finaliserPattern)) {
      // EventBridge invokes the crash finaliser (as its rule allows), which acts as its own role.
      await authorizeRuleInvoke(world, 'finalise-execution');
      finalised = (await localFinaliser(world)(statusChange)).action;
    }
  }
  const { executionArn, invocations } = execution;
  return { executionArn, ...ending, history, alerts: routeAlerts(pipeline, events), finalised, unusedLambdaFailures: invocations.unused() };
}

/** Runs the states of the definition for `execution` and collects its history as it goes. */
async function runStates(
  world: LocalWorld,
  execution: Execution,
  options: RunOptions,
): Promise<{ ending: Ending; history: HistoryEntry[] }> {
  const { pipeline, account } = world;
  const { name, executionArn, startedAt } = execution;
  // aws-local-stepfunctions sets $$.Execution.StartTime to the wall clock whatever context it is given: the definition
  // it runs reads the simulated start instead.
  const definition = runnableDefinition(pipeline.definition, startedAt.toISOString());
  const retriers = Object.entries<Json>(pipeline.definition.States).filter(([, s]) => s.Retry);
  const running = new StateMachine(definition, { validationOptions: { checkArn: false } }).run(execution.input, {
    overrides: {
      taskResourceLocalHandlers: taskHandlers(world, execution, options),
      retryIntervalOverrides: Object.fromEntries(retriers.map(([state]) => [state, 0])),
    },
    context: {
      Execution: { Id: executionArn, Name: name, StartTime: startedAt.toISOString(), Input: execution.input },
      StateMachine: { Id: pipeline.stateMachineArn, Name: pipeline.stateMachineArn.split(':').pop() },
    } as never,
  });
  execution.abort = () => running.abort();

  const history: HistoryEntry[] = [];
  const typeOf = (state: string): string | undefined => pipeline.definition.States[state]?.Type;
  const collecting = (async () => {
    for await (const event of running.eventLogs) {
      history.push(toHistoryEntry(event, (account.clock().getTime() - startedAt.getTime()) / 1000, typeOf));
    }
  })();
  let ending: Ending;
  try {
    ending = { status: 'SUCCEEDED', error: null, cause: null, output: await running.result };
  } catch (error) {
    ending = failedEnding(error, history, options);
  }
  await collecting;
  return { ending, history };
}

/** How an execution that did not succeed ended: aborted (a crash), or failed with the error its history names. */
function failedEnding(error: unknown, history: HistoryEntry[], options: RunOptions): Ending {
  if (error instanceof ExecutionAbortedError) {
    return { status: 'ABORTED', error: null, cause: `aborted after "${options.abortAfter}"`, output: null };
  }
  if (!(error instanceof ExecutionError)) throw error;
  const failure = history.findLast((h) => h.type === 'ExecutionFailed');
  const { Error: errorName, Cause } = (error as unknown as { cause: { name: string; message: string } }).cause
    ? { Error: (error as Json).cause.name, Cause: (error as Json).cause.message }
    : { Error: 'States.Runtime', Cause: error.message };
  return {
    status: 'FAILED',
    error: failureField(failure, 'Error') ?? errorName,
    cause: failureField(failure, 'Cause') ?? Cause,
    output: null,
  };
}

/**
 * What answers each Task state of the runnable definition: a Lambda step, its handler invoked as Lambda would (built
 * exactly as its Lambda entry builds it, see functions.ts); the state machine's own PutEvents; a Wait, the time it
 * waits passing in simulated time, so that executions running side by side interleave as in AWS.
 */
function taskHandlers(world: LocalWorld, execution: Execution, options: RunOptions): Record<string, StepHandler> {
  const { pipeline } = world;
  const steps = localStepHandlers(world, options.handlers);
  const handlers: Record<string, StepHandler> = {};
  const waitingForTokens = tokenTasks(pipeline.definition);
  for (const [name, state] of Object.entries<Json>(pipeline.definition.States)) {
    if (state.Type !== 'Task') continue;
    const step = pipeline.stepOfState.get(name);
    const tokenTask = waitingForTokens.get(name);
    if (step && tokenTask)
      handlers[name] = lambdaTokenTask(
        world,
        execution,
        name,
        tokenTask,
        lambdaTask(world, execution, name, step, steps[step], options.abortAfter),
      );
    else if (step) handlers[name] = lambdaTask(world, execution, name, step, steps[step], options.abortAfter);
    else if (state.Resource === 'arn:aws:states:::events:putEvents') handlers[name] = putEventsTask(world, execution);
    else throw new Error(`The local run has no handler for task state "${name}" (${state.Resource})`);
  }
  for (const [name, wait] of waitStates(pipeline.definition)) {
    handlers[name] = async (input: Json) => {
      // The history collector reads the runner's events a few promise turns late: it notes the states before this
      // one before the clock moves on.
      await new Promise((resolve) => setImmediate(resolve));
      await world.time.sleep(waitSeconds(wait, input, world.account.clock()));
      return input;
    };
  }
  return handlers;
}

/** A Task state invoking the Lambda step `step`: authorized as the state machine's role, failing as Lambda fails. */
function lambdaTask(
  world: LocalWorld,
  execution: Execution,
  state: string,
  step: StepFunctionName,
  handler: StepHandler,
  abortAfter: string | undefined,
): StepHandler {
  const { pipeline, account } = world;
  const invocation = { sleep: (s: number) => world.time.sleep(s), clock: account.clock, timeoutSeconds: pipeline.timeoutSecondsOf[step] };
  const invoke = async (input: Json) => {
    await authorizeIntegration(world, integrationCommand('InvokeCommand', { FunctionName: pipeline.iam.functionArns[step] }));
    return handler(input);
  };
  return async (input: Json) => {
    // As Lambda runs it: a throw becomes the runtime's error JSON; a timeout or throttle can be injected.
    const result = await execution.invocations.invoke(state, () => invoke(input), invocation);
    // The crash happens once the state's work is done, before the execution can go on.
    if (abortAfter === state) execution.abort?.();
    return result;
  };
}

/**
 * A Task invoking a Lambda step with a task token, waiting for the token's answer (or its timeout) in simulated time.
 * While it waits, time acts on the account: each time a service changes by itself (a deployment settles, an alarm
 * trips), the events it put on the default bus go through the synthesized rules to the functions they target, as
 * EventBridge would deliver them; one of those may answer the token.
 */
function lambdaTokenTask(world: LocalWorld, execution: Execution, state: string, task: TokenTask, invoke: StepHandler): StepHandler {
  return async (parameters: Json) => {
    const started = world.account.clock().getTime();
    const deadline = started + tokenTaskTimeoutSeconds(task, parameters) * 1000;
    const token = world.tokens.open(execution.executionArn, state);
    // The function's result is not the Task's: the token's answer is. A failed invocation fails the Task (its attempt's
    // token with it; a retry gets a new one).
    try {
      await invoke(withTaskToken(parameters, token).Payload);
    } catch (error) {
      world.tokens.closeTask(token);
      throw error;
    }
    for (;;) {
      await deliverEvents(world);
      const now = world.account.clock().getTime();
      const change = world.account.nextChange()?.getTime() ?? Number.POSITIVE_INFINITY;
      if (change >= deadline) return world.tokens.answer(token, Math.max(0, deadline - now) / 1000);
      if (await world.tokens.answeredWithin(token, Math.max(0, change - now) / 1000)) return world.tokens.answer(token, 0);
    }
  };
}

/**
 * Delivers the events the account's services put on the default bus to the health wait: once per rule whose pattern
 * matches, as EventBridge invokes a target for each matching rule, authorized as coming from that rule.
 */
async function deliverEvents(world: LocalWorld): Promise<void> {
  for (const event of world.account.takeEvents()) {
    for (const rule of world.pipeline.waitEventRules.filter(({ pattern }) => matchesEventPattern(event, pattern))) {
      // Invoked by EventBridge, not by this execution: none of its injected failures, none of its calls.
      await world.account.outsideExecutions(async () => {
        try {
          await authorizeRuleInvoke(world, 'await-health', world.pipeline.iam.ruleArns[rule.id]);
          world.account.deliveredEvents.push(event);
          await localHealthWake(world)(event);
        } catch (error) {
          // EventBridge (refused) or Lambda (failed) would retry it, then keep it in the dead-letter queue; the waiting
          // Task is not failed by it: it looks itself once its recheck time has passed.
          world.account.failedDeliveries.push({ event, error: `${(error as Error).name}: ${(error as Error).message}` });
        }
      });
    }
  }
}

/** The state machine's own events:putEvents integration: authorized as its role; what it publishes is kept. */
function putEventsTask(world: LocalWorld, execution: Execution): StepHandler {
  return async (params: Json) => {
    await authorizeIntegration(world, integrationCommand('PutEventsCommand', params));
    // A failure that took effect (its response lost) published the events all the same.
    world.account.throwScheduledFailure('PutEvents', () => execution.published.push(...params.Entries));
    execution.published.push(...params.Entries);
    return { Entries: params.Entries.map(() => ({ EventId: `local-${execution.published.length}` })), FailedEntryCount: 0 };
  };
}
