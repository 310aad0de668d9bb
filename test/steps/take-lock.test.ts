/** "Take the service lock" with the real ledger (on dynalite): who goes, who waits, who is superseded, and where a rollback goes. */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DeploymentKey, DeploymentRecord } from '../../lambdas/contract/ledger-records';
import type { Trigger } from '../../lambdas/contract/steps';
import { deploymentKey } from '../../lambdas/adapters/ledger-items';
import { logger } from '../../lambdas/shared/logger';
import { createTakeLockHandler, type TakeLockDependencies } from '../../lambdas/steps/take-lock';
import { sentimentService } from '../fixtures/catalog';
import { digestOf, executionArn, ledgerPerTest, seedDeployment, SERVICE, taskDefinition } from '../fixtures/ledger';

const service = sentimentService();
/** The lease of sentimentService(): 2 × (900 s deadline + 30 s poll) + 15 min. */
const LEASE_SECONDS = 2760;
const RECEIVED_AT = '2026-11-20T01:16:47.000Z';
const PUSH: Trigger = { kind: 'push', requestedBy: null, reason: null };
const ME = executionArn('push-v1-3-0');
const OTHER = executionArn('push-v1-2-0');

const db = ledgerPerTest();
let now: Date;
let mine: DeploymentRecord;

beforeAll(() => logger.setLogLevel('SILENT'));

beforeEach(async () => {
  now = new Date('2026-11-20T01:20:00.000Z');
  mine = await seedDeployment(db.ledger, { name: 'push-v1-3-0', tag: 'v1.3.0', digest: digestOf('3'), receivedAt: RECEIVED_AT });
});

function takeLock(ledger: TakeLockDependencies['ledger'] = db.ledger) {
  const handler = createTakeLockHandler({ ledger, clock: () => new Date(now) });
  return (key: DeploymentKey = mine.key, trigger: Trigger = PUSH) =>
    handler({ service, trigger, key, executionArn: executionArn(key.sk.split('#').pop()!) });
}

const later = (seconds: number) => new Date(now.getTime() + seconds * 1000).toISOString();

/** The lock, held by OTHER (tag v1.2.0) until `expiresAt`. */
async function lockHeldByOther(expiresAt: string) {
  const acquired = await db.ledger.acquireLock(
    {
      service: SERVICE,
      holder: { executionArn: OTHER, key: deploymentKey(SERVICE, '2026-11-20T01:00:00.000Z', OTHER), tag: 'v1.2.0' },
      acquiredAt: '2026-11-20T01:00:00.000Z',
      expiresAt,
    },
    '2026-11-20T01:00:00.000Z',
  );
  expect(acquired).toEqual({ acquired: true });
}

const statuses = (record: DeploymentRecord | null) => record?.history.map((change) => change.status);

describe('take the service lock', () => {
  it('marks a received release waiting on its first call, and only once', async () => {
    await lockHeldByOther(later(600));
    const step = takeLock();

    await step();
    now = new Date(now.getTime() + 30_000);
    await step();

    const record = await db.ledger.get(mine.key);
    expect(record).toMatchObject({ status: 'waiting', reason: expect.stringContaining('waiting for the service'), lockedAt: null });
    expect(statuses(record)).toEqual(['received', 'waiting']);
  });

  it('takes a free service: the record is deploying from now, the lock held for one lease', async () => {
    const turn = await takeLock()();

    expect(turn).toEqual({
      verdict: 'acquired',
      reason: expect.stringContaining('the service is free'),
      lastKnownGood: null,
      knownBad: [],
    });
    const record = await db.ledger.get(mine.key);
    expect(record).toMatchObject({ status: 'deploying', lockedAt: now.toISOString(), reason: turn.reason });
    expect(statuses(record)).toEqual(['received', 'waiting', 'deploying']);
    await expect(db.ledger.getLock(SERVICE)).resolves.toEqual({
      service: SERVICE,
      holder: { executionArn: ME, key: mine.key, tag: 'v1.3.0' },
      acquiredAt: now.toISOString(),
      expiresAt: later(LEASE_SECONDS),
    });
  });

  it('binds the release tag to its (verified) image once it holds the lock', async () => {
    await takeLock()();

    await expect(db.ledger.getTag(SERVICE, 'v1.3.0')).resolves.toEqual({
      service: SERVICE,
      tag: 'v1.3.0',
      digest: digestOf('3'),
      firstSeenAt: now.toISOString(),
      executionArn: ME,
    });
  });

  it('is rejected when another verified image bound the tag meanwhile, holding the lock for the outcome to free, not deploying', async () => {
    await db.ledger.recordTag(SERVICE, 'v1.3.0', digestOf('9'), '2026-11-20T01:18:00.000Z', OTHER);

    const turn = await takeLock()();

    expect(turn).toEqual({
      verdict: 'rejected',
      reason: expect.stringContaining(`Tag "v1.3.0" already names image ${digestOf('9')}`),
      lastKnownGood: null,
      knownBad: [],
    });
    await expect(db.ledger.get(mine.key)).resolves.toMatchObject({ status: 'waiting' });
    await expect(db.ledger.getTag(SERVICE, 'v1.3.0')).resolves.toMatchObject({ digest: digestOf('9'), executionArn: OTHER });
  });

  it('waits while another execution holds the lock, naming it; the record stays waiting', async () => {
    await lockHeldByOther(later(600));

    const turn = await takeLock()();

    expect(turn).toEqual({ verdict: 'wait', reason: expect.stringContaining(OTHER), lastKnownGood: null, knownBad: [] });
    expect(turn.reason).toContain('v1.2.0');
    await expect(db.ledger.get(mine.key)).resolves.toMatchObject({ status: 'waiting', lockedAt: null });
    await expect(db.ledger.getLock(SERVICE)).resolves.toMatchObject({ holder: { executionArn: OTHER } });
  });

  it('takes over a lock whose lease has run out', async () => {
    await lockHeldByOther(now.toISOString());

    const turn = await takeLock()();

    expect(turn).toMatchObject({ verdict: 'acquired', reason: expect.stringContaining(`the lease of ${OTHER} expired`) });
    await expect(db.ledger.getLock(SERVICE)).resolves.toMatchObject({ holder: { executionArn: ME }, expiresAt: later(LEASE_SECONDS) });
    await expect(db.ledger.get(mine.key)).resolves.toMatchObject({ status: 'deploying' });
  });

  it('waits, naming the winner, when another execution takes the lock between the look and the write', async () => {
    await lockHeldByOther(later(600));
    const ledger = db.ledger;
    // A look at the ledger from before the other execution took the lock.
    const staleLook: TakeLockDependencies['ledger'] = {
      get: (...args) => ledger.get(...args),
      changeStatus: (...args) => ledger.changeStatus(...args),
      listDeployments: (...args) => ledger.listDeployments(...args),
      listDigests: (...args) => ledger.listDigests(...args),
      acquireLock: (...args) => ledger.acquireLock(...args),
      recordTag: (...args) => ledger.recordTag(...args),
      getLock: async () => null,
    };

    const turn = await takeLock(staleLook)();

    expect(turn).toEqual({
      verdict: 'wait',
      reason: expect.stringContaining(`v1.2.0 (execution ${OTHER}) took the service first`),
      lastKnownGood: null,
      knownBad: [],
    });
    await expect(db.ledger.get(mine.key)).resolves.toMatchObject({ status: 'waiting' });
    await expect(db.ledger.getLock(SERVICE)).resolves.toMatchObject({ holder: { executionArn: OTHER } });
  });

  it('is superseded by a higher version that is waiting too, and leaves the lock alone', async () => {
    const higher = await seedDeployment(db.ledger, {
      name: 'push-v1-4-0',
      tag: 'v1.4.0',
      digest: digestOf('4'),
      receivedAt: '2026-11-20T01:18:00.000Z',
      status: 'waiting',
    });

    const turn = await takeLock()();

    expect(turn).toEqual({
      verdict: 'superseded',
      reason: expect.stringContaining(higher.executionArn),
      lastKnownGood: null,
      knownBad: [],
    });
    expect(turn.reason).toContain('v1.4.0 is waiting too');
    await expect(db.ledger.getLock(SERVICE)).resolves.toBeNull();
    await expect(db.ledger.get(mine.key)).resolves.toMatchObject({ status: 'waiting', final: false });
  });

  it('is not superseded by a lower version that is waiting', async () => {
    await seedDeployment(db.ledger, {
      name: 'push-v1-2-9',
      tag: 'v1.2.9',
      digest: digestOf('2'),
      receivedAt: '2026-11-20T01:18:00.000Z',
      status: 'waiting',
    });

    await expect(takeLock()()).resolves.toMatchObject({ verdict: 'acquired' });
  });

  it('is never superseded by rank when it is an operator’s rollback', async () => {
    await seedDeployment(db.ledger, {
      name: 'push-v1-4-0',
      tag: 'v1.4.0',
      digest: digestOf('4'),
      receivedAt: '2026-11-20T01:18:00.000Z',
      status: 'waiting',
    });

    await expect(takeLock()(mine.key, { kind: 'rollback', requestedBy: 'alice', reason: 'bad model' })).resolves.toMatchObject({
      verdict: 'acquired',
    });
  });

  describe('the last known good version, learnt with the lock', () => {
    it('is the newest succeeded deployment whose digest is not quarantined', async () => {
      const oldest = {
        tag: 'v1.0.0',
        digest: digestOf('0'),
        receivedAt: '2026-11-01T10:00:00.000Z',
        finishedAt: '2026-11-01T10:10:00.000Z',
      };
      const good = { tag: 'v1.1.0', digest: digestOf('1'), receivedAt: '2026-11-05T10:00:00.000Z', finishedAt: '2026-11-05T10:10:00.000Z' };
      const bad = { tag: 'v1.2.0', digest: digestOf('2'), receivedAt: '2026-11-10T10:00:00.000Z', finishedAt: '2026-11-10T10:10:00.000Z' };
      await seedDeployment(db.ledger, { name: 'push-v1-0-0', ...oldest, status: 'succeeded', taskDefinitionAfter: taskDefinition(4) });
      await seedDeployment(db.ledger, { name: 'push-v1-1-0', ...good, status: 'succeeded', taskDefinitionAfter: taskDefinition(5) });
      await seedDeployment(db.ledger, { name: 'push-v1-2-0', ...bad, status: 'succeeded', taskDefinitionAfter: taskDefinition(6) });
      // Rolled back later by an operator: quarantined, no longer good.
      await db.ledger.quarantine(SERVICE, bad.digest, {
        at: '2026-11-12T08:00:00.000Z',
        reason: 'accuracy regression',
        executionArn: executionArn('rollback'),
        tag: bad.tag,
      });

      const turn = await takeLock()();

      expect(turn).toMatchObject({
        verdict: 'acquired',
        lastKnownGood: { tag: 'v1.1.0', digest: good.digest, taskDefinitionArn: taskDefinition(5), succeededAt: good.finishedAt },
        // The rollback goes to the last known good: which releases failed does not matter.
        knownBad: [],
      });
    });

    it('is null when no deployment of the service ever succeeded', async () => {
      await seedDeployment(db.ledger, {
        name: 'push-v1-2-0',
        tag: 'v1.2.0',
        digest: digestOf('2'),
        receivedAt: '2026-11-10T10:00:00.000Z',
        status: 'rolled-back',
        taskDefinitionAfter: taskDefinition(6),
      });

      await expect(takeLock()()).resolves.toMatchObject({ verdict: 'acquired', lastKnownGood: null });
    });

    it('comes, when null, with the releases the ledger knows failed, which the fallback to the previous revision must not return to', async () => {
      await seedDeployment(db.ledger, {
        name: 'push-v1-2-0',
        tag: 'v1.2.0',
        digest: digestOf('2'),
        receivedAt: '2026-11-10T10:00:00.000Z',
        finishedAt: '2026-11-10T10:20:00.000Z',
        status: 'rollback-failed',
      });
      await db.ledger.quarantine(SERVICE, digestOf('2'), {
        at: '2026-11-10T10:20:00.000Z',
        reason: 'rollback failed',
        executionArn: executionArn('push-v1-2-0'),
        tag: 'v1.2.0',
      });
      await seedDeployment(db.ledger, {
        name: 'push-v1-1-0',
        tag: 'v1.1.0',
        digest: digestOf('1'),
        receivedAt: '2026-11-09T10:00:00.000Z',
        status: 'deployment-failed',
      });

      await expect(takeLock()()).resolves.toMatchObject({
        verdict: 'acquired',
        lastKnownGood: null,
        knownBad: [{ tag: 'v1.2.0', digest: digestOf('2'), outcome: 'rollback-failed', at: '2026-11-10T10:20:00.000Z' }],
      });
    });
  });

  it('throws when the ledger has no record under the key it is given', async () => {
    const missing = deploymentKey(SERVICE, RECEIVED_AT, executionArn('never-recorded'));

    await expect(takeLock()(missing)).rejects.toThrow(missing.sk);
    await expect(db.ledger.getLock(SERVICE)).resolves.toBeNull();
  });
});
