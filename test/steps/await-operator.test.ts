/**
 * A gray release's waits an operator ends (await-operator), with its real store: waiters in an in-process DynamoDB,
 * read back as `model-rollout approve` reads them.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LedgerTable } from '../../lambdas/adapters/ledger-table';
import { LedgerWaiters } from '../../lambdas/adapters/ledger-waiters';
import { humanWaitSchema } from '../../lambdas/contract/operator-decisions';
import { InvalidInputError } from '../../lambdas/errors';
import { logger } from '../../lambdas/shared/logger';
import { type AwaitOperatorInput, createAwaitOperatorHandler } from '../../lambdas/steps/await-operator';
import { grayRelease, sentimentService } from '../fixtures/catalog';
import { executionArn, ledgerPerTest } from '../fixtures/ledger';

const perTest = ledgerPerTest();
beforeAll(() => logger.setLogLevel('SILENT'));

const NOW = new Date('2026-12-06T10:00:00.000Z');
const service = sentimentService({ release: grayRelease() });

function setUp() {
  const waiters = new LedgerWaiters(new LedgerTable(perTest.database.documentClient, perTest.tableName));
  return { waiters, handler: createAwaitOperatorHandler({ waiters, clock: () => NOW }) };
}

const input = (fields: Partial<AwaitOperatorInput> = {}): AwaitOperatorInput => ({
  service,
  taskToken: 'token-1',
  executionArn: executionArn('v1-3-0'),
  waitingState: "Wait for an operator's approval",
  waitsFor: 'approval',
  timeoutSeconds: 300,
  tag: 'v1.3.0',
  trigger: 'push',
  step: { number: 2, of: 5, weight: 10 },
  why: 'step 2 of 5 passed and asks for approval before the release goes on',
  deadline: '2026-12-06T11:00:00.000Z',
  ...fields,
});

describe('await-operator', () => {
  it('stores an approval waiter the CLI can read, expiring with this wait but telling the approval deadline', async () => {
    const { waiters, handler } = setUp();
    expect(await handler(input())).toEqual({ waitsFor: 'approval', until: '2026-12-06T11:00:00.000Z' });
    const [waiter] = await waiters.waitingOn(service.name, NOW.toISOString());
    expect(waiter).toMatchObject({
      waitsFor: 'approval',
      taskToken: 'token-1',
      state: "Wait for an operator's approval",
      expiresAt: '2026-12-06T10:05:00.000Z',
    });
    expect(humanWaitSchema.parse(waiter.check)).toEqual({
      tag: 'v1.3.0',
      trigger: 'push',
      step: 2,
      of: 5,
      weight: 10,
      why: 'step 2 of 5 passed and asks for approval before the release goes on',
      until: '2026-12-06T11:00:00.000Z',
    });
    // Expired with its wait: the next wait stores a new token.
    expect(await waiters.waitingOn(service.name, '2026-12-06T10:05:00.000Z')).toEqual([]);
  });

  it('stores a bake until its next analysis, and before the first step names no step', async () => {
    const { waiters, handler } = setUp();
    await handler(input({ waitsFor: 'bake', waitingState: 'Bake the step until the next analysis', deadline: undefined }));
    await handler(input({ taskToken: 'token-2', step: null }));
    const found = await waiters.waitingOn(service.name, NOW.toISOString());
    const bake = found.find((w) => w.waitsFor === 'bake');
    expect(bake?.check).toMatchObject({ step: 2, until: '2026-12-06T10:05:00.000Z' });
    const first = found.find((w) => w.waitsFor === 'approval');
    expect(first?.check).toMatchObject({ step: null, of: 5, weight: 0 });
  });

  it('replaces the waiter of the same state with the new token (a wait after a timeout)', async () => {
    const { waiters, handler } = setUp();
    await handler(input());
    await handler(input({ taskToken: 'token-2' }));
    const found = await waiters.waitingOn(service.name, NOW.toISOString());
    expect(found.map((w) => w.taskToken)).toEqual(['token-2']);
  });

  it('refuses a wait no operator can answer, naming the field', async () => {
    const { handler } = setUp();
    await expect(handler(input({ waitsFor: 'canary' as never }))).rejects.toThrow(InvalidInputError);
    await expect(handler(input({ waitsFor: 'canary' as never }))).rejects.toThrow(/waitsFor/);
  });
});
