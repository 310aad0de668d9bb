/**
 * What the ledger knows of digests and release tags against a real (in-process) DynamoDB: conditions, list_append, string sets and the index are
 * DynamoDB's own behaviour, which a mock would only restate. Each test gets a fresh table.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { DeploymentLedger } from '../../lambdas/adapters/ledger';
import { ledgerPerTest } from '../fixtures/ledger';
import { AFTER_ARN, DIGEST, executionArn, OTHER_DIGEST, received, SERVICE } from '../fixtures/ledger-adapter';

const perTest = ledgerPerTest();
let ledger: DeploymentLedger;

beforeEach(() => {
  ledger = perTest.ledger;
});

describe('DeploymentLedger digests', () => {
  const NOW = '2026-11-02T10:00:00.000Z';
  const LATER = '2026-11-02T10:30:00.000Z';
  const UNTIL = '2026-11-02T11:00:00.000Z';

  it('knows nothing of a digest never noted', async () => {
    await expect(ledger.getDigest(SERVICE, DIGEST)).resolves.toBeNull();
  });

  it('noteDigest keeps the first sighting and every tag, once each, sorted', async () => {
    await expect(ledger.noteDigest(SERVICE, DIGEST, 'v1.3.0', NOW)).resolves.toEqual({
      service: SERVICE,
      digest: DIGEST,
      tags: ['v1.3.0'],
      firstSeenAt: NOW,
      claim: null,
      succeeded: null,
      quarantine: null,
      released: null,
    });

    await ledger.noteDigest(SERVICE, DIGEST, 'v1.3.0-hotfix', LATER);
    const again = await ledger.noteDigest(SERVICE, DIGEST, 'v1.3.0', LATER);

    expect(again).toMatchObject({ firstSeenAt: NOW, tags: ['v1.3.0', 'v1.3.0-hotfix'] });
    await expect(ledger.getDigest(SERVICE, DIGEST)).resolves.toEqual(again);
  });

  describe('claimDigest', () => {
    const claimedBy = (name: string, until = UNTIL) => ({ executionArn: executionArn(name), until });

    it.each([
      { situation: 'no claim', existing: null, claimant: 'push-2', expected: true },
      {
        situation: 'a claim by another execution that has not run out',
        existing: claimedBy('push-1'),
        claimant: 'push-2',
        expected: false,
      },
      {
        situation: 'a claim by another execution that has run out',
        existing: claimedBy('push-1', '2026-11-02T09:59:59.999Z'),
        claimant: 'push-2',
        expected: true,
      },
      {
        situation: 'a claim by another execution running out right now',
        existing: claimedBy('push-1', NOW),
        claimant: 'push-2',
        expected: true,
      },
      { situation: 'a claim by the same execution (a retried step)', existing: claimedBy('push-2'), claimant: 'push-2', expected: true },
    ])('with $situation: claimed = $expected', async ({ existing, claimant, expected }) => {
      await ledger.noteDigest(SERVICE, DIGEST, 'v1.3.0', NOW);
      if (existing) await ledger.claimDigest(SERVICE, DIGEST, existing, '2026-11-02T09:00:00.000Z');
      const claim = { executionArn: executionArn(claimant), until: '2026-11-02T12:00:00.000Z' };

      await expect(ledger.claimDigest(SERVICE, DIGEST, claim, NOW)).resolves.toBe(expected);

      expect((await ledger.getDigest(SERVICE, DIGEST))?.claim).toEqual(expected ? claim : existing);
    });

    it('claims a digest never noted, leaving a complete digest record', async () => {
      await expect(ledger.claimDigest(SERVICE, DIGEST, claimedBy('push-1'), NOW)).resolves.toBe(true);

      await expect(ledger.getDigest(SERVICE, DIGEST)).resolves.toEqual({
        service: SERVICE,
        digest: DIGEST,
        tags: [],
        firstSeenAt: NOW,
        claim: claimedBy('push-1'),
        succeeded: null,
        quarantine: null,
        released: null,
      });
    });
  });

  it('releaseDigestClaim drops only the claim of the execution that holds it', async () => {
    await ledger.noteDigest(SERVICE, DIGEST, 'v1.3.0', NOW);
    await ledger.claimDigest(SERVICE, DIGEST, { executionArn: executionArn('push-1'), until: UNTIL }, NOW);

    await ledger.releaseDigestClaim(SERVICE, DIGEST, executionArn('push-2'));
    expect((await ledger.getDigest(SERVICE, DIGEST))?.claim).toEqual({ executionArn: executionArn('push-1'), until: UNTIL });

    await ledger.releaseDigestClaim(SERVICE, DIGEST, executionArn('push-1'));
    expect((await ledger.getDigest(SERVICE, DIGEST))?.claim).toBeNull();
  });

  it('releaseDigestClaim of an unknown digest does nothing and creates nothing', async () => {
    await expect(ledger.releaseDigestClaim(SERVICE, DIGEST, executionArn('push-1'))).resolves.toBeUndefined();

    await expect(ledger.getDigest(SERVICE, DIGEST)).resolves.toBeNull();
  });

  it('markSucceeded records the last success, keeping what else is known', async () => {
    await ledger.noteDigest(SERVICE, DIGEST, 'v1.3.0', NOW);
    const succeeded = { at: LATER, tag: 'v1.3.0', executionArn: executionArn('push-1'), taskDefinitionArn: AFTER_ARN };

    await ledger.markSucceeded(SERVICE, DIGEST, succeeded);

    expect(await ledger.getDigest(SERVICE, DIGEST)).toMatchObject({ succeeded, firstSeenAt: NOW, tags: ['v1.3.0'] });
  });

  describe('quarantine', () => {
    const quarantine = {
      at: LATER,
      reason: 'Unhealthy: sentiment-5xx-rate in ALARM.',
      executionArn: executionArn('push-1'),
      tag: 'v1.3.0',
    };
    const release = { at: '2026-11-03T09:00:00.000Z', by: 'arn:aws:iam::123456789012:user/ana', reason: 'Alarm was a false positive.' };

    it('quarantine marks the digest, releaseQuarantine lifts it and keeps who released it', async () => {
      await ledger.noteDigest(SERVICE, DIGEST, 'v1.3.0', NOW);
      await ledger.quarantine(SERVICE, DIGEST, quarantine);
      expect((await ledger.getDigest(SERVICE, DIGEST))?.quarantine).toEqual(quarantine);

      await expect(ledger.releaseQuarantine(SERVICE, DIGEST, release)).resolves.toBe('released');

      expect(await ledger.getDigest(SERVICE, DIGEST)).toMatchObject({ quarantine: null, released: release, tags: ['v1.3.0'] });
    });

    it('releaseQuarantine of a digest that is not quarantined says so and changes nothing', async () => {
      await ledger.noteDigest(SERVICE, DIGEST, 'v1.3.0', NOW);
      await ledger.quarantine(SERVICE, DIGEST, quarantine);
      await ledger.releaseQuarantine(SERVICE, DIGEST, release);

      await expect(ledger.releaseQuarantine(SERVICE, DIGEST, { ...release, at: '2026-11-04T00:00:00.000Z', reason: null })).resolves.toBe(
        'not-quarantined',
      );

      expect((await ledger.getDigest(SERVICE, DIGEST))?.released).toEqual(release);
    });

    it('releaseQuarantine of a digest the ledger does not know says so and creates nothing', async () => {
      await expect(ledger.releaseQuarantine(SERVICE, DIGEST, release)).resolves.toBe('unknown-digest');

      await expect(ledger.getDigest(SERVICE, DIGEST)).resolves.toBeNull();
    });
  });

  it('listDigests lists the service’s digests only', async () => {
    await ledger.noteDigest(SERVICE, DIGEST, 'v1.3.0', NOW);
    await ledger.noteDigest(SERVICE, OTHER_DIGEST, 'v1.4.0', LATER);
    await ledger.noteDigest('translation', DIGEST, 'v2.0.0', NOW);
    await ledger.recordReceived(received());

    const digests = await ledger.listDigests(SERVICE);

    expect(digests.map((digest) => [digest.digest, digest.tags])).toEqual([
      [DIGEST, ['v1.3.0']],
      [OTHER_DIGEST, ['v1.4.0']],
    ]);
  });
});

describe('DeploymentLedger release tags', () => {
  const NOW = '2026-11-02T10:00:00.000Z';
  const LATER = '2026-11-02T11:00:00.000Z';

  it('binds a tag to the first image recorded under it, and tells a later image which one that is', async () => {
    const first = { service: SERVICE, tag: 'v1.3.0', digest: DIGEST, firstSeenAt: NOW, executionArn: executionArn('push-1') };
    await expect(ledger.recordTag(SERVICE, 'v1.3.0', DIGEST, NOW, executionArn('push-1'))).resolves.toEqual(first);

    await expect(ledger.recordTag(SERVICE, 'v1.3.0', OTHER_DIGEST, LATER, executionArn('push-2'))).resolves.toEqual(first);
    await expect(ledger.recordTag(SERVICE, 'v1.3.0', DIGEST, LATER, executionArn('push-3'))).resolves.toEqual(first);
    await expect(ledger.getTag(SERVICE, 'v1.3.0')).resolves.toEqual(first);
  });

  it('lets exactly one of two images recorded under a tag at once win', async () => {
    const [a, b] = await Promise.all([
      ledger.recordTag(SERVICE, 'v1.3.0', DIGEST, NOW, executionArn('push-1')),
      ledger.recordTag(SERVICE, 'v1.3.0', OTHER_DIGEST, NOW, executionArn('push-2')),
    ]);

    expect(a).toEqual(b);
    expect([DIGEST, OTHER_DIGEST]).toContain(a.digest);
  });

  it('keeps tags apart per service and per tag, and answers null for a tag never recorded', async () => {
    await ledger.recordTag(SERVICE, 'v1.3.0', DIGEST, NOW, executionArn('push-1'));
    await ledger.recordTag('translation', 'v1.3.0', OTHER_DIGEST, NOW, executionArn('push-2'));

    await expect(ledger.getTag('translation', 'v1.3.0')).resolves.toMatchObject({ digest: OTHER_DIGEST });
    await expect(ledger.getTag(SERVICE, 'v1.3.1')).resolves.toBeNull();
    // Neither a digest nor, by its execution, a deployment record.
    await expect(ledger.listDigests(SERVICE)).resolves.toEqual([]);
    await expect(ledger.findByExecution(executionArn('push-1'))).resolves.toBeNull();
  });
});
