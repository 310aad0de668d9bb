/**
 * The seam between the runbook and how a release reaches the service. Once the release holds the service lock and its
 * revision is registered (rollout.ts), the service's catalog `release.strategy` chooses the strategy: all at once
 * (all-at-once.ts, `rolling`) or a gray release in traffic steps (gray-release.ts, `gray`). A strategy owns its
 * functions and its states until an outcome is recorded; its states have names of their own (state names are unique in
 * a definition). Functions two strategies share (update-service, check-health) are listed once: PIPELINE_FUNCTIONS
 * keeps the first spec of each name.
 */
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { ReleaseStrategyName } from '../../../lambdas/contract/release-strategy';
import type { Outcomes, PipelineFunctionSpec, StageContext } from '../stage';

export interface RolloutStrategy {
  /** The catalog's `release.strategy` it runs. */
  readonly strategy: ReleaseStrategyName;
  /** The functions its states invoke. */
  readonly functions: readonly PipelineFunctionSpec[];
  /** Its states, from the first change to the service; every path ends in one of `outcomes` (or one it records). */
  states(context: StageContext, outcomes: Outcomes): sfn.IChainable;
}
