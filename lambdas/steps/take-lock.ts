/**
 * "Take the service lock": a verified release waits here for its turn. It is superseded when a higher version is
 * waiting, deploying or was deployed meanwhile; it waits while another execution holds an unexpired lease; otherwise it
 * takes the lease (a conditional write: two executions cannot both win) and learns the last known good version, the
 * rollback target (or, when there is none, which releases the ledger knows failed). Expected answers are values the Choice state routes on.
 *
 * Holding the lock, a verified release or hotfix binds its tag to its image (one update; the lock serializes the
 * service, so two images cannot both bind a tag); a tag another verified image bound meanwhile rejects it.
 */
import * as z from 'zod';
import { catalogEntrySchema } from '../contract/catalog';
import type { DeploymentRecord } from '../contract/ledger-records';
import type { LockResult } from '../contract/steps';
import type { DeploymentLedger } from './ports/deployment-ledger';
import { knownBadReleases } from '../decisions/rollback-target';
import { evaluateTagReuse, isImmutableTag } from '../decisions/tag-policy';
import { decideLock, lastKnownGood } from '../decisions/service-lock';
import { digestClaimSeconds, leaseSeconds } from '../decisions/time-budget';
import type { Clock } from '../shared/clock';
import { logger } from '../shared/logger';
import { deploymentKeySchema, secondsAfter, triggerSchema } from './ledger-input';
import { parseStepInput } from './step-input';
import { LedgerInconsistentError } from '../errors';

const inputSchema = z.object({
  service: catalogEntrySchema,
  trigger: triggerSchema,
  key: deploymentKeySchema,
  executionArn: z.string().min(1),
});
export type TakeLockInput = z.input<typeof inputSchema>;

export interface TakeLockDependencies {
  ledger: Pick<DeploymentLedger, 'get' | 'changeStatus' | 'listDeployments' | 'listDigests' | 'getLock' | 'acquireLock' | 'recordTag'>;
  clock: Clock;
}

export function createTakeLockHandler({ ledger, clock }: TakeLockDependencies) {
  return async (input: TakeLockInput): Promise<LockResult> => {
    const { service, trigger, key, executionArn } = parseStepInput(inputSchema, input, 'Take the service lock');
    logger.resetKeys();
    logger.appendKeys({ targetService: service.name, executionArn });
    const record = await ledger.get(key);
    if (!record) throw new LedgerInconsistentError(`The ledger has no deployment record ${key.sk} for service ${key.service}`);
    const now = clock();
    if (record.status === 'received') {
      await ledger.changeStatus(key, {
        status: 'waiting',
        at: now.toISOString(),
        reason: 'Signature verified; waiting for the service to be free.',
      });
    }

    const [records, lock] = await Promise.all([ledger.listDeployments(service.name), ledger.getLock(service.name)]);
    const others = records.filter((r) => r.executionArn !== executionArn);
    const decision = decideLock({
      me: { executionArn, tag: record.tag, trigger: trigger.kind, receivedAt: record.receivedAt },
      others,
      lock,
      now,
      // A release of this service may run this long (waiting for its signature, then a lease, then its own lease):
      // one waiting for days behind a gray release still ranks.
      staleAfterSeconds: digestClaimSeconds(service),
    });
    if (decision.verdict !== 'take-lock') {
      logger.info('Service lock not acquired yet', { decision });
      return { verdict: decision.verdict, reason: decision.reason, lastKnownGood: null, knownBad: [] };
    }

    const taken = await ledger.acquireLock(
      {
        service: service.name,
        holder: { executionArn, key, tag: record.tag },
        acquiredAt: now.toISOString(),
        expiresAt: secondsAfter(now, leaseSeconds(service)),
      },
      now.toISOString(),
    );
    if (!taken.acquired) {
      const holder = taken.holder ? `${taken.holder.holder.tag} (execution ${taken.holder.holder.executionArn})` : 'another execution';
      return { verdict: 'wait', reason: `${holder} took the service first; waiting for it to finish.`, lastKnownGood: null, knownBad: [] };
    }
    const reused = await bindTag(ledger, { service: service.name, tag: record.tag, digest: record.digest }, now, executionArn);
    if (reused) return { verdict: 'rejected', reason: reused, lastKnownGood: null, knownBad: [] };
    await ledger.changeStatus(
      key,
      { status: 'deploying', at: now.toISOString(), reason: decision.reason },
      { lockedAt: now.toISOString() },
    );

    const rollback = await rollbackKnowledge(ledger, service.name, others);
    logger.info('Service lock taken', { reason: decision.reason, ...rollback });
    return { verdict: 'acquired', reason: decision.reason, ...rollback };
  };
}

/**
 * Binds a release or hotfix tag to the release's image (one update; the lock serializes the service). The reason the
 * release is rejected when another verified image bound the tag meanwhile; null when the tag is the release's, or
 * moves by design.
 */
async function bindTag(
  ledger: TakeLockDependencies['ledger'],
  record: Pick<DeploymentRecord, 'service' | 'tag' | 'digest'>,
  now: Date,
  executionArn: string,
): Promise<string | null> {
  if (!isImmutableTag(record.tag)) return null;
  const bound = await ledger.recordTag(record.service, record.tag, record.digest, now.toISOString(), executionArn);
  const reused = evaluateTagReuse({ tag: record.tag, digest: record.digest, recorded: bound });
  if (!reused) return null;
  logger.info('Release rejected: its tag was bound to another image meanwhile', { reason: reused.reason, bound });
  return reused.reason;
}

/** The last known good version, the rollback target; when there is none, the releases the ledger knows failed. */
async function rollbackKnowledge(
  ledger: TakeLockDependencies['ledger'],
  service: string,
  others: DeploymentRecord[],
): Promise<Pick<LockResult, 'lastKnownGood' | 'knownBad'>> {
  const digests = await ledger.listDigests(service);
  const target = lastKnownGood(others, new Set(digests.filter((d) => d.quarantine).map((d) => d.digest)));
  // Only needed when there is no good version: the fallback to the previous revision must not be a known-bad one.
  return { lastKnownGood: target, knownBad: target ? [] : knownBadReleases(others, digests) };
}
