/**
 * The all-at-once rollout's rollback: back to the last known good revision (the ledger's), then wait until it is stable.
 * "Roll back to last known good revision" (function update-service) looks at the service first: a failed update that
 * never reached it leaves nothing to roll back, and a service ECS already rolled back to the target gets no competing
 * update. With no known good version it only looks, and nothing is rolled back onto a known-bad version.
 */
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { at } from '../../../lambdas/contract/execution-state';
import { OUTCOMES, STATE_ERRORS, TERMINAL_ERRORS } from '../../../lambdas/contract/outcomes';
import type { UpdateServiceInput } from '../../../lambdas/contract/steps';
import { STATES } from '../../state-names';
import { fieldIs } from '../routing';
import type { Outcomes, StageContext } from '../stage';
import { healthLoop } from './health-loop';

/** "Roll back to last known good revision" and the states after it; the failure being rolled back is at `$.failure`. */
export function rollback(context: StageContext, outcomes: Outcomes): sfn.IChainable {
  const { scope } = context;
  const rollBack = context.invoke<UpdateServiceInput>(
    STATES.rollBack,
    'update-service',
    {
      service: at('service'),
      taskDefinitionArn: at('deployment', 'rollbackTaskDefinitionArn'),
      releasedTaskDefinitionArn: at('deployment', 'newTaskDefinitionArn'),
      failure: at('failure'),
    },
    at('rollback'),
  );
  const { rolledBack, rollbackFailed, updateNotApplied, noKnownGoodVersion } = rollbackOutcomes(outcomes);
  const didUpdateReachService = new sfn.Choice(scope, STATES.didUpdateReachService, { stateName: STATES.didUpdateReachService });
  const hasRollbackTarget = new sfn.Choice(scope, STATES.hasRollbackTarget, { stateName: STATES.hasRollbackTarget });
  const stable = healthLoop(context, {
    wait: STATES.waitForRollback,
    check: STATES.checkRollback,
    decide: STATES.isRollbackStable,
    waitsFor: 'rollback',
    recheckSeconds: at('rollback', 'recheckSeconds'),
    resultKey: 'rollbackHealth',
    judge: {
      taskDefinitionArn: at('deployment', 'rollbackTaskDefinitionArn'),
      deadline: at('rollback', 'deadline'),
      updateStartedAt: at('rollback', 'startedAt'),
      // Alarms raised by the bad release may take minutes to clear.
      checkAlarms: false,
    },
    onHealthy: rolledBack,
    onUnhealthy: {
      note: STATES.noteRollbackUnstable,
      error: STATE_ERRORS.rollbackUnstable,
      resultKey: 'rollbackFailure',
      next: rollbackFailed,
    },
  });

  for (const step of [rollBack, ...stable.tasks]) {
    step.addCatch(rollbackFailed, { errors: [sfn.Errors.ALL], resultPath: at('rollbackFailure') });
  }
  rollBack.next(didUpdateReachService);
  // A failed update that never reached the service is still "deployment failed".
  didUpdateReachService.when(fieldIs('rollback', 'action', 'unchanged'), updateNotApplied).otherwise(hasRollbackTarget);
  hasRollbackTarget.when(fieldIs('rollback', 'action', 'no-target'), noKnownGoodVersion).otherwise(stable.start);
  return rollBack;
}

/** How a rollback can end. */
function rollbackOutcomes(outcomes: Outcomes) {
  const failure = at('failure', 'Cause');
  return {
    rolledBack: outcomes.record(STATES.recordRolledBack, OUTCOMES.rolledBack, TERMINAL_ERRORS.rolledBack, at('rollback', 'reason'), {
      serviceNowRuns: at('deployment', 'rollbackTaskDefinitionArn'),
    }),
    rollbackFailed: outcomes.record(
      STATES.recordRollbackFailed,
      OUTCOMES.rollbackFailed,
      TERMINAL_ERRORS.rollbackFailed,
      {
        format: 'Rollback to {} failed ({}). It was rolling back because: {}',
        args: [at('deployment', 'rollbackTaskDefinitionArn'), at('rollbackFailure', 'Cause'), failure],
      },
      { serviceNowRuns: 'unknown' },
    ),
    updateNotApplied: outcomes.record(
      STATES.recordUpdateNotApplied,
      OUTCOMES.deploymentFailed,
      TERMINAL_ERRORS.deploymentFailed,
      at('rollback', 'reason'),
    ),
    // No good version to return to (the ledger knows none, and the previous revision's own release failed): the alert
    // says so (critical), and what the service runs now.
    noKnownGoodVersion: outcomes.record(
      STATES.recordNoKnownGoodVersion,
      OUTCOMES.rollbackFailed,
      TERMINAL_ERRORS.rollbackFailed,
      {
        format: '{} {} The release {} failed because: {}',
        args: [at('deployment', 'rollbackTarget', 'reason'), at('rollback', 'reason'), at('subject', 'tag'), failure],
      },
      { serviceNowRuns: 'unknown' },
    ),
  };
}
