/**
 * Errors the simulated services raise, shaped as the AWS SDK for JavaScript v3 raises a service error: `name` is the
 * error code, `$fault` says whose fault it is, `$metadata.httpStatusCode` the status AWS answered with. The SDK's own
 * retry strategy and the adapters' classification (lambdas/errors.ts) read exactly these fields, so an injected
 * failure is retried, or not, as the same failure would be in AWS.
 *
 * Fault kinds from the service models the SDK is generated from: server errors are `$fault: "server"` with a 5xx
 * status (ECS/ECR `ServerException`, KMS `KMSInternalException`, `InternalServerError`, `ServiceUnavailable` 503),
 * throttling errors are client faults that the SDK recognises by name or by 429
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html: "transient errors (HTTP status codes
 * 400, 408, 500, 502, 503, and 504) and throttling errors"), everything else is a client fault (400).
 */

export type FaultKind = 'server' | 'throttling' | 'client';

const SERVER_ERRORS: Readonly<Record<string, number>> = {
  ServerException: 500,
  InternalServerError: 500,
  InternalServerException: 500,
  InternalFailure: 500,
  InternalError: 500,
  // EventBridge PutEvents (API_PutEvents, Errors: "InternalException … HTTP Status Code: 500").
  InternalException: 500,
  KMSInternalException: 500,
  ServiceException: 500,
  ServiceUnavailable: 503,
  ServiceUnavailableException: 503,
  DependencyTimeoutException: 503,
};

const THROTTLING_ERRORS: Readonly<Record<string, number>> = {
  ThrottlingException: 400,
  Throttling: 400,
  ThrottledException: 400,
  RequestLimitExceeded: 400,
  ProvisionedThroughputExceededException: 400,
  TooManyRequestsException: 429,
};

/** The fault kind AWS gives an error code. */
export function faultKindOf(errorName: string): FaultKind {
  if (errorName in SERVER_ERRORS) return 'server';
  if (errorName in THROTTLING_ERRORS) return 'throttling';
  return 'client';
}

export class SimulatedAwsError extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: { httpStatusCode: number; requestId: string; attempts: number };
  /** What the SDK sets for errors modelled as retryable throttling. */
  readonly $retryable?: { throttling: boolean };

  constructor(
    readonly name: string,
    message: string,
  ) {
    super(message);
    const kind = faultKindOf(name);
    this.$fault = kind === 'server' ? 'server' : 'client';
    const status = SERVER_ERRORS[name] ?? THROTTLING_ERRORS[name] ?? 400;
    this.$metadata = { httpStatusCode: status, requestId: 'simulated', attempts: 1 };
    if (kind === 'throttling') this.$retryable = { throttling: true };
  }
}

/**
 * The SDK's own error when a response did not arrive in time (its socket/request timeout): no service fault, no status.
 * The call may or may not have taken effect: that is what makes it ambiguous.
 */
export class SimulatedTimeoutError extends Error {
  readonly name = 'TimeoutError';
  constructor(message: string) {
    super(message);
  }
}

/** An injected failure: the error to raise, and whether the call took effect before its response was lost. */
export interface InjectedFailure {
  error: string;
  /** true: the call did what it was asked, then the caller saw the error (a lost response). */
  applied: boolean;
}

export function injectedError(failure: InjectedFailure, command: string): Error {
  const message = failure.applied
    ? `simulated ${command}: the call took effect, but its response was lost (${failure.error})`
    : `simulated ${command} failure: ${failure.error}`;
  return failure.error === 'TimeoutError' ? new SimulatedTimeoutError(message) : new SimulatedAwsError(failure.error, message);
}
