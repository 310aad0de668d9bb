/**
 * "Register new task definition revision": the running task definition with the released image, and where a rollback
 * would go (decideRollbackTarget: the last known good, else the previous revision unless the ledger knows it failed).
 */
import * as z from 'zod';
import { catalogEntrySchema, type CatalogEntry } from '../contract/catalog';
import type { KnownBadRelease, LastKnownGood, RegisteredRevision, Release } from '../contract/steps';
import type { DeploymentTarget } from '../adapters/deployment-target';
import { decideRollbackTarget } from '../decisions/rollback-target';
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
  /** From "Take the service lock": the releases the ledger records as failed (when it knows no good one). */
  knownBad: z
    .array(
      z.object({ tag: z.string(), digest: z.string(), outcome: z.enum(['rolled-back', 'rollback-failed', 'quarantined']), at: z.string() }),
    )
    .default([]),
}) satisfies z.ZodType<
  { service: CatalogEntry; release: Release; lastKnownGood: LastKnownGood | null; knownBad: KnownBadRelease[] },
  unknown
>;

/** What "Register new task definition revision" passes. */
export type RegisterRevisionInput = z.input<typeof inputSchema>;

export interface RegisterRevisionDependencies {
  target: Pick<DeploymentTarget, 'registerRevision'>;
}

export function createRegisterRevisionHandler({ target }: RegisterRevisionDependencies) {
  return async (event: unknown): Promise<RegisteredRevision> => {
    const { service, release, lastKnownGood, knownBad } = parseStepInput(inputSchema, event, 'Register new task definition revision');
    logger.resetKeys();
    logger.appendKeys({ targetService: service.name, version: release.tag, digest: release.digest });

    const registered = await target.registerRevision(service, release);
    // A rollback goes to the last version that was good, not merely to whatever ran before (which may never have been).
    const revision: RegisteredRevision = {
      ...registered,
      ...decideRollbackTarget({
        lastKnownGood,
        previous: { taskDefinitionArn: registered.previousTaskDefinitionArn, ...registered.previous },
        knownBad,
      }),
    };
    logger.info('Registered task definition revision', { ...revision });
    return revision;
  };
}
