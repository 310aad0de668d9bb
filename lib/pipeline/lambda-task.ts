/** A Lambda step as a Task state: what every invocation of a pipeline function from the state machine shares. */
import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { ERROR_NAMES } from '../../lambdas/errors';
import type { Payload, PipelineFunctionSpec } from '../stages/stage';

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
const TIMEOUT_ERRORS = ['Sandbox.Timedout', 'Lambda.Unknown', sfn.Errors.TIMEOUT];

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
    taskTimeout: sfn.Timeout.duration(Duration.seconds(60)),
  });
  task.addRetry({
    errors: [...LAMBDA_SERVICE_ERRORS, ERROR_NAMES.transientAws, ...(spec.retriedOnTimeout ? TIMEOUT_ERRORS : [])],
    interval: Duration.seconds(2),
    backoffRate: 2,
    maxAttempts: 6,
    maxDelay: Duration.seconds(60),
    jitterStrategy: sfn.JitterType.FULL,
  });
  return task;
}

/** `{ service: '$.service', checkAlarms: true }` → `{ 'service.$': '$.service', checkAlarms: true }`. */
function asParameters(payload: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(payload).map(([key, value]) =>
      typeof value === 'string' && value.startsWith('$') ? [`${key}.$`, value] : [key, value],
    ),
  );
}
