/**
 * The seam between the runbook and how a release reaches the service. A strategy owns its functions and its states from
 * the moment the service lock is held until an outcome is recorded. Today there is one, all at once (all-at-once.ts).
 * A gray release in traffic steps is a second file beside it, not an edit of the first; choosing per service then takes
 * a catalog field naming the strategy and a Choice routing on it in lib/runbook.ts, and the second strategy's states
 * need names of their own (state names are unique in a definition). Functions two strategies share (update-service,
 * check-health) are listed once: PIPELINE_FUNCTIONS keeps the first spec of each name.
 */
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Outcomes, PipelineFunctionSpec, StageContext } from '../stage';

export interface RolloutStrategy {
  /** The functions its states invoke. */
  readonly functions: readonly PipelineFunctionSpec[];
  /** Its states, from the first change to the service; every path ends in one of `outcomes` (or one it records). */
  states(context: StageContext, outcomes: Outcomes): sfn.IChainable;
}
