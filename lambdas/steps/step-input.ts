/**
 * What the Lambda steps share in reading their input: Step Functions hands over whatever a state's input path
 * selects, so every step parses it, and a mismatch is an InvalidInputError (never retried) naming each bad field.
 */
import * as z from 'zod';
import { SHA256_DIGEST } from '../contract/catalog';
import { type EcrPushEvent, START_EVENTS } from '../contract/start-events';
import type { Release, Trigger } from '../contract/steps';
import { InvalidInputError } from '../errors';

/** A release as the steps after "Check release against policy" receive it. */
export const releaseSchema = z
  .object({
    repositoryName: z.string().min(1),
    repositoryUri: z.string().min(1),
    tag: z.string().min(1),
    digest: z.string().regex(SHA256_DIGEST, 'expected sha256:<64 hex characters>'),
    imageUri: z.string().min(1),
  })
  // The deploy uses imageUri: it must name the very digest that was verified, never a tag that can move.
  .refine((release) => release.imageUri === `${release.repositoryUri}@${release.digest}`, {
    path: ['imageUri'],
    message: 'must be <repositoryUri>@<digest>',
  }) satisfies z.ZodType<Release>;

/** Parses the input a state passes to `stepName`; fails with `Invalid "<stepName>" input: <field>: <problem>; …`. */
export function parseStepInput<S extends z.ZodType>(schema: S, input: unknown, stepName: string): z.output<S> {
  return parseOrThrow(
    schema,
    input,
    (issue) => `${issue.path.join('.') || '(input)'}: ${issue.message}`,
    (problems) => `Invalid "${stepName}" input: ${problems}`,
  );
}

/**
 * Parses the event that starts an execution. It comes from outside the pipeline, so each problem also names the value
 * found: `Not a usable <eventName>: <field> is <value> (<problem>); ….`
 */
export function parseTriggerEvent<S extends z.ZodType>(schema: S, event: unknown, eventName: string): z.output<S> {
  return parseOrThrow(
    schema,
    event,
    (issue) => {
      const value = issue.input === undefined ? 'missing' : JSON.stringify(issue.input);
      return `${issue.path.join('.') || 'the event'} is ${value} (${issue.message})`;
    },
    (problems) => `Not a usable ${eventName}: ${problems}.`,
  );
}

/**
 * Which of the start events this is; anything that is not an operator's or the reconciliation's is a push. Shared by
 * "Check release against policy" and the crash finaliser, which both read a start event.
 */
export function triggerOf({ source, detail }: EcrPushEvent): Trigger {
  if (source === START_EVENTS.rollback.source) {
    return { kind: 'rollback', requestedBy: detail['requested-by'] ?? 'unknown operator', reason: detail.reason ?? null };
  }
  return { kind: source === START_EVENTS.reconciliation.source ? 'reconciliation' : 'push', requestedBy: null, reason: null };
}

function parseOrThrow<S extends z.ZodType>(
  schema: S,
  input: unknown,
  describeIssue: (issue: z.core.$ZodIssue) => string,
  describeFailure: (problems: string) => string,
): z.output<S> {
  const parsed = schema.safeParse(input, { reportInput: true });
  if (parsed.success) return parsed.data;
  throw new InvalidInputError(describeFailure(parsed.error.issues.map(describeIssue).join('; ')));
}
