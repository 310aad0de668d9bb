/**
 * How a service's releases reach its traffic (its catalog entry's `release`): `rolling`, ECS's own rolling deployment
 * of the one service; or `gray`, a canary service beside the stable one behind one weighted ALB forward action, moved
 * through traffic steps with an analysis of each (the configuration's `release`, in seconds).
 */
import * as z from 'zod';

export const RELEASE_STRATEGIES = ['rolling', 'gray'] as const;
export type ReleaseStrategyName = (typeof RELEASE_STRATEGIES)[number];

/** What ends an approval nobody answered in time. */
export const APPROVAL_TIMEOUT_ACTIONS = ['rollback', 'continue'] as const;
/** What a step does once its analyses were inconclusive more often than allowed: wait for a human, or abort. */
export const INCONCLUSIVE_ACTIONS = ['pause', 'rollback'] as const;

/**
 * Why a list of step weights cannot be a gray release's plan, or null when it can: whole percents from 1 to 100,
 * strictly increasing (a step never takes traffic back), the last one 100 (a release ends with all traffic on it).
 */
export function stepWeightsProblem(weights: readonly number[]): string | null {
  if (weights.length === 0) return 'no step: a gray release needs at least the 100 % step';
  const bad = weights.findIndex((w) => !Number.isInteger(w) || w < 1 || w > 100);
  if (bad >= 0) return `step ${bad + 1} weight ${weights[bad]} is not a whole percent from 1 to 100`;
  const notIncreasing = weights.findIndex((w, i) => i > 0 && w <= weights[i - 1]);
  if (notIncreasing >= 0) {
    return `step ${notIncreasing + 1} weight ${weights[notIncreasing]} is not above step ${notIncreasing}'s ${weights[notIncreasing - 1]}`;
  }
  const last = weights[weights.length - 1];
  if (last !== 100) return `the last step's weight is ${last}, not 100: the release would never take all traffic`;
  return null;
}

const seconds = z.number().int().positive();

/**
 * Where the weighted forward action lives: a listener rule (ModifyRule), or a listener's default action
 * (ModifyListener), which ELB keeps apart from its rules.
 */
export const trafficRouteSchema = z.object({
  kind: z.enum(['listener-rule', 'listener-default-action']),
  arn: z.string().min(1),
});
export type TrafficRoute = z.infer<typeof trafficRouteSchema>;

export const trafficStepSchema = z.object({
  /** Percent of the requests the canary gets in this step; the stable service gets the rest. */
  weight: z.number().int().min(1).max(100),
  /** How long the step is observed before it may pass. */
  bakeSeconds: seconds,
  /** Whether a human must approve before the release goes past this step. */
  approval: z.boolean(),
});
export type TrafficStep = z.infer<typeof trafficStepSchema>;

export const analysisCriteriaSchema = z.object({
  /** Time between two analyses while a step bakes. */
  intervalSeconds: seconds,
  /** How much metric time one analysis looks at. */
  windowSeconds: seconds,
  /** How long ALB metrics take to arrive: the window ends this long before now. */
  metricLagSeconds: z.number().int().nonnegative(),
  /** Fewer canary requests in a window than this, and the analysis cannot tell: inconclusive. */
  minRequests: z.number().int().positive(),
  /** The canary's 5XX + connection error rate, in percent, above which it fails. */
  maxErrorRatePercent: z.number().nonnegative(),
  /** Percentage points the canary's error rate may exceed the stable service's. */
  maxErrorRateIncrease: z.number().nonnegative(),
  /** The canary's p99 target response time above which it fails. */
  maxP99Ms: z.number().positive(),
  /** The canary's p99 above the stable service's p99 times this fails it. */
  maxP99Ratio: z.number().min(1),
  /** Failed analyses a step tolerates; one more aborts the release. */
  failureLimit: z.number().int().nonnegative(),
  /** Inconclusive analyses a step tolerates; one more does `onInconclusive`. */
  inconclusiveLimit: z.number().int().nonnegative(),
  onInconclusive: z.enum(INCONCLUSIVE_ACTIONS),
  /** CloudWatch alarms that must be OK (ALARM fails the step, no data makes it inconclusive). */
  alarms: z.array(z.string().min(1)),
});
export type AnalysisCriteria = z.infer<typeof analysisCriteriaSchema>;

export const probeSchema = z.object({
  /** Path of the health endpoint, e.g. `/health`. */
  path: z.string().startsWith('/'),
  /** Port every canary task answers the probe on. */
  port: z.number().int().min(1).max(65535),
  expectStatus: z.number().int().min(100).max(599),
  /** The slowest answer that still counts as healthy. */
  maxLatencyMs: z.number().int().positive(),
  /** Requests sent to each task. */
  attempts: z.number().int().positive(),
  /** How long one request may take before it counts as failed. */
  timeoutMs: z.number().int().positive(),
  /** Whether the first answer of each task is discarded (connection set-up, a model server's first /health). */
  warmup: z.boolean(),
});
export type ProbeSettings = z.infer<typeof probeSchema>;

export const grayReleaseSchema = z
  .object({
    strategy: z.literal('gray'),
    traffic: z.object({
      route: trafficRouteSchema,
      stableTargetGroupArn: z.string().min(1),
      canaryTargetGroupArn: z.string().min(1),
      /** The canary ECS service, in the stable service's cluster and of its task definition family. */
      canaryService: z.string().min(1),
      /** The tasks' security group, which the stack opens to the probe on `probe.port`. */
      taskSecurityGroupId: z.string().min(1),
    }),
    steps: z.array(trafficStepSchema).min(1),
    approval: z.object({
      /** Whether a human must approve before the canary gets any traffic. */
      beforeFirstStep: z.boolean(),
      timeoutSeconds: seconds,
      onTimeout: z.enum(APPROVAL_TIMEOUT_ACTIONS),
    }),
    /** How long the previous version stays on the stable service, idle, after the 100 % step passed. */
    keepPreviousSeconds: z.number().int().nonnegative(),
    /** The canary runs ceil(stable desired count × weight / 100) tasks, and at least this many. */
    canary: z.object({ minTasks: z.number().int().positive() }),
    analysis: analysisCriteriaSchema,
    probe: probeSchema,
  })
  .superRefine((gray, ctx) => {
    const problem = stepWeightsProblem(gray.steps.map((s) => s.weight));
    if (problem) ctx.addIssue({ code: 'custom', path: ['steps'], message: problem });
  });
export type GrayRelease = z.infer<typeof grayReleaseSchema>;

export const rollingReleaseSchema = z.object({ strategy: z.literal('rolling') });
export type RollingRelease = z.infer<typeof rollingReleaseSchema>;

export const releaseStrategySchema = z.discriminatedUnion('strategy', [rollingReleaseSchema, grayReleaseSchema]);
export type ReleaseStrategy = z.infer<typeof releaseStrategySchema>;
