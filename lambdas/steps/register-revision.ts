/** "Register new task definition revision": the running task definition with the released image. */
import { z } from 'zod';
import { catalogEntrySchema, type CatalogEntry, type RegisteredRevision, type Release } from '../contract';
import type { DeploymentTarget } from '../adapters/deployment-target';
import { InvalidInputError } from '../errors';
import { logger } from '../shared/logger';

const inputSchema = z.object({
  service: catalogEntrySchema,
  release: z
    .object({
      repositoryName: z.string().min(1),
      repositoryUri: z.string().min(1),
      tag: z.string().min(1),
      digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 hex characters>'),
      imageUri: z.string().min(1),
    })
    // Only the verified digest may reach the task definition, never a tag that can move.
    .refine((release) => release.imageUri === `${release.repositoryUri}@${release.digest}`, {
      path: ['imageUri'],
      message: 'must be <repositoryUri>@<digest>',
    }),
}) satisfies z.ZodType<{ service: CatalogEntry; release: Release }>;

export interface RegisterRevisionDependencies {
  target: Pick<DeploymentTarget, 'registerRevision'>;
}

export function createRegisterRevisionHandler({ target }: RegisterRevisionDependencies) {
  return async (event: unknown): Promise<RegisteredRevision> => {
    const { service, release } = parseInput(event);
    logger.resetKeys();
    logger.appendKeys({ targetService: service.name, version: release.tag, digest: release.digest });

    const revision = await target.registerRevision(service, release);
    logger.info('Registered task definition revision', { ...revision });
    return revision;
  };
}

function parseInput(event: unknown): z.infer<typeof inputSchema> {
  const parsed = inputSchema.safeParse(event);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(input)'}: ${issue.message}`);
    throw new InvalidInputError(`Invalid "Register new task definition revision" input: ${problems.join('; ')}`);
  }
  return parsed.data;
}
