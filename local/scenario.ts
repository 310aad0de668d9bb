/**
 * Scenario files (examples/scenarios/*.json): what the simulated account looks like, what gets pushed, and what the
 * pipeline is expected to do about it. The format is documented in README.md ("Scenario format").
 */
import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { CRASH_STATUSES, IN_PROGRESS_STATUSES } from '../lambdas/contract/ledger-records';
import { OUTCOMES, SEVERITIES } from '../lambdas/contract/outcomes';
import { LAMBDA_STATES } from '../lib/state-names';
import { LAMBDA_THROTTLED, LAMBDA_TIMEOUTS, type LambdaFailures } from './lambda-invocation';
import { faultKindOf } from './simulated/aws-error';
import { ANSWERED_COMMANDS, INJECTABLE_COMMANDS } from './simulated-account';

const behaviourSchema = z
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
 * A failure injected into one AWS call: the AWS error name (its fault kind — server, throttling, client — as AWS
 * gives it), or `{ error, applied: true }` for a call that took effect and then lost its response (e.g. a
 * `TimeoutError` after UpdateService changed the service).
 */
const injectedFailureSchema = z.union([
  z.string().min(1),
  z
    .strictObject({ error: z.string().min(1), applied: z.boolean().default(false) })
    // AWS never carries out a call it refuses (a client fault or throttling): only a lost response or a server fault
    // can leave a call done.
    .refine((failure) => !failure.applied || failure.error === 'TimeoutError' || faultKindOf(failure.error) === 'server', {
      path: ['applied'],
      error: (issue) =>
        `${(issue.input as { error: string }).error} is a call AWS refused, which never takes effect: applied is for TimeoutError and server faults`,
    }),
]);

/**
 * `none`: the execution failed before it could record an outcome (the execution-status rule alerts instead);
 * `not-started`: the synthesized trigger rule does not match the push event, so EventBridge starts nothing.
 */
export const NOT_STARTED = 'not-started';
const outcomeStatuses: [string, ...string[]] = ['none', NOT_STARTED, ...Object.values(OUTCOMES).map((o) => o.status)];

const LEDGER_STATUSES: [string, ...string[]] = [
  ...IN_PROGRESS_STATUSES,
  ...outcomeStatuses.filter((s) => s !== 'none' && s !== NOT_STARTED),
  ...CRASH_STATUSES,
];

const expectSchema = z
  .strictObject({
    status: z.enum(outcomeStatuses),
    /** The Fail state's error, or null when the execution succeeds. */
    error: z.string().nullable(),
    /** The tag the service runs once the execution has ended; not compared when left out (executions side by side). */
    running: z.string().min(1).optional(),
    /** Which alert topics receive something, in any order. */
    alerts: z.array(z.enum(SEVERITIES)),
    /** The signature check's final code (verified, unsigned, invalid-signature, …); not compared when left out. */
    signature: z.string().min(1).optional(),
    /**
     * How many times this execution called each AWS command the simulated account answers (calls IAM refused never
     * reach it): e.g. `{ "UpdateService": 0 }` for "ECS untouched". Commands left out are not compared.
     */
    calls: z
      .record(
        z.string().refine((command) => ANSWERED_COMMANDS.includes(command)),
        z.number().int().nonnegative(),
        {
          error: (issue) =>
            issue.code === 'invalid_key'
              ? `not a command the simulated account answers (one of ${ANSWERED_COMMANDS.join(', ')})`
              : undefined,
        },
      )
      .optional(),
    /** The ledger once the execution has ended (and the crash finaliser has run): its deployment record, its digest. */
    ledger: z
      .strictObject({
        /** The status of this execution's deployment record (an outcome, or execution-aborted / -failed / -timed-out). */
        status: z
          .enum(LEDGER_STATUSES, {
            error: (issue) => `${JSON.stringify(issue.input)} is not a ledger status (one of ${LEDGER_STATUSES.join(', ')})`,
          })
          .optional(),
        /** Whether the digest it released is quarantined. */
        quarantined: z.boolean().optional(),
      })
      .optional(),
    /**
     * Fields of the outcome alert's `detail`, by dotted path (`status`, `reason`, `signature.code`, `serviceState`…):
     * a value to equal, or `{ "contains": "text" }` for text the field must contain. Expecting any means an outcome
     * alert must have been published.
     */
    alert: z
      .record(z.string().min(1), z.union([z.string(), z.number(), z.boolean(), z.null(), z.strictObject({ contains: z.string().min(1) })]))
      .optional(),
  })
  .superRefine((expected, ctx) => {
    // An event the trigger rule does not match starts nothing: no error, no alert, no call, no record to expect.
    if (expected.status !== NOT_STARTED) return;
    const nothing = (field: string, message: string) =>
      ctx.addIssue({ code: 'custom', path: [field], message: `${message}: a ${NOT_STARTED} event starts no execution` });
    if (expected.error !== null) nothing('error', 'expected null');
    if (expected.alerts.length > 0) nothing('alerts', 'expected []');
    for (const field of ['running', 'signature', 'calls', 'ledger', 'alert'] as const) {
      if (expected[field] !== undefined) nothing(field, 'nothing to compare');
    }
  });
export type Expectation = z.infer<typeof expectSchema>;

/** A Lambda invocation that times out (before its work, or `tookEffect`: after it, its result lost) or is throttled. */
const lambdaFailureSchema = z.union(
  [z.enum([...LAMBDA_TIMEOUTS, LAMBDA_THROTTLED]), z.strictObject({ error: z.enum(LAMBDA_TIMEOUTS), tookEffect: z.boolean() })],
  {
    error: `expected ${[...LAMBDA_TIMEOUTS, LAMBDA_THROTTLED].join(', ')} or { "error": ${LAMBDA_TIMEOUTS.join(' | ')}, "tookEffect": true | false }`,
  },
);
/** Keyed by the Task state names that invoke a Lambda function; any other name is refused, naming them. */
const lambdaFailuresSchema = z
  .record(
    z.string().refine((state) => state in LAMBDA_STATES),
    z.union([lambdaFailureSchema, z.array(lambdaFailureSchema.nullable()).min(1)], {
      error: 'expected one failure, or a list of failures and nulls',
    }),
    {
      error: (issue) =>
        issue.code === 'invalid_key'
          ? `not a state that invokes a Lambda function (those are: ${Object.keys(LAMBDA_STATES).join('; ')})`
          : undefined,
    },
  )
  .transform((failures) => failures as LambdaFailures);

const pushSchema = z
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
const SAME_IMAGE_IGNORES = ['signature', 'signatureArrivesAfterSeconds', 'labels', 'rollout'] as const;

/** An operator's command (run through the real `model-rollout` CLI), or the scheduled reconciliation. */
const operatorSchema = z
  .strictObject({
    run: z.enum(['rollback', 'release-quarantine', 'reconcile']),
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
    };
    for (const field of ['to', 'tag', 'crashAfter', 'expect'] as const) {
      if (operation[field] !== undefined && !reads[operation.run].includes(field)) {
        ctx.addIssue({ code: 'custom', path: [field], message: `${operation.run} does not use ${field}` });
      }
    }
    if (operation.run === 'release-quarantine' && operation.tag === undefined) {
      ctx.addIssue({ code: 'custom', path: ['tag'], message: 'release-quarantine needs the tag of the image to release' });
    }
  });
type ScenarioOperationRun = 'rollback' | 'release-quarantine' | 'reconcile';

/**
 * Time passing with nothing pushed: once every step before it has ended, the simulated clock jumps this many seconds
 * (instead of the usual 60 s pause) before the next step, so a lease can expire, an alarm trip during the bake, or the
 * reconciliation's schedule come round.
 */
const waitSchema = z.strictObject({
  wait: z.number().int().positive(),
  /** What the wait is for, for people reading the scenario and its report. */
  why: z.string().default(''),
});

const stepSchema = z.union([pushSchema, operatorSchema, waitSchema]);

export const scenarioSchema = z
  .strictObject({
    name: z.string().min(1),
    description: z.string().default(''),
    /** Configuration file to synthesize, relative to the project root. */
    config: z.string().default('model-rollout.config.json'),
    /** A service name from that configuration. */
    service: z.string().min(1),
    running: z.strictObject({
      tag: z.string().min(1),
      desiredCount: z.number().int().positive().default(2),
      /** How ECS treats this (previous) image when the pipeline rolls back to it. */
      onRedeploy: behaviourSchema.default({ result: 'completes', settlesAfterSeconds: 60 }),
      /** The service's deployment controller: the pipeline refuses CODE_DEPLOY and EXTERNAL services up front. */
      deploymentController: z.enum(['ECS', 'CODE_DEPLOY', 'EXTERNAL']).default('ECS'),
      /** The circuit breaker's rollback option: ECS rolls a failed deployment back to the last completed one itself. */
      circuitBreakerRollback: z.boolean().default(false),
      /**
       * ECS's deployment alarms (deploymentConfiguration.alarms): ECS watches these alarms (default: the service's
       * configured ones) while a deployment runs and for `bakeSeconds` after it scaled in, fails the deployment when one
       * goes to ALARM, and with `rollback` rolls it back itself.
       */
      deploymentAlarms: z
        .strictObject({
          alarmNames: z.array(z.string().min(1)).min(1).optional(),
          rollback: z.boolean().default(true),
          bakeSeconds: z.number().int().positive().default(300),
        })
        .optional(),
      /** Alarms (configured for the service) already in ALARM before the first push: an incident the running version causes. */
      alarmsInAlarm: z.array(z.string().min(1)).default([]),
      /**
       * The running revision was registered by hand, not by the pipeline: its image is referenced by tag
       * (`<repository>:<tag>`, not by digest) and it carries none of the pipeline's `model-rollout:*` tags (a drifted service).
       */
      drifted: z.boolean().default(false),
      /**
       * The service is mid-deployment when the scenario starts: someone else's UpdateService to this image is still
       * rolling out (ECS keeps both deployments until it settles, as its behaviour says).
       */
      deploying: z
        .strictObject({
          tag: z.string().min(1),
          result: behaviourSchema.shape.result.default('completes'),
          settlesAfterSeconds: behaviourSchema.shape.settlesAfterSeconds,
        })
        .optional(),
    }),
    /** Pushes and operator commands, in order. */
    steps: z.array(stepSchema).min(1),
    /** Checked once every step has ended. */
    expectAtEnd: z.strictObject({ running: z.string().min(1) }).optional(),
  })
  .superRefine((scenario, ctx) => {
    const [first] = scenario.steps;
    if (first && 'tag' in first && !('run' in first) && first.arrivesAfterSeconds !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['steps', 0, 'arrivesAfterSeconds'],
        message: 'the first step has no step before it to arrive after',
      });
    }
  });
export type Scenario = z.infer<typeof scenarioSchema>;
export type ScenarioStep = Scenario['steps'][number];
export type ScenarioPush = z.infer<typeof pushSchema>;
export type ScenarioOperation = z.infer<typeof operatorSchema>;
export type ScenarioWait = z.infer<typeof waitSchema>;

export function isPush(step: ScenarioStep): step is ScenarioPush {
  return 'tag' in step && !('run' in step);
}

export function isWait(step: ScenarioStep): step is ScenarioWait {
  return 'wait' in step;
}

export function loadScenario(file: string): Scenario {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`Scenario ${file} cannot be read as JSON: ${(error as Error).message}`);
  }
  const sameImageIssues = sameImageConflicts(raw);
  if (sameImageIssues.length > 0) throw new Error(`Scenario ${file} is not valid:\n${sameImageIssues.map((i) => `  ${i}`).join('\n')}`);
  const parsed = scenarioSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .flatMap((issue) => stepIssues(issue, raw))
      .flatMap(unionIssues)
      .map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('\n');
    throw new Error(`Scenario ${file} is not valid:\n${issues}`);
  }
  return parsed.data;
}

/**
 * A step is a push or an operator's command; when it is neither, zod only says "Invalid input". Parsed again as the
 * kind it looks like (`run` names a command), it says which field is wrong.
 */
function stepIssues(issue: z.core.$ZodIssue, scenario: unknown): { path: PropertyKey[]; message: string }[] {
  const [root, index] = issue.path;
  if (issue.code !== 'invalid_union' || root !== 'steps' || issue.path.length !== 2 || typeof index !== 'number') return [issue];
  const step = (scenario as { steps: unknown[] }).steps[index];
  const schema =
    typeof step !== 'object' || step === null ? pushSchema : 'run' in step ? operatorSchema : 'wait' in step ? waitSchema : pushSchema;
  const reparsed = schema.safeParse(step);
  return reparsed.success ? [issue] : reparsed.error.issues.map((i) => ({ ...i, path: [...issue.path, ...i.path] }));
}

/**
 * A field that takes one of several shapes (`expect`: one expectation or a list) fails as "Invalid input"; when the
 * value has the type of only one of the shapes, that shape's own issues say which field is wrong.
 */
function unionIssues(issue: {
  path: PropertyKey[];
  message: string;
  code?: string;
  errors?: z.core.$ZodIssue[][];
}): { path: PropertyKey[]; message: string }[] {
  if (issue.code !== 'invalid_union' || !issue.errors) return [issue];
  const fitting = issue.errors.filter((branch) => !branch.some((i) => i.path.length === 0 && i.code === 'invalid_type'));
  if (fitting.length !== 1) return [issue];
  return fitting[0]!.flatMap((i) => unionIssues({ ...i, path: [...issue.path, ...i.path] }));
}

/** A push with sameImageAs that also sets what only a new image has: those fields would be silently ignored. */
function sameImageConflicts(raw: unknown): string[] {
  const steps = (raw as { steps?: unknown })?.steps;
  if (!Array.isArray(steps)) return [];
  return steps.flatMap((step, index) =>
    typeof step === 'object' && step !== null && 'sameImageAs' in step
      ? SAME_IMAGE_IGNORES.filter((field) => field in step).map(
          (field) =>
            `steps.${index}.${field}: a push with sameImageAs tags an image pushed before, whose ${field} is already set; remove it`,
        )
      : [],
  );
}
