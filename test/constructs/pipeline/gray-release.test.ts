/** The gray release's states and permissions, as synthesized (the workflow tests run them on the simulated account). */
import { describe, expect, it } from 'vitest';
import type { GrayRelease } from '../../../lambdas/contract/release-strategy';
import { ERROR_NAMES } from '../../../lambdas/errors';
import { STATES } from '../../../lib/state-names';
import { grayRelease, sentimentService } from '../../fixtures/catalog';
import { SENTIMENT, SUMMARIZER, policyStatementsOf, synth } from './fixture';

/** A gray release this version runs: no approval, no pause. */
function runnableGray(): GrayRelease {
  const gray = grayRelease();
  return { ...gray, approval: { ...gray.approval, beforeFirstStep: false }, analysis: { ...gray.analysis, onInconclusive: 'rollback' } };
}
const GRAY = sentimentService({ name: 'sentiment-gray', release: runnableGray() });

describe('gray release states', () => {
  const { definition } = synth([SENTIMENT, GRAY]);
  const state = (name: string) => definition.States[name];

  it('checks the set-up first, and ends before any change when it is not ready', () => {
    expect(state(STATES.checkTrafficSetup)).toMatchObject({ ResultPath: '$.gray', Next: STATES.isTrafficSetupReady });
    expect(state(STATES.checkTrafficSetup).Parameters).toEqual({ 'service.$': '$.service', operation: 'check-setup' });
    expect(state(STATES.isTrafficSetupReady)).toEqual({
      Type: 'Choice',
      Choices: [{ Variable: '$.gray.ready', BooleanEquals: true, Next: STATES.scaleCanary }],
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
    expect(state(STATES.bakeStep)).toEqual({
      Type: 'Wait',
      SecondsPath: '$.service.release.analysis.intervalSeconds',
      Next: STATES.analyseStep,
    });
    expect(state(STATES.analyseStep)).toMatchObject({ ResultPath: '$.gray.analysis', Next: STATES.decideStep });
  });

  it('routes each analysis: the last step passed to the standby, a step passed to the next, keep baking, anything else back to stable', () => {
    expect(state(STATES.decideStep)).toEqual({
      Type: 'Choice',
      Choices: [
        {
          And: [
            { Variable: '$.gray.analysis.decision', StringEquals: 'step-passed' },
            { Variable: '$.gray.step.last', BooleanEquals: true },
          ],
          Next: STATES.promote,
        },
        { Variable: '$.gray.analysis.decision', StringEquals: 'step-passed', Next: STATES.scaleCanary },
        { Variable: '$.gray.analysis.decision', StringEquals: 'keep-baking', Next: STATES.bakeStep },
        // A higher release waits for the service: traffic back to stable, the outcome superseded.
        { Variable: '$.gray.analysis.decision', StringEquals: 'superseded', Next: STATES.noteSuperseded },
      ],
      Default: STATES.noteAnalysisStops,
    });
    expect(state(STATES.noteAnalysisStops).Next).toBe(STATES.returnToStable);
  });

  it('returns all traffic to stable from every failure once traffic may have moved, and alerts critically when it cannot', () => {
    for (const name of [STATES.scaleCanary, STATES.waitForCanary, STATES.checkCanary, STATES.shiftTraffic, STATES.analyseStep]) {
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
