/**
 * The seam between the runbook and how a release reaches the service. A strategy owns its functions and its states from
 * the moment the service lock is held until an outcome is recorded: the all-at-once rollout (all-at-once.ts) today; a
 * gray release in traffic steps is a second strategy beside it, chosen per service, not an edit of the first.
 */
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Outcomes, PipelineFunctionSpec, StageContext } from '../stage';

export interface RolloutStrategy {
  /** What the configuration calls it. */
  readonly name: string;
  /** The functions its states invoke. */
  readonly functions: readonly PipelineFunctionSpec[];
  /** Its states, from the first change to the service; every path ends in one of `outcomes` (or one it records). */
  states(context: StageContext, outcomes: Outcomes): sfn.IChainable;
}
