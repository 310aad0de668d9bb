import { describe, expect, it } from 'vitest';
import type { TrafficStep } from '../../lambdas/contract/release-strategy';
import { canaryTaskCount, nextStep } from '../../lambdas/decisions/traffic-steps';

const step = (weight: number, approval = false): TrafficStep => ({ weight, bakeSeconds: 1800, approval });
/** The configuration's default plan: 5 → 10 → 30 → 60 → 100, 30 minutes each. */
const GRAY = { steps: [step(5), step(10), step(30, true), step(60), step(100)], canary: { minTasks: 1 } };

describe('canaryTaskCount', () => {
  it.each([
    [4, 5, 1, 1, 'a small share still runs minTasks'],
    [4, 30, 1, 2, 'rounded up: 1.2 tasks need 2'],
    [4, 100, 1, 4, 'the whole load needs as many tasks as stable'],
    [20, 5, 1, 1, 'exactly one task at 5 % of 20'],
    [20, 6, 1, 2, '1.2 → 2'],
    [3, 10, 2, 2, 'minTasks above the proportional count'],
    [0, 60, 1, 1, 'a stable service scaled to 0 still gets minTasks'],
  ])('%i stable tasks at %i %% (minTasks %i) → %i: %s', (desired, weight, minTasks, expected) => {
    expect(canaryTaskCount(desired, weight, minTasks)).toBe(expected);
  });
});

it('refuses a desired count that is not a whole number of tasks, naming it', () => {
  expect(() => canaryTaskCount(Number.NaN, 5, 1)).toThrow('desired count NaN is not a whole number');
  expect(() => canaryTaskCount(-1, 5, 1)).toThrow('desired count -1');
});

describe('nextStep', () => {
  it('starts at the first step with its weights and task count', () => {
    expect(nextStep(GRAY, null, 4)).toEqual({
      weight: 5,
      bakeSeconds: 1800,
      approval: false,
      index: 0,
      number: 1,
      of: 5,
      last: false,
      weights: { stable: 95, canary: 5 },
      canaryTasks: 1,
    });
  });

  it('walks the plan in order and ends after the last step', () => {
    const weights: number[] = [];
    for (let s = nextStep(GRAY, null, 4); s; s = nextStep(GRAY, s.index, 4)) weights.push(s.weight);
    expect(weights).toEqual([5, 10, 30, 60, 100]);
    expect(nextStep(GRAY, 4, 4)).toBeNull();
  });

  it("carries the step's approval and marks the last one", () => {
    expect(nextStep(GRAY, 1, 4)).toMatchObject({ number: 3, approval: true, last: false, canaryTasks: 2 });
    expect(nextStep(GRAY, 3, 4)).toMatchObject({ number: 5, last: true, weights: { stable: 0, canary: 100 }, canaryTasks: 4 });
  });

  it('skips to the last step on promote --full, from anywhere before it', () => {
    expect(nextStep(GRAY, null, 4, true)).toMatchObject({ index: 4, weight: 100 });
    expect(nextStep(GRAY, 2, 4, true)).toMatchObject({ index: 4 });
    expect(nextStep(GRAY, 4, 4, true)).toBeNull();
  });

  it('refuses an index outside the plan, naming it', () => {
    expect(() => nextStep(GRAY, 5, 4)).toThrow("step index 5 is not in the plan's 0 to 4");
    expect(() => nextStep(GRAY, -1, 4)).toThrow('step index -1');
    expect(() => nextStep(GRAY, 1.5, 4)).toThrow('step index 1.5');
  });
});
