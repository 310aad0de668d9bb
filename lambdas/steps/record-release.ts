/**
 * "Record the release in the ledger": writes the deployment record before anything changes in ECS (every release with
 * a configured service, even one the policy rejected), reads the model metadata from the image config's labels, and
 * decides whether the release is new work: not a duplicate, not already running, not quarantined. An admitted release
 * claims its digest, so a second event for it (another tag, a retry, a redrive) finds it taken.
 *
 * A release or hotfix tag is bound to the first verified image that takes the service under it ("Take the service
 * lock"); a release whose tag already names another image is rejected here, by the tag policy's rule, since only the
 * ledger knows which image the tag named. Reading it here binds nothing: an image nobody signed cannot claim a tag.
 */
import * as z from 'zod';
import { type CatalogEntry, catalogEntrySchema, ENVIRONMENTS } from '../contract/catalog';
import type { DeploymentKey, DigestRecord, LedgerAdmission } from '../contract/ledger-records';
import type { DeploymentLedger, ReceivedDeployment } from './ports/deployment-ledger';
import type { ImageRegistry } from './ports/image-registry';
import { decideAdmission, supersededOnArrival } from '../decisions/admission';
import { evaluateTagReuse, isImmutableTag } from '../decisions/tag-policy';
import { digestClaimSeconds } from '../decisions/time-budget';
import { TransientAwsError } from '../errors';
import type { Clock } from '../shared/clock';
import { logger } from '../shared/logger';
import { secondsAfter, triggerSchema } from './ledger-input';
import { parseStepInput, releaseSchema } from './step-input';

const inputSchema = z.object({
  subject: z.object({ service: z.string().nullable(), environment: z.enum(ENVIRONMENTS).nullable() }),
  trigger: triggerSchema,
  release: releaseSchema,
  service: catalogEntrySchema.nullable(),
  running: z.object({ taskDefinitionArn: z.string(), version: z.string().nullable(), digest: z.string().nullable() }).nullable(),
  policy: z.object({
    verdict: z.enum(['accepted', 'rejected']),
    code: z.enum([
      'accepted',
      'repository-not-configured',
      'invalid-tag',
      'development-tag-in-production',
      'downgrade',
      'deployment-controller-not-ecs',
    ]),
    reason: z.string(),
  }),
  executionArn: z.string().min(1),
  /** The execution's start: the record's receivedAt and part of its key, the same on every retry of this step. */
  startedAt: z.iso.datetime({ offset: true }),
});
export type RecordReleaseInput = z.input<typeof inputSchema>;

export interface RecordReleaseDependencies {
  ledger: Pick<DeploymentLedger, 'recordReceived' | 'noteDigest' | 'getTag' | 'claimDigest' | 'getDigest' | 'getLock'>;
  registry: Pick<ImageRegistry, 'readImageLabels'>;
  clock: Clock;
}

type RecordReleaseStepInput = z.output<typeof inputSchema>;

export function createRecordReleaseHandler({ ledger, registry, clock }: RecordReleaseDependencies) {
  return async (input: RecordReleaseInput): Promise<LedgerAdmission> => {
    const step = parseStepInput(inputSchema, input, 'Record the release in the ledger');
    const { release, service, policy, executionArn } = step;
    logger.resetKeys();
    logger.appendKeys({ targetService: service?.name ?? null, version: release.tag, digest: release.digest, executionArn });
    if (!service) {
      logger.warn('Release not recorded: its repository is not configured for any service', { repository: release.repositoryName });
      return { key: null, verdict: 'not-checked', code: 'policy-rejected', reason: policy.reason };
    }

    const accepted = policy.verdict === 'accepted';
    // Only a release that may be deployed is worth reading; a rejected tag may name anything.
    const model = accepted ? await modelLabels(registry, release.repositoryName, release.digest) : {};
    const record = await ledger.recordReceived(receivedDeployment(step, service, model));
    const now = clock();
    const known = await ledger.noteDigest(service.name, release.digest, release.tag, now.toISOString());
    if (!accepted) {
      const superseded = supersededOnArrival({ tag: release.tag, policyCode: policy.code, lock: await ledger.getLock(service.name), now });
      return { key: record.key, ...(superseded ?? { verdict: 'not-checked', code: 'policy-rejected', reason: policy.reason }) };
    }

    const tagged = isImmutableTag(release.tag) ? await ledger.getTag(service.name, release.tag) : null;
    const reused = evaluateTagReuse({ tag: release.tag, digest: release.digest, recorded: tagged });
    if (reused) {
      logger.info('Release rejected: its tag already names another image', { reason: reused.reason, recorded: tagged });
      return { key: record.key, verdict: 'rejected', code: 'release-tag-reused', reason: reused.reason };
    }
    return { key: record.key, ...(await admit(ledger, step, service, { key: record.key, known, now })) };
  };
}

/** The deployment record of the release as it arrived: received at the execution's start, the same on every retry. */
function receivedDeployment(
  { trigger, release, running, policy, executionArn, startedAt }: RecordReleaseStepInput,
  service: CatalogEntry,
  model: Record<string, string>,
): ReceivedDeployment {
  return {
    service: service.name,
    environment: service.environment,
    repository: release.repositoryName,
    tag: release.tag,
    digest: release.digest,
    trigger,
    executionArn,
    receivedAt: new Date(startedAt).toISOString(),
    reason: policy.reason,
    taskDefinitionBefore: running?.taskDefinitionArn ?? null,
    model,
  };
}

/**
 * Whether the release is new work (decideAdmission); an admitted release claims its digest. Should another event for
 * the same digest claim it between the read and the write, the admission is decided again on what the ledger says now.
 */
async function admit(
  ledger: RecordReleaseDependencies['ledger'],
  { trigger, release, running, executionArn }: RecordReleaseStepInput,
  service: CatalogEntry,
  { key, known, now }: { key: DeploymentKey; known: DigestRecord; now: Date },
): Promise<Omit<LedgerAdmission, 'key'>> {
  const decide = (knownNow: DigestRecord | null) =>
    decideAdmission({
      trigger: trigger.kind,
      digest: release.digest,
      tag: release.tag,
      known: knownNow,
      runningDigest: running?.digest ?? null,
      executionArn,
      now,
    });
  const admission = decide(known);
  if (admission.verdict === 'admitted') {
    // Held until the execution ends (the outcome or the crash finaliser releases it), expiring after the longest one.
    const until = secondsAfter(now, digestClaimSeconds(service));
    if (!(await ledger.claimDigest(service.name, release.digest, { executionArn, until }, now.toISOString()))) {
      const raced = decide(await ledger.getDigest(service.name, release.digest));
      logger.info('Release admission decided after a race for the digest', { admission: raced });
      return raced;
    }
  }
  logger.info('Release recorded in the ledger', { key, admission });
  return admission;
}

/** The image's labels; a release is not held up by metadata that cannot be read (the record says so instead). */
async function modelLabels(
  registry: RecordReleaseDependencies['registry'],
  repositoryName: string,
  digest: string,
): Promise<Record<string, string>> {
  try {
    return await registry.readImageLabels(repositoryName, digest);
  } catch (error) {
    if (error instanceof TransientAwsError) throw error;
    logger.warn('Model metadata could not be read from the image config', { error: (error as Error).message });
    return { 'model-rollout:labels-unreadable': (error as Error).message };
  }
}
