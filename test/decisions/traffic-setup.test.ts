import { describe, expect, it } from 'vitest';
import { checkTrafficSetup, type TrafficSetupObservation } from '../../lambdas/decisions/traffic-setup';

/** A set-up as GrayReleaseTarget declares it, at rest. */
const READY: TrafficSetupObservation = {
  weights: { stable: 100, canary: 0, otherTargetGroups: [] },
  canary: { status: 'ACTIVE', taskDefinitionFamily: 'sentiment-task', deploymentController: 'ECS', targetGroupArns: ['arn:tg/canary'] },
  canaryService: 'sentiment-canary',
  stableTaskDefinitionFamily: 'sentiment-task',
  stableService: 'sentiment',
  stableDesiredCount: 4,
  stableTargetGroupArns: ['arn:tg/stable'],
  stableTargetGroupArn: 'arn:tg/stable',
  canaryTargetGroupArn: 'arn:tg/canary',
};

describe('checkTrafficSetup', () => {
  it('is ready when the route is at rest and the canary service can take the release', () => {
    expect(checkTrafficSetup(READY)).toEqual({ ready: true, problems: [] });
  });

  it.each<[string, Partial<TrafficSetupObservation>, string]>([
    ['a route with no forward to the groups', { weights: null }, 'forwards to neither the stable nor the canary target group'],
    [
      'a route not at rest',
      { weights: { stable: 70, canary: 30, otherTargetGroups: [] } },
      'not at rest: it sends stable 70 / canary 30, not 100 / 0',
    ],
    ['a third target group', { weights: { stable: 100, canary: 0, otherTargetGroups: ['arn:tg/blue'] } }, 'also forwards to arn:tg/blue'],
    [
      'a missing canary service',
      { canary: { status: null, taskDefinitionFamily: null, deploymentController: null, targetGroupArns: [] } },
      'sentiment-canary is not found, not ACTIVE',
    ],
    ['a draining canary service', { canary: { ...READY.canary, status: 'DRAINING' } }, 'sentiment-canary is DRAINING, not ACTIVE'],
    [
      'a stable service scaled to 0',
      { stableDesiredCount: 0 },
      'the stable service sentiment wants 0 tasks: traffic could never return to it',
    ],
    [
      'a canary on CodeDeploy',
      { canary: { ...READY.canary, deploymentController: 'CODE_DEPLOY' } },
      'uses the CODE_DEPLOY deployment controller, not ECS',
    ],
    [
      'a canary of another family',
      { canary: { ...READY.canary, taskDefinitionFamily: 'other-task' } },
      "runs family other-task, not the stable service's sentiment-task",
    ],
  ])('is not ready with %s, naming it', (_, change, problem) => {
    const setup = checkTrafficSetup({ ...READY, ...change });
    expect(setup.ready).toBe(false);
    expect(setup.problems.join(' | ')).toContain(problem);
  });

  it('names every problem at once', () => {
    const setup = checkTrafficSetup({
      ...READY,
      weights: { stable: 0, canary: 100, otherTargetGroups: [] },
      canary: { ...READY.canary, deploymentController: 'EXTERNAL' },
    });
    expect(setup.problems).toHaveLength(2);
  });
});
