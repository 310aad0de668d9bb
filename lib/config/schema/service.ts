/**
 * The `services[]` section: one ECS service, who may sign its images (`signing`), when it counts as healthy (`health`)
 * and how a release reaches its traffic (`release`, in release.ts).
 */
import * as z from 'zod';
import { ENVIRONMENTS } from '../../../lambdas/contract/catalog';
import { show } from '../messages';
import { DEADLINE_MINUTES, inRange, LATE_SIGNATURE_SECONDS, POLL_SECONDS, THRESHOLD } from '../rules';
import type { SigningConfig } from '../types';
import { existingFile, reportDuplicates, strictObject, wholeNumberBetween } from './fields';
import { checkReleaseOfService, releaseSchema, withEnvironmentDefaults } from './release';

/** ECR's own pattern for repository names (CreateRepository API), 2–256 characters. */
const ECR_REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
/** `<account>.dkr.ecr.<region>.amazonaws.com/...` is a valid repository *name* too, but never the intended one. */
const REPOSITORY_URI = /^\d{12}\.dkr\.ecr\./;
/** Key ARN, alias ARN, or alias name (resolved in the stack's account and Region). */
const KMS_KEY = /^(?:arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(?:key\/[A-Za-z0-9-]+|alias\/[A-Za-z0-9/_-]+)|alias\/[A-Za-z0-9/_-]+)$/;
/** Signing profile ARN, or profile version ARN (10 alphanumerics after the name). */
const SIGNING_PROFILE = /^arn:aws[a-z-]*:signer:[a-z0-9-]+:\d{12}:\/signing-profiles\/[A-Za-z0-9_]{2,64}(?:\/[A-Za-z0-9]{10})?$/;
/** An IAM role ARN, with an optional path. */
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** `services[].health`. Every field has a default, so the whole block may be left out. */
export const healthSchema = strictObject({
  deadlineMinutes: wholeNumberBetween(DEADLINE_MINUTES).default(15),
  pollSeconds: wholeNumberBetween(POLL_SECONDS).default(30),
  alarms: z.array(z.string().min(1).max(255)).default([]),
}).superRefine((h, ctx) => {
  // A poll interval as long as the deadline would allow a single check: most likely a unit mix-up. Compared only when
  // both are in range, so that one bad value is reported once.
  const bothInRange = inRange(h.deadlineMinutes, DEADLINE_MINUTES) && inRange(h.pollSeconds, POLL_SECONDS);
  if (bothInRange && h.pollSeconds >= h.deadlineMinutes * 60) {
    ctx.addIssue({
      code: 'custom',
      path: ['pollSeconds'],
      input: h.pollSeconds,
      message:
        `${h.pollSeconds} must be shorter than the deadline ` +
        `(deadlineMinutes ${h.deadlineMinutes} = ${h.deadlineMinutes * 60} seconds)`,
    });
  }
});

/** `services[].signing`; key file paths are checked relative to `baseDir` (the configuration file's folder). */
export function signingSchema(baseDir: string) {
  return strictObject({
    publicKeys: z.array(existingFile(baseDir)).default([]),
    kmsKeys: z
      .array(
        z.string().regex(KMS_KEY, {
          error: (iss) => `${show(iss.input)} is not a KMS key ARN, alias ARN or alias/<name>`,
        }),
      )
      .default([]),
    signingProfiles: z
      .array(
        z.string().regex(SIGNING_PROFILE, {
          error: (iss) =>
            `${show(iss.input)} is not a signing profile ARN (arn:aws:signer:<region>:<account>:/signing-profiles/<name>[/<version>])`,
        }),
      )
      .default([]),
    threshold: wholeNumberBetween(THRESHOLD).default(1),
    lateSignatureSeconds: wholeNumberBetween(LATE_SIGNATURE_SECONDS).default(180),
    pollSeconds: wholeNumberBetween(POLL_SECONDS).default(15),
  }).superRefine(checkSigners);
}

/** At least one trusted signer, no more required than listed, none listed twice. */
function checkSigners(signing: Pick<SigningConfig, 'publicKeys' | 'kmsKeys' | 'signingProfiles' | 'threshold'>, ctx: z.RefinementCtx) {
  const signers = signing.publicKeys.length + signing.kmsKeys.length + signing.signingProfiles.length;
  if (signers === 0) {
    ctx.addIssue({
      code: 'custom',
      path: [],
      input: signing,
      message: 'must list at least one publicKeys, kmsKeys or signingProfiles entry: unsigned images are never deployed',
    });
  } else if (signing.threshold > signers) {
    ctx.addIssue({
      code: 'custom',
      path: ['threshold'],
      input: signing.threshold,
      message: `${signing.threshold} is more than the ${signers} trusted signer${signers === 1 ? '' : 's'} listed`,
    });
  }
  for (const field of ['publicKeys', 'kmsKeys', 'signingProfiles'] as const) {
    reportDuplicates(ctx, signing[field], [field], (value, first) => `${show(value)} is already listed at ${field}[${first}]`);
  }
}

const roleArn = z.string().regex(ROLE_ARN, {
  error: (iss) => `${show(iss.input)} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)`,
});

/**
 * One entry of `services`; key file paths are checked relative to `baseDir` (the configuration file's folder). The
 * checks of `release` that need the service around it (its name, its environment) run once the fields parsed; then the
 * environment decides the one default it owns, a gray release's approval before the first step (on in production).
 */
export function serviceSchema(baseDir: string) {
  return strictObject({
    name: z.string().min(1),
    environment: z.enum(ENVIRONMENTS),
    repository: z
      .string()
      .min(2)
      .max(256)
      .regex(ECR_REPOSITORY_NAME, {
        error: (iss) =>
          `${show(iss.input)} is not a valid ECR repository name (lowercase letters and digits, separated by single . _ - or /)`,
      })
      .refine((name) => !REPOSITORY_URI.test(name), {
        error: (iss) => `${show(iss.input)} is a repository URI; give the repository name only (the part after the first /)`,
      }),
    cluster: z.string().min(1),
    service: z.string().min(1),
    container: z.string().min(1),
    // RegisterTaskDefinition, "family": up to 255 letters, numbers, underscores and hyphens.
    taskDefinitionFamily: z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, {
      error: (iss) =>
        `${show(iss.input)} is not a task definition family (up to 255 letters, digits, _ and -; the family alone, without ":revision")`,
    }),
    taskRoleArn: roleArn.optional(),
    executionRoleArn: roleArn.optional(),
    signing: signingSchema(baseDir),
    // Every field of `health` has a default, so the whole block may be left out (prefault: parsed as `{}`).
    health: healthSchema.prefault({}),
    release: releaseSchema,
  })
    .superRefine(checkReleaseOfService)
    .transform((service) => ({ ...service, release: withEnvironmentDefaults(service.release, service.environment) }));
}
