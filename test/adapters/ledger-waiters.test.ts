/** Waiters against a real (in-process) DynamoDB: the conditional delete and the key layout are DynamoDB's own behaviour. */
import { beforeEach, describe, expect, it } from 'vitest';
import { LedgerTable } from '../../lambdas/adapters/ledger-table';
import { LedgerWaiters } from '../../lambdas/adapters/ledger-waiters';
import type { Waiter } from '../../lambdas/contract/ledger-records';
import { ledgerPerTest } from '../fixtures/ledger';
import { executionArn, SERVICE } from '../fixtures/ledger-adapter';

const perTest = ledgerPerTest();
let waiters: LedgerWaiters;
beforeEach(() => {
  waiters = new LedgerWaiters(new LedgerTable(perTest.database.documentClient, perTest.tableName));
});

const NOW = '2026-12-06T10:00:00.000Z';
const waiter = (name: string, overrides: Partial<Waiter> = {}): Waiter => ({
  service: SERVICE,
  executionArn: executionArn(name),
  state: 'Wait for the service to become healthy',
  waitsFor: 'deployment',
  taskToken: `token-of-${name}`,
  check: { taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment-task:8' },
  since: '2026-12-06T09:58:00.000Z',
  expiresAt: '2026-12-06T10:13:00.000Z',
  ...overrides,
});

describe('LedgerWaiters', () => {
  it("keeps a waiter in the service's partition, readable back whole, with a TTL in epoch seconds", async () => {
    await waiters.put(waiter('push-1'));
    await expect(waiters.waitingOn(SERVICE, NOW)).resolves.toEqual([waiter('push-1')]);
    const [item] = await perTest.items();
    expect(item).toMatchObject({
      pk: 'SERVICE#sentiment',
      sk: 'WAITER#push-1#Wait for the service to become healthy',
      kind: 'waiter',
      ttl: Date.parse('2026-12-06T10:13:00.000Z') / 1000,
    });
    // Kept out of the execution index, which holds deployment records only.
    expect(item).not.toHaveProperty('executionArn');
  });

  it('replaces the waiter of the same execution and state with the newer token', async () => {
    await waiters.put(waiter('push-1'));
    await waiters.put(waiter('push-1', { taskToken: 'second-token', since: '2026-12-06T09:59:00.000Z' }));
    await expect(waiters.waitingOn(SERVICE, NOW)).resolves.toEqual([
      waiter('push-1', { taskToken: 'second-token', since: '2026-12-06T09:59:00.000Z' }),
    ]);
  });

  it("lists the service's waiters oldest first, leaving out those whose wait has ended and other services'", async () => {
    await waiters.put(waiter('push-2', { since: '2026-12-06T09:59:00.000Z' }));
    await waiters.put(waiter('push-1'));
    await waiters.put(waiter('push-3', { expiresAt: NOW }));
    await waiters.put(waiter('push-4', { service: 'summarizer' }));
    const listed = await waiters.waitingOn(SERVICE, NOW);
    expect(listed.map((w) => w.executionArn)).toEqual([executionArn('push-1'), executionArn('push-2')]);
    // Every waiter kept, expired ones too (what status tells the current wait from), in both partitions.
    await waiters.put(waiter('push-5', { waitsFor: 'bake', state: 'Bake the step', since: '2026-12-06T09:59:30.000Z' }));
    const kept = await waiters.kept(SERVICE);
    expect(kept.map((w) => w.executionArn)).toEqual(['push-1', 'push-3', 'push-2', 'push-5'].map(executionArn));
  });

  it("keeps the waits an operator answers in the service's operator-waits partition, apart from the health waits", async () => {
    const approval = waiter('push-5', {
      waitsFor: 'approval',
      state: "Wait for an operator's approval",
      since: '2026-12-06T09:59:00.000Z',
    });
    await waiters.put(waiter('push-1'));
    await waiters.put(approval);
    const items = await perTest.items();
    expect(items.map((i) => i.pk).sort()).toEqual(['OPERATOR-WAITS#sentiment', 'SERVICE#sentiment']);
    expect(await waiters.waitingOn(SERVICE, NOW, 'operators')).toEqual([approval]);
    expect(await waiters.waitingOn(SERVICE, NOW, 'events')).toEqual([waiter('push-1')]);
    expect(await waiters.waitingOn(SERVICE, NOW)).toEqual([waiter('push-1'), approval]);
    await expect(waiters.remove(approval)).resolves.toBe(true);
    expect(await waiters.waitingOn(SERVICE, NOW, 'operators')).toEqual([]);
  });

  it('removes a waiter only while it holds the token it was read with', async () => {
    await waiters.put(waiter('push-1', { taskToken: 'newer' }));
    await expect(waiters.remove(waiter('push-1', { taskToken: 'older' }))).resolves.toBe(false);
    await expect(waiters.waitingOn(SERVICE, NOW)).resolves.toHaveLength(1);
    await expect(waiters.remove(waiter('push-1', { taskToken: 'newer' }))).resolves.toBe(true);
    await expect(waiters.waitingOn(SERVICE, NOW)).resolves.toEqual([]);
    await expect(waiters.remove(waiter('push-1', { taskToken: 'newer' }))).resolves.toBe(false);
  });
});
