/** What playing a scenario yields: each execution and command, as it happened and compared with what was expected. */
import type { DeploymentRecord, DigestRecord } from '../lambdas/contract/ledger-records';
import type { Scenario, ScenarioExternal, ScenarioOperation, ScenarioPush, ScenarioStep, ScenarioWait } from './scenario';
import type { SimulatedAccount } from './simulated-account';
import type { ExecutionReport } from './workflow';

export interface Observed {
  status: string;
  signature: string | null;
  error: string | null;
  running: string;
  alerts: string[];
}

/** One execution: started by a push delivery, an operator's rollback, or the reconciliation. */
export interface ExecutionResult {
  step: ScenarioStep;
  /** What started it, for people: `push v1.3.0`, `push v1.3.0 (delivery 2 of 3)`, `rollback`, `reconcile`. */
  label: string;
  digest: string;
  report: ExecutionReport;
  observed: Observed;
  /** Empty when everything expected happened. */
  mismatches: string[];
}

/** One operator command, as typed and as answered. */
export interface OperationResult {
  step: ScenarioOperation;
  command: string;
  exitCode: number;
  output: string[];
  mismatches: string[];
}

/** A push event the synthesized trigger rule does not match: EventBridge starts nothing. */
export interface NotStartedResult {
  step: ScenarioPush;
  label: string;
  event: unknown;
  mismatches: string[];
}

/** Time passing with nothing pushed (a `wait` step). */
export interface WaitResult {
  step: ScenarioWait;
  /** The simulated time it ended at. */
  until: string;
  mismatches: string[];
}

/** A change made outside the pipeline (an `external` step). */
export interface ExternalResult {
  step: ScenarioExternal;
  /** The simulated time it happened at. */
  at: string;
  mismatches: string[];
}

export type TimelineEntry =
  | { kind: 'execution'; result: ExecutionResult }
  | { kind: 'operation'; result: OperationResult }
  | { kind: 'not-started'; result: NotStartedResult }
  | { kind: 'wait'; result: WaitResult }
  | { kind: 'external'; result: ExternalResult };

export interface ScenarioResult {
  scenario: Scenario;
  /** The account after the last execution, for tests to inspect (e.g. which ECS calls were made). */
  account: SimulatedAccount;
  service: { name: string; environment: string; cluster: string; service: string };
  /** Every execution, in the order it ended. */
  executions: ExecutionResult[];
  operations: OperationResult[];
  /** Executions and commands in the order they happened. */
  timeline: TimelineEntry[];
  /** The ledger at the end: the service's deployment records (oldest first) and digests. */
  ledger: { deployments: DeploymentRecord[]; digests: DigestRecord[] };
  /** `model-rollout history --service NAME` at the end, as it prints. */
  history: string[];
  /** Mismatches with `expectAtEnd`. */
  endMismatches: string[];
}
