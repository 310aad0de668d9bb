/**
 * Where a gray release stands (the execution state's `$.gray`): each of the gray release's steps reads it and returns
 * it updated, so the console shows, at every state, the step under way, the weights last written and the last analysis.
 */
import * as z from 'zod';
import type { PendingApproval, StepMove } from '../decisions/step-analysis';
import type { PlannedStep, TrafficWeights } from '../decisions/traffic-steps';

const weightsSchema = z.object({ stable: z.number(), canary: z.number() }) satisfies z.ZodType<TrafficWeights>;

export const plannedStepSchema = z.object({
  weight: z.number().int(),
  bakeSeconds: z.number().int().nonnegative(),
  approval: z.boolean(),
  index: z.number().int().nonnegative(),
  number: z.number().int().positive(),
  of: z.number().int().positive(),
  last: z.boolean(),
  weights: weightsSchema,
  canaryTasks: z.number().int().nonnegative(),
}) satisfies z.ZodType<PlannedStep>;

/** A step once traffic moved to it: when it started and when its bake is over. */
export const stepUnderWaySchema = plannedStepSchema.extend({
  startedAt: z.iso.datetime({ offset: true }),
  bakeEndsAt: z.iso.datetime({ offset: true }),
});
export type StepUnderWay = z.infer<typeof stepUnderWaySchema>;

export const pendingApprovalSchema = z.object({
  why: z.string(),
  requestedAt: z.iso.datetime({ offset: true }),
  deadline: z.iso.datetime({ offset: true }),
  waitSeconds: z.number().int().positive(),
}) satisfies z.ZodType<PendingApproval>;

/**
 * The step's analyses so far, the last one's decision and the approval it waits for, if any (decisions/step-analysis.ts
 * `StepMove`). "Check the traffic set-up" opens the approval before the first step.
 */
export const stepAnalysisRecordSchema = z.object({
  failures: z.number().int().nonnegative(),
  inconclusive: z.number().int().nonnegative(),
  decision: z.enum(['keep-baking', 'step-passed', 'abort', 'ask-approval', 'await-approval', 'superseded']),
  reason: z.string(),
  approval: pendingApprovalSchema.nullable().default(null),
}) satisfies z.ZodType<StepMove, unknown>;

export const grayProgressSchema = z.object({
  /** The step traffic is on; null before the first shift. */
  step: stepUnderWaySchema.nullable(),
  /** The step the canary was scaled for, which traffic moves to next; null between a shift and the next scaling. */
  next: plannedStepSchema.nullable(),
  /**
   * The stable service's desired count when the release started: every step's canary is sized from it, not from a
   * count that autoscaling lowers as the stable service's traffic falls.
   */
  stableDesiredCount: z.number().int().nonnegative(),
  /** The weights the pipeline wrote last: what the drift guard expects to find. */
  weights: weightsSchema,
  /** The canary's scaling for `next`: the health loop judges it against this deadline. */
  canaryUpdate: z
    .object({ startedAt: z.iso.datetime({ offset: true }), deadline: z.iso.datetime({ offset: true }), recheckSeconds: z.number() })
    .nullable(),
  analysis: stepAnalysisRecordSchema,
  /** Why all traffic went back to the stable service: an abort, the promoted release, a higher release. Null before. */
  returnedFor: z.enum(['abort', 'promoted', 'superseded']).nullable().default(null),
  /** How long the canary drains once traffic is back on stable, before it scales to 0. */
  drainSeconds: z.number().int().nonnegative().default(0),
  /** What the last step of the gray release did, as a sentence. */
  reason: z.string(),
});
export type GrayProgress = z.infer<typeof grayProgressSchema>;

/** Output of "Check the traffic set-up": the progress before anything changed, and whether the set-up is ready. */
export interface TrafficSetupResult extends GrayProgress {
  ready: boolean;
  problems: string[];
}
