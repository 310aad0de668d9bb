/**
 * A gray release's plan: which traffic step comes next, how much of the traffic it gives the canary, and how many
 * tasks the canary runs for it. Pure: the caller reads the stable service's desired count.
 */
import type { GrayRelease, TrafficStep } from '../contract/release-strategy';
import { InvalidInputError } from '../errors';

/** Percent of the requests each target group gets: they add up to 100. */
export interface TrafficWeights {
  stable: number;
  canary: number;
}

/** At rest, and after an abort: every request to the stable service (what the user's own template declares). */
export const ALL_TO_STABLE: TrafficWeights = { stable: 100, canary: 0 };

export interface PlannedStep extends TrafficStep {
  /** 0-based position in the plan. */
  index: number;
  /** 1-based, for people: "step 3 of 5". */
  number: number;
  of: number;
  last: boolean;
  weights: TrafficWeights;
  /** Tasks the canary service runs during the step. */
  canaryTasks: number;
}

/**
 * Tasks the canary needs to take `weight` percent of the stable service's load: in proportion to the weight, rounded
 * up, and at least `minTasks` (so capacity grows with the step instead of doubling for the whole release).
 */
export function canaryTaskCount(stableDesiredCount: number, weight: number, minTasks: number): number {
  // A desired count ECS did not give (NaN, negative) must not become the canary's: UpdateService would take it.
  if (!Number.isInteger(stableDesiredCount) || stableDesiredCount < 0) {
    throw new InvalidInputError(`The stable service's desired count ${stableDesiredCount} is not a whole number of tasks`);
  }
  return Math.max(minTasks, Math.ceil((stableDesiredCount * weight) / 100));
}

/**
 * The step after `current` (null: before the first step), or null when `current` was the last. `toLastStep` (an
 * operator's `promote --full`) skips to the last step.
 * @throws InvalidInputError when `current` is not a step of the plan (a bug or a hand-made input)
 */
export function nextStep(
  gray: Pick<GrayRelease, 'steps' | 'canary'>,
  current: number | null,
  stableDesiredCount: number,
  toLastStep = false,
): PlannedStep | null {
  const last = gray.steps.length - 1;
  if (current !== null && (!Number.isInteger(current) || current < 0 || current > last)) {
    throw new InvalidInputError(`step index ${current} is not in the plan's 0 to ${last}`);
  }
  if (current === last) return null;
  const index = toLastStep ? last : current === null ? 0 : current + 1;
  const step = gray.steps[index];
  return {
    ...step,
    index,
    number: index + 1,
    of: gray.steps.length,
    last: index === last,
    weights: { stable: 100 - step.weight, canary: step.weight },
    canaryTasks: canaryTaskCount(stableDesiredCount, step.weight, gray.canary.minTasks),
  };
}

/**
 * How long the canary keeps its tasks once all traffic went back to stable: a rule change does not take effect at once
 * (RULE_PROPAGATION_SECONDS, a margin the ELB guide gives no figure for), and a client its forward action's target group
 * stickiness holds keeps going to the canary's target group for the stickiness duration (API_TargetGroupStickinessConfig),
 * whatever the weights say; at most MAX_DRAIN_SECONDS, beyond which such clients would meet a canary without tasks.
 */
export const RULE_PROPAGATION_SECONDS = 30;
export const MAX_DRAIN_SECONDS = 3600;
export function canaryDrainSeconds(stickinessSeconds: number): number {
  return Math.min(MAX_DRAIN_SECONDS, RULE_PROPAGATION_SECONDS + Math.max(0, stickinessSeconds));
}
