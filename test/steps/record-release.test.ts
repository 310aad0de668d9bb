/**
 * "Record the release in the ledger" with the real ledger (on dynalite) and the real registry adapter reading images
 * from a simulated ECR: what is written, what is claimed and what the Choice state is told.
 */
import { describe, expect, it } from 'vitest';
import { deploymentKey } from '../../lambdas/adapters/ledger-items';
import { TransientAwsError } from '../../lambdas/errors';
import type { RecordReleaseDependencies } from '../../lambdas/steps/record-release';
import { digestOf, executionArn, REPOSITORY, SERVICE, taskDefinition } from '../fixtures/ledger';
import {
  COMPLETES,
  MODEL_LABELS,
  FIRST,
  SECOND,
  CLAIM_SECONDS,
  account,
  digest,
  recordReleasePerTest,
  recordRelease,
  input,
  claimUntil,
} from '../fixtures/record-release';

const db = recordReleasePerTest();

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
});
