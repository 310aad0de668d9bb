/**
 * What a stage of the runbook declares, and what the pipeline gives it back. A stage owns one part of the runbook: its
 * functions (each a PipelineFunctionSpec: what it reads, may do, and calls through the VPC), and a builder of its states
 * that takes the context below and the state to go on to. The construct (lib/rollout-pipeline.ts) creates the functions,
 * writes their policies and endpoints from the specs, and assembles the stages in runbook order (lib/runbook.ts).
 */
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import type { ServiceCatalog } from '../../lambdas/contract/catalog';
import type { EndpointName } from '../endpoints';
import type { FunctionName, StepFunctionName } from '../state-names';

/** One statement of a function's policy. A resource with a wildcard must say why AWS offers no narrower one. */
export interface Permission {
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly conditions?: Record<string, unknown>;
  /** Required when a resource has a `*`: the README's permissions table and the cdk-nag acknowledgement say it. */
  readonly whyWildcard?: string;
}

/** What a function's permissions can name: the configured services and this stack's resources. */
export interface GrantContext {
  readonly catalog: ServiceCatalog;
  /** `arn:<partition>:<service>:<region>:<account>:<resource>` in this stack's account and Region. */
  arn(service: string, resource: string): string;
  readonly stateMachine: sfn.StateMachine;
}

/** The item actions a function performs on the ledger table (and the key, through DynamoDB only). */
export interface LedgerAccess {
  readonly actions: readonly string[];
  readonly writes: boolean;
  /** Queries the execution index (the crash finaliser, which finds a record by its execution). */
  readonly queriesIndex?: boolean;
}

/** A port of a service's tasks, behind their security group. */
export interface TaskPort {
  readonly service: string;
  readonly taskSecurityGroupId: string;
  readonly port: number;
}

/** What a stage knows about one of its functions; lib/pipeline/functions.ts turns it into the function and its policy. */
export interface PipelineFunctionSpec {
  readonly name: FunctionName;
  /** Reads the service catalog (a file in its code package). */
  readonly readsCatalog?: boolean;
  /** Reads the pinned AWS Signer root certificates (an environment variable). */
  readonly readsSignerRoots?: boolean;
  /** Knows the state machine's ARN (an environment variable). */
  readonly readsStateMachineArn?: boolean;
  /** Its ledger access; absent when it never touches the ledger. */
  readonly ledger?: LedgerAccess;
  /** Whether this configuration needs its ledger access (default: always); e.g. a gray release's only, without one none. */
  readonly usesLedger?: (catalog: ServiceCatalog) => boolean;
  /**
   * A step that may run again on the same input and end the same way: the state machine retries it after a timeout
   * (which may have come after its work was done) like a service error. Not a step whose write may have taken effect.
   */
  readonly retriedOnTimeout?: boolean;
  /**
   * Where it connects to the services' own tasks (not to AWS): it gets a security group of its own that reaches only
   * these ports of these task security groups, and each of them admits it on that port.
   */
  readonly reachesTasks?: (catalog: ServiceCatalog) => readonly TaskPort[];
  /** The VPC endpoints (AWS services) its code calls for these services; endpoints are created from these. */
  calls(catalog: ServiceCatalog): readonly EndpointName[];
  /** Everything it may do beyond logging, its network interfaces, X-Ray and the ledger. */
  permissions(context: GrantContext): readonly Permission[];
}

/** A value a Task passes to its step: a JSONPath into the execution state or its context, or a literal. */
type PayloadValue = `$.${string}` | `$$.${string}` | string | number | boolean | null;
/** A step's input as the state builds it: every field the handler's input type names, and no other. */
export type Payload<Input> = { [K in keyof Input]: PayloadValue };

/** What the stages' builders get from the pipeline. */
export interface StageContext {
  readonly scope: Construct;
  /**
   * A Task state invoking `step`: `payload` becomes its input (values starting with `$` are paths), its result lands at
   * `resultPath`; service errors and throttling (and timeouts, when the step is retriedOnTimeout) are retried.
   */
  invoke<Input>(
    stateName: string,
    step: StepFunctionName,
    payload: Payload<Input> | undefined,
    resultPath: string | undefined,
  ): tasks.LambdaInvoke;
  /**
   * A Task state invoking `step` with a task token in `payload` (`$$.Task.Token`) and waiting for it to be answered;
   * the answer lands at `resultPath`; it times out (States.Timeout) after the seconds at `timeout` (a JSONPath), or
   * after `timeout` seconds (a number).
   */
  invokeAndWait<Input>(
    stateName: string,
    step: StepFunctionName,
    payload: Payload<Input>,
    resultPath: string,
    timeout: string | number,
  ): tasks.LambdaInvoke;
  /** A Task publishing the event at `detailPath` for people: on the outcome bus, routed to the alert topics by severity. */
  publishForPeople(stateName: string, detailType: string, detailPath: string): sfn.TaskStateBase;
}

/** A stage of the runbook: its functions, and its states, going on to `next` when the release passes it. */
export interface Stage {
  readonly functions: readonly PipelineFunctionSpec[];
  states(context: StageContext, outcomes: Outcomes, next: sfn.IChainable): sfn.IChainable;
}

/** Where the stages' paths end: each "Record outcome: …" state, then the ledger, the alert and a terminal state. */
export interface Outcomes {
  readonly rejectedByPolicy: sfn.IChainable;
  readonly tagReused: sfn.IChainable;
  readonly duplicate: sfn.IChainable;
  readonly refused: sfn.IChainable;
  readonly supersededOnArrival: sfn.IChainable;
  readonly signatureRejected: sfn.IChainable;
  readonly superseded: sfn.IChainable;
  readonly deploymentFailed: sfn.IChainable;
  /** Builds another "Record outcome: …" state that goes on to the ledger (a rollout strategy's own outcomes). */
  record(id: string, outcome: OutcomeOf, error: string | null, reason: Reason, options?: RecordOptions): sfn.IChainable;
}

export interface OutcomeOf {
  readonly status: string;
  readonly severity: string;
}
/** A reason: a JSONPath, or a sentence formatted from several. */
export type Reason = string | { format: string; args: string[] };
export interface RecordOptions {
  /** false before the signature was checked: the outcome carries no signature. */
  readonly signatureChecked?: boolean;
  /** A JSONPath to the revision the service now runs, `unknown`, or absent when the service did not change. */
  readonly serviceNowRuns?: string | 'unknown';
}
