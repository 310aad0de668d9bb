/**
 * The service lock against a real (in-process) DynamoDB: conditions, list_append, string sets and the index are
 * DynamoDB's own behaviour, which a mock would only restate. Each test gets a fresh table.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { DeploymentLedger } from '../../lambdas/adapters/ledger';
import { ledgerPerTest } from '../fixtures/ledger';
import { executionArn, lockFor, SERVICE } from '../fixtures/ledger-adapter';

const perTest = ledgerPerTest();
let ledger: DeploymentLedger;

beforeEach(() => {
  ledger = perTest.ledger;
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
