/**
 * Strategy "gray release": the release runs on a canary service beside the stable one, behind one weighted ALB forward
 * action, and traffic moves to it step by step (5 → 10 → 30 → 60 → 100 % by default), each step analysed before the
 * next. Read top to bottom:
 *
 * 1. "Check the traffic set-up": the route at rest (stable 100 / canary 0) and the canary service usable; otherwise the
 *    release ends before anything changed.
 * 2. For each step: "Scale the canary for the next step" (the release's revision, tasks in proportion to the step's
 *    weight), its health loop, "Shift traffic to the next step" (written, then read back), then bake: every analysis
 *    interval, "Analyse the canary against the stable version" decides to keep baking, pass the step, or stop.
 * 3. After the last step passed — its bake covers the standby, the previous version still on the stable service, idle,
 *    and analysed as every step — "Promote the release to the stable service", its health loop, and "Return traffic to
 *    the promoted stable service": deployed. A promotion that fails returns the stable service to the previous version
 *    and then all traffic to it (rolled back); when even that fails, traffic stays on the canary, which runs the release
 *    (critical); a return to the promoted stable service that fails is deployed, critical.
 * 4. Anything else that stops the release (an unhealthy canary, a failed analysis, drift, an error) goes to "Return all
 *    traffic to the stable service": stable 100 / canary 0, confirmed: rolled back. When even that fails, the outcome
 *    is rollback-failed (critical). Both returns to stable then "Let the canary drain" (the clients its target group
 *    stickiness holds) and "Scale the canary to 0", before "Why is all traffic back on the stable service?" records
 *    the outcome.
 *
 * Approvals and bakes are waits an operator answers (await-operator; `model-rollout approve | reject | promote | abort`);
 * a bake also ends when an analysed alarm goes to ALARM (await-health), and every analysis first probes /health. While
 * the canary scales for a step, and while the stable service takes the release at promotion, an operator can abort
 * (those health waits are kept for them too; at promotion the stable service first returns to the previous version).
 */
import { Stack } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { at, EXECUTION_CONTEXT } from '../../../lambdas/contract/execution-state';
import { ANALYSE_NOW, SUPERSEDED } from '../../../lambdas/contract/operator-decisions';
import { APPROVAL_REQUEST_EVENT, OUTCOMES, STATE_ERRORS, TERMINAL_ERRORS } from '../../../lambdas/contract/outcomes';
import type { UpdateServiceInput } from '../../../lambdas/contract/steps';
import type { AnalyseStepInput } from '../../../lambdas/steps/analyse-step';
import type { AwaitOperatorInput } from '../../../lambdas/steps/await-operator';
import type { ProbeCanaryInput } from '../../../lambdas/steps/probe-canary';
import type { SteerTrafficInput } from '../../../lambdas/steps/steer-traffic';
import { STATES } from '../../state-names';
import type { Outcomes, Payload, StageContext } from '../stage';
import { AWAIT_HEALTH, CHECK_HEALTH, UPDATE_SERVICE } from './functions';
import { ANALYSE_STEP, AWAIT_OPERATOR, PROBE_CANARY, STEER_TRAFFIC } from './gray-functions';
import { healthLoop } from './health-loop';
import type { RolloutStrategy } from './strategy';

export const GRAY_RELEASE: RolloutStrategy = {
  strategy: 'gray',
  functions: [STEER_TRAFFIC, UPDATE_SERVICE, AWAIT_HEALTH, CHECK_HEALTH, ANALYSE_STEP, AWAIT_OPERATOR, PROBE_CANARY],
  states: grayRelease,
};

/** Paths into the configuration a state reads beyond `at()`'s two levels. */
const RELEASE = {
  canaryService: '$.service.release.traffic.canaryService',
  analysisIntervalSeconds: '$.service.release.analysis.intervalSeconds',
  approvalOnTimeout: '$.service.release.approval.onTimeout',
  approval: '$.gray.analysis.approval',
} as const;

function grayRelease(context: StageContext, outcomes: Outcomes): sfn.IChainable {
  const { scope } = context;
  // Each operation's payload is checked against that operation's own input.
  const steer = <Op extends SteerTrafficInput['operation']>(
    stateName: string,
    operation: Op,
    payload: Payload<Omit<Extract<SteerTrafficInput, { operation: Op }>, 'service' | 'operation'>>,
  ) => {
    const input = { service: at('service'), operation, ...payload } as Payload<Extract<SteerTrafficInput, { operation: Op }>>;
    return context.invoke<Extract<SteerTrafficInput, { operation: Op }>>(stateName, 'steer-traffic', input, at('gray'));
  };
  const choice = (name: string) => new sfn.Choice(scope, name, { stateName: name });
  const note = (name: string, error: string, cause: string) =>
    new sfn.Pass(scope, name, { stateName: name, parameters: { Error: error, 'Cause.$': cause }, resultPath: at('failure') });

  // 4. Back to stable: every path that stops the release ends here, the reason at $.failure.
  const returnToStable = steer(STATES.returnToStable, 'return-to-stable', { gray: at('gray'), returnedFor: 'abort' });
  const rolledBack = outcomes.record(
    STATES.recordGrayRolledBack,
    OUTCOMES.rolledBack,
    TERMINAL_ERRORS.rolledBack,
    { format: 'The gray release stopped: {} — {}.', args: [at('failure', 'Cause'), at('gray', 'reason')] },
    { serviceNowRuns: at('deployment', 'previousTaskDefinitionArn') },
  );
  const trafficNotRestored = outcomes.record(
    STATES.recordTrafficNotRestored,
    OUTCOMES.rollbackFailed,
    TERMINAL_ERRORS.rollbackFailed,
    {
      format:
        'Traffic could not be returned to the stable service ({}); check the route and the canary service. The gray release stopped because: {}',
      args: [at('rollbackFailure', 'Cause'), at('failure', 'Cause')],
    },
    { serviceNowRuns: 'unknown' },
  );
  returnToStable.addCatch(trafficNotRestored, { errors: [sfn.Errors.ALL], resultPath: at('rollbackFailure') });
  // Every return to stable (an abort, a higher release, the end of a promotion) drains the canary, scales it to 0, then
  // records why.
  const drain = new sfn.Wait(scope, STATES.drainCanary, {
    stateName: STATES.drainCanary,
    time: sfn.WaitTime.secondsPath(at('gray', 'drainSeconds')),
  });
  const retire = steer(STATES.retireCanary, 'retire-canary', { gray: at('gray') });
  const whyBack = choice(STATES.whyBackOnStable);
  // A canary left with tasks costs, it takes no traffic: the outcome stands, the failure stays in the state.
  retire.addCatch(whyBack, { errors: [sfn.Errors.ALL], resultPath: at('canaryRetirement') });
  returnToStable.next(drain).next(retire).next(whyBack);
  const stopOn = (task: sfn.TaskStateBase) => task.addCatch(returnToStable, { errors: [sfn.Errors.ALL], resultPath: at('failure') });

  // 1. The set-up, before anything changes.
  const checkSetup = steer(STATES.checkTrafficSetup, 'check-setup', {});
  checkSetup.addCatch(outcomes.deploymentFailed, { errors: [sfn.Errors.ALL], resultPath: at('failure') });
  const setupNotReady = outcomes.record(
    STATES.recordTrafficSetupNotReady,
    OUTCOMES.deploymentFailed,
    TERMINAL_ERRORS.deploymentFailed,
    at('gray', 'reason'),
  );

  // 2. The steps.
  const scaleCanary = steer(STATES.scaleCanary, 'scale-canary', {
    gray: at('gray'),
    canaryTaskDefinitionArn: at('deployment', 'newTaskDefinitionArn'),
    toLastStep: false,
  });
  // An operator's promote --full: the steps between are skipped.
  const scaleCanaryToLast = steer(STATES.scaleCanaryToLast, 'scale-canary', {
    gray: at('gray'),
    canaryTaskDefinitionArn: at('deployment', 'newTaskDefinitionArn'),
    toLastStep: true,
  });
  const shift = steer(STATES.shiftTraffic, 'shift', { gray: at('gray') });
  // The waits an operator's command ends (await-operator stores the token; the CLI answers it, at $.operator).
  const operatorWait = (stateName: string, waitsFor: 'approval' | 'bake', why: string, deadline: string | undefined, timeoutPath: string) =>
    context.invokeAndWait<AwaitOperatorInput>(
      stateName,
      'await-operator',
      {
        service: at('service'),
        taskToken: '$$.Task.Token',
        executionArn: EXECUTION_CONTEXT.executionArn,
        waitingState: stateName,
        waitsFor,
        timeoutSeconds: timeoutPath,
        tag: at('release', 'tag'),
        trigger: at('trigger', 'kind'),
        step: at('gray', 'step'),
        why,
        ...(deadline ? { deadline } : {}),
      },
      at('operator'),
      timeoutPath,
    );
  // A bake is a wait until the next analysis that an operator can end (promote, promote --full, abort).
  const bake = operatorWait(STATES.bakeStep, 'bake', at('gray', 'reason'), undefined, RELEASE.analysisIntervalSeconds);
  // The canary's tasks asked for their health endpoint, for the analysis to judge (the ALB's own check cannot say "in 200 ms").
  const probe = context.invoke<ProbeCanaryInput>(STATES.probeCanary, 'probe-canary', { service: at('service') }, at('probe'));
  const analyse = context.invoke<AnalyseStepInput>(
    STATES.analyseStep,
    'analyse-step',
    {
      service: at('service'),
      step: at('gray', 'step'),
      record: at('gray', 'analysis'),
      probe: at('probe'),
      canaryTaskDefinitionArn: at('deployment', 'newTaskDefinitionArn'),
      tag: at('release', 'tag'),
      trigger: at('trigger', 'kind'),
      executionArn: EXECUTION_CONTEXT.executionArn,
      receivedAt: EXECUTION_CONTEXT.startTime,
      ledgerKey: at('ledger', 'key'),
    },
    at('gray', 'analysis'),
  );
  const decide = choice(STATES.decideStep);

  // Approvals: asked once (an alert naming the command), then waited for until the next analysis, again and again until
  // an operator answers or the analysis ends the approval (its deadline, a failure). Before the first step nothing is
  // analysed: an unanswered approval ends as configured.
  const askDetail = new sfn.Pass(scope, STATES.describeApproval, {
    stateName: STATES.describeApproval,
    parameters: {
      severity: 'warning',
      'service.$': at('subject', 'service'),
      'environment.$': at('subject', 'environment'),
      'tag.$': at('subject', 'tag'),
      'digest.$': at('subject', 'digest'),
      'why.$': `${RELEASE.approval}.why`,
      'deadline.$': `${RELEASE.approval}.deadline`,
      'onTimeout.$': RELEASE.approvalOnTimeout,
      'command.$': `States.Format('model-rollout approve --service {} --tag {} --stack ${Stack.of(scope).stackName} (or reject, promote, promote --full, abort)', ${at('subject', 'service')}, ${at('subject', 'tag')})`,
      'execution.$': EXECUTION_CONTEXT.executionArn,
      'stateMachine.$': EXECUTION_CONTEXT.stateMachineArn,
    },
    resultPath: at('approvalRequest'),
  });
  const ask = context.publishForPeople(STATES.askApproval, APPROVAL_REQUEST_EVENT.detailType, at('approvalRequest'));
  const waitForApproval = operatorWait(
    STATES.waitForApproval,
    'approval',
    `${RELEASE.approval}.why`,
    `${RELEASE.approval}.deadline`,
    `${RELEASE.approval}.waitSeconds`,
  );
  askDetail.next(ask).next(waitForApproval);
  // Why an operator's decision stops the release, and why an answer that is none does: at $.failure, as every stop.
  const stoppedByOperator = {
    Error: STATE_ERRORS.stoppedByOperator,
    'Cause.$': `States.Format('{} by {} at {}: {}', ${at('operator', 'action')}, ${at('operator', 'by')}, ${at('operator', 'at')}, ${at('operator', 'reason')})`,
  };
  const notADecision = {
    Error: STATE_ERRORS.stoppedByOperator,
    Cause: 'an answer to the wait was not an operator decision (action, by, at and reason, as model-rollout sends it)',
  };
  // A note at $.failure of why an operator's answer stops the release (the wait's, or the promotion's).
  const stopNote = (name: string, parameters: typeof stoppedByOperator | typeof notADecision) =>
    new sfn.Pass(scope, name, { stateName: name, parameters, resultPath: at('failure') });
  const operatorStops = stopNote(STATES.noteOperatorStops, stoppedByOperator);
  const unanswered = new sfn.Pass(scope, STATES.noteApprovalUnanswered, {
    stateName: STATES.noteApprovalUnanswered,
    parameters: {
      Error: STATE_ERRORS.approvalUnanswered,
      'Cause.$': `States.Format('nobody answered the approval asked at {} by its deadline {} (onTimeout rollback): {}', ${RELEASE.approval}.requestedAt, ${RELEASE.approval}.deadline, ${RELEASE.approval}.why)`,
    },
    resultPath: at('failure'),
  });
  // Anyone allowed SendTaskSuccess could answer with something else than the CLI's decision: it stops the release
  // (safely, all traffic back to stable) rather than fail the execution on a missing field.
  const unreadable = stopNote(STATES.noteUnreadableAnswer, notADecision);
  unreadable.next(returnToStable);
  const goOn = choice(STATES.goOn);
  const supersededWhileWaiting = note(STATES.noteSupersededWhileWaiting, STATE_ERRORS.releaseSuperseded, at('operator', 'reason'));
  const action = (name: string) => sfn.Condition.stringEquals(at('operator', 'action'), name);
  const onLastStep = sfn.Condition.and(sfn.Condition.isPresent('$.gray.step.last'), sfn.Condition.booleanEquals('$.gray.step.last', true));
  const analysisStops = note(STATES.noteAnalysisStops, STATE_ERRORS.canaryAnalysisFailed, at('gray', 'analysis', 'reason'));
  // A higher release waits for the service: this one returns the traffic and ends, not as a failure (not alerted).
  const returnForNewer = steer(STATES.returnForNewerRelease, 'return-to-stable', { gray: at('gray'), returnedFor: 'superseded' });
  returnForNewer.addCatch(trafficNotRestored, { errors: [sfn.Errors.ALL], resultPath: at('rollbackFailure') });
  // Why traffic goes back, as every return to stable says it (the outcome that cannot return it reads it).
  const noteSuperseded = note(STATES.noteSuperseded, STATE_ERRORS.releaseSuperseded, at('gray', 'analysis', 'reason'));
  noteSuperseded.next(returnForNewer);
  supersededWhileWaiting.next(returnForNewer);
  const superseded = outcomes.record(
    STATES.recordGraySuperseded,
    OUTCOMES.superseded,
    null,
    // Why it gave way, as the note before the return wrote it (the analysis's reason, or the waiting release's answer).
    { format: '{} — {}.', args: [at('failure', 'Cause'), at('gray', 'reason')] },
    { serviceNowRuns: at('deployment', 'previousTaskDefinitionArn') },
  );
  // An operator's answer to the canary's wait (an abort while it scales), taken to where every operator answer is read.
  const takeScalingAnswer = new sfn.Pass(scope, STATES.takeScalingAnswer, {
    stateName: STATES.takeScalingAnswer,
    inputPath: at('canaryHealth'),
    resultPath: at('operator'),
  });
  const canary = healthLoop(context, {
    wait: STATES.waitForCanary,
    check: STATES.checkCanary,
    decide: STATES.isCanaryHealthy,
    waitsFor: 'canary',
    recheckSeconds: at('gray', 'canaryUpdate', 'recheckSeconds'),
    resultKey: 'canaryHealth',
    judge: {
      taskDefinitionArn: at('deployment', 'newTaskDefinitionArn'),
      deadline: at('gray', 'canaryUpdate', 'deadline'),
      updateStartedAt: at('gray', 'canaryUpdate', 'startedAt'),
      // The analysis watches the release's alarms, with traffic on it; the canary's own health is ECS's.
      checkAlarms: false,
      ecsService: RELEASE.canaryService,
    },
    onHealthy: shift,
    onUnhealthy: { note: STATES.noteCanaryUnhealthy, error: STATE_ERRORS.canaryUnhealthy, resultKey: 'failure', next: returnToStable },
    operators: {
      gray: at('gray'),
      tag: at('release', 'tag'),
      trigger: at('trigger', 'kind'),
      whoEnded: STATES.whoEndedCanaryWait,
      onAnswer: takeScalingAnswer,
    },
  });

  // 3. Promotion (the last step's bake covered the standby).
  const promote = context.invoke<UpdateServiceInput>(
    STATES.promote,
    'update-service',
    { service: at('service'), taskDefinitionArn: at('deployment', 'newTaskDefinitionArn') },
    at('promotion'),
  );
  const finish = steer(STATES.finishGrayRelease, 'return-to-stable', { gray: at('gray'), returnedFor: 'promoted' });
  const deployed = outcomes.record(STATES.recordGrayDeployed, OUTCOMES.succeeded, null, at('promotionHealth', 'reason'), {
    serviceNowRuns: at('deployment', 'newTaskDefinitionArn'),
  });
  // Neither the release nor the previous version runs on the stable service: the canary keeps all traffic, running the
  // release, while someone looks at the stable service.
  const promotionFailed = outcomes.record(
    STATES.recordPromotionFailed,
    OUTCOMES.rollbackFailed,
    TERMINAL_ERRORS.rollbackFailed,
    {
      format:
        'The promotion stopped ({}) and the stable service did not return to the previous version ({}); all traffic stays on the canary service {}, which runs the release.',
      args: [at('failure', 'Cause'), at('rollbackFailure', 'Cause'), RELEASE.canaryService],
    },
    { serviceNowRuns: 'unknown' },
  );
  // The stable service did not take the release: it goes back to the previous version, then all traffic returns to it
  // (an abort, rolled back). Only when even that fails does the traffic stay on the canary, which runs the release.
  const restoreStable = context.invoke<UpdateServiceInput>(
    STATES.restoreStable,
    'update-service',
    {
      service: at('service'),
      taskDefinitionArn: at('deployment', 'previousTaskDefinitionArn'),
      releasedTaskDefinitionArn: at('deployment', 'newTaskDefinitionArn'),
      failure: at('failure'),
    },
    at('rollback'),
  );
  // An operator's answer to the promotion's wait (an abort): the stable service goes back to the previous version first.
  const takePromotionAnswer = new sfn.Pass(scope, STATES.takePromotionAnswer, {
    stateName: STATES.takePromotionAnswer,
    inputPath: at('promotionHealth'),
    resultPath: at('operator'),
  });
  const promotion = healthLoop(context, {
    wait: STATES.waitForPromotion,
    check: STATES.checkPromotion,
    decide: STATES.isPromotionHealthy,
    waitsFor: 'deployment',
    recheckSeconds: at('promotion', 'recheckSeconds'),
    resultKey: 'promotionHealth',
    judge: {
      taskDefinitionArn: at('deployment', 'newTaskDefinitionArn'),
      deadline: at('promotion', 'deadline'),
      updateStartedAt: at('promotion', 'startedAt'),
      // Judged by ECS alone: with no traffic on it yet, its alarms have no data to judge. The analyses judged the
      // release with all traffic on it, the service's alarms included.
      checkAlarms: false,
    },
    onHealthy: finish,
    onUnhealthy: {
      note: STATES.notePromotionUnhealthy,
      error: STATE_ERRORS.promotionUnhealthy,
      resultKey: 'failure',
      next: restoreStable,
    },
    operators: {
      gray: at('gray'),
      tag: at('release', 'tag'),
      trigger: at('trigger', 'kind'),
      whoEnded: STATES.whoEndedPromotionWait,
      onAnswer: takePromotionAnswer,
    },
  });
  const restored = healthLoop(context, {
    wait: STATES.waitForRestoredStable,
    check: STATES.checkRestoredStable,
    decide: STATES.isStableRestored,
    waitsFor: 'rollback',
    recheckSeconds: at('rollback', 'recheckSeconds'),
    resultKey: 'rollbackHealth',
    judge: {
      taskDefinitionArn: at('deployment', 'previousTaskDefinitionArn'),
      deadline: at('rollback', 'deadline'),
      updateStartedAt: at('rollback', 'startedAt'),
      checkAlarms: false,
    },
    onHealthy: returnToStable,
    onUnhealthy: {
      note: STATES.noteStableNotRestored,
      error: STATE_ERRORS.rollbackUnstable,
      resultKey: 'rollbackFailure',
      next: promotionFailed,
    },
  });
  for (const task of [promote, ...promotion.tasks]) task.addCatch(restoreStable, { errors: [sfn.Errors.ALL], resultPath: at('failure') });
  for (const task of [restoreStable, ...restored.tasks]) {
    task.addCatch(promotionFailed, { errors: [sfn.Errors.ALL], resultPath: at('rollbackFailure') });
  }
  restoreStable.next(restored.start);
  // The stable service runs the release, healthy: deployed, but the canary keeps the traffic, which someone must move.
  const trafficStaysOnCanary = outcomes.record(
    STATES.recordDeployedTrafficOnCanary,
    OUTCOMES.deployedTrafficOnCanary,
    null,
    {
      format:
        'The stable service runs the release, but traffic could not be returned to it ({}): all traffic stays on the canary service {}, which runs the release too.',
      args: [at('rollbackFailure', 'Cause'), RELEASE.canaryService],
    },
    { serviceNowRuns: at('deployment', 'newTaskDefinitionArn') },
  );
  finish.addCatch(trafficStaysOnCanary, { errors: [sfn.Errors.ALL], resultPath: at('rollbackFailure') });

  for (const task of [scaleCanary, scaleCanaryToLast, shift, ask, waitForApproval, probe, analyse, ...canary.tasks]) stopOn(task);
  const decision = at('gray', 'analysis', 'decision');
  checkSetup.next(
    choice(STATES.isTrafficSetupReady)
      .when(
        sfn.Condition.and(sfn.Condition.booleanEquals(at('gray', 'ready'), true), sfn.Condition.stringEquals(decision, 'ask-approval')),
        askDetail,
      )
      .when(sfn.Condition.booleanEquals(at('gray', 'ready'), true), scaleCanary)
      .otherwise(setupNotReady),
  );
  scaleCanary.next(canary.start);
  scaleCanaryToLast.next(canary.start);
  shift.next(bake);
  // Nobody answered by the next analysis: analyse (the usual end of a bake). Before any traffic, an approval's only
  // timeout is its deadline.
  bake.addCatch(probe, { errors: [sfn.Errors.TIMEOUT], resultPath: sfn.JsonPath.DISCARD });
  // A bake whose waiter could not be stored (past its retries) is a bake no operator can end, not a reason to stop a
  // healthy release: the analysis goes on (the analyses, not the bake, judge the release).
  bake.addCatch(probe, { errors: [sfn.Errors.ALL], resultPath: sfn.JsonPath.DISCARD });
  waitForApproval.addCatch(
    choice(STATES.isTrafficOnCanary)
      // Not IsNull (rather than IsNull false, which aws-local-stepfunctions 2.x evaluates as never true).
      .when(sfn.Condition.not(sfn.Condition.isNull(at('gray', 'step'))), probe)
      .otherwise(
        choice(STATES.onUnansweredApproval)
          .when(sfn.Condition.stringEquals(RELEASE.approvalOnTimeout, 'continue'), scaleCanary)
          .otherwise(unanswered),
      ),
    { errors: [sfn.Errors.TIMEOUT], resultPath: sfn.JsonPath.DISCARD },
  );
  unanswered.next(returnToStable);
  const readable = sfn.Condition.and(
    // IsPresent first: a type test of a path that does not exist is a States.Runtime error, not false.
    ...(['action', 'by', 'at', 'reason'] as const).flatMap((field) => [
      sfn.Condition.isPresent(at('operator', field)),
      sfn.Condition.isString(at('operator', field)),
    ]),
  );
  const operatorDecides = choice(STATES.operatorDecides)
    .when(sfn.Condition.not(readable), unreadable)
    // An analysed alarm changed state during a bake (await-health, woken by its event): analyse now.
    .when(action(ANALYSE_NOW), probe)
    // A higher release started waiting for the service while this one waited for approval before its first step.
    .when(action(SUPERSEDED), supersededWhileWaiting)
    .when(sfn.Condition.or(action('approve'), action('promote')), goOn)
    .when(action('promote-full'), choice(STATES.isLastStep).when(onLastStep, promote).otherwise(scaleCanaryToLast))
    .when(sfn.Condition.or(action('reject'), action('abort')), operatorStops)
    .otherwise(unreadable);
  // While the canary scales, an operator can only stop the release (anything else is not a decision it takes).
  takeScalingAnswer.next(
    choice(STATES.operatorAbortsScaling)
      .when(sfn.Condition.and(readable, action('abort')), operatorStops)
      .otherwise(unreadable),
  );
  // At promotion too, only an abort (anything else stops it as well): the stable service returns to the previous
  // version, then all traffic returns to it.
  const operatorStopsPromotion = stopNote(STATES.noteOperatorStopsPromotion, stoppedByOperator);
  const unreadableAtPromotion = stopNote(STATES.noteUnreadablePromotionAnswer, notADecision);
  operatorStopsPromotion.next(restoreStable);
  unreadableAtPromotion.next(restoreStable);
  takePromotionAnswer.next(
    choice(STATES.operatorAbortsPromotion)
      .when(sfn.Condition.and(readable, action('abort')), operatorStopsPromotion)
      .otherwise(unreadableAtPromotion),
  );
  bake.next(operatorDecides);
  waitForApproval.next(operatorDecides);
  operatorStops.next(returnToStable);
  goOn.when(onLastStep, promote).otherwise(scaleCanary);
  probe.next(analyse);
  analyse.next(decide);
  decide
    .when(sfn.Condition.stringEquals(decision, 'step-passed'), goOn)
    .when(sfn.Condition.stringEquals(decision, 'keep-baking'), bake)
    .when(sfn.Condition.stringEquals(decision, 'ask-approval'), askDetail)
    .when(sfn.Condition.stringEquals(decision, 'await-approval'), waitForApproval)
    .when(sfn.Condition.stringEquals(decision, 'superseded'), noteSuperseded)
    // abort
    .otherwise(analysisStops);
  analysisStops.next(returnToStable);
  returnForNewer.next(drain);
  promote.next(promotion.start);
  finish.next(drain);
  whyBack
    .when(sfn.Condition.stringEquals(at('gray', 'returnedFor'), 'promoted'), deployed)
    .when(sfn.Condition.stringEquals(at('gray', 'returnedFor'), 'superseded'), superseded)
    .otherwise(rolledBack);
  return checkSetup;
}
