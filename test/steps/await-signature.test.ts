/**
 * The wait for a late signature, through function await-health's handler, with its real stores: waiters and the noted
 * pushes in an in-process DynamoDB, tokens answered through the adapter into the local run's Step Functions tokens.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LedgerTable } from '../../lambdas/adapters/ledger-table';
import { LedgerWaiters } from '../../lambdas/adapters/ledger-waiters';
import { TaskTokens } from '../../lambdas/adapters/task-tokens';
import type { CatalogEntry } from '../../lambdas/contract/catalog';
import { InvalidInputError } from '../../lambdas/errors';
import { logger } from '../../lambdas/shared/logger';
import { createAwaitHealthHandler } from '../../lambdas/steps/await-health';
import type { SignatureWaitStarted } from '../../lambdas/steps/await-signature';
import { SimulatedAccount } from '../../local/simulated-account';
import { SimulatedTime } from '../../local/simulated-time';
import { LocalTaskTokens } from '../../local/task-tokens';
import { sentimentService } from '../fixtures/catalog';
import { executionArn, ledgerPerTest } from '../fixtures/ledger';

const STATE = 'Wait for the signature to arrive';
const DIGEST = `sha256:${'ab'.repeat(32)}`;
const OTHER_DIGEST = `sha256:${'cd'.repeat(32)}`;
const service = sentimentService();
// Another service deploying images of the same repository, and one of another repository.
const twin = sentimentService({ name: 'sentiment-batch', service: 'sentiment-batch' });
const other = sentimentService({ name: 'summarizer', service: 'summarizer', repository: 'models/summarizer' });

const perTest = ledgerPerTest();
beforeAll(() => logger.setLogLevel('SILENT'));

function world(catalog: CatalogEntry[] = [service, twin, other]) {
  const tokens = new LocalTaskTokens(new SimulatedTime(new SimulatedAccount()));
  const waiters = new LedgerWaiters(new LedgerTable(perTest.database.documentClient, perTest.tableName));
  const clock = { now: '2026-12-06T10:00:00.000Z' };
  const handler = createAwaitHealthHandler({
    target: { observeDeployment: async () => Promise.reject(new Error('no health is read for a signature')) },
    alarms: { states: async () => Promise.reject(new Error('no alarm is read for a signature')) },
    clock: () => new Date(clock.now),
    waiters,
    locks: { getLock: async () => Promise.reject(new Error('no lock is read for a signature')) },
    tokens: new TaskTokens({ send: async (command: any) => tokens.sendTaskSuccess(command.input) }),
    catalog,
  });
  /** Execution `name` starts waiting for the signature of `digest`, verified last at `checkedAt`. */
  const wait = async (name: string, options: { on?: CatalogEntry; digest?: string; checkedAt?: string } = {}) => {
    const taskToken = tokens.open(executionArn(name), STATE);
    const started = (await handler({
      service: options.on ?? service,
      digest: options.digest ?? DIGEST,
      checkedAt: options.checkedAt ?? '2026-12-06T09:59:59.000Z',
      taskToken,
      executionArn: executionArn(name),
      waitingState: STATE,
      waitsFor: 'signature',
      timeoutSeconds: 15,
    })) as SignatureWaitStarted;
    return { taskToken, started };
  };
  /** Whether the token was answered (within no time: it is open or answered already). */
  const answered = async (taskToken: string) => tokens.answeredWithin(taskToken, 0);
  return { tokens, waiters, clock, handler, wait, answered };
}

/** ECR's "ECR Image Action" for a completed push (an untagged push carries no image-tag). */
function push(repositoryName: string, imageTag?: string) {
  return {
    version: '0',
    id: 'push-event',
    'detail-type': 'ECR Image Action',
    source: 'aws.ecr',
    account: '123456789012',
    time: '2026-12-06T10:00:05Z',
    region: 'us-east-1',
    resources: [],
    detail: {
      result: 'SUCCESS',
      'repository-name': repositoryName,
      'image-digest': `sha256:${'ef'.repeat(32)}`,
      'action-type': 'PUSH',
      ...(imageTag === undefined ? {} : { 'image-tag': imageTag }),
    },
  };
}

const cosignTagOf = (digest: string) => `${digest.replace(':', '-')}.sig`;

describe('await-health, waiting for a late signature', () => {
  it('stores a waiter until the next look, and a push of the cosign signature of its digest answers it', async () => {
    const w = world();
    const { taskToken, started } = await w.wait('push-1');
    expect(started).toEqual({ waiting: true, until: '2026-12-06T10:00:15.000Z' });
    expect(await w.waiters.waitingOn(service.name, w.clock.now)).toMatchObject([
      { waitsFor: 'signature', state: STATE, check: { digest: DIGEST }, expiresAt: '2026-12-06T10:00:15.000Z' },
    ]);

    w.clock.now = '2026-12-06T10:00:05.000Z';
    await expect(w.handler(push('models/sentiment', cosignTagOf(DIGEST)))).resolves.toEqual({
      services: [service.name, twin.name],
      answered: [{ service: service.name, executionArn: executionArn('push-1'), state: STATE }],
    });
    await expect(w.tokens.answer(taskToken, 0)).resolves.toEqual({ pushNotedAt: '2026-12-06T10:00:05.000Z' });
    expect(await w.waiters.waitingOn(service.name, w.clock.now)).toEqual([]);
  });

  it('is answered by an untagged push (a referrer, whose event does not name its image), not by another digest’s signature or another repository', async () => {
    const w = world();
    const mine = await w.wait('push-1');
    const otherRepository = await w.wait('push-2', { on: other });

    await expect(w.handler(push('models/sentiment', cosignTagOf(OTHER_DIGEST)))).resolves.toMatchObject({ answered: [] });
    await expect(w.handler(push('models/sentiment', 'v1.4.0'))).resolves.toMatchObject({ answered: [] });
    await expect(w.handler(push('models/unconfigured'))).resolves.toEqual({ services: [], answered: [] });
    expect(await w.answered(mine.taskToken)).toBe(false);

    await expect(w.handler(push('models/sentiment'))).resolves.toMatchObject({ answered: [{ executionArn: executionArn('push-1') }] });
    expect(await w.answered(mine.taskToken)).toBe(true);
    expect(await w.answered(otherRepository.taskToken)).toBe(false);
  });

  it('answers at once a wait that starts after a push noted since the verification looked, which no event could wake', async () => {
    const w = world();
    // The push's event came while nobody waited yet (the verification had looked at 09:59:59).
    await expect(w.handler(push('models/sentiment'))).resolves.toEqual({ services: [service.name, twin.name], answered: [] });
    w.clock.now = '2026-12-06T10:00:01.000Z';
    const late = await w.wait('push-1', { checkedAt: '2026-12-06T09:59:59.000Z' });
    expect(late.started).toEqual({ waiting: false, until: '2026-12-06T10:00:16.000Z' });
    await expect(w.tokens.answer(late.taskToken, 0)).resolves.toEqual({ pushNotedAt: '2026-12-06T10:00:00.000Z' });
    expect(await w.waiters.waitingOn(service.name, w.clock.now)).toEqual([]);

    // A verification that looked after that push saw whatever it brought: its wait waits. The push was noted for every
    // service of the repository, and for no other.
    const after = await w.wait('push-2', { checkedAt: '2026-12-06T10:00:00.500Z' });
    expect(after.started.waiting).toBe(true);
    expect((await w.wait('push-3', { on: twin, checkedAt: '2026-12-06T09:59:30.000Z' })).started.waiting).toBe(false);
    expect((await w.wait('push-4', { on: other, checkedAt: '2026-12-06T09:59:30.000Z' })).started.waiting).toBe(true);
  });

  it('does not answer at once for a push noted at the very moment of the look, or for a signature of another digest', async () => {
    const w = world();
    await w.handler(push('models/sentiment'));
    // Noted at 10:00:00.000, looked at the same instant: the look could see what it brought.
    expect((await w.wait('push-1', { checkedAt: '2026-12-06T10:00:00.000Z' })).started.waiting).toBe(true);

    w.clock.now = '2026-12-06T10:00:02.000Z';
    await w.handler(push('models/sentiment', cosignTagOf(OTHER_DIGEST)));
    // The last push noted signs another image: a wait for DIGEST that looked before it still waits ...
    expect((await w.wait('push-2', { checkedAt: '2026-12-06T10:00:01.000Z' })).started.waiting).toBe(true);
    // ... and one for OTHER_DIGEST is answered at once.
    expect((await w.wait('push-3', { digest: OTHER_DIGEST, checkedAt: '2026-12-06T10:00:01.000Z' })).started.waiting).toBe(false);
  });

  it('refuses a wait whose digest is not a sha256 digest, naming the field', async () => {
    const w = world();
    const taskToken = w.tokens.open(executionArn('push-1'), STATE);
    const input = {
      service,
      digest: 'v1.3.0',
      checkedAt: '2026-12-06T09:59:59.000Z',
      taskToken,
      executionArn: executionArn('push-1'),
      waitingState: STATE,
      waitsFor: 'signature',
      timeoutSeconds: 15,
    };
    const refused = w.handler(input);
    await expect(refused).rejects.toBeInstanceOf(InvalidInputError);
    await expect(refused).rejects.toThrow(/digest: must be sha256:<64 hex digits>/);
    expect(await w.waiters.waitingOn(service.name, w.clock.now)).toEqual([]);
  });
});
