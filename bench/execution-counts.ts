/**
 * What one execution of the local run cost and when it knew, read from its history (ExecutionReport.history). Pure:
 * the bench passes the history and the names of the states that matter.
 */

/** The part of a local history entry these counts read (local/workflow.ts HistoryEntry). */
export interface HistoryEvent {
  /** Simulated seconds since the execution started. */
  at: number;
  type: string;
  state?: string;
  detail?: string;
}

export interface BilledWork {
  stateTransitions: number;
  lambdaInvocations: number;
}

/**
 * State transitions as Step Functions bills a Standard workflow: "Step Functions counts a state transition each time a
 * step of your workflow is executed … including retries", and "each retry will be charged as an additional state
 * transition" (https://aws.amazon.com/step-functions/pricing/). So every state entered counts one, and every retry of
 * a state one more (the local runner re-runs a retried state without entering it again: a StateRetried event). Lambda
 * invocations are the entries and retries of the Task states that invoke a function: every Invoke the state machine
 * makes, retries included.
 */
export function countBilledWork(history: readonly HistoryEvent[], lambdaStates: ReadonlySet<string>): BilledWork {
  const runs = history.filter((event) => event.type === 'StateEntered' || event.type === 'StateRetried');
  return {
    stateTransitions: runs.length,
    lambdaInvocations: runs.filter((event) => event.state !== undefined && lambdaStates.has(event.state)).length,
  };
}

/**
 * When the execution first learnt the service is healthy: the simulated second at which one of the health-check
 * states exited with the verdict `healthy` (the history's detail starts with the verdict); null when none did.
 */
export function firstHealthyCheckAt(history: readonly HistoryEvent[], healthCheckStates: ReadonlySet<string>): number | null {
  const healthy = history.find(
    (event) =>
      event.type === 'StateExited' &&
      event.state !== undefined &&
      healthCheckStates.has(event.state) &&
      /^healthy\b/.test(event.detail ?? ''),
  );
  return healthy?.at ?? null;
}
