/**
 * The wait for a late signature, in function await-health: "Wait for the signature to arrive" stores a waiter for the
 * image's digest, and an ECR push to the service's repository that may bring its signature (a cosign `sha256-<hex>.sig`
 * tag naming the digest, or an untagged push: an OCI 1.1 referrer) answers it, so that "Verify image signature" looks
 * again at once instead of at the next poll. The event's words are not trusted: the verification reads ECR itself.
 *
 * ECR sends its push events on a best-effort basis (https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html),
 * and no event is documented for ECR managed signing's own signature: a wait with no event times out after the
 * service's `signing.pollSeconds` and the verification looks anyway — a lost event costs that long, never the release.
 *
 * The push may come between the verification's look and the waiter being stored, when its event finds nobody to wake:
 * each push event is noted for the service first, and a wait that starts after a push noted since the verification
 * looked is answered at once. Both sides write, then read (consistently), so one of them sees the other.
 */
import * as z from 'zod';
import { catalogEntrySchema, type CatalogEntry, type ServiceCatalog } from '../contract/catalog';
import type { Waiter } from '../contract/ledger-records';
import type { AwaitSignatureInput } from '../contract/steps';
import { maySignDigest, servicesConcerned } from '../decisions/event-subjects';
import { logger } from '../shared/logger';
import { answerWaiter, waiterOf } from './waits';
import type { TaskTokens } from './ports/task-tokens';
import type { Waiters } from './ports/waiters';
import { parseStepInput, parseTriggerEvent } from './step-input';

export interface SignatureWaitDependencies {
  waiters: Waiters;
  tokens: TaskTokens;
  clock: () => Date;
  /** The configured services: a push names its repository only. */
  catalog: ServiceCatalog;
}

/** From the state machine: whether the execution now waits, and until when it looks itself. */
export interface SignatureWaitStarted {
  waiting: boolean;
  until: string;
}

/** From EventBridge: the signature waits a push answered. */
export interface SignaturePushHandled {
  services: string[];
  answered: { service: string; executionArn: string; state: string }[];
}

const signatureWaitSchema = z.object({
  service: catalogEntrySchema,
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be sha256:<64 hex digits>'),
  checkedAt: z.iso.datetime({ offset: true }),
  taskToken: z.string().min(1),
  executionArn: z.string().min(1),
  waitingState: z.string().min(1),
  waitsFor: z.literal('signature'),
  timeoutSeconds: z.number().int().positive(),
}) satisfies z.ZodType<AwaitSignatureInput>;

/** What the waiter keeps of the wait: the digest a push must be able to sign. */
const signatureCheckSchema = z.object({ digest: z.string() });

/** "ECR Image Action": a completed push (the rule passes only successful pushes that may be signatures). */
const pushEventSchema = z.object({
  source: z.literal('aws.ecr'),
  'detail-type': z.literal('ECR Image Action'),
  detail: z.object({
    'action-type': z.literal('PUSH'),
    result: z.literal('SUCCESS'),
    'repository-name': z.string().min(1),
    // Absent for an untagged push.
    'image-tag': z.string().optional(),
  }),
});

export const isSignatureWait = (input: unknown) =>
  typeof input === 'object' && input !== null && (input as { waitsFor?: unknown }).waitsFor === 'signature';
export const isPushEvent = (input: unknown) =>
  typeof input === 'object' && input !== null && (input as { source?: unknown }).source === 'aws.ecr';

export async function startWaitingForSignature(deps: SignatureWaitDependencies, input: unknown): Promise<SignatureWaitStarted> {
  const wait = parseStepInput(signatureWaitSchema, input, 'Wait for the signature to arrive');
  const { service, checkedAt, waitingState } = wait;
  const waiter = waiterOf(wait, 'signature', { digest: wait.digest }, deps.clock());
  const until = waiter.expiresAt;
  await deps.waiters.put(waiter);
  const lastPush = await deps.waiters.lastSignaturePush(service.name);
  // After the look only (strictly: a push noted at the very moment of the look was there to see), and one that may
  // sign this digest.
  const pushedSinceLook =
    lastPush !== null && Date.parse(lastPush.notedAt) > Date.parse(checkedAt) && maySignDigest(lastPush.imageTag, wait.digest);
  if (pushedSinceLook) await answerWaiter(deps, waiter, { pushNotedAt: lastPush.notedAt });
  logger.info(pushedSinceLook ? 'A push came since the signature was checked' : 'Waiting for a signature push', {
    state: waitingState,
    until,
  });
  return { waiting: !pushedSinceLook, until };
}

/**
 * An ECR push to a configured repository: noted for each service of that repository, then each of their signature
 * waits whose digest the push may sign is answered. A failure is thrown (EventBridge retries the event); a wait missed
 * meanwhile looks itself after its timeout.
 */
export async function wakeSignatureWaiters(deps: SignatureWaitDependencies, event: unknown): Promise<SignaturePushHandled> {
  const push = parseTriggerEvent(pushEventSchema, event, 'ECR push event');
  const services = servicesConcerned({ kind: 'push', repositoryName: push.detail['repository-name'] }, deps.catalog);
  const tag = push.detail['image-tag'];
  // This function's clock, not the event's time (whole seconds, ECR's clock): compared with the verification's look.
  const now = deps.clock().toISOString();
  const answered: SignaturePushHandled['answered'] = [];
  for (const service of services) {
    await deps.waiters.noteSignaturePush(service.name, { notedAt: now, imageTag: tag });
    for (const waiter of await signatureWaitsOf(deps, service, now)) {
      const digest = signatureCheckSchema.safeParse(waiter.check).data?.digest;
      if (digest === undefined || !maySignDigest(tag, digest)) continue;
      if (await answerWaiter(deps, waiter, { pushNotedAt: now }))
        answered.push({ service: service.name, executionArn: waiter.executionArn, state: waiter.state });
    }
  }
  logger.info('ECR push handled', { repository: push.detail['repository-name'], tag, answered: answered.length });
  return { services: services.map((s) => s.name), answered };
}

async function signatureWaitsOf(deps: SignatureWaitDependencies, service: CatalogEntry, now: string): Promise<Waiter[]> {
  return (await deps.waiters.waitingOn(service.name, now, 'events')).filter((w) => w.waitsFor === 'signature');
}
