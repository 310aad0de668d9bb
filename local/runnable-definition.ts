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
const EXECUTION_START_TIME = '$$.Execution.StartTime';

/** The Wait states of `definition`, by name. */
export function waitStates(definition: Json): Map<string, WaitState> {
  return new Map(Object.entries<Json>(definition.States).filter(([, state]) => state.Type === 'Wait'));
}

/** `definition` with its Waits as Tasks (answered by the local run) and the execution's start time written in. */
export function runnableDefinition(definition: Json, startTime: string): Json {
  const states = Object.entries<Json>(definition.States).map(([name, state]) => [
    name,
    state.Type === 'Wait' ? waitAsTask(state) : withStartTime(state, startTime),
  ]);
  return { ...definition, States: Object.fromEntries(states) };
}

function waitAsTask({ Type, Seconds, SecondsPath, Timestamp, TimestampPath, ...kept }: Json): Json {
  return { ...kept, Type: 'Task', Resource: LOCAL_WAIT_RESOURCE };
}

/** Every `"<field>.$": "$$.Execution.StartTime"` in `value` as `"<field>": startTime`. */
function withStartTime(value: Json, startTime: string): Json {
  if (Array.isArray(value)) return value.map((item) => withStartTime(item, startTime));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) =>
      key.endsWith('.$') && item === EXECUTION_START_TIME ? [key.slice(0, -2), startTime] : [key, withStartTime(item, startTime)],
    ),
  );
}

/** How many seconds `state` waits, given its input (after InputPath) and the time now; never negative. */
export function waitSeconds(state: WaitState, input: Json, now: Date): number {
  if (state.Seconds !== undefined) return state.Seconds;
  if (state.SecondsPath !== undefined) return Number(valueAt(state.SecondsPath, input));
  const timestamp = state.Timestamp ?? valueAt(state.TimestampPath!, input);
  return Math.max(0, (Date.parse(String(timestamp)) - now.getTime()) / 1000);
}

/** The value at a reference path of plain field names (`$.a.b`), the only kind the local run reads. */
function valueAt(path: string, input: Json): unknown {
  if (!/^\$(\.[A-Za-z_][\w-]*)*$/.test(path)) throw new Error(`The local run reads Wait paths of the form $.a.b only, not ${path}`);
  return path
    .split('.')
    .slice(1)
    .reduce<Json>((at, key) => at?.[key], input);
}
