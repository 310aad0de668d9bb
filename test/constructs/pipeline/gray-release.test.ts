/** The gray release's states and permissions, as synthesized (the workflow tests run them on the simulated account). */
import { describe, expect, it } from 'vitest';
import { ERROR_NAMES } from '../../../lambdas/errors';
import { STATES } from '../../../lib/state-names';
import { grayRelease, sentimentService } from '../../fixtures/catalog';
import { SENTIMENT, SUMMARIZER, policyStatementsOf, synth } from './fixture';

const GRAY = sentimentService({ name: 'sentiment-gray', release: grayRelease() });

describe('gray release states', () => {
  const { definition } = synth([SENTIMENT, GRAY]);
  const state = (name: string) => definition.States[name];

  it('checks the set-up first, and ends before any change when it is not ready', () => {
    expect(state(STATES.checkTrafficSetup)).toMatchObject({ ResultPath: '$.gray', Next: STATES.isTrafficSetupReady });
    expect(state(STATES.checkTrafficSetup).Parameters).toEqual({ 'service.$': '$.service', operation: 'check-setup' });
    expect(state(STATES.isTrafficSetupReady)).toEqual({
      Type: 'Choice',
      Choices: [
        // The set-up check opens the approval before the first step, when there is one.
        {
          And: [
            { Variable: '$.gray.ready', BooleanEquals: true },
            { Variable: '$.gray.analysis.decision', StringEquals: 'ask-approval' },
          ],
          Next: STATES.describeApproval,
        },
        { Variable: '$.gray.ready', BooleanEquals: true, Next: STATES.scaleCanary },
      ],
      Default: STATES.recordTrafficSetupNotReady,
    });
    expect(state(STATES.checkTrafficSetup).Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: STATES.recordDeploymentFailed },
    ]);
  });

  it('scales the canary, waits for it, shifts, then bakes one analysis interval at a time', () => {
    expect(state(STATES.scaleCanary).Next).toBe(STATES.waitForCanary);
    expect(state(STATES.waitForCanary).Parameters.Payload).toMatchObject({
      'ecsService.$': '$.service.release.traffic.canaryService',
      checkAlarms: false,
      waitsFor: 'canary',
    });
    expect(state(STATES.isCanaryHealthy).Choices[0]).toEqual({
      Variable: '$.canaryHealth.verdict',
      StringEquals: 'healthy',
      Next: STATES.shiftTraffic,
    });
    expect(state(STATES.shiftTraffic).Next).toBe(STATES.bakeStep);
    // A bake waits for an operator until the next analysis: nobody answering (the timeout) is its usual end.
    expect(state(STATES.bakeStep)).toMatchObject({
      Resource: expect.stringContaining(':states:::lambda:invoke.waitForTaskToken'),
      TimeoutSecondsPath: '$.service.release.analysis.intervalSeconds',
      ResultPath: '$.operator',
      Next: STATES.operatorDecides,
    });
    expect(state(STATES.bakeStep).Parameters.Payload).toMatchObject({
      waitsFor: 'bake',
      'taskToken.$': '$$.Task.Token',
      'why.$': '$.gray.reason',
    });
    expect(state(STATES.bakeStep).Catch).toEqual([
      { ErrorEquals: ['States.Timeout'], ResultPath: null, Next: STATES.probeCanary },
      // A bake that cannot store its waiter is one no operator can end: the analysis goes on, the release is not stopped.
      { ErrorEquals: ['States.ALL'], ResultPath: null, Next: STATES.probeCanary },
    ]);
    // Each analysis judges what the /health probe just found.
    expect(state(STATES.probeCanary)).toMatchObject({ ResultPath: '$.probe', Next: STATES.analyseStep });
    expect(state(STATES.analyseStep).Parameters['probe.$']).toBe('$.probe');
    expect(state(STATES.analyseStep)).toMatchObject({ ResultPath: '$.gray.analysis', Next: STATES.decideStep });
  });

  it('routes each analysis: the last step passed to the standby, a step passed to the next, keep baking, anything else back to stable', () => {
    expect(state(STATES.decideStep)).toEqual({
      Type: 'Choice',
      Choices: [
        { Variable: '$.gray.analysis.decision', StringEquals: 'step-passed', Next: STATES.goOn },
        { Variable: '$.gray.analysis.decision', StringEquals: 'keep-baking', Next: STATES.bakeStep },
        { Variable: '$.gray.analysis.decision', StringEquals: 'ask-approval', Next: STATES.describeApproval },
        { Variable: '$.gray.analysis.decision', StringEquals: 'await-approval', Next: STATES.waitForApproval },
        // A higher release waits for the service: traffic back to stable, the outcome superseded.
        { Variable: '$.gray.analysis.decision', StringEquals: 'superseded', Next: STATES.noteSuperseded },
      ],
      Default: STATES.noteAnalysisStops,
    });
    const lastStep = {
      And: [
        { Variable: '$.gray.step.last', IsPresent: true },
        { Variable: '$.gray.step.last', BooleanEquals: true },
      ],
    };
    expect(state(STATES.goOn)).toEqual({
      Type: 'Choice',
      Choices: [{ ...lastStep, Next: STATES.promote }],
      Default: STATES.scaleCanary,
    });
    expect(state(STATES.noteAnalysisStops).Next).toBe(STATES.returnToStable);
  });

  it('asks for approval once, with an alert naming the command, then waits until the next analysis or the deadline', () => {
    expect(state(STATES.describeApproval)).toMatchObject({ ResultPath: '$.approvalRequest', Next: STATES.askApproval });
    expect(state(STATES.describeApproval).Parameters).toMatchObject({ severity: 'warning', 'why.$': '$.gray.analysis.approval.why' });
    expect(JSON.stringify(state(STATES.describeApproval).Parameters['command.$'])).toContain('model-rollout approve --service {}');
    expect(state(STATES.askApproval)).toMatchObject({
      Resource: expect.stringContaining(':states:::events:putEvents'),
      Next: STATES.waitForApproval,
    });
    expect(state(STATES.askApproval).Parameters.Entries[0]).toMatchObject({
      DetailType: 'Model Rollout Approval Requested',
      'Detail.$': '$.approvalRequest',
    });
    expect(state(STATES.waitForApproval)).toMatchObject({
      TimeoutSecondsPath: '$.gray.analysis.approval.waitSeconds',
      ResultPath: '$.operator',
      Next: STATES.operatorDecides,
    });
    expect(state(STATES.waitForApproval).Parameters.Payload).toMatchObject({
      waitsFor: 'approval',
      'deadline.$': '$.gray.analysis.approval.deadline',
    });
    // Unanswered: with traffic on the canary, the analysis goes on (and ends the approval at its deadline); before the
    // first step, the approval ends as configured.
    expect(state(STATES.waitForApproval).Catch[0]).toEqual({
      ErrorEquals: ['States.Timeout'],
      ResultPath: null,
      Next: STATES.isTrafficOnCanary,
    });
    expect(state(STATES.isTrafficOnCanary)).toEqual({
      Type: 'Choice',
      Choices: [{ Not: { Variable: '$.gray.step', IsNull: true }, Next: STATES.probeCanary }],
      Default: STATES.onUnansweredApproval,
    });
    expect(state(STATES.onUnansweredApproval)).toEqual({
      Type: 'Choice',
      Choices: [{ Variable: '$.service.release.approval.onTimeout', StringEquals: 'continue', Next: STATES.scaleCanary }],
      Default: STATES.noteApprovalUnanswered,
    });
    expect(state(STATES.noteApprovalUnanswered).Next).toBe(STATES.returnToStable);
  });

  it("routes an operator's decision: approve or promote go on, promote --full skips to the last step, reject or abort return to stable", () => {
    const readable = ['action', 'by', 'at', 'reason'].flatMap((field) => [
      { Variable: `$.operator.${field}`, IsPresent: true },
      { Variable: `$.operator.${field}`, IsString: true },
    ]);
    expect(state(STATES.operatorDecides)).toEqual({
      Type: 'Choice',
      Choices: [
        // Anything else than the CLI's decision stops the release safely (all traffic back to stable).
        { Not: { And: readable }, Next: STATES.noteUnreadableAnswer },
        // An analysed alarm's change ended the bake: analyse now.
        { Variable: '$.operator.action', StringEquals: 'analyse-now', Next: STATES.probeCanary },
        // A higher release started waiting while this one waited for approval before its first step.
        { Variable: '$.operator.action', StringEquals: 'superseded', Next: STATES.noteSupersededWhileWaiting },
        {
          Or: [
            { Variable: '$.operator.action', StringEquals: 'approve' },
            { Variable: '$.operator.action', StringEquals: 'promote' },
          ],
          Next: STATES.goOn,
        },
        { Variable: '$.operator.action', StringEquals: 'promote-full', Next: STATES.isLastStep },
        {
          Or: [
            { Variable: '$.operator.action', StringEquals: 'reject' },
            { Variable: '$.operator.action', StringEquals: 'abort' },
          ],
          Next: STATES.noteOperatorStops,
        },
      ],
      Default: STATES.noteUnreadableAnswer,
    });
    expect(state(STATES.noteUnreadableAnswer)).toMatchObject({ ResultPath: '$.failure', Next: STATES.returnToStable });
    expect(state(STATES.noteSupersededWhileWaiting)).toMatchObject({ ResultPath: '$.failure', Next: STATES.returnForNewerRelease });
    expect(state(STATES.isLastStep).Default).toBe(STATES.scaleCanaryToLast);
    expect(state(STATES.isLastStep).Choices[0].Next).toBe(STATES.promote);
    expect(state(STATES.scaleCanaryToLast).Parameters).toMatchObject({ operation: 'scale-canary', toLastStep: true });
    expect(state(STATES.scaleCanaryToLast).Next).toBe(STATES.waitForCanary);
    expect(state(STATES.noteOperatorStops)).toMatchObject({ ResultPath: '$.failure', Next: STATES.returnToStable });
    expect(state(STATES.noteOperatorStops).Parameters.Error).toBe('StoppedByOperator');
  });

  it('returns all traffic to stable from every failure once traffic may have moved, and alerts critically when it cannot', () => {
    for (const name of [
      STATES.scaleCanary,
      STATES.scaleCanaryToLast,
      STATES.waitForCanary,
      STATES.checkCanary,
      STATES.shiftTraffic,
      STATES.askApproval,
      STATES.waitForApproval,
      STATES.probeCanary,
      STATES.analyseStep,
    ]) {
      expect(state(name).Catch.at(-1), name).toEqual({ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: STATES.returnToStable });
    }
    expect(state(STATES.returnToStable)).toMatchObject({
      Next: STATES.drainCanary,
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.rollbackFailure', Next: STATES.recordTrafficNotRestored }],
    });
    expect(state(STATES.returnToStable).Parameters).toMatchObject({ operation: 'return-to-stable', returnedFor: 'abort' });
    // The canary drains (its sticky clients), then scales to 0; the outcome says why traffic is back on stable.
    expect(state(STATES.drainCanary)).toEqual({ Type: 'Wait', SecondsPath: '$.gray.drainSeconds', Next: STATES.retireCanary });
    expect(state(STATES.retireCanary)).toMatchObject({
      Next: STATES.whyBackOnStable,
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.canaryRetirement', Next: STATES.whyBackOnStable }],
    });
    expect(state(STATES.whyBackOnStable)).toEqual({
      Type: 'Choice',
      Choices: [
        { Variable: '$.gray.returnedFor', StringEquals: 'promoted', Next: STATES.recordGrayDeployed },
        { Variable: '$.gray.returnedFor', StringEquals: 'superseded', Next: STATES.recordGraySuperseded },
      ],
      Default: STATES.recordGrayRolledBack,
    });
    expect(state(STATES.returnForNewerRelease)).toMatchObject({ Next: STATES.drainCanary, Parameters: { returnedFor: 'superseded' } });
    // Why traffic goes back is noted first: the outcome of a return that fails reads it.
    expect(state(STATES.noteSuperseded)).toMatchObject({ ResultPath: '$.failure', Next: STATES.returnForNewerRelease });
    expect(state(STATES.recordGraySuperseded).Parameters).toMatchObject({ status: 'superseded', severity: 'none' });
    expect(state(STATES.recordTrafficNotRestored).Parameters.severity).toBe('critical');
    // A route not yet showing a write is retried, like any transient AWS error; so is a timeout (absolute writes).
    expect(state(STATES.shiftTraffic).Retry[0].ErrorEquals).toEqual(expect.arrayContaining([ERROR_NAMES.transientAws, 'States.Timeout']));
    // Someone else's change is never retried over.
    expect(state(STATES.shiftTraffic).Retry[0].ErrorEquals).not.toContain(ERROR_NAMES.trafficDrift);
  });

  it('promotes once the last step passed (its bake covered the standby): the stable service takes the release, then traffic returns to it', () => {
    expect(state(STATES.promote).Parameters).toEqual({
      'service.$': '$.service',
      'taskDefinitionArn.$': '$.deployment.newTaskDefinitionArn',
    });
    expect(state(STATES.isPromotionHealthy).Choices[0].Next).toBe(STATES.finishGrayRelease);
    expect(state(STATES.finishGrayRelease)).toMatchObject({ Next: STATES.drainCanary, Parameters: { returnedFor: 'promoted' } });
    // A stable service that does not take the release goes back to the previous version, then takes all traffic back.
    expect(state(STATES.promote).Catch.at(-1)).toEqual({
      ErrorEquals: ['States.ALL'],
      ResultPath: '$.failure',
      Next: STATES.restoreStable,
    });
    expect(state(STATES.notePromotionUnhealthy).Next).toBe(STATES.restoreStable);
    expect(state(STATES.restoreStable).Parameters).toEqual({
      'service.$': '$.service',
      'taskDefinitionArn.$': '$.deployment.previousTaskDefinitionArn',
      'releasedTaskDefinitionArn.$': '$.deployment.newTaskDefinitionArn',
      'failure.$': '$.failure',
    });
    expect(state(STATES.isStableRestored).Choices[0].Next).toBe(STATES.returnToStable);
    // Only when even that fails does the canary keep the traffic (critical).
    expect(state(STATES.noteStableNotRestored).Next).toBe(STATES.recordPromotionFailed);
    expect(state(STATES.restoreStable).Catch.at(-1)).toEqual({
      ErrorEquals: ['States.ALL'],
      ResultPath: '$.rollbackFailure',
      Next: STATES.recordPromotionFailed,
    });
    // Judged by ECS alone: a service without traffic has no alarm data.
    expect(state(STATES.waitForPromotion).Parameters.Payload.checkAlarms).toBe(false);
    // Deployed, but the traffic stayed on the canary: a critical alert, the stable service recorded as running the release.
    expect(state(STATES.finishGrayRelease).Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.rollbackFailure', Next: STATES.recordDeployedTrafficOnCanary },
    ]);
    expect(state(STATES.recordDeployedTrafficOnCanary).Parameters).toMatchObject({ status: 'succeeded', severity: 'critical' });
  });
});

describe('gray release permissions', () => {
  it("opens the tasks' probe port to the probe function alone, which reaches nothing else of theirs", () => {
    const { template } = synth([SENTIMENT, GRAY]);
    const { taskSecurityGroupId } = GRAY.release.strategy === 'gray' ? GRAY.release.traffic : ({} as never);
    const port = GRAY.release.strategy === 'gray' ? GRAY.release.probe.port : 0;
    const groups = Object.entries<any>(template.findResources('AWS::EC2::SecurityGroup')).filter(([id]) =>
      id.includes('ProbeCanaryTaskAccess'),
    );
    expect(groups).toHaveLength(1);
    const [[groupId, group]] = groups;
    expect(group.Properties.SecurityGroupEgress).toEqual([
      expect.objectContaining({ DestinationSecurityGroupId: taskSecurityGroupId, FromPort: port, ToPort: port, IpProtocol: 'tcp' }),
    ]);
    const ingress = Object.values<any>(template.findResources('AWS::EC2::SecurityGroupIngress')).filter(
      (r) => r.Properties.GroupId === taskSecurityGroupId,
    );
    expect(ingress.map((r) => r.Properties)).toEqual([
      expect.objectContaining({ FromPort: port, ToPort: port, SourceSecurityGroupId: { 'Fn::GetAtt': [groupId, 'GroupId'] } }),
    ]);
    const probeFunction = Object.entries<any>(template.findResources('AWS::Lambda::Function')).find(([id]) => id.includes('ProbeCanary'))!;
    expect(probeFunction[1].Properties.VpcConfig.SecurityGroupIds).toContainEqual({ 'Fn::GetAtt': [groupId, 'GroupId'] });
    // Named by the group and port it opens: another gray service before it renames nothing (a rule cannot change in place).
    const other = sentimentService({
      name: 'translator-gray',
      service: 'translator',
      release: { ...GRAY.release, traffic: { ...(GRAY.release as any).traffic, taskSecurityGroupId: 'sg-0a1b2c3d4e5f60077' } } as any,
    });
    const ingressIds = (t: typeof template) =>
      Object.entries<any>(t.findResources('AWS::EC2::SecurityGroupIngress'))
        .filter(([, r]) => r.Properties.GroupId === taskSecurityGroupId)
        .map(([id]) => id);
    expect(ingressIds(synth([SENTIMENT, other, GRAY]).template)).toEqual(ingressIds(template));
    // Without a gray release, no such group and no rule on anyone's tasks.
    const plain = synth([SENTIMENT, SUMMARIZER]).template;
    expect(Object.keys(plain.findResources('AWS::EC2::SecurityGroup')).filter((id) => id.includes('ProbeCanary'))).toEqual([]);
  });

  const elb = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012';
  const canary = {
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:eu-west-1:123456789012:service/models-prod/sentiment-canary']],
  };

  it('modifies only the configured rule and scales only the canary service', () => {
    const steer = policyStatementsOf(synth([SENTIMENT, GRAY]).template, 'PipelineSteerTraffic');
    expect(steer).toContainEqual({
      Action: 'elasticloadbalancing:ModifyRule',
      Effect: 'Allow',
      Resource: `${elb}:listener-rule/app/models-internal/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee`,
    });
    expect(steer).toContainEqual({ Action: 'ecs:UpdateService', Effect: 'Allow', Resource: canary });
    expect(steer.flatMap((s) => [s.Action].flat())).not.toContain('elasticloadbalancing:ModifyListener');
  });

  it('grants the gray functions nothing, and creates no endpoint for them, in a configuration without a gray release', () => {
    const { template } = synth([SENTIMENT, SUMMARIZER]);
    expect(policyStatementsOf(template, 'PipelineSteerTraffic')).toEqual([]);
    expect(policyStatementsOf(template, 'PipelineAnalyseStep')).toEqual([]);
    const endpoints = Object.values<any>(template.findResources('AWS::EC2::VPCEndpoint')).map((e) =>
      JSON.stringify(e.Properties.ServiceName),
    );
    expect(endpoints.filter((name) => name.includes('elasticloadbalancing'))).toEqual([]);
  });
});
