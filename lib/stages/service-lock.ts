/**
 * Stage "Service lock": one rollout per service at a time. "Take the service lock" (function take-lock) takes the lock
 * in the ledger or says to wait ("Wait for the service to be free", woken when the holder's outcome frees the lock);
 * a higher version waiting or deployed meanwhile
 * supersedes this one, and a release tag bound to another verified image meanwhile is rejected as on arrival.
 */
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { at, EXECUTION_CONTEXT } from '../../lambdas/contract/execution-state';
import { type AwaitLockInput, LOCK_RECHECK_SECONDS } from '../../lambdas/contract/steps';
import type { TakeLockInput } from '../../lambdas/steps/take-lock';
import { STATES } from '../state-names';
import { from, resultFor, verdictIs } from './routing';
import type { Outcomes, PipelineFunctionSpec, Stage, StageContext } from './stage';

export const TAKE_LOCK: PipelineFunctionSpec = {
  name: 'take-lock',
  ledger: { actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], writes: true },
  // Re-takes a lock it already holds.
  retriedOnTimeout: true,
  calls: () => ['dynamodb'],
  permissions: () => [],
};

/** "Take the service lock" … "Does this release hold the service lock?"; the lock holder goes on to `next`. */
export const SERVICE_LOCK: Stage = { functions: [TAKE_LOCK], states: serviceLock };

function serviceLock(context: StageContext, outcomes: Outcomes, next: sfn.IChainable): sfn.IChainable {
  const { scope } = context;
  const takeLock = context.invoke<TakeLockInput>(
    STATES.takeLock,
    'take-lock',
    { service: at('service'), trigger: at('trigger'), key: at('ledger', 'key'), executionArn: EXECUTION_CONTEXT.executionArn },
    at('lock'),
  );
  const holdsLock = new sfn.Choice(scope, STATES.holdsLock, { stateName: STATES.holdsLock });
  // Woken by the holder's end ("Wake the releases waiting for the service", outcomes.ts); after LOCK_RECHECK_SECONDS
  // without a wake-up (a crashed holder the finaliser freed, a lease that ran out) it tries again itself.
  const waitForLock = context.invokeAndWait<AwaitLockInput>(
    STATES.waitForLock,
    'await-health',
    {
      service: at('service'),
      tag: at('release', 'tag'),
      taskToken: '$$.Task.Token',
      executionArn: EXECUTION_CONTEXT.executionArn,
      waitingState: STATES.waitForLock,
      waitsFor: 'lock',
      timeoutSeconds: LOCK_RECHECK_SECONDS,
    },
    sfn.JsonPath.DISCARD,
    LOCK_RECHECK_SECONDS,
  );
  waitForLock.addCatch(takeLock, { errors: [sfn.Errors.TIMEOUT], resultPath: sfn.JsonPath.DISCARD });
  // Any other failure of the wait (its function failing past its retries) costs a look, never the release.
  waitForLock.addCatch(takeLock, { errors: [sfn.Errors.ALL], resultPath: sfn.JsonPath.DISCARD });
  // Another verified image bound the release tag while this one waited: the same policy rejection as on arrival.
  const noteTagBoundMeanwhile = new sfn.Pass(scope, STATES.noteTagBoundMeanwhile, {
    stateName: STATES.noteTagBoundMeanwhile,
    parameters: resultFor('ledger', {
      key: from(at('ledger', 'key')),
      verdict: 'rejected',
      code: 'release-tag-reused',
      reason: from(at('lock', 'reason')),
    }),
    resultPath: at('ledger'),
  });

  takeLock.addCatch(outcomes.deploymentFailed, { errors: [sfn.Errors.ALL], resultPath: at('failure') });
  takeLock.next(holdsLock);
  holdsLock
    .when(verdictIs('lock', 'acquired'), next)
    .when(verdictIs('lock', 'wait'), waitForLock)
    .when(verdictIs('lock', 'rejected'), noteTagBoundMeanwhile)
    .otherwise(outcomes.superseded);
  waitForLock.next(takeLock);
  noteTagBoundMeanwhile.next(outcomes.tagReused);
  return takeLock;
}
