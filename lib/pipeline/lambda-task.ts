/** A Lambda step as a Task state: what every invocation of a pipeline function from the state machine shares. */
import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { STEP_TASK_TIMEOUT_SECONDS } from '../../lambdas/decisions/time-budget';
import { ERROR_NAMES } from '../../lambdas/errors';
import type { Payload, PipelineFunctionSpec } from '../stages/stage';

const TASK_TOKEN = '$$.Task.Token';

/** Lambda errors that mean "the invocation did not happen or did not finish", worth retrying with backoff. */
const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.ClientExecutionTimeoutException',
];

/**
 * What a function that timed out reports: Step Functions documents unhandled errors, function timeouts among them, as
 * `Lambda.Unknown` (https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html); Lambda now
 * names a timeout `Sandbox.Timedout` (https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html),
 * the errorType the state machine then sees. `States.Timeout` is the Task's own TimeoutSeconds running out.
 */
const FUNCTION_TIMEOUT_ERRORS = ['Sandbox.Timedout', 'Lambda.Unknown'];
const TIMEOUT_ERRORS = [...FUNCTION_TIMEOUT_ERRORS, sfn.Errors.TIMEOUT];

/**
 * Invokes `fn` with `payload` (values starting with `$` are JSONPaths) and puts its result (no invocation wrapper) at
 * `resultPath`. Service errors, throttling, transient AWS errors and, for a step its spec says may run again after a
 * timeout, timeouts are retried with jitter. A timeout of any other step goes to the state's Catch: it says nothing
 * about whether the step's write took effect.
 */
export function lambdaTask<Input>(
  scope: Construct,
  stateName: string,
  fn: lambda.IFunction,
  spec: PipelineFunctionSpec,
  payload: Payload<Input> | undefined,
  resultPath: string | undefined,
): tasks.LambdaInvoke {
  const task = new tasks.LambdaInvoke(scope, stateName, {
    stateName,
    lambdaFunction: fn,
    payload: payload && sfn.TaskInput.fromObject(asParameters(payload)),
    payloadResponseOnly: true,
    retryOnServiceExceptions: false,
    resultPath,
    taskTimeout: sfn.Timeout.duration(Duration.seconds(STEP_TASK_TIMEOUT_SECONDS)),
  });
  retryWithBackoff(task, spec.retriedOnTimeout ? TIMEOUT_ERRORS : []);
  return task;
}

/**
 * Invokes `fn` with `payload` and waits for the task token it is given (`$$.Task.Token`, in the payload as the
 * caller places it) to be answered: the answer lands at `resultPath`. After the seconds at `timeoutSecondsPath` the
 * state fails with States.Timeout, for the caller's Catch. The invocation itself is retried like any step's, except
 * after a timeout (which is the wait's own).
 */
export function lambdaWaitTask<Input>(
  scope: Construct,
  stateName: string,
  fn: lambda.IFunction,
  payload: Payload<Input>,
  resultPath: string,
  timeout: string | number,
): tasks.LambdaInvoke {
  const task = new tasks.LambdaInvoke(scope, stateName, {
    stateName,
    lambdaFunction: fn,
    integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    payload: sfn.TaskInput.fromObject(asParameters(payload)),
    retryOnServiceExceptions: false,
    resultPath,
    taskTimeout: typeof timeout === 'number' ? sfn.Timeout.duration(Duration.seconds(timeout)) : sfn.Timeout.at(timeout),
  });
  // Its function only stores a waiter and looks once: run again, it does the same. The Task's own States.Timeout is
  // the wait running out, for the Catch. Its function's concurrency is shared with the events that wake waits (every
  // ECS deployment and alarm change of the configured services): a throttled invocation is retried for longer, about
  // seven minutes, before the wait gives up.
  retryWithBackoff(task, FUNCTION_TIMEOUT_ERRORS, 11);
  return task;
}

/** Retries Lambda service errors, throttling, transient AWS errors and `timeouts` with backoff and full jitter. */
function retryWithBackoff(task: tasks.LambdaInvoke, timeouts: readonly string[], maxAttempts = 6): void {
  task.addRetry({
    errors: [...LAMBDA_SERVICE_ERRORS, ERROR_NAMES.transientAws, ...timeouts],
    interval: Duration.seconds(2),
    backoffRate: 2,
    maxAttempts,
    maxDelay: Duration.seconds(60),
    jitterStrategy: sfn.JitterType.FULL,
  });
}

/**
 * `{ service: '$.service', checkAlarms: true }` → `{ 'service.$': '$.service', checkAlarms: true }`; the task token as
 * CDK's own JsonPath.taskToken, which it looks for in the payload of a Task that waits for one.
 */
function asParameters(payload: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(payload).map(([key, value]) => {
      if (value === TASK_TOKEN) return [key, sfn.JsonPath.taskToken];
      return typeof value === 'string' && value.startsWith('$') ? [`${key}.$`, value] : [key, value];
    }),
  );
}
