/** The failures a scenario injects into an execution: AWS calls that fail, Lambda invocations that time out or are throttled. */
import * as z from 'zod';
import { LAMBDA_STATES } from '../lib/state-names';
import { LAMBDA_THROTTLED, LAMBDA_TIMEOUTS, type LambdaFailures } from './lambda-invocation';
import { faultKindOf } from './simulated/aws-error';

/**
 * A failure injected into one AWS call: the AWS error name (its fault kind — server, throttling, client — as AWS
 * gives it), or `{ error, applied: true }` for a call that took effect and then lost its response (e.g. a
 * `TimeoutError` after UpdateService changed the service).
 */
export const injectedFailureSchema = z.union([
  z.string().min(1),
  z
    .strictObject({ error: z.string().min(1), applied: z.boolean().default(false) })
    // AWS never carries out a call it refuses (a client fault or throttling): only a lost response or a server fault
    // can leave a call done.
    .refine((failure) => !failure.applied || failure.error === 'TimeoutError' || faultKindOf(failure.error) === 'server', {
      path: ['applied'],
      error: (issue) =>
        `${(issue.input as { error: string }).error} is a call AWS refused, which never takes effect: applied is for TimeoutError and server faults`,
    }),
]);
/** A Lambda invocation that times out (before its work, or `tookEffect`: after it, its result lost) or is throttled. */
const lambdaFailureSchema = z.union(
  [z.enum([...LAMBDA_TIMEOUTS, LAMBDA_THROTTLED]), z.strictObject({ error: z.enum(LAMBDA_TIMEOUTS), tookEffect: z.boolean() })],
  {
    error: `expected ${[...LAMBDA_TIMEOUTS, LAMBDA_THROTTLED].join(', ')} or { "error": ${LAMBDA_TIMEOUTS.join(' | ')}, "tookEffect": true | false }`,
  },
);
/** Keyed by the Task state names that invoke a Lambda function; any other name is refused, naming them. */
export const lambdaFailuresSchema = z
  .record(
    z.string().refine((state) => state in LAMBDA_STATES),
    z.union([lambdaFailureSchema, z.array(lambdaFailureSchema.nullable()).min(1)], {
      error: 'expected one failure, or a list of failures and nulls',
    }),
    {
      error: (issue) =>
        issue.code === 'invalid_key'
          ? `not a state that invokes a Lambda function (those are: ${Object.keys(LAMBDA_STATES).join('; ')})`
          : undefined,
    },
  )
  .transform((failures) => failures as LambdaFailures);
