/**
 * A Task state's Lambda invocation in the local run, failing the way Lambda fails, so that Retry and Catch see what
 * they would see in AWS:
 *
 * - A handler that throws: the Node.js runtime turns the error into `{"errorType": name, "errorMessage": message,
 *   "trace": stack lines}` (aws/aws-lambda-nodejs-runtime-interface-client, src/utils/error.ts `formatError`;
 *   https://docs.aws.amazon.com/lambda/latest/dg/nodejs-exceptions.html), and Step Functions reports it with
 *   `Error` = errorType and `Cause` = that JSON (https://docs.aws.amazon.com/step-functions/latest/dg/tutorial-handling-error-conditions.html).
 * - A function timeout (the function's 30 s): `Sandbox.Timedout` (Lambda's name, troubleshooting-invocation.html), or
 *   `Lambda.Unknown`, the name Step Functions documents for unhandled errors and timeouts
 *   (https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html). The invocation takes the
 *   timeout in simulated time. It can also time out after its work was done (`tookEffect`): the handler ran, the
 *   result is lost.
 * - A throttled invocation (`Lambda.TooManyRequestsException`, e.g. the function's reserved concurrency exceeded:
 *   Reason ReservedFunctionConcurrentInvocationLimitExceeded, Lambda Invoke API): the handler never runs.
 *
 * aws-local-stepfunctions builds a Catch's `{ Error, Cause }` from the thrown error's `name` and `message`
 * (main.node.cjs `catchError`), and its history from `error.cause ?? error.message`: so each failure is thrown as an
 * error whose name is the Error and whose message is the Cause, with no `cause` of its own.
 */
import { randomUUID } from 'node:crypto';
import type { LambdaStateName } from '../lib/state-names';

export const LAMBDA_TIMEOUTS = ['Sandbox.Timedout', 'Lambda.Unknown'] as const;
export const LAMBDA_THROTTLED = 'Lambda.TooManyRequestsException';
export type LambdaTimeout = (typeof LAMBDA_TIMEOUTS)[number];

/** One invocation that fails: a timeout (before its work was done, unless `tookEffect`) or a throttle. */
export type LambdaFailure = LambdaTimeout | typeof LAMBDA_THROTTLED | { error: LambdaTimeout; tookEffect: boolean };

/**
 * Per Task state name: how its next invocation fails, or a list for consecutive invocations (retries included) where
 * null lets that invocation run normally (e.g. `[null, "Sandbox.Timedout"]`: the second one times out).
 */
export type LambdaFailures = Partial<Record<LambdaStateName, LambdaFailure | (LambdaFailure | null)[]>>;

/** The error a Task state fails with: `name` is the state's Error, `message` its Cause. */
class LambdaTaskError extends Error {
  constructor(error: string, cause: string) {
    super(cause);
    this.name = error;
  }
}

/** The runtime's JSON for a thrown value, exactly as formatError builds it (errorType, errorMessage, trace). */
export function runtimeErrorJson(thrown: unknown): { errorType: string; errorMessage: string; trace: string[] } {
  if (thrown instanceof Error) {
    return { errorType: thrown.name, errorMessage: thrown.message, trace: thrown.stack?.split('\n') ?? [] };
  }
  return { errorType: typeof thrown, errorMessage: String(thrown), trace: [] };
}

/** What Step Functions gets when the handler throws `thrown`. */
export function functionError(thrown: unknown): Error {
  const json = runtimeErrorJson(thrown);
  return new LambdaTaskError(json.errorType, JSON.stringify(json));
}

export interface InvocationContext {
  /** Waits in simulated time. */
  sleep: (seconds: number) => Promise<void>;
  /** The simulated clock (for the timestamp Lambda writes into a timeout's message). */
  clock: () => Date;
  /** The function's configured timeout (the template's `Timeout`). */
  timeoutSeconds: number;
}

/**
 * Invokes handlers as Lambda would for one execution: each Task state's listed failures are used up in order, one per
 * invocation of that state.
 */
export class LambdaInvocations {
  private readonly pending: Map<string, (LambdaFailure | null)[]>;

  constructor(failures: LambdaFailures = {}) {
    this.pending = new Map(Object.entries(failures).map(([state, failure]) => [state, [failure ?? null].flat()]));
  }

  /** Failures listed for an invocation that never came, per state: a scenario knob that had no effect. */
  unused(): Record<string, number> {
    return Object.fromEntries(
      [...this.pending].map(([state, list]) => [state, list.filter((f) => f !== null).length] as const).filter(([, n]) => n > 0),
    );
  }

  async invoke<T>(state: string, run: () => Promise<T>, context: InvocationContext): Promise<T> {
    const failure = this.pending.get(state)?.shift() ?? null;
    if (failure === LAMBDA_THROTTLED) {
      // Refused before it ran: nothing happened, no time passed.
      throw new LambdaTaskError(LAMBDA_THROTTLED, `Rate Exceeded. (Service: Lambda, Status Code: 429, Request ID: ${randomUUID()})`);
    }
    if (failure === null) return runReportingErrors(run);
    const { error, tookEffect } = typeof failure === 'string' ? { error: failure, tookEffect: false } : failure;
    if (tookEffect) await runReportingErrors(run);
    await context.sleep(context.timeoutSeconds);
    throw timedOut(error, context);
  }
}

async function runReportingErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw functionError(error);
  }
}

/**
 * A timeout as each name reports it: Lambda's own errorType with its "Task timed out" message, or Step Functions'
 * Lambda.Unknown, whose Cause quotes the payload Lambda returned [both texts as Lambda and Step Functions print them
 * in practice; the docs name the errors, not the exact messages].
 */
function timedOut(error: LambdaTimeout, { clock, timeoutSeconds }: InvocationContext): Error {
  const requestId = randomUUID();
  const message = `Task timed out after ${timeoutSeconds.toFixed(2)} seconds`;
  if (error === 'Sandbox.Timedout') {
    return new LambdaTaskError(error, JSON.stringify({ errorType: error, errorMessage: `RequestId: ${requestId} Error: ${message}` }));
  }
  const payload = JSON.stringify({ errorMessage: `${clock().toISOString()} ${requestId} ${message}` });
  return new LambdaTaskError(
    error,
    `The cause could not be determined because Lambda did not return an error type. Returned payload: ${payload}`,
  );
}
