/** The service catalog: the configured services as the Lambda steps see them (built by the CDK app from the configuration). */
import * as z from 'zod';
import { releaseStrategySchema } from './release-strategy';

/** Environments a service can run in. Development tags never reach `production`. */
export const ENVIRONMENTS = ['production', 'staging', 'development'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** An image digest as ECR writes it: the only way an image is named once it has been checked. */
export const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * The signers a service trusts (its catalog entry's `signing`: the configuration's `signing` with its keys read). Any
 * `threshold` distinct trusted signers must have signed the pushed digest; with the default of 1, one valid signature
 * from any of them is enough (e.g. during key rotation).
 */
export const signingSchema = z
  .object({
    /** PEM-encoded public keys (SPKI): EC P-256 / P-384 or RSA ≥ 2048 bits. */
    publicKeys: z.array(z.string().min(1)),
    /** KMS asymmetric signing keys: key ARN, alias name (`alias/release-signing`) or alias ARN. */
    kmsKeys: z.array(z.string().min(1)),
    /** AWS Signer signing profile ARNs (`arn:aws:signer:<region>:<account>:/signing-profiles/<name>`) or profile version ARNs. */
    signingProfiles: z.array(z.string().min(1)),
    /** How many distinct trusted signers must have signed. */
    threshold: z.number().int().positive(),
    /** How long to wait for a signature that has not arrived yet (pushed after the image, or ECR still signing). 0: no wait. */
    lateSignatureSeconds: z.number().int().nonnegative(),
    /** Time between two looks for a late signature. */
    pollSeconds: z.number().int().positive(),
  })
  .refine((signing) => signing.publicKeys.length + signing.kmsKeys.length + signing.signingProfiles.length >= signing.threshold, {
    message: 'threshold is more than the number of trusted signers',
    path: ['threshold'],
  });
export type Signing = z.infer<typeof signingSchema>;

/**
 * One configured service, as the Lambda steps see it (the functions that read the catalog carry an array of
 * these). The CDK app builds it from the configuration file; key files are already read into PEM text.
 */
export const catalogEntrySchema = z.object({
  /** Logical name used in alerts, logs and the execution output. */
  name: z.string().min(1),
  environment: z.enum(ENVIRONMENTS),
  /** ECR repository name, e.g. `models/sentiment`. */
  repository: z.string().min(1),
  cluster: z.string().min(1),
  /** ECS service name inside the cluster. */
  service: z.string().min(1),
  /** Name of the container in the task definition whose image is replaced. */
  container: z.string().min(1),
  /** The task definition family the pipeline may register revisions of (the service's own). */
  taskDefinitionFamily: z.string().min(1),
  /**
   * The IAM roles the service's task definition may name, which the pipeline may pass to ECS when it registers a
   * revision (IAM allows iam:PassRole on these only). null: the task definition must name no such role.
   */
  taskRoleArn: z.string().min(1).nullable(),
  executionRoleArn: z.string().min(1).nullable(),
  /** Who may sign images for this service, and how many of them must have. */
  signing: signingSchema,
  health: z.object({
    /** How long a rollout (and, separately, a rollback) may take to become healthy. */
    deadlineSeconds: z.number().int().positive(),
    /** No longer a polling interval (the health wait is event-driven): a margin of the service lock's lease. */
    pollSeconds: z.number().int().positive(),
    /** CloudWatch alarms that must be OK before a release counts as healthy. */
    alarms: z.array(z.string().min(1)),
  }),
  /** How a release reaches the service's traffic: ECS's rolling deployment, or a gray release in traffic steps. */
  release: releaseStrategySchema,
});
export type CatalogEntry = z.infer<typeof catalogEntrySchema>;

/** The canary ECS service of an entry released gray, in the entry's cluster; none for a rolling release. */
export function canaryServicesOf(entry: CatalogEntry): string[] {
  return entry.release.strategy === 'gray' ? [entry.release.traffic.canaryService] : [];
}
export const serviceCatalogSchema = z.array(catalogEntrySchema);
export type ServiceCatalog = z.infer<typeof serviceCatalogSchema>;
