/**
 * Scenario files (examples/scenarios/*.json): what the simulated account looks like, what gets pushed, and what the
 * pipeline is expected to do about it. The format is documented in README.md ("Scenario format").
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { OUTCOMES, SEVERITIES } from '../lambdas/contract';

const behaviourSchema = z.strictObject({
  result: z.enum(['completes', 'fails', 'stalls']),
  settlesAfterSeconds: z.number().int().nonnegative().default(90),
  tripsAlarm: z.string().min(1).optional(),
});

/** `none`: the execution failed before it could record an outcome (the execution-status rule alerts instead). */
const outcomeStatuses: [string, ...string[]] = ['none', ...Object.values(OUTCOMES).map((o) => o.status)];

const pushSchema = z.strictObject({
  /** The tag pushed (the ECR event's image-tag). */
  tag: z.string().min(1),
  /**
   * trusted: signed with the demo key the example configuration trusts; untrusted: signed with a key nobody
   * configured; none: no signature; another-digest: a trusted signature whose payload names a different image;
   * another-repository: a trusted signature whose payload names a different repository.
   */
  signature: z.enum(['trusted', 'untrusted', 'none', 'another-digest', 'another-repository']).default('trusted'),
  /** Seconds after the image that its signature is pushed (a late signature); the pipeline waits up to the service's lateSignatureSeconds. */
  signatureArrivesAfterSeconds: z.number().int().nonnegative().default(0),
  /** How ECS treats the new revision. */
  rollout: behaviourSchema.default({ result: 'completes', settlesAfterSeconds: 90 }),
  /**
   * AWS calls that fail during this push's execution: command name (UpdateService, RegisterTaskDefinition,
   * BatchGetImage, DescribeServices, PutEvents, ...) → the AWS error name the next call fails with, or a list for
   * consecutive calls where null lets that call succeed (e.g. `[null, "AccessDeniedException"]`: the second fails).
   */
  awsFailures: z.record(z.string().min(1), z.union([z.string().min(1), z.array(z.string().min(1).nullable()).min(1)])).default({}),
  expect: z.strictObject({
    status: z.enum(outcomeStatuses),
    /** The Fail state's error, or null when the execution succeeds. */
    error: z.string().nullable(),
    /** The tag the service runs once the execution has ended. */
    running: z.string().min(1),
    /** Which alert topics receive something, in any order. */
    alerts: z.array(z.enum(SEVERITIES)),
    /** The signature check's final code (verified, unsigned, invalid-signature, …); not compared when left out. */
    signature: z.string().min(1).optional(),
  }),
});

export const scenarioSchema = z.strictObject({
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
  }),
  pushes: z.array(pushSchema).min(1),
});
export type Scenario = z.infer<typeof scenarioSchema>;
export type ScenarioPush = Scenario['pushes'][number];

export function loadScenario(file: string): Scenario {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`Scenario ${file} cannot be read as JSON: ${(error as Error).message}`);
  }
  const parsed = scenarioSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n');
    throw new Error(`Scenario ${file} is not valid:\n${issues}`);
  }
  return parsed.data;
}
