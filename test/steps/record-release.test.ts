/**
 * "Record the release in the ledger" with the real ledger (on dynalite) and the real registry adapter reading images
 * from a simulated ECR: what is written, what is claimed and what the Choice state is told.
 */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CatalogEntry } from '../../lambdas/contract/catalog';
import type { PolicyCode, Trigger } from '../../lambdas/contract/steps';
import { deploymentKey } from '../../lambdas/adapters/ledger-items';
import { ImageRegistry } from '../../lambdas/adapters/image-registry';
import { InvalidInputError, TransientAwsError } from '../../lambdas/errors';
import { logger } from '../../lambdas/shared/logger';
import { createRecordReleaseHandler, type RecordReleaseDependencies, type RecordReleaseInput } from '../../lambdas/steps/record-release';
import { SimulatedAccount } from '../../local/simulated-account';
import { sentimentService } from '../fixtures/catalog';
import { digestOf, executionArn, ledgerPerTest, REPOSITORY, SERVICE, taskDefinition } from '../fixtures/ledger';

const COMPLETES = { result: 'completes', settlesAfterSeconds: 60 } as const;
const MODEL_LABELS = { model_id: 'sentiment-xl-2026-11', accuracy: '0.931', training_data_version: '2026-10-30' };
const RUNNING_DIGEST = digestOf('c');
const FIRST = executionArn('push-v1-3-0');
const SECOND = executionArn('push-v1-3-0-again');
/**
 * How long an admitted release holds its digest: the wait for a late signature (0 s here) and two leases of
 * 2 × (900 s deadline + 30 s poll) + 15 min = 2,760 s each.
 */
const CLAIM_SECONDS = 2 * 2760;

const service = sentimentService();
const db = ledgerPerTest();
let account: SimulatedAccount;
let digest: string;

beforeAll(() => logger.setLogLevel('SILENT'));

beforeEach(() => {
  account = new SimulatedAccount();
  digest = account.pushImage(REPOSITORY, 'v1.3.0', COMPLETES, MODEL_LABELS);
});

function recordRelease(ledger: RecordReleaseDependencies['ledger'] = db.ledger) {
  return createRecordReleaseHandler({ ledger, registry: new ImageRegistry(account.ecr as never, account.fetchBlob), clock: account.clock });
}

/** What "Check release against policy" hands on, plus the execution's ARN and start. Accepted, push, v1.2.0 running. */
function input(
  overrides: {
    tag?: string;
    digest?: string;
    execution?: string;
    trigger?: Trigger;
    /** What "Check release against policy" can decide (the tag's reuse is decided here, with the ledger). */
    policy?: { verdict: 'accepted' | 'rejected'; code: Exclude<PolicyCode, 'release-tag-reused'>; reason?: string };
    service?: CatalogEntry | null;
    runningDigest?: string | null;
    repositoryName?: string;
  } = {},
): RecordReleaseInput {
  const tag = overrides.tag ?? 'v1.3.0';
  const imageDigest = overrides.digest ?? digest;
  const repositoryName = overrides.repositoryName ?? REPOSITORY;
  const repositoryUri = `123456789012.dkr.ecr.us-east-1.amazonaws.com/${repositoryName}`;
  const entry = overrides.service === undefined ? service : overrides.service;
  const policy = overrides.policy ?? { verdict: 'accepted', code: 'accepted' };
  return {
    subject: { service: entry?.name ?? null, environment: entry?.environment ?? null },
    trigger: overrides.trigger ?? { kind: 'push', requestedBy: null, reason: null },
    release: { repositoryName, repositoryUri, tag, digest: imageDigest, imageUri: `${repositoryUri}@${imageDigest}` },
    service: entry,
    running: entry
      ? {
          taskDefinitionArn: taskDefinition(7),
          version: 'v1.2.0',
          digest: overrides.runningDigest === undefined ? RUNNING_DIGEST : overrides.runningDigest,
        }
      : null,
    policy: { ...policy, reason: policy.reason ?? `policy says ${policy.code}` },
    executionArn: overrides.execution ?? FIRST,
    startedAt: account.clock().toISOString(),
  };
}

const claimUntil = () => new Date(account.clock().getTime() + CLAIM_SECONDS * 1000).toISOString();

describe('record the release in the ledger', () => {
  it('records the release as received, with the model labels of its image config, and admits it', async () => {
    const startedAt = account.clock().toISOString();

    const admission = await recordRelease()(input());

    const key = deploymentKey(SERVICE, startedAt, FIRST);
    expect(admission).toEqual({ key, verdict: 'admitted', code: 'admitted', reason: expect.stringContaining(digest) });
    await expect(db.ledger.get(key)).resolves.toMatchObject({
      status: 'received',
      final: false,
      service: SERVICE,
      environment: 'production',
      repository: REPOSITORY,
      tag: 'v1.3.0',
      digest,
      trigger: { kind: 'push', requestedBy: null, reason: null },
      executionArn: FIRST,
      receivedAt: startedAt,
      reason: 'policy says accepted',
      history: [{ status: 'received', at: startedAt, reason: 'policy says accepted' }],
      taskDefinitionBefore: taskDefinition(7),
      model: { 'org.opencontainers.image.version': 'v1.3.0', ...MODEL_LABELS },
    });
  });

  it('claims the admitted digest for the execution, long enough for the longest execution', async () => {
    await recordRelease()(input());

    await expect(db.ledger.getDigest(SERVICE, digest)).resolves.toMatchObject({
      tags: ['v1.3.0'],
      claim: { executionArn: FIRST, until: claimUntil() },
      succeeded: null,
      quarantine: null,
    });
  });

  it('writes no second record when the step is retried with the same input', async () => {
    const step = recordRelease();
    const sameInput = input();
    const first = await step(sameInput);
    account.advance(5);

    const retried = await step(sameInput);

    expect(retried).toEqual(first);
    await expect(db.ledger.listDeployments(SERVICE)).resolves.toHaveLength(1);
  });

  it('records a release the policy rejected, without admitting it, reading its labels or claiming its digest', async () => {
    const devDigest = account.pushImage(REPOSITORY, 'v1.4.0-dev.1', COMPLETES, MODEL_LABELS);
    account.calls.length = 0;
    const policy = {
      verdict: 'rejected',
      code: 'development-tag-in-production',
      reason: 'Tag "v1.4.0-dev.1" is a development tag.',
    } as const;

    const admission = await recordRelease()(input({ tag: 'v1.4.0-dev.1', digest: devDigest, policy }));

    expect(admission).toMatchObject({ verdict: 'not-checked', code: 'policy-rejected', reason: policy.reason });
    await expect(db.ledger.get(admission.key!)).resolves.toMatchObject({
      status: 'received',
      tag: 'v1.4.0-dev.1',
      reason: policy.reason,
      model: {},
    });
    expect(account.calls).toEqual([]);
    await expect(db.ledger.getDigest(SERVICE, devDigest)).resolves.toMatchObject({ tags: ['v1.4.0-dev.1'], claim: null });
  });

  it('writes nothing for a repository no service is configured for', async () => {
    const policy = {
      verdict: 'rejected',
      code: 'repository-not-configured',
      reason: 'No service is configured for "models/unknown".',
    } as const;

    const admission = await recordRelease()(input({ service: null, repositoryName: 'models/unknown', policy }));

    expect(admission).toEqual({ key: null, verdict: 'not-checked', code: 'policy-rejected', reason: policy.reason });
    await expect(db.items()).resolves.toEqual([]);
    expect(account.calls).toEqual([]);
  });

  it('answers duplicate to a second execution for the digest while the first holds its claim, and records it too', async () => {
    const step = recordRelease();
    await step(input());
    account.tagImage(REPOSITORY, 'v1.3.0-hotfix.1', digest);

    const second = await step(input({ tag: 'v1.3.0-hotfix.1', execution: SECOND }));

    expect(second).toMatchObject({ verdict: 'duplicate', code: 'duplicate', reason: expect.stringContaining(FIRST) });
    await expect(db.ledger.get(second.key!)).resolves.toMatchObject({ status: 'received', executionArn: SECOND, tag: 'v1.3.0-hotfix.1' });
    await expect(db.ledger.getDigest(SERVICE, digest)).resolves.toMatchObject({
      tags: ['v1.3.0', 'v1.3.0-hotfix.1'],
      claim: { executionArn: FIRST },
    });
  });

  it('admits a second execution for the digest once the first one’s claim has run out', async () => {
    const step = recordRelease();
    await step(input());
    account.advance(CLAIM_SECONDS);

    const second = await step(input({ execution: SECOND }));

    expect(second).toMatchObject({ verdict: 'admitted', code: 'admitted' });
    await expect(db.ledger.getDigest(SERVICE, digest)).resolves.toMatchObject({ claim: { executionArn: SECOND } });
  });

  it('answers duplicate to the loser of a race for the digest, naming the winner', async () => {
    // The winner claims the digest after the loser read the ledger but before it wrote its claim.
    const ledger = db.ledger;
    const racing: RecordReleaseDependencies['ledger'] = {
      recordReceived: (...args) => ledger.recordReceived(...args),
      noteDigest: (...args) => ledger.noteDigest(...args),
      getTag: (...args) => ledger.getTag(...args),
      getDigest: (...args) => ledger.getDigest(...args),
      getLock: (...args) => ledger.getLock(...args),
      claimDigest: async (...args) => {
        await ledger.claimDigest(SERVICE, digest, { executionArn: SECOND, until: claimUntil() }, account.clock().toISOString());
        return ledger.claimDigest(...args);
      },
    };

    const admission = await recordRelease(racing)(input());

    expect(admission).toMatchObject({ verdict: 'duplicate', code: 'duplicate', reason: expect.stringContaining(SECOND) });
    await expect(db.ledger.getDigest(SERVICE, digest)).resolves.toMatchObject({ claim: { executionArn: SECOND } });
  });

  it('answers duplicate (already running) for the digest the service runs, without claiming it', async () => {
    const admission = await recordRelease()(input({ runningDigest: digest }));

    expect(admission).toMatchObject({ verdict: 'duplicate', code: 'already-running' });
    await expect(db.ledger.get(admission.key!)).resolves.toMatchObject({ status: 'received' });
    await expect(db.ledger.getDigest(SERVICE, digest)).resolves.toMatchObject({ claim: null });
  });

  it('refuses a quarantined digest, naming the command that releases it', async () => {
    await db.ledger.quarantine(SERVICE, digest, {
      at: '2026-11-19T10:00:00.000Z',
      reason: '5xx rate above 2%',
      executionArn: executionArn('earlier'),
      tag: 'v1.3.0',
    });

    const admission = await recordRelease()(input());

    expect(admission).toMatchObject({ verdict: 'refused', code: 'quarantined' });
    expect(admission.reason).toContain(`model-rollout quarantine release --service ${SERVICE} --digest ${digest}`);
    expect(admission.reason).toContain('5xx rate above 2%');
    await expect(db.ledger.getDigest(SERVICE, digest)).resolves.toMatchObject({ claim: null });
  });

  describe('an operator’s rollback', () => {
    const rollback: Trigger = { kind: 'rollback', requestedBy: 'alice', reason: 'v1.4.0 misclassifies sarcasm' };

    it('is refused when the ledger has no succeeded deployment of the digest', async () => {
      const admission = await recordRelease()(input({ trigger: rollback }));

      expect(admission).toMatchObject({ verdict: 'refused', code: 'rollback-target-not-good' });
      await expect(db.ledger.get(admission.key!)).resolves.toMatchObject({ trigger: rollback });
      await expect(db.ledger.getDigest(SERVICE, digest)).resolves.toMatchObject({ claim: null });
    });

    it('is admitted to a digest that once succeeded', async () => {
      await db.ledger.markSucceeded(SERVICE, digest, {
        at: '2026-11-10T09:00:00.000Z',
        tag: 'v1.3.0',
        executionArn: executionArn('earlier'),
        taskDefinitionArn: taskDefinition(5),
      });

      const admission = await recordRelease()(input({ trigger: rollback }));

      expect(admission).toMatchObject({
        verdict: 'admitted',
        code: 'admitted',
        reason: expect.stringContaining('2026-11-10T09:00:00.000Z'),
      });
      await expect(db.ledger.getDigest(SERVICE, digest)).resolves.toMatchObject({ claim: { executionArn: FIRST } });
    });
  });

  it('answers duplicate to a second push of a digest that already succeeded', async () => {
    await db.ledger.markSucceeded(SERVICE, digest, {
      at: '2026-11-10T09:00:00.000Z',
      tag: 'v1.3.0',
      executionArn: executionArn('earlier'),
      taskDefinitionArn: taskDefinition(5),
    });

    await expect(recordRelease()(input())).resolves.toMatchObject({ verdict: 'duplicate', code: 'duplicate' });
  });

  describe('a downgrade', () => {
    const downgrade = { verdict: 'rejected', code: 'downgrade', reason: 'Tag "v1.3.0" would downgrade the service.' } as const;

    async function lockHeldBy(tag: string, expiresInSeconds: number) {
      const now = account.clock();
      const holder = executionArn(`push-${tag}`);
      await db.ledger.acquireLock(
        {
          service: SERVICE,
          holder: { executionArn: holder, key: deploymentKey(SERVICE, now.toISOString(), holder), tag },
          acquiredAt: now.toISOString(),
          expiresAt: new Date(now.getTime() + expiresInSeconds * 1000).toISOString(),
        },
        now.toISOString(),
      );
      return holder;
    }

    it('is superseded while a higher version holds the service lock', async () => {
      const holder = await lockHeldBy('v1.4.0', 600);

      const admission = await recordRelease()(input({ policy: downgrade }));

      expect(admission).toMatchObject({ verdict: 'superseded', code: 'superseded', reason: expect.stringContaining(holder) });
      expect(admission.reason).toContain('v1.4.0');
      await expect(db.ledger.get(admission.key!)).resolves.toMatchObject({ status: 'received', model: {} });
    });

    it('stays a rejection when nothing holds the service lock', async () => {
      const admission = await recordRelease()(input({ policy: downgrade }));

      expect(admission).toMatchObject({ verdict: 'not-checked', code: 'policy-rejected', reason: downgrade.reason });
    });

    it('stays a rejection when the higher version’s lease has run out', async () => {
      await lockHeldBy('v1.4.0', 600);
      account.advance(600);

      await expect(recordRelease()(input({ policy: downgrade }))).resolves.toMatchObject({
        verdict: 'not-checked',
        code: 'policy-rejected',
      });
    });
  });

  describe('model labels that cannot be read', () => {
    it('do not hold up a release whose config blob is missing: the record says why instead', async () => {
      account.failNext('GetDownloadUrlForLayer', 'LayersNotFoundException');

      const admission = await recordRelease()(input());

      expect(admission).toMatchObject({ verdict: 'admitted' });
      const record = await db.ledger.get(admission.key!);
      expect(record?.model).toEqual({ 'model-rollout:labels-unreadable': expect.stringContaining('LayersNotFoundException') });
    });

    it('do not hold up a release whose manifest names no config', async () => {
      const bare = digestOf('e');
      account.holdImageAt(REPOSITORY, bare);

      const admission = await recordRelease()(input({ digest: bare }));

      expect(admission).toMatchObject({ verdict: 'admitted' });
      const record = await db.ledger.get(admission.key!);
      expect(record?.model).toEqual({ 'model-rollout:labels-unreadable': expect.stringContaining('names no image config') });
    });

    it('rethrow a transient ECR failure as TransientAwsError, for the state machine to retry', async () => {
      account.failNext('BatchGetImage', 'ThrottlingException');

      await expect(recordRelease()(input())).rejects.toThrow(TransientAwsError);
    });
  });

  describe('a release tag names one image for good', () => {
    let otherImage: string;
    beforeEach(async () => {
      await recordRelease()(input());
      // The first image, verified, took the service under the tag ("Take the service lock" binds it).
      await db.ledger.recordTag(SERVICE, 'v1.3.0', digest, account.clock().toISOString(), FIRST);
      // The same tag pushed again with another image (ECR moves a mutable tag).
      otherImage = account.pushImage(REPOSITORY, 'v1.3.0', COMPLETES);
      expect(otherImage).not.toBe(digest);
      account.advance(60);
    });

    it('binds nothing itself: an image nobody verified yet cannot claim a tag', async () => {
      const unverified = account.pushImage(REPOSITORY, 'v1.5.0', COMPLETES);

      await expect(recordRelease()(input({ tag: 'v1.5.0', digest: unverified, execution: SECOND }))).resolves.toMatchObject({
        verdict: 'admitted',
      });
      await expect(db.ledger.getTag(SERVICE, 'v1.5.0')).resolves.toBeNull();
    });

    it('rejects another image under the tag, naming the tag, both images and what to push instead, and claims nothing', async () => {
      const first = await db.ledger.getTag(SERVICE, 'v1.3.0');

      const admission = await recordRelease()(input({ digest: otherImage, execution: SECOND }));

      expect(admission).toMatchObject({ verdict: 'rejected', code: 'release-tag-reused' });
      expect(admission.reason).toBe(
        `Tag "v1.3.0" already names image ${digest} for this service (recorded ${first!.firstSeenAt}); this push names ${otherImage}. ` +
          'Release tags are immutable releases: push the new image as a new version (for example v1.3.1 or v1.3.0-hotfix.1) instead.',
      );
      // Recorded like any release (the outcome finalises it), bound to nothing, claimed by no one.
      await expect(db.ledger.get(admission.key!)).resolves.toMatchObject({ status: 'received', tag: 'v1.3.0', digest: otherImage });
      await expect(db.ledger.getTag(SERVICE, 'v1.3.0')).resolves.toMatchObject({ digest, executionArn: FIRST });
      await expect(db.ledger.getDigest(SERVICE, otherImage)).resolves.toMatchObject({ tags: ['v1.3.0'], claim: null });
    });

    it.each<[string, Trigger]>([
      ['a reconciliation', { kind: 'reconciliation', requestedBy: null, reason: null }],
      ['an operator’s rollback', { kind: 'rollback', requestedBy: 'alice', reason: 'bad model' }],
    ])('rejects another image under the tag whatever started it: %s', async (_, trigger) => {
      await expect(recordRelease()(input({ digest: otherImage, execution: SECOND, trigger }))).resolves.toMatchObject({
        verdict: 'rejected',
        code: 'release-tag-reused',
      });
    });

    it('lets the same image under the tag through to the admission (a redelivery is a duplicate, as before)', async () => {
      await expect(recordRelease()(input({ execution: SECOND }))).resolves.toMatchObject({
        verdict: 'duplicate',
        code: 'duplicate',
        reason: expect.stringContaining(FIRST),
      });
    });

    it('binds no tag for a release the policy rejected', async () => {
      const downgrade = { verdict: 'rejected', code: 'downgrade', reason: 'Tag "v1.1.0" would downgrade the service.' } as const;
      const old = account.pushImage(REPOSITORY, 'v1.1.0', COMPLETES);

      await expect(recordRelease()(input({ tag: 'v1.1.0', digest: old, execution: SECOND, policy: downgrade }))).resolves.toMatchObject({
        verdict: 'not-checked',
        code: 'policy-rejected',
        reason: downgrade.reason,
      });
      await expect(db.ledger.getTag(SERVICE, 'v1.1.0')).resolves.toBeNull();
    });

    it('leaves development tags free to name a new image with every build', async () => {
      const dev = 'v1.4.0-dev.2';
      const build1 = account.pushImage(REPOSITORY, dev, COMPLETES, { build: '1' });
      await recordRelease()(input({ tag: dev, digest: build1, execution: executionArn('dev-build-1') }));
      const build2 = account.pushImage(REPOSITORY, dev, COMPLETES, { build: '2' });
      expect(build2).not.toBe(build1);

      await expect(recordRelease()(input({ tag: dev, digest: build2, execution: executionArn('dev-build-2') }))).resolves.toMatchObject({
        verdict: 'admitted',
      });
      await expect(db.ledger.getTag(SERVICE, dev)).resolves.toBeNull();
    });
  });

  it('keys the record on the execution’s start, whatever the clock says', async () => {
    account.advance(90);

    const admission = await recordRelease()({ ...input(), startedAt: '2026-11-20T01:16:47+00:00' });

    expect(admission.key).toEqual(deploymentKey(SERVICE, '2026-11-20T01:16:47.000Z', FIRST));
  });

  it('throws InvalidInputError naming a missing execution start, writing nothing', async () => {
    const { startedAt: _, ...withoutStart } = input();

    const error = await recordRelease()(withoutStart as RecordReleaseInput).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toContain('startedAt');
    await expect(db.items()).resolves.toEqual([]);
  });
});
