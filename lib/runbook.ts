/**
 * The runbook, as the console shows it: each stage in the order an operator reads an execution, each going on to the
 * next when the release passes it, then the rollout (stages/rollout/rollout.ts) and the service's strategy; every path ends in the outcome states. To add a step: a
 * stage file under lib/stages/ (its functions' specs and its states), its handler under lambdas/, and one line in
 * RUNBOOK. JSONPath only: the local run executes this very definition.
 */
import type * as events from 'aws-cdk-lib/aws-events';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { ADMISSION } from './stages/admission';
import { FINALISE_EXECUTION } from './stages/crash-finaliser';
import { outcomes, RECORD_OUTCOME } from './stages/outcomes';
import { RECONCILE } from './stages/reconciliation';
import { ROLLOUT_FUNCTIONS, rollout } from './stages/rollout/rollout';
import { SERVICE_LOCK } from './stages/service-lock';
import { SIGNATURE } from './stages/signature';
import type { PipelineFunctionSpec, Stage, StageContext } from './stages/stage';

/** Before the service changes: is the release allowed and new, is its signature trusted, does it hold the service lock. */
const RUNBOOK: readonly Stage[] = [
  ADMISSION, // Check release against policy → Record the release in the ledger → Is the release allowed? → Is the release new?
  SIGNATURE, // Verify image signature → Is the signature trusted? (→ Wait for the signature to arrive)
  SERVICE_LOCK, // Take the service lock → Does this release hold the service lock? (→ Wait for the service to be free)
];

/**
 * Every function of the pipeline: the runbook's, the strategy's, the outcome's, then those beside the runbook (the
 * crash finaliser and the reconciliation); the order of STEP_FUNCTIONS then EVENT_FUNCTIONS (lib/state-names.ts).
 */
export const PIPELINE_FUNCTIONS: readonly PipelineFunctionSpec[] = firstOfEachName([
  ...RUNBOOK.flatMap((stage) => stage.functions),
  ...ROLLOUT_FUNCTIONS,
  RECORD_OUTCOME,
  FINALISE_EXECUTION,
  RECONCILE,
]);

/** The state machine's definition: RUNBOOK, then the rollout, every path ending in the outcome states. */
export function definition(context: StageContext, outcomeBus: events.IEventBus): sfn.IChainable {
  const end = outcomes(context, outcomeBus);
  // Each stage goes on to the one below it: built from the last, read from the first.
  return RUNBOOK.reduceRight<sfn.IChainable>((next, stage) => stage.states(context, end, next), rollout(context, end));
}

/** One spec per function: a function two stages (or strategies) use is listed by the first. */
function firstOfEachName(specs: readonly PipelineFunctionSpec[]): PipelineFunctionSpec[] {
  return specs.filter((spec, index) => specs.findIndex((other) => other.name === spec.name) === index);
}
