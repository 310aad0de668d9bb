/** "Register new task definition revision": the running task definition with the released image. */
import { z } from 'zod';
import { catalogEntrySchema, type CatalogEntry, type RegisteredRevision, type Release } from '../contract';
import type { DeploymentTarget } from '../adapters/deployment-target';
import { logger } from '../shared/logger';
import { parseStepInput, releaseSchema } from './step-input';

const inputSchema = z.object({
  service: catalogEntrySchema,
  release: releaseSchema,
}) satisfies z.ZodType<{ service: CatalogEntry; release: Release }>;

export interface RegisterRevisionDependencies {
  target: Pick<DeploymentTarget, 'registerRevision'>;
}

export function createRegisterRevisionHandler({ target }: RegisterRevisionDependencies) {
  return async (event: unknown): Promise<RegisteredRevision> => {
    const { service, release } = parseStepInput(inputSchema, event, 'Register new task definition revision');
    logger.resetKeys();
    logger.appendKeys({ targetService: service.name, version: release.tag, digest: release.digest });

    const revision = await target.registerRevision(service, release);
    logger.info('Registered task definition revision', { ...revision });
    return revision;
  };
}
