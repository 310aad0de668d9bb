/**
 * `services[].release`: how a release reaches the service's traffic. `rolling` (the default) is ECS's own rolling
 * deployment; `gray` runs the release on a canary service beside the stable one and moves traffic to it in weighted
 * steps of an ALB forward action, analysing each step. Durations are in minutes, as `health.deadlineMinutes`.
 */
import * as z from 'zod';
import type { Environment } from '../../../lambdas/contract/catalog';
import { APPROVAL_TIMEOUT_ACTIONS, INCONCLUSIVE_ACTIONS, stepWeightsProblem } from '../../../lambdas/contract/release-strategy';
import { show } from '../messages';
import {
  ANALYSIS_INTERVAL_MINUTES,
  ANALYSIS_LIMIT,
  ANALYSIS_WINDOW_MINUTES,
  APPROVAL_TIMEOUT_MINUTES,
  BAKE_MINUTES,
  CANARY_MIN_TASKS,
  ERROR_RATE_PERCENT,
  HTTP_STATUS,
  inRange,
  KEEP_PREVIOUS_MINUTES,
  MAX_ANALYSES,
  MAX_PLANNED_MINUTES,
  METRIC_LAG_SECONDS,
  MIN_REQUESTS,
  P99_MS,
  P99_RATIO,
  PORT,
  PROBE_ATTEMPTS,
  PROBE_LATENCY_MS,
  PROBE_TIMEOUT_MS,
} from '../rules';
import type { ApprovalConfig, GrayReleaseConfig, ProbeConfig, ReleaseConfig, TrafficStepConfig } from '../types';
import { id, numberBetween, reportDuplicates, strictObject, wholeNumberBetween } from './fields';

// The ARN formats of AWS Elastic Load Balancing V2's resource types, from the Service Authorization Reference
// (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticloadbalancingv2.html):
//   listener-rule/app  arn:${Partition}:elasticloadbalancing:${Region}:${Account}:listener-rule/app/${LoadBalancerName}/${LoadBalancerId}/${ListenerId}/${ListenerRuleId}
//   listener/app       arn:${Partition}:elasticloadbalancing:${Region}:${Account}:listener/app/${LoadBalancerName}/${LoadBalancerId}/${ListenerId}
//   targetgroup        arn:${Partition}:elasticloadbalancing:${Region}:${Account}:targetgroup/${TargetGroupName}/${TargetGroupId}
// Load balancer and target group names are up to 32 letters, digits and hyphens; the IDs are hexadecimal.
const ELB_ARN = String.raw`^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:`;
const ALB = 'app/[A-Za-z0-9-]{1,32}/[0-9a-f]+';
const LISTENER_RULE_ARN = new RegExp(`${ELB_ARN}listener-rule/${ALB}/[0-9a-f]+/[0-9a-f]+$`);
const LISTENER_ARN = new RegExp(`${ELB_ARN}listener/${ALB}/[0-9a-f]+$`);
const TARGET_GROUP_ARN = new RegExp(`${ELB_ARN}targetgroup/[A-Za-z0-9-]{1,32}/[0-9a-f]+$`);
/** A Network or Gateway Load Balancer's listener or rule: well formed, but of a load balancer that cannot weigh. */
const OTHER_LOAD_BALANCER = /:listener(?:-rule)?\/(?:net|gwy)\//;
/**
 * Weighing two target groups in one forward action is an Application Load Balancer feature: "For Network Load
 * Balancers, you can specify a single target group" (ForwardConfig, https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-elasticloadbalancingv2-listenerrule-forwardconfig.html).
 */
const ALB_ONLY = 'a gray release needs an Application Load Balancer (app/), the only kind whose forward action weighs target groups';
/** CreateService's serviceName: up to 255 letters, digits, hyphens and underscores. */
const ECS_SERVICE_NAME = /^[A-Za-z0-9_-]{1,255}$/;
const SECURITY_GROUP_ID = /^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
/** An absolute URL path, with an optional query, and no whitespace. */
const URL_PATH = /^\/\S{0,1023}$/;

/** An Application Load Balancer listener or listener rule ARN; for another load balancer type, the error says why not. */
function albArn(pattern: RegExp, shape: string) {
  return z.string().regex(pattern, {
    error: (iss) => {
      const why = OTHER_LOAD_BALANCER.test(String(iss.input)) ? `: ${ALB_ONLY}` : '';
      return `${show(iss.input)} is not ${shape}${why}`;
    },
  });
}

const targetGroupArn = id(TARGET_GROUP_ARN, 'a target group ARN (arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>)');

/** Exactly one of listenerRuleArn and listenerArn, narrowed so that the rest of the app sees which one. */
type Route = { listenerRuleArn: string; listenerArn?: undefined } | { listenerArn: string; listenerRuleArn?: undefined };

/** `release.traffic`: where the weighted forward action lives and the two services and target groups it weighs. */
const trafficSchema = strictObject({
  listenerRuleArn: albArn(
    LISTENER_RULE_ARN,
    'an Application Load Balancer listener rule ARN (arn:aws:elasticloadbalancing:<region>:<account>:listener-rule/app/<load-balancer>/<id>/<listener-id>/<rule-id>)',
  ).optional(),
  listenerArn: albArn(
    LISTENER_ARN,
    'an Application Load Balancer listener ARN (arn:aws:elasticloadbalancing:<region>:<account>:listener/app/<load-balancer>/<id>/<listener-id>)',
  ).optional(),
  stableTargetGroupArn: targetGroupArn,
  canaryTargetGroupArn: targetGroupArn,
  canaryService: id(ECS_SERVICE_NAME, 'an ECS service name (up to 255 letters, digits, _ and -)'),
  taskSecurityGroupId: id(SECURITY_GROUP_ID, 'a security group ID (sg- and 8 or 17 hexadecimal digits)'),
})
  .refine((t): t is typeof t & Route => (t.listenerRuleArn === undefined) !== (t.listenerArn === undefined), {
    error: (iss) =>
      (iss.input as { listenerRuleArn?: unknown }).listenerRuleArn === undefined
        ? "needs listenerRuleArn (a listener rule) or listenerArn (a listener's default action): where the forward action that weighs the two target groups is"
        : 'sets both listenerRuleArn and listenerArn: give the one whose forward action weighs the two target groups',
  })
  .superRefine((t, ctx) => {
    if (t.canaryTargetGroupArn === t.stableTargetGroupArn) {
      ctx.addIssue({
        code: 'custom',
        path: ['canaryTargetGroupArn'],
        input: t.canaryTargetGroupArn,
        message: `${show(t.canaryTargetGroupArn)} is also stableTargetGroupArn: the canary needs a target group of its own`,
      });
    }
  });

/** The default plan: 5, 10, 30, 60 and 100 percent, 30 minutes each (a fresh list on each parse). */
function defaultSteps(): TrafficStepConfig[] {
  return [5, 10, 30, 60, 100].map((weight) => ({ weight, bakeMinutes: 30, approval: false }));
}

const stepSchema = strictObject({
  // Any number here: stepWeightsProblem words what is wrong with a weight, in the context of the others.
  weight: z.number(),
  bakeMinutes: wholeNumberBetween(BAKE_MINUTES),
  approval: z.boolean().default(false),
});

/** `release.steps`, with the weight rule the contract states (stepWeightsProblem), worded with the weights given. */
const stepsSchema = z
  .array(stepSchema)
  .default(defaultSteps)
  .superRefine((steps, ctx) => {
    const weights = steps.map((s) => s.weight);
    const problem = stepWeightsProblem(weights);
    if (problem) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        input: weights,
        message: `weights ${show(weights)}: ${problem} (weights are whole percents, strictly increasing, the last one 100)`,
      });
    }
  });

/** `release.approval`; `beforeFirstStep` left out is decided by the service's environment (withEnvironmentDefaults). */
const approvalSchema = strictObject({
  beforeFirstStep: z.boolean().optional(),
  timeoutMinutes: wholeNumberBetween(APPROVAL_TIMEOUT_MINUTES).default(240),
  onTimeout: z.enum(APPROVAL_TIMEOUT_ACTIONS).default('rollback'),
}).prefault({});

const analysisSchema = strictObject({
  intervalMinutes: wholeNumberBetween(ANALYSIS_INTERVAL_MINUTES).default(5),
  windowMinutes: wholeNumberBetween(ANALYSIS_WINDOW_MINUTES).default(5),
  metricLagSeconds: wholeNumberBetween(METRIC_LAG_SECONDS).default(180),
  minRequests: wholeNumberBetween(MIN_REQUESTS).default(200),
  maxErrorRatePercent: numberBetween(ERROR_RATE_PERCENT).default(1),
  maxErrorRateIncrease: numberBetween(ERROR_RATE_PERCENT).default(0.5),
  maxP99Ms: wholeNumberBetween(P99_MS).default(2000),
  maxP99Ratio: numberBetween(P99_RATIO).default(1.25),
  failureLimit: wholeNumberBetween(ANALYSIS_LIMIT).default(0),
  inconclusiveLimit: wholeNumberBetween(ANALYSIS_LIMIT).default(2),
  onInconclusive: z.enum(INCONCLUSIVE_ACTIONS).default('pause'),
  alarms: z.array(z.string().min(1).max(255)).default([]),
})
  .superRefine((analysis, ctx) => {
    reportDuplicates(ctx, analysis.alarms, ['alarms'], (alarm, first) => `${show(alarm)} is already listed at alarms[${first}]`);
  })
  .prefault({});

const probeSchema = strictObject({
  path: z
    .string()
    .regex(URL_PATH, { error: (iss) => `${show(iss.input)} is not a URL path (starting with /, no spaces, at most 1024 characters)` })
    .default('/health'),
  port: wholeNumberBetween(PORT),
  expectStatus: wholeNumberBetween(HTTP_STATUS).default(200),
  maxLatencyMs: wholeNumberBetween(PROBE_LATENCY_MS).default(200),
  attempts: wholeNumberBetween(PROBE_ATTEMPTS).default(5),
  timeoutMs: wholeNumberBetween(PROBE_TIMEOUT_MS).default(1000),
  warmup: z.boolean().default(true),
}).superRefine(checkProbe);

/** The longest a probe's attempts may take for one task: the probe function's 30 s, less room for DescribeTargetHealth. */
const PROBE_BUDGET_MS = 20_000;

/**
 * A timeout below the latency limit, or a warm-up that leaves no answer, would make the probe judge nothing; attempts
 * that could outlast the function would end it in a Lambda timeout instead of a verdict.
 */
function checkProbe(probe: ProbeConfig, ctx: z.RefinementCtx): void {
  // Compared only when both are in range, so that one bad value is reported once.
  const bothInRange = inRange(probe.timeoutMs, PROBE_TIMEOUT_MS) && inRange(probe.maxLatencyMs, PROBE_LATENCY_MS);
  if (bothInRange && probe.timeoutMs < probe.maxLatencyMs) {
    ctx.addIssue({
      code: 'custom',
      path: ['timeoutMs'],
      input: probe.timeoutMs,
      message:
        `${probe.timeoutMs} is shorter than maxLatencyMs ${probe.maxLatencyMs}: a slow answer would time out instead of ` +
        'being measured; set timeoutMs to at least maxLatencyMs',
    });
  }
  // Each task's attempts run one after the other (the tasks side by side), inside a function that has 30 s: a task that
  // never answers must still leave the probe time to say so.
  const longest = probe.attempts * probe.timeoutMs;
  if (inRange(probe.attempts, PROBE_ATTEMPTS) && inRange(probe.timeoutMs, PROBE_TIMEOUT_MS) && longest > PROBE_BUDGET_MS) {
    ctx.addIssue({
      code: 'custom',
      path: ['timeoutMs'],
      input: probe.timeoutMs,
      message:
        `${probe.timeoutMs} × attempts ${probe.attempts} is ${longest} ms, more than the ${PROBE_BUDGET_MS} ms a probe of a task that never ` +
        'answers may take (its function runs at most 30 s); lower timeoutMs or attempts',
    });
  }
  if (probe.warmup && inRange(probe.attempts, PROBE_ATTEMPTS) && probe.attempts < 2) {
    ctx.addIssue({
      code: 'custom',
      path: ['attempts'],
      input: probe.attempts,
      message: `${probe.attempts} leaves no answer to judge once warmup discards each task's first; set attempts to 2 or more, or warmup to false`,
    });
  }
}

const grayReleaseSchema = strictObject({
  strategy: z.literal('gray'),
  traffic: trafficSchema,
  steps: stepsSchema,
  approval: approvalSchema,
  keepPreviousMinutes: wholeNumberBetween(KEEP_PREVIOUS_MINUTES).default(60),
  canary: strictObject({ minTasks: wholeNumberBetween(CANARY_MIN_TASKS).default(1) }).prefault({}),
  analysis: analysisSchema,
  probe: probeSchema,
}).superRefine(checkBakes);

/**
 * Each step bakes at least one analysis interval, and long enough that its last analysis — over a window that ends the
 * metric lag before now, rounded down to whole minutes — sees only the step's own traffic; all of them together, with
 * the analyses that go on while approvals wait, plan at most MAX_ANALYSES analyses.
 */
function checkBakes(
  gray: Pick<GrayReleaseConfig, 'steps' | 'analysis'> & { approval: Pick<GrayReleaseConfig['approval'], 'timeoutMinutes'> },
  ctx: z.RefinementCtx,
): void {
  const { intervalMinutes: interval, windowMinutes: window, metricLagSeconds: lag } = gray.analysis;
  if (!inRange(interval, ANALYSIS_INTERVAL_MINUTES) || !gray.steps.every((s) => inRange(s.bakeMinutes, BAKE_MINUTES))) return;
  const seen = inRange(window, ANALYSIS_WINDOW_MINUTES) && inRange(lag, METRIC_LAG_SECONDS) ? window + Math.ceil(lag / 60) + 1 : 0;
  gray.steps.forEach((step, index) => {
    const at = { code: 'custom' as const, path: ['steps', index, 'bakeMinutes'], input: step.bakeMinutes };
    if (step.bakeMinutes < interval) {
      ctx.addIssue({
        ...at,
        message: `${step.bakeMinutes} is shorter than analysis.intervalMinutes ${interval}: the step would pass before its first analysis`,
      });
    } else if (step.bakeMinutes < seen) {
      ctx.addIssue({
        ...at,
        message:
          `${step.bakeMinutes} is shorter than analysis.windowMinutes ${window} + metricLagSeconds ${lag} (${Math.ceil(lag / 60)} min) + 1 ` +
          "minute of rounding: the step's last analysis would still judge traffic from before the step",
      });
    }
  });
  const mayPause = gray.analysis.onInconclusive === 'pause';
  const approvals = gray.steps.filter((s) => s.approval || mayPause).length;
  const timeout = gray.approval.timeoutMinutes;
  const analyses = plannedAnalyses(gray.steps, interval, inRange(timeout, APPROVAL_TIMEOUT_MINUTES) ? timeout : 0, mayPause);
  if (analyses > MAX_ANALYSES) {
    const baked = gray.steps.reduce((sum, s) => sum + s.bakeMinutes, 0);
    const pauses = mayPause ? ', each step able to pause on inconclusive analyses (onInconclusive "pause")' : '';
    const waits = approvals > 0 ? ` and ${approvals} approval wait(s) of up to ${timeout} minutes (analysed as they wait${pauses})` : '';
    ctx.addIssue({
      code: 'custom',
      path: ['analysis', 'intervalMinutes'],
      input: interval,
      message:
        `${interval} plans ${analyses} analyses over the steps' ${baked} bake minutes${waits}, more than ${MAX_ANALYSES}: each adds ` +
        "events to the execution's history, which Step Functions caps at 25,000; analyse less often or bake shorter",
    });
  }
}

/**
 * One analysis at the end of each interval of each step's bake, and one at the end of a last, shorter interval; and,
 * since analysis goes on while an approval waits, as many for each approval that may wait (up to its timeout): a
 * step's own, or any step's when inconclusive analyses pause it (`everyStepMayPause`; at most one per step: once
 * answered, the release goes on).
 */
export function plannedAnalyses(
  steps: readonly (Pick<TrafficStepConfig, 'bakeMinutes'> & { approval?: boolean })[],
  intervalMinutes: number,
  approvalTimeoutMinutes = 0,
  everyStepMayPause = false,
): number {
  const perApproval = Math.ceil(approvalTimeoutMinutes / intervalMinutes);
  return steps.reduce(
    (sum, s) => sum + Math.ceil(s.bakeMinutes / intervalMinutes) + (s.approval || everyStepMayPause ? perApproval : 0),
    0,
  );
}

const rollingReleaseSchema = strictObject({ strategy: z.literal('rolling') });

/**
 * `services[].release`. Left out, it is `{ "strategy": "rolling" }` (prefault: parsed as that); given, it names its
 * strategy. A gray release's `approval.beforeFirstStep` stays unset here when left out: the service's environment
 * decides it (withEnvironmentDefaults).
 */
export const releaseSchema = z
  .discriminatedUnion('strategy', [rollingReleaseSchema, grayReleaseSchema], {
    error: (iss) => {
      if (iss.code !== 'invalid_union') return undefined;
      const strategy = (iss.input as { strategy?: unknown } | undefined)?.strategy;
      return strategy === undefined ? 'is required (one of rolling | gray)' : `${show(strategy)} is not one of rolling | gray`;
    },
  })
  .prefault({ strategy: 'rolling' });

/** The block as parsed, before withEnvironmentDefaults. */
export type ParsedRelease = z.output<typeof releaseSchema>;

/** The approval before the first step, when left out: on for a production service, off for any other. */
export function beforeFirstStepOf(approval: { readonly beforeFirstStep?: boolean }, environment: Environment): boolean {
  return approval.beforeFirstStep ?? environment === 'production';
}

/** Applies the defaults that depend on the service rather than on the block itself. */
export function withEnvironmentDefaults(release: ParsedRelease, environment: Environment): ReleaseConfig {
  if (release.strategy === 'rolling') return release;
  const { timeoutMinutes, onTimeout } = release.approval;
  const approval: ApprovalConfig = { beforeFirstStep: beforeFirstStepOf(release.approval, environment), timeoutMinutes, onTimeout };
  return { ...release, approval };
}

/** The parts of a service that its release's checks read. */
interface ServiceWithRelease {
  readonly environment: Environment;
  readonly service: string;
  readonly release: ParsedRelease;
}

/**
 * The checks of `release` that need the service around it: the canary is another ECS service than the stable one, and
 * the planned duration fits MAX_PLANNED_MINUTES. Issues are added at `release.…` of the service.
 */
export function checkReleaseOfService(service: ServiceWithRelease, ctx: z.RefinementCtx): void {
  const { release } = service;
  if (release.strategy !== 'gray') return;
  if (release.traffic.canaryService === service.service) {
    ctx.addIssue({
      code: 'custom',
      path: ['release', 'traffic', 'canaryService'],
      input: release.traffic.canaryService,
      message: `${show(release.traffic.canaryService)} is the service itself (service): the canary must be a second ECS service beside it`,
    });
  }
  checkPlannedDuration(release, beforeFirstStepOf(release.approval, service.environment), ctx);
}

/**
 * The steps' bakes, the timeout of every approval that can wait (before the first step, after a step that asks, or a
 * step paused on inconclusive analyses: one per step at most), and the previous version's standby, together at most
 * MAX_PLANNED_MINUTES (the reason is given there).
 */
function checkPlannedDuration(
  gray: Pick<GrayReleaseConfig, 'steps' | 'keepPreviousMinutes'> & {
    approval: Pick<ApprovalConfig, 'timeoutMinutes'>;
    analysis: Pick<GrayReleaseConfig['analysis'], 'onInconclusive'>;
  },
  beforeFirstStep: boolean,
  ctx: z.RefinementCtx,
): void {
  const { steps, approval, keepPreviousMinutes: keep } = gray;
  const allInRange =
    steps.every((s) => inRange(s.bakeMinutes, BAKE_MINUTES)) &&
    inRange(approval.timeoutMinutes, APPROVAL_TIMEOUT_MINUTES) &&
    inRange(keep, KEEP_PREVIOUS_MINUTES);
  if (!allInRange) return;
  const baked = steps.reduce((sum, s) => sum + s.bakeMinutes, 0);
  const approvals = [
    ...(beforeFirstStep ? ['before the first step'] : []),
    ...steps.flatMap((s, index) =>
      s.approval ? [`after steps[${index}]`] : gray.analysis.onInconclusive === 'pause' ? [`steps[${index}] paused`] : [],
    ),
  ];
  const planned = baked + approvals.length * approval.timeoutMinutes + keep;
  if (planned <= MAX_PLANNED_MINUTES) return;
  const waits =
    approvals.length === 0
      ? ''
      : ` + ${approvals.length} approval${approvals.length === 1 ? '' : 's'} (${approvals.join(', ')}) × approval.timeoutMinutes ${approval.timeoutMinutes}`;
  ctx.addIssue({
    code: 'custom',
    path: ['release'],
    input: planned,
    message:
      `plans ${planned} minutes (steps' bakeMinutes ${baked}${waits} + keepPreviousMinutes ${keep}), more than the ` +
      `${MAX_PLANNED_MINUTES} (14 days) a gray release may take: shorten the bakes, the approval timeout or the standby`,
  });
}
