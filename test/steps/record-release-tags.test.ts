/** "Record the release in the ledger" for an operator's rollback, a downgrade, and a release tag already bound. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Trigger } from '../../lambdas/contract/steps';
import { deploymentKey } from '../../lambdas/adapters/ledger-items';
import { InvalidInputError } from '../../lambdas/errors';
import type { RecordReleaseInput } from '../../lambdas/steps/record-release';
import { executionArn, REPOSITORY, SERVICE, taskDefinition } from '../fixtures/ledger';
import { COMPLETES, FIRST, SECOND, account, digest, recordReleasePerTest, recordRelease, input } from '../fixtures/record-release';

const db = recordReleasePerTest();

describe('record the release in the ledger', () => {
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
