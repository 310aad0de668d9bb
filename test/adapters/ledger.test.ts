/**
 * The ledger adapter against a real (in-process) DynamoDB: conditions, list_append, string sets and the index are
 * DynamoDB's own behaviour, which a mock would only restate. Each test gets a fresh table.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { DeploymentRecord, ServiceLock } from '../../lambdas/contract/ledger-records';
import { deploymentKey, DeploymentLedger, type ReceivedDeployment } from '../../lambdas/adapters/ledger';
import { ERROR_NAMES, InvalidInputError, TransientAwsError } from '../../lambdas/errors';
import { ledgerPerTest } from '../fixtures/ledger';

const SERVICE = 'sentiment';
const DIGEST = `sha256:${'a'.repeat(64)}`;
const OTHER_DIGEST = `sha256:${'b'.repeat(64)}`;
const BEFORE_ARN = 'arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment:7';
const AFTER_ARN = 'arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment:8';

function executionArn(name: string): string {
  return `arn:aws:states:us-east-1:123456789012:execution:model-rollout-release:${name}`;
}

function received(overrides: Partial<ReceivedDeployment> = {}): ReceivedDeployment {
  return {
    service: SERVICE,
    environment: 'production',
    repository: 'models/sentiment',
    tag: 'v1.3.0',
    digest: DIGEST,
    trigger: { kind: 'push', requestedBy: null, reason: null },
    executionArn: executionArn('push-1'),
    receivedAt: '2026-11-02T10:00:00.000Z',
    reason: 'Pushed to models/sentiment as v1.3.0.',
    taskDefinitionBefore: BEFORE_ARN,
    model: { 'org.opencontainers.image.version': 'v1.3.0', model_id: 'sentiment-xl' },
    ...overrides,
  };
}

function lockFor(name: string, times: { acquiredAt: string; expiresAt: string }, tag = 'v1.3.0'): ServiceLock {
  return {
    service: SERVICE,
    holder: { executionArn: executionArn(name), key: deploymentKey(SERVICE, times.acquiredAt, executionArn(name)), tag },
    ...times,
  };
}

const perTest = ledgerPerTest();
let ledger: DeploymentLedger;

beforeEach(() => {
  ledger = perTest.ledger;
});

describe('deploymentKey', () => {
  it('sorts a service’s deployments by arrival, told apart by execution name', () => {
    expect(deploymentKey(SERVICE, '2026-11-02T10:00:00.000Z', executionArn('push-1'))).toEqual({
      service: SERVICE,
      sk: 'DEPLOYMENT#2026-11-02T10:00:00.000Z#push-1',
    });
  });
});

describe('DeploymentLedger.recordReceived', () => {
  it('writes a received, non-final record with one history entry and returns it', async () => {
    const record = await ledger.recordReceived(received());

    const expected: DeploymentRecord = {
      key: { service: SERVICE, sk: 'DEPLOYMENT#2026-11-02T10:00:00.000Z#push-1' },
      service: SERVICE,
      environment: 'production',
      repository: 'models/sentiment',
      tag: 'v1.3.0',
      digest: DIGEST,
      trigger: { kind: 'push', requestedBy: null, reason: null },
      executionArn: executionArn('push-1'),
      receivedAt: '2026-11-02T10:00:00.000Z',
      status: 'received',
      final: false,
      reason: 'Pushed to models/sentiment as v1.3.0.',
      error: null,
      history: [{ status: 'received', at: '2026-11-02T10:00:00.000Z', reason: 'Pushed to models/sentiment as v1.3.0.' }],
      lockedAt: null,
      finishedAt: null,
      signature: null,
      taskDefinitionBefore: BEFORE_ARN,
      taskDefinitionAfter: null,
      model: { 'org.opencontainers.image.version': 'v1.3.0', model_id: 'sentiment-xl' },
    };
    expect(record).toEqual(expected);
    await expect(ledger.get(record.key)).resolves.toEqual(expected);
  });

  it('stores the item under SERVICE#<service> with its kind, readable in the table', async () => {
    const record = await ledger.recordReceived(received());

    const { Item } = await perTest.database.documentClient.send(
      new GetCommand({ TableName: perTest.tableName, Key: { pk: 'SERVICE#sentiment', sk: record.key.sk } }),
    );
    expect(Item).toMatchObject({ kind: 'deployment', status: 'received', executionArn: executionArn('push-1') });
  });

  it('keeps an operator’s rollback request with the record', async () => {
    const trigger = { kind: 'rollback' as const, requestedBy: 'arn:aws:iam::123456789012:user/ana', reason: 'accuracy regression' };

    const record = await ledger.recordReceived(received({ trigger }));

    expect((await ledger.get(record.key))?.trigger).toEqual(trigger);
  });

  it('is idempotent: a retried step gets the record as it is now, not a fresh one', async () => {
    const first = await ledger.recordReceived(received());
    await ledger.changeStatus(first.key, { status: 'waiting', at: '2026-11-02T10:00:05.000Z', reason: 'Verified.' });

    const retried = await ledger.recordReceived(received({ reason: 'A retried step, worded differently.' }));

    expect(retried.status).toBe('waiting');
    expect(retried.history.map((change) => change.reason)).toEqual(['Pushed to models/sentiment as v1.3.0.', 'Verified.']);
    expect(await ledger.listDeployments(SERVICE)).toHaveLength(1);
  });
});

describe('DeploymentLedger.get', () => {
  it('answers null for a key with no record', async () => {
    await expect(ledger.get(deploymentKey(SERVICE, '2026-11-02T10:00:00.000Z', executionArn('nobody')))).resolves.toBeNull();
  });
});

describe('DeploymentLedger.changeStatus', () => {
  it('sets status and reason and appends the change to the history, oldest first', async () => {
    const { key } = await ledger.recordReceived(received());

    await expect(
      ledger.changeStatus(key, { status: 'waiting', at: '2026-11-02T10:00:05.000Z', reason: 'Waiting for v1.2.0.' }),
    ).resolves.toBe(true);
    await expect(
      ledger.changeStatus(
        key,
        { status: 'deploying', at: '2026-11-02T10:03:00.000Z', reason: 'Got the lock.' },
        { lockedAt: '2026-11-02T10:03:00.000Z' },
      ),
    ).resolves.toBe(true);

    const record = await ledger.get(key);
    expect(record).toMatchObject({ status: 'deploying', reason: 'Got the lock.', lockedAt: '2026-11-02T10:03:00.000Z', final: false });
    expect(record?.history).toEqual([
      { status: 'received', at: '2026-11-02T10:00:00.000Z', reason: 'Pushed to models/sentiment as v1.3.0.' },
      { status: 'waiting', at: '2026-11-02T10:00:05.000Z', reason: 'Waiting for v1.2.0.' },
      { status: 'deploying', at: '2026-11-02T10:03:00.000Z', reason: 'Got the lock.' },
    ]);
  });

  it('leaves lockedAt alone when not given', async () => {
    const { key } = await ledger.recordReceived(received());

    await ledger.changeStatus(key, { status: 'waiting', at: '2026-11-02T10:00:05.000Z', reason: 'Waiting.' });

    expect((await ledger.get(key))?.lockedAt).toBeNull();
  });

  it('refuses a final record: returns false and changes nothing', async () => {
    const { key } = await ledger.recordReceived(received());
    await ledger.finalise(key, {
      status: 'duplicate',
      reason: 'Already running.',
      error: null,
      at: '2026-11-02T10:00:01.000Z',
      taskDefinitionAfter: BEFORE_ARN,
    });
    const finalised = await ledger.get(key);

    await expect(ledger.changeStatus(key, { status: 'waiting', at: '2026-11-02T10:00:05.000Z', reason: 'Too late.' })).resolves.toBe(false);

    await expect(ledger.get(key)).resolves.toEqual(finalised);
  });

  it('throws InvalidInputError for a key with no record, instead of creating one', async () => {
    const key = deploymentKey(SERVICE, '2026-11-02T10:00:00.000Z', executionArn('nobody'));

    await expect(ledger.changeStatus(key, { status: 'waiting', at: '2026-11-02T10:00:05.000Z', reason: 'x' })).rejects.toThrow(
      InvalidInputError,
    );
    await expect(ledger.get(key)).resolves.toBeNull();
  });
});

describe('DeploymentLedger.finalise', () => {
  const evidence = [
    {
      format: 'cosign-simple-signing' as const,
      signer: { kind: 'public-key' as const, id: `sha256:${'c'.repeat(64)}` },
      signatureDigest: `sha256:${'d'.repeat(64)}`,
      signedAt: null,
    },
  ];

  it('writes the outcome, makes the record final and keeps the whole history', async () => {
    const { key } = await ledger.recordReceived(received());
    await ledger.changeStatus(
      key,
      { status: 'deploying', at: '2026-11-02T10:01:00.000Z', reason: 'Got the lock.' },
      { lockedAt: '2026-11-02T10:01:00.000Z' },
    );

    const done = await ledger.finalise(key, {
      status: 'rolled-back',
      reason: 'Unhealthy: sentiment-5xx-rate in ALARM.',
      error: 'ReleaseRolledBack',
      at: '2026-11-02T10:20:00.000Z',
      taskDefinitionAfter: BEFORE_ARN,
      signature: { code: 'verified', evidence },
    });

    expect(done).toBe(true);
    const record = await ledger.get(key);
    expect(record).toMatchObject({
      status: 'rolled-back',
      final: true,
      reason: 'Unhealthy: sentiment-5xx-rate in ALARM.',
      error: 'ReleaseRolledBack',
      finishedAt: '2026-11-02T10:20:00.000Z',
      lockedAt: '2026-11-02T10:01:00.000Z',
      taskDefinitionBefore: BEFORE_ARN,
      taskDefinitionAfter: BEFORE_ARN,
      signature: { code: 'verified', evidence },
    });
    expect(record?.history.map((change) => change.status)).toEqual(['received', 'deploying', 'rolled-back']);
  });

  it('leaves the signature alone when the outcome does not carry one', async () => {
    const { key } = await ledger.recordReceived(received());

    await ledger.finalise(key, {
      status: 'succeeded',
      reason: 'Healthy.',
      error: null,
      at: '2026-11-02T10:20:00.000Z',
      taskDefinitionAfter: AFTER_ARN,
    });

    expect(await ledger.get(key)).toMatchObject({ status: 'succeeded', signature: null, error: null, taskDefinitionAfter: AFTER_ARN });
  });

  it('refuses a second outcome: returns false and keeps the first', async () => {
    const { key } = await ledger.recordReceived(received());
    await ledger.finalise(key, {
      status: 'succeeded',
      reason: 'Healthy.',
      error: null,
      at: '2026-11-02T10:20:00.000Z',
      taskDefinitionAfter: AFTER_ARN,
    });

    const again = await ledger.finalise(key, {
      status: 'execution-failed',
      reason: 'The execution failed.',
      error: 'States.TaskFailed',
      at: '2026-11-02T10:21:00.000Z',
      taskDefinitionAfter: null,
    });

    expect(again).toBe(false);
    const record = await ledger.get(key);
    expect(record).toMatchObject({ status: 'succeeded', finishedAt: '2026-11-02T10:20:00.000Z', taskDefinitionAfter: AFTER_ARN });
    expect(record?.history).toHaveLength(2);
  });
});

describe('DeploymentLedger.findByExecution', () => {
  it('finds the record an execution made, whatever its service', async () => {
    await ledger.recordReceived(received());
    const wanted = await ledger.recordReceived(
      received({
        service: 'translation',
        repository: 'models/translation',
        executionArn: executionArn('push-2'),
        receivedAt: '2026-11-02T11:00:00.000Z',
      }),
    );

    await expect(ledger.findByExecution(executionArn('push-2'))).resolves.toEqual(wanted);
  });

  it('answers null for an execution that recorded nothing', async () => {
    await ledger.recordReceived(received());

    await expect(ledger.findByExecution(executionArn('never-ran'))).resolves.toBeNull();
  });
});

describe('DeploymentLedger.listDeployments', () => {
  async function recordAt(name: string, receivedAt: string, service = SERVICE) {
    await ledger.recordReceived(received({ service, executionArn: executionArn(name), receivedAt }));
  }

  it('lists the service’s deployments oldest first, without its digests, its lock or other services', async () => {
    await recordAt('third', '2026-11-02T12:00:00.000Z');
    await recordAt('first', '2026-11-02T10:00:00.000Z');
    await recordAt('second', '2026-11-02T11:00:00.000Z');
    await recordAt('elsewhere', '2026-11-02T10:30:00.000Z', 'translation');
    await ledger.noteDigest(SERVICE, DIGEST, 'v1.3.0', '2026-11-02T10:00:00.000Z');
    await ledger.acquireLock(
      lockFor('first', { acquiredAt: '2026-11-02T10:00:00.000Z', expiresAt: '2026-11-02T11:00:00.000Z' }),
      '2026-11-02T10:00:00.000Z',
    );

    const records = await ledger.listDeployments(SERVICE);

    expect(records.map((record) => record.executionArn)).toEqual([executionArn('first'), executionArn('second'), executionArn('third')]);
  });

  it('with receivedSince, lists only those received from then on (inclusive)', async () => {
    await recordAt('first', '2026-11-02T10:00:00.000Z');
    await recordAt('second', '2026-11-02T11:00:00.000Z');
    await recordAt('third', '2026-11-02T12:00:00.000Z');

    const records = await ledger.listDeployments(SERVICE, { receivedSince: '2026-11-02T11:00:00.000Z' });

    expect(records.map((record) => record.executionArn)).toEqual([executionArn('second'), executionArn('third')]);
  });

  it('lists nothing for a service the ledger does not know', async () => {
    await expect(ledger.listDeployments('unknown')).resolves.toEqual([]);
  });
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

describe('DeploymentLedger service lock', () => {
  const T0 = '2026-11-02T10:00:00.000Z';
  const T0_LEASE_END = '2026-11-02T11:00:00.000Z';
  const first = lockFor('push-1', { acquiredAt: T0, expiresAt: T0_LEASE_END });

  it('is free when never taken', async () => {
    await expect(ledger.getLock(SERVICE)).resolves.toBeNull();
  });

  it('is acquired when free, and then held by that execution', async () => {
    await expect(ledger.acquireLock(first, T0)).resolves.toEqual({ acquired: true });

    await expect(ledger.getLock(SERVICE)).resolves.toEqual(first);
  });

  it('is refused to a second execution while the lease runs, naming the holder', async () => {
    await ledger.acquireLock(first, T0);
    const second = lockFor('push-2', { acquiredAt: '2026-11-02T10:10:00.000Z', expiresAt: '2026-11-02T11:10:00.000Z' }, 'v1.4.0');

    await expect(ledger.acquireLock(second, '2026-11-02T10:10:00.000Z')).resolves.toEqual({ acquired: false, holder: first });
    await expect(ledger.getLock(SERVICE)).resolves.toEqual(first);
  });

  it('is re-acquired by its holder, renewing the lease', async () => {
    await ledger.acquireLock(first, T0);
    const renewed = lockFor('push-1', { acquiredAt: '2026-11-02T10:30:00.000Z', expiresAt: '2026-11-02T11:30:00.000Z' });

    await expect(ledger.acquireLock(renewed, '2026-11-02T10:30:00.000Z')).resolves.toEqual({ acquired: true });
    await expect(ledger.getLock(SERVICE)).resolves.toEqual(renewed);
  });

  it.each([
    ['after the lease ran out', '2026-11-02T11:00:00.001Z'],
    ['the moment the lease runs out', T0_LEASE_END],
  ])('is taken over from a crashed holder %s', async (_when, now) => {
    await ledger.acquireLock(first, T0);
    const takeover = lockFor('push-2', { acquiredAt: now, expiresAt: '2026-11-02T12:00:00.000Z' }, 'v1.4.0');

    await expect(ledger.acquireLock(takeover, now)).resolves.toEqual({ acquired: true });
    await expect(ledger.getLock(SERVICE)).resolves.toEqual(takeover);
  });

  it('is released only by its holder', async () => {
    await ledger.acquireLock(first, T0);

    await expect(ledger.releaseLock(SERVICE, executionArn('push-2'))).resolves.toBe(false);
    await expect(ledger.getLock(SERVICE)).resolves.toEqual(first);

    await expect(ledger.releaseLock(SERVICE, executionArn('push-1'))).resolves.toBe(true);
    await expect(ledger.getLock(SERVICE)).resolves.toBeNull();
    await expect(ledger.releaseLock(SERVICE, executionArn('push-1'))).resolves.toBe(false);
  });

  it('goes to exactly one of ten executions racing for it', async () => {
    const contenders = Array.from({ length: 10 }, (_, i) => lockFor(`push-${i}`, { acquiredAt: T0, expiresAt: T0_LEASE_END }));

    const attempts = await Promise.all(contenders.map((lock) => ledger.acquireLock(lock, T0)));

    const winners = contenders.filter((_, i) => attempts[i].acquired);
    expect(winners).toHaveLength(1);
    await expect(ledger.getLock(SERVICE)).resolves.toEqual(winners[0]);
    for (const attempt of attempts.filter((a) => !a.acquired)) {
      expect(attempt).toEqual({ acquired: false, holder: winners[0] });
    }
  });
});

describe('DeploymentLedger and AWS failures', () => {
  // A mocked client of its own: mocking the class would also mock the one that talks to the in-process DynamoDB.
  const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  const dynamo = mockClient(documentClient);
  const mockedLedger = new DeploymentLedger(documentClient, 'ledger');

  beforeEach(() => {
    dynamo.reset();
  });

  afterAll(() => {
    dynamo.restore();
  });

  it('turns throttling into TransientAwsError, which the state machine retries', async () => {
    dynamo
      .on(GetCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client', $metadata: {} }));

    const error = await mockedLedger.getLock(SERVICE).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TransientAwsError);
    expect((error as Error).name).toBe(ERROR_NAMES.transientAws);
    expect((error as Error).message).toContain('GetItem failed: ThrottlingException');
  });

  it('reads every page of a query', async () => {
    const item = (digest: string) => ({
      pk: 'SERVICE#sentiment',
      sk: `DIGEST#${digest}`,
      kind: 'digest',
      service: SERVICE,
      digest,
      tags: new Set(['v1.3.0']),
      firstSeenAt: '2026-11-02T10:00:00.000Z',
    });
    const nextPage = { pk: 'SERVICE#sentiment', sk: `DIGEST#${DIGEST}` };
    dynamo
      .on(QueryCommand)
      .resolvesOnce({ Items: [item(DIGEST)], LastEvaluatedKey: nextPage })
      .resolvesOnce({ Items: [item(OTHER_DIGEST)] });

    const digests = await mockedLedger.listDigests(SERVICE);

    expect(digests.map((digest) => digest.digest)).toEqual([DIGEST, OTHER_DIGEST]);
    expect(dynamo.commandCalls(QueryCommand).map((call) => call.args[0].input.ExclusiveStartKey)).toEqual([undefined, nextPage]);
  });
});
