import { isThrottlingError, isTransientError } from '@smithy/core/retry';

/**
 * Named errors for unexpected failures. The state machine's Retry and Catch match them by `name`, so each name is
 * a hard-coded string (it survives minification) and lives in ERROR_NAMES, which the definition imports.
 * Expected outcomes (a rejected tag, an unhealthy service) are never thrown: they are returned as values.
 */
export const ERROR_NAMES = {
  invalidInput: 'InvalidInputError',
  serviceNotFound: 'ServiceNotFoundError',
  containerNotFound: 'ContainerNotFoundError',
  roleNotConfigured: 'RoleNotConfiguredError',
  familyNotConfigured: 'FamilyNotConfiguredError',
  updateRefused: 'UpdateRefusedError',
  transientAws: 'TransientAwsError',
  executionNotEnded: 'ExecutionNotEndedError',
  unexpectedAwsAnswer: 'UnexpectedAwsAnswerError',
  ledgerInconsistent: 'LedgerInconsistentError',
  functionMisconfigured: 'FunctionMisconfiguredError',
  reconciliationFailed: 'ReconciliationFailedError',
  wakeFailed: 'WakeFailedError',
  noForwardAction: 'NoForwardActionError',
  trafficDrift: 'TrafficDriftError',
} as const;

abstract class RolloutError extends Error {
  abstract readonly name: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The step's input does not have the expected shape: a bug or a hand-made input, never retried. */
export class InvalidInputError extends RolloutError {
  readonly name = ERROR_NAMES.invalidInput;
}

/** The configured ECS service does not exist (or is not ACTIVE): a configuration error, never retried. */
export class ServiceNotFoundError extends RolloutError {
  readonly name = ERROR_NAMES.serviceNotFound;
}

/** The service's task definition has no container of the configured name: a configuration error, never retried. */
export class ContainerNotFoundError extends RolloutError {
  readonly name = ERROR_NAMES.containerNotFound;
}

/**
 * The service's task definition names an IAM role its catalog entry does not configure, which the pipeline may not pass
 * to ECS: a configuration error, never retried.
 */
export class RoleNotConfiguredError extends RolloutError {
  readonly name = ERROR_NAMES.roleNotConfigured;
}

/**
 * The service's task definition belongs to another family than its catalog entry configures, which IAM does not let
 * the pipeline register revisions of: a configuration error, never retried.
 */
export class FamilyNotConfiguredError extends RolloutError {
  readonly name = ERROR_NAMES.familyNotConfigured;
}

/**
 * A status-change event says an execution ended, but Step Functions does not (yet) say so: the crash finaliser frees
 * nothing and throws, so that Lambda retries the event later (DescribeExecution is eventually consistent) and, should
 * it never agree (an event forged or replayed for a live execution, or one redriven since), keeps the event in the
 * dead-letter queue, which alarms.
 */
export class ExecutionNotEndedError extends RolloutError {
  readonly name = ERROR_NAMES.executionNotEnded;
}

/**
 * AWS answered, but not as its API reference says it does (a field it always returns is missing, a failure code no
 * retry can help, an image whose manifest names no config): a bug or a broken resource, never retried.
 */
export class UnexpectedAwsAnswerError extends RolloutError {
  readonly name = ERROR_NAMES.unexpectedAwsAnswer;
}

/** The ledger lacks what an earlier step of the same execution wrote (its deployment record): never retried. */
export class LedgerInconsistentError extends RolloutError {
  readonly name = ERROR_NAMES.ledgerInconsistent;
}

/**
 * The function was deployed without what the stack gives it (an environment variable, the bundled catalog, a valid
 * pinned root certificate): it fails at cold start, before any step runs.
 */
export class FunctionMisconfiguredError extends RolloutError {
  readonly name = ERROR_NAMES.functionMisconfigured;
}

/**
 * The reconciliation could not look at, or start, some services' releases (the others went ahead): each service's
 * error is kept in `failures`, and the invocation fails so that EventBridge retries it and the DLQ keeps what never
 * succeeds.
 */
export class ReconciliationFailedError extends RolloutError {
  readonly name = ERROR_NAMES.reconciliationFailed;
  constructor(
    message: string,
    readonly failures: readonly Error[],
  ) {
    super(message);
  }
}

/**
 * The health wait could not re-read or answer some of the waiters an event concerned (the others were answered): the
 * invocation fails so that Lambda and EventBridge retry the event for them, and the DLQ keeps what never succeeds.
 */
export class WakeFailedError extends RolloutError {
  readonly name = ERROR_NAMES.wakeFailed;
  constructor(
    message: string,
    readonly failures: readonly Error[],
  ) {
    super(message);
  }
}

/**
 * A gray release's traffic route (its listener rule, or its listener's default action) has no forward action, only a
 * redirect or a fixed response: there are no target-group weights to read or write, a configuration error (or a rule
 * changed outside the pipeline), never retried.
 */
export class NoForwardActionError extends RolloutError {
  readonly name = ERROR_NAMES.noForwardAction;
}

/**
 * A gray release found its route changed outside the pipeline before it moved traffic (a `cdk deploy` that reset the
 * rule): it never writes over someone else's change, never retried; the release returns all traffic to stable.
 */
export class TrafficDriftError extends RolloutError {
  readonly name = ERROR_NAMES.trafficDrift;
}

/** AWS refused to update the service (access denied, invalid parameter, ...): nothing changed, never retried. */
export class UpdateRefusedError extends RolloutError {
  readonly name = ERROR_NAMES.updateRefused;
}

/** An AWS call failed in a way worth retrying (throttling, 5xx) after the SDK's own retries. */
export class TransientAwsError extends RolloutError {
  readonly name = ERROR_NAMES.transientAws;
}

/**
 * Wraps an AWS SDK error: what the SDK itself counts as throttling or transient (its own classification: throttling
 * codes and 429, timeouts, 5xx, connection resets) and server faults become TransientAwsError (retried by the state
 * machine); anything else is rethrown unchanged so its own name reaches the Catch.
 */
export function classifyAwsError(error: unknown, during: string): never {
  const e = error as { name?: string; $fault?: string; $retryable?: unknown; message?: string };
  if (
    e?.$fault === 'server' ||
    (typeof error === 'object' && error !== null && (isThrottlingError(error as never) || isTransientError(error as never)))
  ) {
    throw new TransientAwsError(`${during} failed: ${e?.name ?? 'Error'}: ${e?.message ?? String(error)}`, { cause: error });
  }
  throw error;
}

/** Runs one AWS SDK call, classified by `classifyAwsError` (`during` names the call in the message). */
export async function callAws<T>(during: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    return classifyAwsError(error, during);
  }
}
