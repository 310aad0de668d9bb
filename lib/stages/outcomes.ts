/**
 * Stage "Outcomes": where every path of the runbook ends. A "Record outcome: …" state writes the outcome, "Record outcome
 * in the ledger" finalises the ledger's record (function record-outcome), "Publish outcome alert" puts it on the
 * outcome bus, and "Route by outcome" ends the execution in the state that names it.
 */
import { Duration } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { at, EXECUTION_CONTEXT } from '../../lambdas/contract/execution-state';
import { ALERT_EVENT, OUTCOMES, STATE_ERRORS, TERMINAL_ERRORS } from '../../lambdas/contract/outcomes';
import type { WakeLockWaitersInput } from '../../lambdas/contract/steps';
import type { RecordOutcomeInput } from '../../lambdas/steps/record-outcome';
import { STATES } from '../state-names';
import type { OutcomeOf, Outcomes, PipelineFunctionSpec, Reason, RecordOptions, StageContext } from './stage';

export const RECORD_OUTCOME: PipelineFunctionSpec = {
  name: 'record-outcome',
  ledger: { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], writes: true },
  // Each write is conditional and idempotent: a repeated call finishes the job.
  retriedOnTimeout: true,
  calls: () => ['dynamodb'],
  permissions: () => [],
};

/** The outcome states every stage ends in; `outcomeBus` is where the alert is published. */
export function outcomes(context: StageContext, outcomeBus: events.IEventBus): Outcomes {
  const recordInLedger = recordInLedgerAndPublish(context, outcomeBus);
  const record = (id: string, outcome: OutcomeOf, error: string | null, reason: Reason, options?: RecordOptions) =>
    recordOutcome(context, id, outcome, error, reason, options).next(recordInLedger);
  const beforeChecks = { signatureChecked: false };
  return {
    record,
    rejectedByPolicy: record(
      STATES.recordRejectedByPolicy,
      OUTCOMES.rejected,
      TERMINAL_ERRORS.rejectedByPolicy,
      at('policy', 'reason'),
      beforeChecks,
    ),
    // The tag policy's rule that needs the ledger: a release or hotfix tag that already named another image.
    tagReused: record(STATES.recordTagReused, OUTCOMES.rejected, TERMINAL_ERRORS.rejectedByPolicy, at('ledger', 'reason'), beforeChecks),
    duplicate: record(STATES.recordDuplicate, OUTCOMES.duplicate, null, at('ledger', 'reason'), beforeChecks),
    refused: record(STATES.recordRefused, OUTCOMES.rejected, TERMINAL_ERRORS.refused, at('ledger', 'reason'), beforeChecks),
    supersededOnArrival: record(STATES.recordSupersededOnArrival, OUTCOMES.superseded, null, at('ledger', 'reason'), beforeChecks),
    signatureRejected: record(
      STATES.recordSignatureRejected,
      OUTCOMES.rejected,
      TERMINAL_ERRORS.signatureRejected,
      at('signature', 'reason'),
    ),
    superseded: record(STATES.recordSuperseded, OUTCOMES.superseded, null, at('lock', 'reason')),
    deploymentFailed: record(
      STATES.recordDeploymentFailed,
      OUTCOMES.deploymentFailed,
      TERMINAL_ERRORS.deploymentFailed,
      at('failure', 'Cause'),
    ),
  };
}

/**
 * "Record outcome in the ledger", then "Publish outcome alert", then "Route by outcome". The ledger comes before the
 * alert: what the ledger says must not depend on an alert getting out. If the ledger cannot be written, the execution
 * fails unexpectedly, which alerts as critical and makes the crash finaliser try again. Its result is the outcome told in
 * words (a Lambda error's JSON Cause replaced by its message): what the alert publishes and the Fail state's cause.
 */
function recordInLedgerAndPublish(context: StageContext, outcomeBus: events.IEventBus): sfn.IChainable {
  const { scope } = context;
  const fail = (id: string, error: string, causePath: string = at('outcome', 'cause')) =>
    new sfn.Fail(scope, id, { stateName: id, error, causePath });
  const recordInLedger = context.invoke<RecordOutcomeInput>(
    STATES.recordInLedger,
    'record-outcome',
    { outcome: at('outcome') },
    at('outcome'),
  );
  recordInLedger.addCatch(fail(STATES.ledgerNotUpdated, STATE_ERRORS.ledgerNotUpdated, at('ledgerFailure', 'Cause')), {
    resultPath: at('ledgerFailure'),
  });

  const publish = publishForPeople(scope, STATES.publishOutcome, outcomeBus, ALERT_EVENT.detailType, at('outcome'));
  publish.addCatch(fail(STATES.alertNotPublished, STATE_ERRORS.alertNotPublished), { resultPath: at('publishFailure') });

  const statusIs = (status: string) => sfn.Condition.stringEquals(at('outcome', 'status'), status);
  const errorIs = (error: string) => sfn.Condition.stringEquals(at('outcome', 'error'), error);
  const succeed = (id: string) => new sfn.Succeed(scope, id, { stateName: id, outputPath: at('outcome') });
  const failWith = (id: string, error: string) => fail(id, error);
  // The lock this outcome freed (if it held it): the releases waiting for the service try again now, not at their next
  // look. A failed wake-up costs them that look's wait, never this outcome.
  const wakeLockWaiters = context.invoke<WakeLockWaitersInput>(
    STATES.wakeLockWaiters,
    'await-health',
    { wake: 'lock-waiters', service: at('subject', 'service') },
    sfn.JsonPath.DISCARD,
  );
  wakeLockWaiters.addCatch(publish, { errors: [sfn.Errors.ALL], resultPath: sfn.JsonPath.DISCARD });
  recordInLedger
    .next(wakeLockWaiters)
    .next(publish)
    .next(
      new sfn.Choice(scope, STATES.routeByOutcome, { stateName: STATES.routeByOutcome })
        .when(statusIs(OUTCOMES.succeeded.status), succeed(STATES.releaseDeployed))
        // Not failures: nothing was wrong with the release, there was simply nothing (more) to do.
        .when(statusIs(OUTCOMES.duplicate.status), succeed(STATES.releaseDuplicate))
        .when(statusIs(OUTCOMES.superseded.status), succeed(STATES.releaseSuperseded))
        .when(errorIs(TERMINAL_ERRORS.rejectedByPolicy), failWith(STATES.releaseRejectedByPolicy, TERMINAL_ERRORS.rejectedByPolicy))
        .when(errorIs(TERMINAL_ERRORS.refused), failWith(STATES.releaseRefused, TERMINAL_ERRORS.refused))
        .when(errorIs(TERMINAL_ERRORS.signatureRejected), failWith(STATES.signatureRejected, TERMINAL_ERRORS.signatureRejected))
        .when(errorIs(TERMINAL_ERRORS.deploymentFailed), failWith(STATES.deploymentFailed, TERMINAL_ERRORS.deploymentFailed))
        .when(errorIs(TERMINAL_ERRORS.rolledBack), failWith(STATES.releaseRolledBack, TERMINAL_ERRORS.rolledBack))
        .when(errorIs(TERMINAL_ERRORS.rollbackFailed), failWith(STATES.rollbackFailed, TERMINAL_ERRORS.rollbackFailed))
        // Unreachable while every Record state sets a known error; failing loudly beats reporting success.
        .otherwise(fail(STATES.unknownOutcome, STATE_ERRORS.unknownOutcome)),
    );
  return recordInLedger;
}

/**
 * A Task publishing the event at `detailPath` on the outcome bus, for people (AlertRouting sends it to the topic of its
 * `detail.severity`), retried on any error for about a minute.
 */
export function publishForPeople(
  scope: Construct,
  stateName: string,
  outcomeBus: events.IEventBus,
  detailType: string,
  detailPath: string,
): tasks.EventBridgePutEvents {
  const publish = new tasks.EventBridgePutEvents(scope, stateName, {
    stateName,
    entries: [{ eventBus: outcomeBus, source: ALERT_EVENT.source, detailType, detail: sfn.TaskInput.fromJsonPathAt(detailPath) }],
    resultPath: sfn.JsonPath.DISCARD,
    taskTimeout: sfn.Timeout.duration(Duration.seconds(30)),
  });
  publish.addRetry({
    errors: [sfn.Errors.ALL],
    interval: Duration.seconds(2),
    backoffRate: 2,
    maxAttempts: 5,
    jitterStrategy: sfn.JitterType.FULL,
  });
  return publish;
}

/**
 * A "Record outcome: …" Pass state. The Fail states' cause (the reason with the subject in front) is computed here, not
 * in their CausePath, because the local runner cannot evaluate intrinsics there; and since an intrinsic cannot be an
 * argument of States.Format, the cause formats the reason's own parts again.
 */
function recordOutcome(
  context: StageContext,
  id: string,
  outcome: OutcomeOf,
  error: string | null,
  reason: Reason,
  { signatureChecked = true, serviceNowRuns }: RecordOptions = {},
): sfn.Pass {
  const { format, args } = typeof reason === 'string' ? { format: '{}', args: [reason] } : reason;
  const subject = [at('subject', 'repository'), at('subject', 'tag'), at('subject', 'digest'), at('subject', 'service')];
  return new sfn.Pass(context.scope, id, {
    stateName: id,
    parameters: {
      status: outcome.status,
      severity: outcome.severity,
      error,
      'service.$': at('subject', 'service'),
      'environment.$': at('subject', 'environment'),
      'repository.$': at('subject', 'repository'),
      'tag.$': at('subject', 'tag'),
      'digest.$': at('subject', 'digest'),
      'trigger.$': at('trigger'),
      'reason.$': typeof reason === 'string' ? reason : `States.Format('${format}', ${args.join(', ')})`,
      'cause.$': `States.Format('{} {} ({}) for service {}: ${format}', ${[...subject, ...args].join(', ')})`,
      // Why the image was (or was not) trusted: format, signer, signature digest, time. Not checked before the policy passed.
      ...(signatureChecked ? { 'signature.$': at('signature') } : {}),
      // The ledger record this outcome finalises (null when the repository is not configured), and what ECS runs now.
      'ledger.$': at('ledger', 'key'),
      ...serviceState(serviceNowRuns),
      'execution.$': EXECUTION_CONTEXT.executionArn,
      // Lets AlertRouting route only this stack's outcomes when several stacks share an account and region.
      'stateMachine.$': EXECUTION_CONTEXT.stateMachineArn,
    },
    resultPath: at('outcome'),
  });
}

function serviceState(serviceNowRuns: RecordOptions['serviceNowRuns']): Record<string, string> {
  if (serviceNowRuns === undefined) return { serviceState: 'unchanged' };
  if (serviceNowRuns === 'unknown') return { serviceState: 'unknown' };
  return { serviceState: 'changed', 'taskDefinitionAfter.$': serviceNowRuns };
}
