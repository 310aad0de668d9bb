/**
 * The synthesized definition as the local runner (aws-local-stepfunctions) runs it. The runner waits in wall-clock
 * time and the local run keeps simulated time, shared by executions running side by side: so each Wait state becomes
 * a Task state of the same name whose local handler lets the Wait's time pass in simulated time and returns its input
 * unchanged (same InputPath, OutputPath, Next or End: a Task whose result is its input passes it on as the Wait would).
 * Which Waits there are, how long each waits and which state follows come from the definition alone.
 * The runner also sets $$.Execution.StartTime to the wall clock whatever context it is given, so a parameter that
 * reads it gets the simulated start instead.
 */
type Json = any;

/** A Wait state (Amazon States Language, "Wait state"): exactly one of the four ways to say how long. */
export interface WaitState {
  Type: 'Wait';
  Seconds?: number;
  SecondsPath?: string;
  Timestamp?: string;
  TimestampPath?: string;
}

/** The Resource of a Wait run as a Task: never invoked, the local run answers it (ARNs are not checked locally). */
const LOCAL_WAIT_RESOURCE = 'local:wait-in-simulated-time';
const WALL_CLOCK_DAY_SECONDS = 24 * 60 * 60;
const EXECUTION_START_TIME = '$$.Execution.StartTime';

/** The Wait states of `definition`, by name. */
export function waitStates(definition: Json): Map<string, WaitState> {
  return new Map(Object.entries<Json>(definition.States).filter(([, state]) => state.Type === 'Wait'));
}

/**
 * `definition` with its Waits as Tasks (answered by the local run), its task-token Tasks runnable (see tokenTasks), and
 * the execution's start time written in.
 */
export function runnableDefinition(definition: Json, startTime: string): Json {
  const states = Object.entries<Json>(definition.States).map(([name, state]) => [
    name,
    state.Type === 'Wait' ? waitAsTask(state) : withStartTime(isTokenTask(state) ? tokenTaskAsRunnable(state) : state, startTime),
  ]);
  return { ...definition, States: Object.fromEntries(states) };
}

// ---- Tasks that wait for a task token ("Wait for a Callback with Task Token",
// https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html#connect-wait-token). The runner knows no
// $$.Task.Token and times Tasks in wall-clock time: the local run puts a fresh token where the definition reads
// $$.Task.Token, and waits for its answer in simulated time for the Task's TimeoutSeconds (or TimeoutSecondsPath).

const WAIT_FOR_TASK_TOKEN = '.waitForTaskToken';
const TASK_TOKEN = '$$.Task.Token';
/** Stands for $$.Task.Token in the runnable definition, until the local run writes the token in (withTaskToken). */
export const LOCAL_TASK_TOKEN = 'local:task-token';
/** Carries the value of the Task's TimeoutSecondsPath to its local handler, which sees only the Task's Parameters. */
export const LOCAL_TIMEOUT_PARAMETER = 'local:timeoutSeconds';
/** The Task state's TimeoutSeconds when it sets none (Amazon States Language, "Task state"). */
const DEFAULT_TASK_TIMEOUT_SECONDS = 99_999_999;

/** A task-token Task's timeout: fixed, or read from its input. */
export interface TokenTask {
  timeoutSeconds?: number;
  timeoutSecondsPath?: string;
}

/** A Task state that waits for a task token (its Resource ends `.waitForTaskToken`). */
export const isTokenTask = (state: Json) =>
  state.Type === 'Task' && typeof state.Resource === 'string' && state.Resource.endsWith(WAIT_FOR_TASK_TOKEN);

/** The Task states of `definition` that wait for a task token, by name. */
export function tokenTasks(definition: Json): Map<string, TokenTask> {
  return new Map(
    Object.entries<Json>(definition.States)
      .filter(([, state]) => isTokenTask(state))
      .map(([name, state]) => [name, { timeoutSeconds: state.TimeoutSeconds, timeoutSecondsPath: state.TimeoutSecondsPath }]),
  );
}

function tokenTaskAsRunnable({ TimeoutSeconds, TimeoutSecondsPath, HeartbeatSeconds, HeartbeatSecondsPath, ...kept }: Json): Json {
  const Parameters = {
    ...withPathWritten(kept.Parameters ?? {}, TASK_TOKEN, LOCAL_TASK_TOKEN),
    ...(TimeoutSecondsPath === undefined ? {} : { [`${LOCAL_TIMEOUT_PARAMETER}.$`]: TimeoutSecondsPath }),
  };
  return { ...kept, Parameters, TimeoutSeconds: WALL_CLOCK_DAY_SECONDS };
}

/** `parameters` (as the runner evaluated them) with the token written in and the local timeout parameter taken out. */
export function withTaskToken(parameters: Json, token: string): Json {
  if (Array.isArray(parameters)) return parameters.map((item) => withTaskToken(item, token));
  if (parameters === LOCAL_TASK_TOKEN) return token;
  if (typeof parameters !== 'object' || parameters === null) return parameters;
  return Object.fromEntries(
    Object.entries(parameters)
      .filter(([key]) => key !== LOCAL_TIMEOUT_PARAMETER)
      .map(([key, item]) => [key, withTaskToken(item, token)]),
  );
}

/**
 * How long the Task waits for its token: TimeoutSeconds, the value TimeoutSecondsPath selects (a positive integer, or
 * the execution fails with States.Runtime), or the language's default.
 */
export function tokenTaskTimeoutSeconds(task: TokenTask, parameters: Json): number {
  if (task.timeoutSeconds !== undefined) return task.timeoutSeconds;
  if (task.timeoutSecondsPath === undefined) return DEFAULT_TASK_TIMEOUT_SECONDS;
  const value = parameters?.[LOCAL_TIMEOUT_PARAMETER];
  if (typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= DEFAULT_TASK_TIMEOUT_SECONDS) return value;
  throw new StatesRuntimeError(
    `The Task's TimeoutSecondsPath ${task.timeoutSecondsPath} is ${JSON.stringify(value)}, not a whole number of seconds from 1 to ${DEFAULT_TASK_TIMEOUT_SECONDS}`,
  );
}

function waitAsTask({ Type, Seconds, SecondsPath, Timestamp, TimestampPath, ...kept }: Json): Json {
  // A Wait never times out; the runner would give a Task 60 wall-clock seconds (its default TimeoutSeconds). It times
  // Tasks with setTimeout, which fires at once beyond 2^31-1 ms: a day of wall-clock time stands for "never".
  return { ...kept, Type: 'Task', Resource: LOCAL_WAIT_RESOURCE, TimeoutSeconds: WALL_CLOCK_DAY_SECONDS };
}

/** Every `"<field>.$": "$$.Execution.StartTime"` in `value` as `"<field>": startTime`. */
function withStartTime(value: Json, startTime: string): Json {
  return withPathWritten(value, EXECUTION_START_TIME, startTime);
}

/** Every `"<field>.$": path` in `value` (a state, its Parameters, nested) as `"<field>": written`. */
function withPathWritten(value: Json, path: string, written: string): Json {
  if (Array.isArray(value)) return value.map((item) => withPathWritten(item, path, written));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) =>
      key.endsWith('.$') && item === path ? [key.slice(0, -2), written] : [key, withPathWritten(item, path, written)],
    ),
  );
}

/**
 * The Wait state's limits ("Wait workflow state", Step Functions developer guide): seconds "an integer value from 0 to
 * 99999999"; a timestamp "must conform to the RFC3339 profile of ISO 8601, with the further restrictions that an
 * uppercase T must separate the date and time portions, and an uppercase Z must denote that a numeric time zone offset
 * is not present", and Step Functions "considers the time value up to seconds and truncates milliseconds".
 */
const MAX_WAIT_SECONDS = 99_999_999;
const WAIT_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/**
 * A value a Wait cannot wait on (or a Task's timeout path that selects no timeout). The execution fails with States.Runtime, which no Retry or Catch handles ("Error
 * handling in Step Functions": runtime errors are not retriable and always fail the execution).
 */
export class StatesRuntimeError extends Error {
  override readonly name = 'States.Runtime';
}

/** How many seconds `state` waits, given its input (after InputPath) and the time now; never negative. */
export function waitSeconds(state: WaitState, input: Json, now: Date): number {
  if (state.Seconds !== undefined) return wholeSeconds(state.Seconds, 'Seconds');
  if (state.SecondsPath !== undefined) return wholeSeconds(valueAt(state.SecondsPath, input), `SecondsPath ${state.SecondsPath}`);
  const [timestamp, field] =
    state.Timestamp !== undefined
      ? [state.Timestamp, 'Timestamp']
      : [valueAt(state.TimestampPath!, input), `TimestampPath ${state.TimestampPath}`];
  if (typeof timestamp !== 'string' || !WAIT_TIMESTAMP.test(timestamp)) {
    throw new StatesRuntimeError(`The Wait's ${field} is ${JSON.stringify(timestamp)}, not an RFC 3339 time ending in Z`);
  }
  const until = Math.floor(Date.parse(timestamp) / 1000) * 1000;
  return Math.max(0, (until - now.getTime()) / 1000);
}

function wholeSeconds(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_WAIT_SECONDS) return value;
  throw new StatesRuntimeError(
    `The Wait's ${field} is ${JSON.stringify(value)}, not a whole number of seconds from 0 to ${MAX_WAIT_SECONDS}`,
  );
}

/** The value at a reference path of plain field names (`$.a.b`), the only kind the local run reads. */
function valueAt(path: string, input: Json): unknown {
  if (!/^\$(\.[A-Za-z_][\w-]*)*$/.test(path)) throw new Error(`The local run reads Wait paths of the form $.a.b only, not ${path}`);
  return path
    .split('.')
    .slice(1)
    .reduce<Json>((at, key) => at?.[key], input);
}
