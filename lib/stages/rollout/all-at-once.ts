/**
 * Strategy "all at once" (release strategy `rolling`): "Update service to new revision" moves the whole service onto
 * the revision the rollout registered, and the health loop waits (woken by ECS and alarm events) until it is healthy or
 * its deadline passes; then it is deployed, or rolled back (rollback.ts).
 */
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { at } from '../../../lambdas/contract/execution-state';
import type { UpdateServiceInput } from '../../../lambdas/contract/steps';
import { OUTCOMES, STATE_ERRORS } from '../../../lambdas/contract/outcomes';
import { ERROR_NAMES } from '../../../lambdas/errors';
import { STATES } from '../../state-names';
import type { Outcomes, StageContext } from '../stage';
import { AWAIT_HEALTH, CHECK_HEALTH, UPDATE_SERVICE } from './functions';
import { healthLoop } from './health-loop';
import { rollback } from './rollback';
import type { RolloutStrategy } from './strategy';

export const ALL_AT_ONCE: RolloutStrategy = {
  strategy: 'rolling',
  functions: [UPDATE_SERVICE, AWAIT_HEALTH, CHECK_HEALTH],
  states: allAtOnce,
};

function allAtOnce(context: StageContext, outcomes: Outcomes): sfn.IChainable {
  const { scope } = context;
  const updateService = context.invoke<UpdateServiceInput>(
    STATES.updateService,
    'update-service',
    { service: at('service'), taskDefinitionArn: at('deployment', 'newTaskDefinitionArn') },
    at('rollout'),
  );
  const rollBack = rollback(context, outcomes);
  const deployed = outcomes.record(STATES.recordDeployed, OUTCOMES.succeeded, null, at('health', 'reason'), {
    serviceNowRuns: at('deployment', 'newTaskDefinitionArn'),
  });
  const health = healthLoop(context, {
    wait: STATES.waitForHealth,
    check: STATES.checkHealth,
    decide: STATES.isHealthy,
    waitsFor: 'deployment',
    recheckSeconds: at('rollout', 'recheckSeconds'),
    resultKey: 'health',
    judge: {
      taskDefinitionArn: at('deployment', 'newTaskDefinitionArn'),
      deadline: at('rollout', 'deadline'),
      updateStartedAt: at('rollout', 'startedAt'),
      checkAlarms: true,
    },
    onHealthy: deployed,
    onUnhealthy: { note: STATES.noteUnhealthy, error: STATE_ERRORS.serviceUnhealthy, resultKey: 'failure', next: rollBack },
  });
  // Any other failure from UpdateService on may have changed the service: roll back (when there is a good version),
  // which first looks whether a failed update reached the service at all.
  const noteUpdateUncertain = new sfn.Pass(scope, STATES.noteUpdateUncertain, {
    stateName: STATES.noteUpdateUncertain,
    parameters: { 'Error.$': at('failure', 'Error'), 'Cause.$': at('failure', 'Cause'), updateUncertain: true },
    resultPath: at('failure'),
  });

  // A refused update changed nothing.
  updateService.addCatch(outcomes.deploymentFailed, {
    errors: [ERROR_NAMES.updateRefused, ERROR_NAMES.serviceNotFound],
    resultPath: at('failure'),
  });
  updateService.addCatch(noteUpdateUncertain, { errors: [sfn.Errors.ALL], resultPath: at('failure') });
  for (const task of health.tasks) task.addCatch(rollBack, { errors: [sfn.Errors.ALL], resultPath: at('failure') });
  noteUpdateUncertain.next(rollBack);
  updateService.next(health.start);
  return updateService;
}
