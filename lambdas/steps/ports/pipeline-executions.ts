/**
 * This pipeline's state machine, as the reconciliation and the crash finaliser use it: start one execution, or look one
 * up. Declared here, where it is used; `adapters/executions.ts` implements it on Step Functions.
 */
import type { ExecutionStatus } from '@aws-sdk/client-sfn';

export type StartedExecution = { executionArn: string; alreadyStarted: false } | { executionArn: null; alreadyStarted: true };

/** What Step Functions says of an execution name: its ARN and status, or `missing` when it knows none of that name. */
export type ExecutionLookup = { executionArn: string; status: ExecutionStatus | 'missing' };

/**
 * Open executions: still running, or failed but waiting to be redriven. The others are closed, and their names stay
 * taken for 90 days all the same (StartExecution, "name": https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html).
 */
export const OPEN_EXECUTION_STATUSES: readonly string[] = ['RUNNING', 'PENDING_REDRIVE'];

/** An execution name from free text: Step Functions allows 1–80 characters of [A-Za-z0-9-_]. */
export function executionName(...parts: string[]): string {
  return parts
    .join('-')
    .replace(/[^A-Za-z0-9_-]/g, '-')
    .slice(0, 80);
}

export interface PipelineExecutions {
  /** Starts an execution named `name`; one of that name that already exists (open or closed) is reported as already started. */
  start(name: string, input: unknown): Promise<StartedExecution>;
  /** The name of `executionArn` if it is an execution of this state machine; null for any other ARN. */
  ownExecutionName(executionArn: string): string | null;
  /** The status of this state machine's execution named `name`. */
  describe(name: string): Promise<ExecutionLookup>;
}
