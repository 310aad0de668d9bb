import { describe, expect, it } from 'vitest';
import { detectDrift, type TrafficExpectation, type TrafficObservation } from '../../lambdas/decisions/traffic-drift';

const RELEASE = 'arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment-task:8';
const EXPECTED: TrafficExpectation = { weights: { stable: 70, canary: 30 }, canaryTaskDefinitionArn: RELEASE, canaryDesiredCount: 2 };
/** As the pipeline left it: 70/30, the canary on the release's revision with 2 tasks wanted. */
const AS_LEFT: TrafficObservation = {
  weights: { stable: 70, canary: 30, otherTargetGroups: [] },
  canary: { taskDefinitionArn: RELEASE, desiredCount: 2 },
};

describe('detectDrift', () => {
  it('finds none when everything is as the pipeline left it', () => {
    expect(detectDrift(EXPECTED, AS_LEFT)).toBeNull();
  });

  it.each<[string, TrafficObservation, string]>([
    [
      'a cdk deploy reset the rule to its template',
      { ...AS_LEFT, weights: { stable: 100, canary: 0, otherTargetGroups: [] } },
      'the rule routes stable 100 / canary 0, the pipeline set stable 70 / canary 30',
    ],
    ['the rule forwards nowhere we know', { ...AS_LEFT, weights: null }, 'no longer forwards to the stable and canary target groups'],
    [
      'a third target group was added',
      { ...AS_LEFT, weights: { ...AS_LEFT.weights!, otherTargetGroups: ['arn:tg/blue'] } },
      'also forwards to arn:tg/blue',
    ],
    [
      'the canary was updated by hand',
      { ...AS_LEFT, canary: { taskDefinitionArn: `${RELEASE.slice(0, -1)}7`, desiredCount: 2 } },
      'the canary service runs arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment-task:7, not',
    ],
    ['the canary has no deployment', { ...AS_LEFT, canary: { taskDefinitionArn: null, desiredCount: 2 } }, 'runs no deployment'],
    [
      'the canary was rescaled',
      { ...AS_LEFT, canary: { taskDefinitionArn: RELEASE, desiredCount: 1 } },
      'wants 1 tasks, the pipeline set 2',
    ],
  ])('%s', (_, observed, part) => {
    const drift = detectDrift(EXPECTED, observed);
    expect(drift).toMatch(/^Traffic changed outside the pipeline/);
    expect(drift).toContain(part);
  });

  it('names every change at once', () => {
    const drift = detectDrift(EXPECTED, {
      weights: { stable: 100, canary: 0, otherTargetGroups: [] },
      canary: { taskDefinitionArn: RELEASE, desiredCount: 0 },
    });
    expect(drift).toContain('stable 100 / canary 0');
    expect(drift).toContain('wants 0 tasks');
  });
});
