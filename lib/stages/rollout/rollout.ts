/**
 * The rollout, once the release holds the service lock: "Register new task definition revision" pins the verified
 * digest in a copy of the service's revision (nothing runs it yet), then "How does the service take releases?" routes
 * on the service's `release.strategy` to its strategy's states.
 */
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { at } from '../../../lambdas/contract/execution-state';
import type { RegisterRevisionInput } from '../../../lambdas/steps/register-revision';
import { STATES } from '../../state-names';
import type { Outcomes, PipelineFunctionSpec, StageContext } from '../stage';
import { ALL_AT_ONCE } from './all-at-once';
import { REGISTER_REVISION } from './functions';
import { GRAY_RELEASE } from './gray-release';
import type { RolloutStrategy } from './strategy';

/** The strategies, the default (`rolling`) first: a strategy the Choice does not name goes there. */
const STRATEGIES: readonly RolloutStrategy[] = [ALL_AT_ONCE, GRAY_RELEASE];

export const ROLLOUT_FUNCTIONS: readonly PipelineFunctionSpec[] = [REGISTER_REVISION, ...STRATEGIES.flatMap((s) => s.functions)];

export function rollout(context: StageContext, outcomes: Outcomes): sfn.IChainable {
  const registerRevision = context.invoke<RegisterRevisionInput>(
    STATES.registerRevision,
    'register-revision',
    { service: at('service'), release: at('release'), lastKnownGood: at('lock', 'lastKnownGood'), knownBad: at('lock', 'knownBad') },
    at('deployment'),
  );
  registerRevision.addCatch(outcomes.deploymentFailed, { errors: [sfn.Errors.ALL], resultPath: at('failure') });
  const [byDefault, ...others] = STRATEGIES;
  const which = new sfn.Choice(context.scope, STATES.whichStrategy, { stateName: STATES.whichStrategy });
  for (const strategy of others) {
    which.when(sfn.Condition.stringEquals('$.service.release.strategy', strategy.strategy), strategy.states(context, outcomes));
  }
  which.otherwise(byDefault.states(context, outcomes));
  return registerRevision.next(which);
}
