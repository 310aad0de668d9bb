/**
 * Stage "Service lock": one rollout per service at a time. "Take the service lock" (function take-turn) takes the lock
 * in the ledger or says to wait ("Wait for the service to be free"); a higher version waiting or deployed meanwhile
 * supersedes this one, and a release tag bound to another verified image meanwhile is rejected as on arrival.
 */
import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { at, EXECUTION_CONTEXT } from '../../lambdas/contract/execution-state';
import { LOCK_POLL_SECONDS } from '../../lambdas/contract/steps';
import type { TakeTurnInput } from '../../lambdas/steps/take-turn';
import { STATES } from '../state-names';
import { verdictIs } from './routing';
import type { Outcomes, PipelineFunctionSpec, Stage, StageContext } from './stage';

export const TAKE_TURN: PipelineFunctionSpec = {
  name: 'take-turn',
  ledger: { actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], writes: true },
  // Re-takes a lock it already holds.
  retriedOnTimeout: true,
  calls: () => ['dynamodb'],
  permissions: () => [],
};

/** "Take the service lock" … "Is it this release's turn?"; the lock holder goes on to `next`. */
export const SERVICE_LOCK: Stage = { functions: [TAKE_TURN], states: serviceLock };

function serviceLock(context: StageContext, outcomes: Outcomes, next: sfn.IChainable): sfn.IChainable {
  const { scope } = context;
  const takeTurn = context.invoke<TakeTurnInput>(
    STATES.takeTurn,
    'take-turn',
    { service: at('service'), trigger: at('trigger'), key: at('ledger', 'key'), executionArn: EXECUTION_CONTEXT.executionArn },
    at('turn'),
  );
  const isItsTurn = new sfn.Choice(scope, STATES.isItsTurn, { stateName: STATES.isItsTurn });
  const waitForTurn = new sfn.Wait(scope, STATES.waitForTurn, {
    stateName: STATES.waitForTurn,
    time: sfn.WaitTime.duration(Duration.seconds(LOCK_POLL_SECONDS)),
  });
  // Another verified image bound the release tag while this one waited: the same policy rejection as on arrival.
  const noteTagBoundMeanwhile = new sfn.Pass(scope, STATES.noteTagBoundMeanwhile, {
    stateName: STATES.noteTagBoundMeanwhile,
    parameters: { 'key.$': at('ledger', 'key'), verdict: 'rejected', code: 'release-tag-reused', 'reason.$': at('turn', 'reason') },
    resultPath: at('ledger'),
  });

  takeTurn.addCatch(outcomes.deploymentFailed, { errors: [sfn.Errors.ALL], resultPath: at('failure') });
  takeTurn.next(isItsTurn);
  isItsTurn
    .when(verdictIs('turn', 'acquired'), next)
    .when(verdictIs('turn', 'wait'), waitForTurn)
    .when(verdictIs('turn', 'rejected'), noteTagBoundMeanwhile)
    .otherwise(outcomes.superseded);
  waitForTurn.next(takeTurn);
  noteTagBoundMeanwhile.next(outcomes.tagReused);
  return takeTurn;
}
