/**
 * The execution state: what the runbook's states add to it, and where (each Task's ResultPath), and the verdicts its
 * Choice states route on. The definition (lib/stages/) builds every JSONPath and every routed value from these types,
 * and the handlers return them, so a renamed field or verdict fails to compile instead of failing in the console.
 */
import type { GrayProgress, TrafficSetupResult } from './gray-progress';
import type { ApprovalRequestAlert, OperatorDecision } from './operator-decisions';
import type { LedgerAdmission } from './ledger-records';
import type { SignatureResult } from './signature';
import type { HealthResult, LockResult, ProbeResult, RegisteredRevision, ReleaseCheckResult, UpdateServiceResult } from './steps';

/** A step's failure as a Catch records it (`Error`, `Cause`), or as a Note state writes it. */
export interface StepFailure {
  Error: string;
  Cause: string;
  /** Set when UpdateService failed after it may have reached the service: the rollback looks before it acts. */
  updateUncertain?: boolean;
}

/**
 * Every key of the execution state, with the state that writes it. "Check release against policy" returns the first
 * ones (its result is the whole state); each later key is one Task's or Pass state's ResultPath.
 */
export interface ExecutionState extends ReleaseCheckResult {
  /** "Record the release in the ledger" (or the note that the tag was bound meanwhile). */
  ledger: LedgerAdmission;
  /** "Verify image signature" (or the note that it could not be verified). */
  signature: SignatureResult;
  /** "Take the service lock". */
  lock: LockResult;
  /** "Register new task definition revision": the new revision and where a rollback goes. */
  deployment: RegisteredRevision;
  /** "Update service to new revision". */
  rollout: UpdateServiceResult;
  /** "Check service health". */
  health: HealthResult;
  /** Why the release failed: a step's error caught, or a note that it is unhealthy. */
  failure: StepFailure;
  /** "Roll back to last known good revision". */
  rollback: UpdateServiceResult;
  /** "Check rolled-back service health". */
  rollbackHealth: HealthResult;
  /** Why the rollback failed. */
  rollbackFailure: StepFailure;
  /** A gray release's progress: "Check the traffic set-up" starts it (with `ready`), each of its steps updates it. */
  gray: GrayProgress & Partial<Pick<TrafficSetupResult, 'ready' | 'problems'>>;
  /** Why "Scale the canary to 0" failed (the canary keeps its tasks; no traffic goes to it). */
  canaryRetirement: StepFailure;
  /**
   * "Wait for the canary to become healthy" / "Check canary health": the canary scaled for the next step; an operator's
   * answer to the wait (an abort while it scales: an OperatorDecision) lands here too, and is taken to `operator`
   * before anything reads a verdict ("Who ended the canary's wait?").
   */
  canaryHealth: HealthResult;
  /** "Promote the release to the stable service". */
  promotion: UpdateServiceResult;
  /** "Probe the canary's health endpoint": what the next analysis judges. */
  probe: ProbeResult;
  /** An operator's answer to "Wait for an operator's approval" or "Bake the step until the next analysis". */
  operator: OperatorDecision;
  /** "Say what the approval is for": the approval alert's detail. */
  approvalRequest: ApprovalRequestAlert;
  /** "Check promoted stable service health". */
  promotionHealth: HealthResult;
  /** The outcome as "Record outcome: …" states write it, then as the ledger step returns it in words. */
  outcome: { status: string; severity: string; error: string | null; reason: string; cause: string };
  /** Why the outcome could not be recorded in the ledger. */
  ledgerFailure: StepFailure;
  /** Why the outcome could not be published. */
  publishFailure: StepFailure;
}

export type StateKey = keyof ExecutionState & string;
type At<K extends StateKey> = NonNullable<ExecutionState[K]>;
export type FieldOf<K extends StateKey> = keyof At<K> & string;
type SubFieldOf<K extends StateKey, F extends FieldOf<K>> = keyof NonNullable<At<K>[F]> & string;

/** The JSONPath of a key of the execution state, or of a field (two levels at most) under it: `at('lock', 'verdict')`. */
export function at<K extends StateKey>(key: K): `$.${K}`;
export function at<K extends StateKey, F extends FieldOf<K>>(key: K, field: F): `$.${K}.${F}`;
export function at<K extends StateKey, F extends FieldOf<K>, G extends SubFieldOf<K, F>>(key: K, field: F, sub: G): `$.${K}.${F}.${G}`;
export function at(...parts: string[]): string {
  return ['$', ...parts].join('.');
}

/** The keys whose value carries a `verdict` a Choice state routes on. */
export type VerdictKey = {
  [K in StateKey]: At<K> extends { verdict: string } ? K : never;
}[StateKey];
/** The verdicts the result at `key` can carry: the handler's own union. */
export type VerdictOf<K extends VerdictKey> = At<K> extends { verdict: infer V } ? V : never;

/** What the execution knows about itself (the context object), as the definition passes it to steps. */
export const EXECUTION_CONTEXT = {
  executionArn: '$$.Execution.Id',
  startTime: '$$.Execution.StartTime',
  stateMachineArn: '$$.StateMachine.Id',
} as const;
