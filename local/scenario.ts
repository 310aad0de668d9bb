/**
 * Scenario files (examples/scenarios/*.json): what the simulated account looks like, what gets pushed, and what the
 * pipeline is expected to do about it. The format is documented in README.md ("Scenario format").
 */
import { readFileSync } from 'node:fs';
import * as z from 'zod';
import {
  behaviourSchema,
  externalSchema,
  healthAnswerSchema,
  operatorSchema,
  pushSchema,
  SAME_IMAGE_IGNORES,
  stepSchema,
  trafficSchema,
  waitSchema,
} from './scenario-steps';

export { NOT_STARTED, type Expectation } from './scenario-expectations';
export {
  isDecision,
  isExternal,
  isOperation,
  isPush,
  isWait,
  type ScenarioExternal,
  type ScenarioHealthAnswer,
  type ScenarioOperation,
  type ScenarioPush,
  type ScenarioStep,
  type ScenarioTraffic,
  type ScenarioWait,
} from './scenario-steps';

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
      /**
       * ECS's, CloudWatch's and ECR's events never reach the pipeline (EventBridge delivers them at least once, ECR sends
       * them on a best-effort basis, and the pipeline must not depend on them): each health wait looks itself after a
       * quarter of its deadline, and again until it is decided; a wait for a late signature after pollSeconds.
       */
      eventsLost: z.boolean().default(false),
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
      /** A service released gray: how the running image's tasks answer the load balancer's requests. */
      traffic: trafficSchema.optional(),
      /** A service released gray: how the running image's tasks answer the health probe (default: 200 in 20 ms). */
      probe: healthAnswerSchema.optional(),
      /** A service released gray: the requests per minute its load balancer route receives (default 600). */
      requestsPerMinute: z.number().int().nonnegative().optional(),
    }),
    /** Pushes, operator commands, time passing and changes made outside the pipeline, in order. */
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
    if (first && 'external' in first && first.afterSeconds !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['steps', 0, 'afterSeconds'], message: 'the first step has no step before it to happen after' });
    }
  });
export type Scenario = z.infer<typeof scenarioSchema>;

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
    typeof step !== 'object' || step === null
      ? pushSchema
      : 'run' in step
        ? operatorSchema
        : 'wait' in step
          ? waitSchema
          : 'external' in step
            ? externalSchema
            : pushSchema;
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
