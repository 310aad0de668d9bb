/**
 * "Register new task definition revision": the running task definition with the released image, and where a rollback
 * would go (decideRollbackTarget: the last known good, else the previous revision unless the ledger knows it failed).
 * A task definition naming a role the service does not configure is refused before anything is registered
 * (roleRefusal: IAM would let the pipeline pass only the configured roles).
 */
import * as z from 'zod';
import { catalogEntrySchema, type CatalogEntry } from '../contract/catalog';
import { KNOWN_BAD_OUTCOMES, type KnownBadRelease, type LastKnownGood, type RegisteredRevision, type Release } from '../contract/steps';
import { roleRefusal } from '../decisions/pass-roles';
import { decideRollbackTarget } from '../decisions/rollback-target';
import { RoleNotConfiguredError } from '../errors';
import { logger } from '../shared/logger';
import type { DeploymentTarget } from './ports/deployment-target';
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
  knownBad: z.array(z.object({ tag: z.string(), digest: z.string(), outcome: z.enum(KNOWN_BAD_OUTCOMES), at: z.string() })).default([]),
}) satisfies z.ZodType<
  { service: CatalogEntry; release: Release; lastKnownGood: LastKnownGood | null; knownBad: KnownBadRelease[] },
  unknown
>;

/** What "Register new task definition revision" passes. */
export type RegisterRevisionInput = z.input<typeof inputSchema>;

export interface RegisterRevisionDependencies {
  target: Pick<DeploymentTarget, 'revisionInUse' | 'registerRevision'>;
}

export function createRegisterRevisionHandler({ target }: RegisterRevisionDependencies) {
  return async (event: unknown): Promise<RegisteredRevision> => {
    const { service, release, lastKnownGood, knownBad } = parseStepInput(inputSchema, event, 'Register new task definition revision');
    logger.resetKeys();
    logger.appendKeys({ targetService: service.name, version: release.tag, digest: release.digest });

    const inUse = await target.revisionInUse(service);
    const refusal = roleRefusal({ service, taskDefinitionArn: inUse.taskDefinitionArn, taskDefinition: inUse.roles });
    if (refusal !== null) throw new RoleNotConfiguredError(refusal);
    const registered = await target.registerRevision(service, release, inUse);
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
