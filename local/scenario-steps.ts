/** A scenario's steps: pushes (and how ECS treats what they push), operators' commands, and time passing. */
import * as z from 'zod';
import { OPERATOR_ACTIONS, type OperatorAction } from '../lambdas/contract/operator-decisions';
import { LAMBDA_STATES } from '../lib/state-names';
import { expectSchema } from './scenario-expectations';
import { injectedFailureSchema, lambdaFailuresSchema } from './scenario-failures';
import { INJECTABLE_COMMANDS } from './simulated-account';

/** How ECS treats a rollout of an image. */
export const behaviourSchema = z
  .strictObject({
    result: z.enum(['completes', 'fails', 'stalls']),
    settlesAfterSeconds: z.number().int().nonnegative().default(90),
    /** An alarm (configured for the service) that goes to ALARM once this image serves. */
    tripsAlarm: z.string().min(1).optional(),
    /** Seconds after the deployment completed that tripsAlarm goes to ALARM (a late failure, during the bake). */
    tripsAlarmAfterSeconds: z.number().int().nonnegative().optional(),
  })
  .superRefine((behaviour, ctx) => {
    if (behaviour.tripsAlarmAfterSeconds !== undefined && behaviour.tripsAlarm === undefined) {
      ctx.addIssue({ code: 'custom', path: ['tripsAlarmAfterSeconds'], message: 'no tripsAlarm: there is no alarm to trip later' });
    }
    if (behaviour.tripsAlarm !== undefined && behaviour.result !== 'completes') {
      ctx.addIssue({
        code: 'custom',
        path: ['tripsAlarm'],
        message: `a rollout that ${behaviour.result} never serves, so it cannot trip an alarm`,
      });
    }
  });

/**
 * How the tasks serving an image answer the requests an Application Load Balancer sends them, for a service released
 * gray (local/simulated/alb-traffic.ts): what its target group's CloudWatch metrics show. Left out: no errors, p50
 * 40 ms / p99 120 ms, no unhealthy host.
 */
export const trafficSchema = z
  .strictObject({
    /** Share (0–1) of the answered requests answered with a 5XX (HTTPCode_Target_5XX_Count). */
    errorRate: z.number().min(0).max(1).optional(),
    /** Share (0–1) of the requests whose connection to a target fails (TargetConnectionErrorCount). */
    connectionErrorRate: z.number().min(0).max(1).optional(),
    /** TargetResponseTime's median and 99th percentile, in milliseconds. */
    latencyMs: z.strictObject({ p50: z.number().positive(), p99: z.number().positive() }).optional(),
    /** UnHealthyHostCount while the image serves. */
    unhealthyHosts: z.number().int().nonnegative().optional(),
    /**
     * How it answers once its target group gets at least `fromWeight` percent of the requests (e.g. a shared dependency
     * it saturates): the fields given replace the ones above.
     */
    underLoad: z
      .strictObject({
        fromWeight: z.number().int().min(1).max(100),
        errorRate: z.number().min(0).max(1).optional(),
        latencyMs: z.strictObject({ p50: z.number().positive(), p99: z.number().positive() }).optional(),
      })
      .optional(),
  })
  .superRefine((traffic, ctx) => {
    if (traffic.latencyMs && traffic.latencyMs.p99 < traffic.latencyMs.p50) {
      ctx.addIssue({
        code: 'custom',
        path: ['latencyMs', 'p99'],
        message: `${traffic.latencyMs.p99} is below p50 ${traffic.latencyMs.p50}`,
      });
    }
  });
export type ScenarioTraffic = z.infer<typeof trafficSchema>;

/**
 * How the tasks running an image answer their health endpoint, for a service released gray: what the pipeline's probe
 * of the canary's tasks meets (local/simulated/health-endpoints.ts). Left out: 200 in 20 ms.
 */
export const healthAnswerSchema = z.strictObject({
  /** The HTTP status every GET gets. */
  status: z.number().int().min(100).max(599).default(200),
  /** How long each answer takes; past the probe's timeoutMs, the request times out instead. */
  latencyMs: z.number().nonnegative().default(20),
});
export type ScenarioHealthAnswer = z.infer<typeof healthAnswerSchema>;

export const pushSchema = z
  .strictObject({
    /** The tag pushed (the ECR event's image-tag), e.g. `v1.3.0`, or a cosign signature tag `sha256-<hex>.sig`. */
    tag: z.string().min(1),
    /**
     * What ECR's event says (https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html): `tagged` (the
     * default), `untagged` (no image-tag: a push by digest, e.g. a child manifest of a multi-arch image), `failed`
     * (result FAILURE). The event goes through the synthesized trigger rule, which may start nothing (`not-started`).
     */
    event: z.enum(['tagged', 'untagged', 'failed']).default('tagged'),
    /** The repository pushed to (default: the service's); another one starts nothing. */
    repository: z.string().min(1).optional(),
    /**
     * Push the image another step pushed under this tag (same digest: a second tag for one image) instead of a new one.
     */
    sameImageAs: z.string().min(1).optional(),
    /**
     * trusted: signed with the demo key the example configuration trusts; untrusted: signed with a key nobody
     * configured; none: no signature; another-digest: a trusted signature whose payload names a different image;
     * another-repository: a trusted signature whose payload names a different repository.
     */
    signature: z.enum(['trusted', 'untrusted', 'none', 'another-digest', 'another-repository']).default('trusted'),
    /** Seconds after the image that its signature is pushed (a late signature); the pipeline waits up to the service's lateSignatureSeconds. */
    signatureArrivesAfterSeconds: z.number().int().nonnegative().default(0),
    /** Image config labels: the model metadata the ledger records (model_id, training_data_version, accuracy, …). */
    labels: z.record(z.string().min(1), z.string()).default({}),
    /** How ECS treats the new revision. */
    rollout: behaviourSchema.default({ result: 'completes', settlesAfterSeconds: 90 }),
    /** A service released gray: how this image's tasks answer the load balancer's requests (default: healthy and fast). */
    traffic: trafficSchema.optional(),
    /** A service released gray: how this image's tasks answer the health probe (default: 200 in 20 ms). */
    probe: healthAnswerSchema.optional(),
    /**
     * Seconds after the previous step arrived that this push arrives, without waiting for the previous execution to end
     * (executions side by side). Left out: the push comes 60 s after everything before it has ended.
     */
    arrivesAfterSeconds: z.number().int().nonnegative().optional(),
    /** How often EventBridge delivers the push event: 0 = the event is lost (only the reconciliation can find it), 2+ = redelivered, 1 s apart. */
    deliveries: z.number().int().nonnegative().default(1),
    /** Abort the execution right after this Task state (one that invokes a Lambda function) ran: a crash that never records its outcome. */
    crashAfter: z.enum(Object.keys(LAMBDA_STATES) as [string, ...string[]]).optional(),
    /**
     * AWS calls that fail during this push's execution: command name (UpdateService, RegisterTaskDefinition,
     * BatchGetImage, DescribeServices, PutEvents, ...) → the AWS error name the next call fails with, or a list for
     * consecutive calls where null lets that call succeed (e.g. `[null, "AccessDeniedException"]`: the second fails).
     */
    awsFailures: z
      .record(z.string().min(1), z.union([injectedFailureSchema, z.array(injectedFailureSchema.nullable()).min(1)]))
      .default({}),
    /**
     * Lambda invocations that fail during this push's (first delivery's) execution: Task state name ("Check service
     * health", ...) → Sandbox.Timedout or Lambda.Unknown (the function's timeout, before its work was done),
     * `{ "error": "Sandbox.Timedout", "tookEffect": true }` (timed out after its work was done), or
     * Lambda.TooManyRequestsException (throttled, never ran); or a list for consecutive invocations of that state, null
     * letting one run.
     */
    lambdaFailures: lambdaFailuresSchema.default({}),
    /** What each delivery's execution should do: one expectation, or one per delivery. */
    expect: z.union([expectSchema, z.array(expectSchema).min(1)]).optional(),
  })
  .superRefine((push, ctx) => {
    // Knobs that could have no effect make the scenario lie about what it tests: refuse them, naming the field.
    const noOp = (path: string | string[], message: string) => ctx.addIssue({ code: 'custom', path: [path].flat(), message });
    for (const command of Object.keys(push.awsFailures).filter((name) => !INJECTABLE_COMMANDS.includes(name))) {
      noOp(['awsFailures', command], `not a command the simulated account answers (one of ${INJECTABLE_COMMANDS.join(', ')})`);
    }
    if (push.deliveries === 0) {
      if (push.expect !== undefined)
        noOp('expect', 'a push whose event is lost (deliveries 0) starts no execution: nothing can be expected of it');
      if (push.crashAfter !== undefined)
        noOp('crashAfter', 'a push whose event is lost (deliveries 0) starts no execution that could crash');
      if (Object.keys(push.awsFailures).length > 0)
        noOp('awsFailures', 'a push whose event is lost (deliveries 0) starts no execution to fail calls in');
      if (Object.keys(push.lambdaFailures).length > 0)
        noOp('lambdaFailures', 'a push whose event is lost (deliveries 0) starts no execution to fail invocations in');
    }
    if (Array.isArray(push.expect) && push.expect.length !== push.deliveries) {
      noOp('expect', `${push.expect.length} expectations for ${push.deliveries} deliveries: give one per delivery, or one for all`);
    }
    if (push.signature === 'none' && push.signatureArrivesAfterSeconds > 0) {
      noOp('signatureArrivesAfterSeconds', 'signature "none" pushes no signature that could arrive late');
    }
  });

/** Fields a push of an image pushed before (sameImageAs) cannot use: the image, its signature and its behaviour exist already. */
export const SAME_IMAGE_IGNORES = ['signature', 'signatureArrivesAfterSeconds', 'labels', 'rollout', 'traffic', 'probe'] as const;

/**
 * What an operator or a schedule can do: the operator's commands (run through the real `model-rollout` CLI), the
 * decisions an operator answers a gray release's wait with (`promote-full` is `promote --full`), and the scheduled
 * reconciliation.
 */
const OPERATOR_RUNS = ['rollback', 'release-quarantine', 'reconcile', 'status', ...OPERATOR_ACTIONS] as const;
type ScenarioOperationRun = (typeof OPERATOR_RUNS)[number];

/** Whether the step is an operator's decision (approve, reject, promote, promote-full, abort). */
export function isDecision(run: ScenarioOperationRun): run is OperatorAction {
  return (OPERATOR_ACTIONS as readonly string[]).includes(run);
}

/** An operator's command (run through the real `model-rollout` CLI), or the scheduled reconciliation. */
export const operatorSchema = z
  .strictObject({
    run: z.enum(OPERATOR_RUNS),
    /**
     * status and the decisions: run this many seconds after the step before it arrived, while it runs (a look at a
     * rollout under way, an answer to a gray release waiting for approval or baking); left out, it runs once everything
     * before it has ended.
     */
    afterSeconds: z.number().int().nonnegative().optional(),
    /** rollback: `--to` this version (left out: the last known good before what runs now). */
    to: z.string().min(1).optional(),
    /** release-quarantine: the digest pushed under this tag. */
    tag: z.string().min(1).optional(),
    /** rollback, reconcile: abort the execution it starts right after this Task state (a crash that never records its outcome). */
    crashAfter: z.enum(Object.keys(LAMBDA_STATES) as [string, ...string[]]).optional(),
    /** The command's exit status. */
    expectExit: z.number().int().default(0),
    /** rollback, reconcile: what the execution it starts should do (left out: it starts none). */
    expect: expectSchema.optional(),
  })
  .superRefine((operation, ctx) => {
    // Each command reads only some fields: one it does not read would be a knob with no effect.
    const reads: Record<ScenarioOperationRun, readonly string[]> = {
      rollback: ['to', 'crashAfter', 'expect'],
      'release-quarantine': ['tag'],
      reconcile: ['crashAfter', 'expect'],
      status: ['afterSeconds'],
      // A decision answers the execution that waits; it starts none.
      approve: ['afterSeconds'],
      reject: ['afterSeconds'],
      promote: ['afterSeconds'],
      'promote-full': ['afterSeconds'],
      abort: ['afterSeconds'],
    };
    for (const field of ['to', 'tag', 'crashAfter', 'expect', 'afterSeconds'] as const) {
      if (operation[field] !== undefined && !reads[operation.run].includes(field)) {
        ctx.addIssue({ code: 'custom', path: [field], message: `${operation.run} does not use ${field}` });
      }
    }
    if (operation.run === 'release-quarantine' && operation.tag === undefined) {
      ctx.addIssue({ code: 'custom', path: ['tag'], message: 'release-quarantine needs the tag of the image to release' });
    }
  });

/**
 * Time passing with nothing pushed: once every step before it has ended, the simulated clock jumps this many seconds
 * (instead of the usual 60 s pause) before the next step, so a lease can expire, an alarm trip during the bake, or the
 * reconciliation's schedule come round.
 */
export const waitSchema = z.strictObject({
  wait: z.number().int().positive(),
  /** What the wait is for, for people reading the scenario and its report. */
  why: z.string().default(''),
});

/**
 * A change made outside the pipeline, for a service released gray. `rule-reset`: a user's `cdk deploy` of the stack
 * that declares the weighted rule, which CloudFormation resets to its template, stable 100 / canary 0
 * (aws/aws-cdk#36649; the listener's default action, when that is the route).
 */
export const externalSchema = z.strictObject({
  external: z.enum(['rule-reset']),
  /**
   * Seconds after the previous step arrived that the change happens, while that step still runs (as a push's
   * arrivesAfterSeconds). Left out: 60 s after everything before it has ended.
   */
  afterSeconds: z.number().int().nonnegative().optional(),
  /** What the change stands for, for people reading the scenario and its report. */
  why: z.string().default(''),
});

export const stepSchema = z.union([pushSchema, operatorSchema, waitSchema, externalSchema]);

export type ScenarioStep = z.infer<typeof stepSchema>;
export type ScenarioPush = z.infer<typeof pushSchema>;
export type ScenarioOperation = z.infer<typeof operatorSchema>;
export type ScenarioWait = z.infer<typeof waitSchema>;
export type ScenarioExternal = z.infer<typeof externalSchema>;

export function isPush(step: ScenarioStep): step is ScenarioPush {
  return 'tag' in step && !('run' in step);
}

export function isWait(step: ScenarioStep): step is ScenarioWait {
  return 'wait' in step;
}

export function isExternal(step: ScenarioStep): step is ScenarioExternal {
  return 'external' in step;
}

export function isOperation(step: ScenarioStep): step is ScenarioOperation {
  return 'run' in step;
}
