/** "Register new task definition revision": the running task definition with the released image. */
import { z } from 'zod';
import { catalogEntrySchema, type CatalogEntry, type LastKnownGood, type RegisteredRevision, type Release } from '../contract';
import type { DeploymentTarget } from '../adapters/deployment-target';
import { logger } from '../shared/logger';
import { parseStepInput, releaseSchema } from './step-input';

const inputSchema = z.object({
  service: catalogEntrySchema,
  release: releaseSchema,
  /** From "Take the service lock": the ledger's newest succeeded, non-quarantined deployment, if any. */
  lastKnownGood: z
    .object({ tag: z.string(), digest: z.string(), taskDefinitionArn: z.string().min(1), succeededAt: z.string() })
    .nullable()
    .default(null),
}) satisfies z.ZodType<{ service: CatalogEntry; release: Release; lastKnownGood: LastKnownGood | null }, unknown>;

export interface RegisterRevisionDependencies {
  target: Pick<DeploymentTarget, 'registerRevision'>;
}

export function createRegisterRevisionHandler({ target }: RegisterRevisionDependencies) {
  return async (event: unknown): Promise<RegisteredRevision> => {
    const { service, release, lastKnownGood } = parseStepInput(inputSchema, event, 'Register new task definition revision');
    logger.resetKeys();
    logger.appendKeys({ targetService: service.name, version: release.tag, digest: release.digest });

    const registered = await target.registerRevision(service, release);
    // A rollback goes to the last version that was good, not merely to whatever ran before (which may never have been).
    const revision: RegisteredRevision = lastKnownGood
      ? {
          ...registered,
          rollbackTaskDefinitionArn: lastKnownGood.taskDefinitionArn,
          rollbackTarget: { version: lastKnownGood.tag, digest: lastKnownGood.digest, source: 'last-known-good' },
        }
      : {
          ...registered,
          rollbackTaskDefinitionArn: registered.previousTaskDefinitionArn,
          rollbackTarget: { version: null, digest: null, source: 'previous-revision' },
        };
    logger.info('Registered task definition revision', { ...revision });
    return revision;
  };
}
