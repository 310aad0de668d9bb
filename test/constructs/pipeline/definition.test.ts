import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { leaseSeconds } from '../../../lambdas/decisions/time-budget';
import { ERROR_NAMES } from '../../../lambdas/errors';
import { STATES } from '../../../lib/state-names';
import { sentimentService } from '../../fixtures/catalog';
import { SENTIMENT, SUMMARIZER, synth, logicalId } from './fixture';

describe('state machine', () => {
  it('is a Standard state machine with tracing, logging ALL with execution data, and an overall timeout', () => {
    const { template, definition } = synth();
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
    });
    // Under /aws/vendedlogs/states, as Step Functions advises (the account's logs resource policy stays small).
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/aws/vendedlogs/states/Test-executions' });
    // the longest service lease (the summarizer's: 2 × (1200 + 20) + 900 = 3340 s, waiting for the service lock), twice
    // the longest deadline (1200 s) plus 30 minutes
    expect(leaseSeconds(SUMMARIZER)).toBe(3340);
    expect(definition.TimeoutSeconds).toBe(3340 + 2 * 1200 + 1800);
    expect(synth([SENTIMENT], { executionTimeout: Duration.hours(3) }).definition.TimeoutSeconds).toBe(10800);
  });

  it('uses JSONPath only: no JSONata, no Assign variables (the local run could not execute them)', () => {
    const { definition } = synth();
    expect(definition.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
    for (const state of Object.values<any>(definition.States)) {
      expect(state.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
      expect(state).not.toHaveProperty('Assign');
      expect(state).not.toHaveProperty('Arguments');
      expect(state).not.toHaveProperty('Output');
    }
  });

  it('orders the story: policy, record, signature, service lock, register, update, wait, health', () => {
    const { definition } = synth();
    expect(definition.StartAt).toBe(STATES.checkRelease);
    const next = (state: string) => definition.States[state].Next;
    expect(next(STATES.checkRelease)).toBe(STATES.recordRelease);
    expect(next(STATES.recordRelease)).toBe(STATES.isReleaseAllowed);
    expect(definition.States[STATES.isReleaseAllowed].Choices[1]).toEqual({
      Variable: '$.policy.verdict',
      StringEquals: 'accepted',
      Next: STATES.isReleaseNew,
    });
    expect(definition.States[STATES.isReleaseNew].Default).toBe(STATES.verifySignature);
    expect(next(STATES.verifySignature)).toBe(STATES.isSignatureTrusted);
    expect(definition.States[STATES.isSignatureTrusted].Choices[0]).toEqual({
      Variable: '$.signature.verdict',
      StringEquals: 'verified',
      Next: STATES.takeLock,
    });
    expect(next(STATES.takeLock)).toBe(STATES.holdsLock);
    expect(definition.States[STATES.holdsLock].Choices[0]).toEqual({
      Variable: '$.lock.verdict',
      StringEquals: 'acquired',
      Next: STATES.registerRevision,
    });
    expect(definition.States[STATES.isSignatureTrusted].Default).toBe(STATES.recordSignatureRejected);
    expect(next(STATES.registerRevision)).toBe(STATES.whichStrategy);
    // The service's release strategy chooses: gray goes to its own states, rolling (and anything else) updates the service.
    expect(definition.States[STATES.whichStrategy]).toEqual({
      Type: 'Choice',
      Choices: [{ Variable: '$.service.release.strategy', StringEquals: 'gray', Next: STATES.checkTrafficSetup }],
      Default: STATES.updateService,
    });
    expect(next(STATES.updateService)).toBe(STATES.waitForHealth);
    expect(next(STATES.waitForHealth)).toBe(STATES.isHealthy);
    expect(next(STATES.checkHealth)).toBe(STATES.isHealthy);
    expect(definition.States[STATES.isHealthy].Choices.map((c: any) => c.Next)).toEqual([STATES.recordDeployed, STATES.waitForHealth]);
    expect(definition.States[STATES.isHealthy].Default).toBe(STATES.noteUnhealthy);
  });

  it('waits for health with a task token, woken by events, and checks once itself after recheckSeconds without one', () => {
    const { definition } = synth();
    for (const [wait, check, resultPath, waitsFor, update] of [
      [STATES.waitForHealth, STATES.checkHealth, '$.health', 'deployment', '$.rollout'],
      [STATES.waitForRollback, STATES.checkRollback, '$.rollbackHealth', 'rollback', '$.rollback'],
      [STATES.waitForCanary, STATES.checkCanary, '$.canaryHealth', 'canary', '$.gray.canaryUpdate'],
      [STATES.waitForPromotion, STATES.checkPromotion, '$.promotionHealth', 'deployment', '$.promotion'],
    ] as const) {
      const state = definition.States[wait];
      expect(state).toMatchObject({
        Type: 'Task',
        Resource: expect.stringMatching(/^arn:.*:states:::lambda:invoke\.waitForTaskToken$/),
        TimeoutSecondsPath: `${update}.recheckSeconds`,
        ResultPath: resultPath,
      });
      expect(state.Parameters.FunctionName).toMatch(/'PipelineAwaitHealth[0-9A-F]{8}','Arn'/);
      expect(state.Parameters.Payload).toMatchObject({
        'taskToken.$': '$$.Task.Token',
        'executionArn.$': '$$.Execution.Id',
        waitingState: wait,
        waitsFor,
        'timeoutSeconds.$': `${update}.recheckSeconds`,
      });
      // The wait's own timeout goes to the one check, keeping the state as it was; any other failure comes after it.
      expect(state.Catch[0]).toEqual({ ErrorEquals: ['States.Timeout'], ResultPath: null, Next: check });
      expect(state.Catch.slice(1).map((c: any) => c.ErrorEquals)).toEqual([['States.ALL']]);
      expect(definition.States[check].ResultPath).toBe(resultPath);
    }
    // No Wait polls health, the lock or a late signature any more: the Waits left are the gray release's canary drain (a
    // time of the plan, not a poll) and the pause after a signature wait that failed; a bake is a wait an operator can
    // end, the lock a wait its holder ends.
    const waits = Object.entries<any>(definition.States)
      .filter(([, s]) => s.Type === 'Wait')
      .map(([name]) => name);
    expect(waits.sort()).toEqual([STATES.pauseBeforeSignatureLook, STATES.drainCanary].sort());
  });

  it('waits for a late signature: pending waits for a push (or pollSeconds) and goes back to the verify step, counted from the execution start', () => {
    const { definition } = synth();
    expect(definition.States[STATES.isSignatureTrusted].Choices[1]).toEqual({
      Variable: '$.signature.verdict',
      StringEquals: 'pending',
      Next: STATES.waitForSignature,
    });
    const wait = definition.States[STATES.waitForSignature];
    expect(wait).toMatchObject({
      Type: 'Task',
      Resource: expect.stringMatching(/:states:::lambda:invoke\.waitForTaskToken$/),
      TimeoutSecondsPath: '$.service.signing.pollSeconds',
      ResultPath: null,
      Next: STATES.verifySignature,
    });
    expect(wait.Parameters.Payload).toEqual({
      'service.$': '$.service',
      'digest.$': '$.release.digest',
      'checkedAt.$': '$.signature.checkedAt',
      'taskToken.$': '$$.Task.Token',
      'executionArn.$': '$$.Execution.Id',
      waitingState: STATES.waitForSignature,
      waitsFor: 'signature',
      'timeoutSeconds.$': '$.service.signing.pollSeconds',
    });
    // No push within pollSeconds: the verify step looks anyway (and rejects past the deadline). The wait failing: a
    // pause of pollSeconds first, so that a lasting failure polls rather than spins.
    expect(wait.Catch).toEqual([
      { ErrorEquals: ['States.Timeout'], ResultPath: null, Next: STATES.verifySignature },
      { ErrorEquals: ['States.ALL'], ResultPath: null, Next: STATES.pauseBeforeSignatureLook },
    ]);
    expect(definition.States[STATES.pauseBeforeSignatureLook]).toEqual({
      Type: 'Wait',
      SecondsPath: '$.service.signing.pollSeconds',
      Next: STATES.verifySignature,
    });
    expect(definition.States[STATES.verifySignature].Parameters).toEqual({
      'release.$': '$.release',
      'signing.$': '$.service.signing',
      'waitingSince.$': '$$.Execution.StartTime',
    });
  });

  it('puts the signature evidence in every outcome recorded after the signature was checked', () => {
    const { definition } = synth();
    for (const state of [
      STATES.recordDeployed,
      STATES.recordSignatureRejected,
      STATES.recordRolledBack,
      STATES.recordRollbackFailed,
      STATES.recordDeploymentFailed,
      STATES.recordSuperseded,
    ]) {
      expect(definition.States[state].Parameters['signature.$']).toBe('$.signature');
    }
    for (const state of [STATES.recordRejectedByPolicy, STATES.recordDuplicate, STATES.recordRefused, STATES.recordSupersededOnArrival]) {
      expect(definition.States[state].Parameters).not.toHaveProperty('signature.$');
    }
  });

  it('adds the longest late-signature wait and the longest service lease to the overall timeout', () => {
    const waiting = sentimentService({ signing: { lateSignatureSeconds: 600 } });
    // lease: 2 × (900 + 30) + 900 = 2760 s
    expect(synth([waiting]).definition.TimeoutSeconds).toBe(600 + 2760 + 2 * 900 + 1800);
  });

  it('takes the longest lease and the longest deadline each on its own, even from different services', () => {
    // The lease grows with the poll interval too: the first has the longest lease, the second the longest deadline.
    const slowPolls = sentimentService({ health: { deadlineSeconds: 900, pollSeconds: 300 } });
    const longDeadline = { ...SUMMARIZER, health: { deadlineSeconds: 1000, pollSeconds: 5, alarms: [] } };
    expect([leaseSeconds(slowPolls), leaseSeconds(longDeadline)]).toEqual([3300, 2910]);
    expect(synth([slowPolls, longDeadline]).definition.TimeoutSeconds).toBe(3300 + 2 * 1000 + 1800);
  });

  it('rolls back on any failure from UpdateService on, except a refused update, to the last known good revision chosen at registration', () => {
    const { definition } = synth();
    expect(definition.States[STATES.updateService].Catch).toEqual([
      { ErrorEquals: ['UpdateRefusedError', 'ServiceNotFoundError'], ResultPath: '$.failure', Next: STATES.recordDeploymentFailed },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: STATES.noteUpdateUncertain },
    ]);
    expect(definition.States[STATES.noteUpdateUncertain]).toMatchObject({
      Type: 'Pass',
      Parameters: { 'Error.$': '$.failure.Error', 'Cause.$': '$.failure.Cause', updateUncertain: true },
      ResultPath: '$.failure',
      Next: STATES.rollBack,
    });
    expect(definition.States[STATES.checkHealth].Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: STATES.rollBack },
    ]);
    expect(definition.States[STATES.rollBack].Parameters['releasedTaskDefinitionArn.$']).toBe('$.deployment.newTaskDefinitionArn');
    expect(definition.States[STATES.rollBack].Next).toBe(STATES.didUpdateReachService);
    expect(definition.States[STATES.didUpdateReachService]).toMatchObject({
      Choices: [{ Variable: '$.rollback.action', StringEquals: 'unchanged', Next: STATES.recordUpdateNotApplied }],
      Default: STATES.hasRollbackTarget,
    });
    expect(definition.States[STATES.checkHealth].Parameters['updateStartedAt.$']).toBe('$.rollout.startedAt');
    expect(definition.States[STATES.checkRollback].Parameters['updateStartedAt.$']).toBe('$.rollback.startedAt');
    expect(definition.States[STATES.noteUnhealthy].Next).toBe(STATES.rollBack);
    expect(definition.States[STATES.registerRevision].Parameters).toEqual({
      'service.$': '$.service',
      'release.$': '$.release',
      'lastKnownGood.$': '$.lock.lastKnownGood',
      'knownBad.$': '$.lock.knownBad',
    });
    // No good version to return to: the rollback step only looked at the service (a failed update that never reached
    // it is still "deployment failed"); no rollback onto a known-bad version, a critical rollback-failed that says so.
    expect(definition.States[STATES.hasRollbackTarget]).toEqual({
      Type: 'Choice',
      Choices: [{ Variable: '$.rollback.action', StringEquals: 'no-target', Next: STATES.recordNoKnownGoodVersion }],
      Default: STATES.waitForRollback,
    });
    expect(definition.States[STATES.recordNoKnownGoodVersion].Parameters).toMatchObject({
      status: 'rollback-failed',
      severity: 'critical',
      error: 'RollbackFailed',
      serviceState: 'unknown',
      'reason.$': expect.stringContaining('$.deployment.rollbackTarget.reason, $.rollback.reason, $.subject.tag, $.failure.Cause'),
    });
    expect(definition.States[STATES.rollBack].Parameters['taskDefinitionArn.$']).toBe('$.deployment.rollbackTaskDefinitionArn');
    expect(definition.States[STATES.checkRollback].Parameters['taskDefinitionArn.$']).toBe('$.deployment.rollbackTaskDefinitionArn');
    expect(definition.States[STATES.recordRolledBack].Parameters['taskDefinitionAfter.$']).toBe('$.deployment.rollbackTaskDefinitionArn');
    expect(definition.States[STATES.registerRevision].Catch[0].Next).toBe(STATES.recordDeploymentFailed);
    expect(definition.States[STATES.checkRollback].Parameters.checkAlarms).toBe(false);
    expect(definition.States[STATES.checkHealth].Parameters.checkAlarms).toBe(true);
  });

  it('ends every path in a Fail state whose error names the outcome and whose cause is the recorded sentence', () => {
    const { definition } = synth();
    const fails = Object.entries<any>(definition.States).filter(([, s]) => s.Type === 'Fail');
    expect(Object.fromEntries(fails.map(([name, s]) => [name, s.Error]))).toEqual({
      [STATES.releaseRejectedByPolicy]: 'ReleaseRejectedByPolicy',
      [STATES.releaseRefused]: 'ReleaseRefused',
      [STATES.signatureRejected]: 'SignatureRejected',
      [STATES.deploymentFailed]: 'DeploymentFailed',
      [STATES.releaseRolledBack]: 'ReleaseRolledBack',
      [STATES.rollbackFailed]: 'RollbackFailed',
      [STATES.alertNotPublished]: 'AlertPublishFailed',
      [STATES.ledgerNotUpdated]: 'LedgerNotUpdated',
      [STATES.unknownOutcome]: 'UnknownOutcome',
    });
    for (const [name, state] of fails) {
      // The ledger could not be written: its own error says why (the outcome sentence is what could not be recorded).
      expect(state.CausePath).toBe(name === STATES.ledgerNotUpdated ? '$.ledgerFailure.Cause' : '$.outcome.cause');
    }
    const succeeds = Object.entries<any>(definition.States).filter(([, s]) => s.Type === 'Succeed');
    expect(Object.fromEntries(succeeds)).toEqual({
      [STATES.releaseDeployed]: { Type: 'Succeed', OutputPath: '$.outcome' },
      [STATES.releaseDuplicate]: { Type: 'Succeed', OutputPath: '$.outcome' },
      [STATES.releaseSuperseded]: { Type: 'Succeed', OutputPath: '$.outcome' },
    });
  });

  it('retries Lambda service errors, throttling and transient AWS errors with backoff and full jitter, with a timeout', () => {
    const { definition } = synth();
    const lambdaTasks = Object.entries<any>(definition.States).filter(([, s]) => s.Type === 'Task' && s.Resource.includes('Fn::GetAtt'));
    expect(lambdaTasks.map(([name]) => name).sort()).toEqual(
      [
        STATES.checkRelease,
        STATES.recordRelease,
        STATES.verifySignature,
        STATES.takeLock,
        STATES.registerRevision,
        STATES.updateService,
        STATES.checkHealth,
        STATES.rollBack,
        STATES.checkRollback,
        STATES.checkTrafficSetup,
        STATES.scaleCanary,
        STATES.scaleCanaryToLast,
        STATES.checkCanary,
        STATES.shiftTraffic,
        STATES.probeCanary,
        STATES.analyseStep,
        STATES.returnToStable,
        STATES.retireCanary,
        STATES.returnForNewerRelease,
        STATES.restoreStable,
        STATES.checkRestoredStable,
        STATES.promote,
        STATES.checkPromotion,
        STATES.finishGrayRelease,
        STATES.recordInLedger,
        STATES.wakeLockWaiters,
      ].sort(),
    );
    for (const [, task] of lambdaTasks) {
      expect(task.TimeoutSeconds).toBe(60);
      expect(task.Retry).toEqual([
        {
          ErrorEquals: expect.arrayContaining([
            'Lambda.ServiceException',
            'Lambda.TooManyRequestsException',
            'Lambda.SdkClientException',
            ERROR_NAMES.transientAws,
          ]),
          IntervalSeconds: 2,
          MaxAttempts: 6,
          BackoffRate: 2,
          MaxDelaySeconds: 60,
          JitterStrategy: 'FULL',
        },
      ]);
    }
  });

  it('names the outcome bus after the stack and keeps its policy on the bus itself: a second stack in the account collides with nothing', () => {
    const { template, stack, pipeline } = synth();
    const bus = template.toJSON().Resources[logicalId(stack, pipeline.outcomeBus)].Properties;
    expect(bus.Name).toBe('Test-outcomes');
    expect(bus.Policy.Statement.map((s: { Sid: string; Effect: string }) => `${s.Effect} ${s.Sid}`)).toEqual([
      'Deny OnlyTheRolloutStateMachinePublishes',
      'Deny OnlyOutcomeEvents',
    ]);
    // AWS::Events::EventBusPolicy resources are identified by their statement ID account-wide.
    template.resourceCountIs('AWS::Events::EventBusPolicy', 0);
  });

  it("publishes the outcome as an EventBridge event of the project source, on the pipeline's own bus", () => {
    const { definition, stack, pipeline } = synth();
    const publish = definition.States[STATES.publishOutcome];
    expect(publish.Resource).toContain(':states:::events:putEvents');
    expect(publish.Parameters.Entries).toEqual([
      {
        'Detail.$': '$.outcome',
        DetailType: 'Model Rollout Outcome',
        Source: 'model-rollout',
        EventBusName: `<{'Fn::GetAtt':['${logicalId(stack, pipeline.outcomeBus)}','Arn']}>`,
      },
    ]);
    expect(publish.Catch[0].Next).toBe(STATES.alertNotPublished);
  });

  it('tests no type as false (IsNull: false, IsPresent: false, …), which the local runner would evaluate as never true', () => {
    // aws-local-stepfunctions returns `IsNull && value === null`: a false test never matches there, though it does in
    // AWS. The definition says Not { IsNull: true } instead, so the local run takes the branch AWS would.
    const negativeTests = JSON.stringify(synth().definition).match(/"Is(Null|Present|Numeric|String|Boolean|Timestamp)":false/g);
    expect(negativeTests).toBeNull();
  });
});
