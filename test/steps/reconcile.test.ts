/**
 * The reconciliation with a simulated ECR (tags as repositories really hold them: releases, hotfixes, development
 * tags, `latest`, cosign signature tags) and the real ledger (on dynalite); starting executions is a recording fake.
 */
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CatalogEntry } from '../../lambdas/contract/catalog';
import { ecrPushEventSchema, START_EVENTS } from '../../lambdas/contract/start-events';
import { executionName, type ExecutionLookup, type StartedExecution } from '../../lambdas/steps/ports/pipeline-executions';
import { ImageRegistry } from '../../lambdas/adapters/image-registry';
import { ReconciliationFailedError } from '../../lambdas/errors';
import { logger } from '../../lambdas/shared/logger';
import { createReconcileHandler, MAX_RECONCILE_ATTEMPTS, reconcileExecutionName } from '../../lambdas/steps/reconcile';
import { createCosignSignature, generateSigningKeyPair } from '../../local/cosign-signer';
import { SimulatedAccount } from '../../local/simulated-account';
import { sentimentService } from '../fixtures/catalog';
import { executionArn, ledgerPerTest, REPOSITORY, seedDeployment, SERVICE, taskDefinition } from '../fixtures/ledger';

const COMPLETES = { result: 'completes', settlesAfterSeconds: 60 } as const;
const signingKey = generateSigningKeyPair();
const sentiment = sentimentService();
/** A second service whose name its repository does not contain, so that a message naming one cannot pass for the other. */
const summarise: CatalogEntry = { ...sentimentService(), name: 'summarise', repository: 'models/summary', service: 'summarise' };

const db = ledgerPerTest();
let account: SimulatedAccount;
let started: ReturnType<typeof vi.fn<(name: string, input: unknown) => Promise<StartedExecution>>>;
let described: ReturnType<typeof vi.fn<(name: string) => Promise<ExecutionLookup>>>;
/** The digests of the sentiment repository's images, by the tag they were first pushed under. */
let digests: Record<string, string>;

beforeAll(() => logger.setLogLevel('SILENT'));

beforeEach(() => {
  account = new SimulatedAccount();
  started = vi.fn(async (name: string) => ({ executionArn: executionArn(name), alreadyStarted: false as const }));
  described = vi.fn(async (name: string) => ({ executionArn: executionArn(name), status: 'RUNNING' as const }));
  // Pushed in an order other than rank: the reconciliation goes by the release policy's ranking, not by arrival.
  digests = {};
  for (const tag of ['v1.3.0-hotfix.1', 'v1.3.0', 'v1.2.0', 'v1.5.0-dev.1', 'v2'])
    digests[tag] = account.pushImage(REPOSITORY, tag, COMPLETES);
  account.tagImage(REPOSITORY, 'latest', digests['v1.3.0']!);
  account.pushSignature(
    REPOSITORY,
    createCosignSignature({
      privateKey: signingKey.privateKeyPem,
      repositoryUri: account.repositoryUri(REPOSITORY),
      digest: digests['v1.3.0-hotfix.1']!,
    }),
  );
});

function reconcile(catalog: CatalogEntry[] = [sentiment]) {
  return createReconcileHandler({
    catalog,
    registry: new ImageRegistry(account.ecr as never, account.fetchBlob),
    ledger: db.ledger,
    executions: { start: started, describe: described },
    account: account.account,
    region: account.region,
    clock: account.clock,
  });
}

describe('reconcile missed pushes', () => {
  it('starts the newest allowed tag the ledger does not know, with a reconciliation start event', async () => {
    const newest = digests['v1.3.0-hotfix.1']!;
    const name = executionName('reconcile', SERVICE, newest.slice(7, 31));

    const result = await reconcile()();

    expect(result).toEqual({
      services: [{ service: SERVICE, action: 'started', tag: 'v1.3.0-hotfix.1', digest: newest, executionArn: executionArn(name) }],
    });
    expect(started).toHaveBeenCalledTimes(1);
    const [startedName, event] = started.mock.calls[0]!;
    expect(startedName).toBe(name);
    expect(startedName).toMatch(/^reconcile-sentiment-[0-9a-f]{24}$/);
    expect(event).toMatchObject({
      source: START_EVENTS.reconciliation.source,
      'detail-type': START_EVENTS.reconciliation.detailType,
      account: account.account,
      region: account.region,
      time: account.clock().toISOString(),
      detail: { 'repository-name': REPOSITORY, 'image-digest': newest, 'image-tag': 'v1.3.0-hotfix.1' },
    });
    // The pipeline starts from it as from a push.
    expect(ecrPushEventSchema.safeParse(event).success).toBe(true);
  });

  it('gives the same execution name to the same missed digest, whenever it is found', async () => {
    await reconcile()();
    account.advance(3600);
    await reconcile()();

    const [first, second] = started.mock.calls.map(([name]) => name);
    expect(second).toBe(first);
  });

  it('allows development tags where the service may run them', async () => {
    await reconcile([{ ...sentiment, environment: 'staging' }])();

    expect(started).toHaveBeenCalledWith(
      expect.any(String),
      expect.objectContaining({ detail: expect.objectContaining({ 'image-tag': 'v1.5.0-dev.1' }) }),
    );
  });

  it.each([
    [
      'noted (an execution is on it)',
      async (digest: string) => void (await db.ledger.noteDigest(SERVICE, digest, 'v1.3.0-hotfix.1', '2026-11-20T01:00:00.000Z')),
    ],
    [
      'rejected',
      async (digest: string) =>
        void (await seedDeployment(db.ledger, {
          name: 'push-hotfix',
          tag: 'v1.3.0-hotfix.1',
          digest,
          receivedAt: '2026-11-20T01:00:00.000Z',
          status: 'rejected',
        })),
    ],
    [
      'quarantined',
      async (digest: string) =>
        db.ledger.quarantine(SERVICE, digest, {
          at: '2026-11-20T01:00:00.000Z',
          reason: 'rolled back',
          executionArn: executionArn('push-hotfix'),
          tag: 'v1.3.0-hotfix.1',
        }),
    ],
    [
      'succeeded',
      async (digest: string) =>
        db.ledger.markSucceeded(SERVICE, digest, {
          at: '2026-11-20T01:00:00.000Z',
          tag: 'v1.3.0-hotfix.1',
          executionArn: executionArn('push-hotfix'),
          taskDefinitionArn: taskDefinition(8),
        }),
    ],
  ])('leaves the newest digest alone when the ledger has seen it: %s', async (_, seen) => {
    await seen(digests['v1.3.0-hotfix.1']!);

    const result = await reconcile()();

    expect(result.services).toEqual([
      { service: SERVICE, action: 'already-decided', tag: 'v1.3.0-hotfix.1', digest: digests['v1.3.0-hotfix.1'], executionArn: null },
    ]);
    expect(started).not.toHaveBeenCalled();
  });

  it.each(['RUNNING', 'PENDING_REDRIVE', 'missing'] as const)(
    'reports already-started, naming it, when the execution of that name is open (%s), and starts no other',
    async (status) => {
      const name = reconcileExecutionName(SERVICE, digests['v1.3.0-hotfix.1']!, 1);
      started.mockResolvedValueOnce({ executionArn: null, alreadyStarted: true });
      described.mockResolvedValueOnce({ executionArn: executionArn(name), status });

      await expect(reconcile()()).resolves.toEqual({
        services: [
          {
            service: SERVICE,
            action: 'already-started',
            tag: 'v1.3.0-hotfix.1',
            digest: digests['v1.3.0-hotfix.1'],
            executionArn: executionArn(name),
          },
        ],
      });
      expect(started).toHaveBeenCalledTimes(1);
      expect(described).toHaveBeenCalledWith(name);
    },
  );

  // Step Functions keeps a closed execution's name for 90 days: the release must not wait that long.
  it.each(['FAILED', 'ABORTED', 'TIMED_OUT', 'SUCCEEDED'] as const)(
    'starts the release again under the next name when the execution of its name closed (%s) before the ledger recorded it',
    async (status) => {
      const digest = digests['v1.3.0-hotfix.1']!;
      started.mockResolvedValueOnce({ executionArn: null, alreadyStarted: true });
      described.mockResolvedValueOnce({ executionArn: executionArn(reconcileExecutionName(SERVICE, digest, 1)), status });

      const result = await reconcile()();

      const again = `${executionName('reconcile', SERVICE, digest.slice(7, 31))}-2`;
      expect(started.mock.calls.map(([name]) => name)).toEqual([executionName('reconcile', SERVICE, digest.slice(7, 31)), again]);
      expect(started.mock.calls[1]![1]).toMatchObject({
        source: START_EVENTS.reconciliation.source,
        detail: { 'image-digest': digest, 'image-tag': 'v1.3.0-hotfix.1' },
      });
      expect(result.services).toEqual([
        { service: SERVICE, action: 'started', tag: 'v1.3.0-hotfix.1', digest, executionArn: executionArn(again) },
      ]);
    },
  );

  it('starts nothing more when the closed execution recorded the release after this reconciliation first looked', async () => {
    const digest = digests['v1.3.0-hotfix.1']!;
    started.mockResolvedValueOnce({ executionArn: null, alreadyStarted: true });
    // The execution of that name ended (in a Fail state, as most outcomes do) having recorded the digest meanwhile.
    described.mockImplementationOnce(async (name) => {
      await db.ledger.noteDigest(SERVICE, digest, 'v1.3.0-hotfix.1', '2026-11-20T01:10:00.000Z');
      return { executionArn: executionArn(name), status: 'FAILED' };
    });

    const result = await reconcile()();

    expect(result.services).toEqual([{ service: SERVICE, action: 'already-decided', tag: 'v1.3.0-hotfix.1', digest, executionArn: null }]);
    expect(started).toHaveBeenCalledTimes(1);
  });

  it('goes through the attempts in order, the same in every reconciliation, and stops at the first open one', async () => {
    const digest = digests['v1.3.0-hotfix.1']!;
    const closed = new Set([1, 2].map((n) => reconcileExecutionName(SERVICE, digest, n)));
    const open = reconcileExecutionName(SERVICE, digest, 3);
    started.mockImplementation(async (name) =>
      closed.has(name) || name === open
        ? { executionArn: null, alreadyStarted: true }
        : { executionArn: executionArn(name), alreadyStarted: false },
    );
    described.mockImplementation(async (name) => ({ executionArn: executionArn(name), status: closed.has(name) ? 'FAILED' : 'RUNNING' }));

    const result = await reconcile()();

    expect(started.mock.calls.map(([name]) => name)).toEqual([...closed, open]);
    expect(result.services[0]).toMatchObject({ action: 'already-started', executionArn: executionArn(open) });
  });

  it(`gives up, starting nothing more, once ${MAX_RECONCILE_ATTEMPTS} attempts have closed before the ledger recorded the release`, async () => {
    started.mockResolvedValue({ executionArn: null, alreadyStarted: true });
    described.mockImplementation(async (name) => ({ executionArn: executionArn(name), status: 'FAILED' }));

    const result = await reconcile()();

    expect(result.services).toEqual([
      { service: SERVICE, action: 'gave-up', tag: 'v1.3.0-hotfix.1', digest: digests['v1.3.0-hotfix.1'], executionArn: null },
    ]);
    const names = started.mock.calls.map(([name]) => name);
    expect(names).toHaveLength(MAX_RECONCILE_ATTEMPTS);
    expect(new Set(names).size).toBe(MAX_RECONCILE_ATTEMPTS);
  });

  it('starts nothing for a repository without an allowed tag (development, invalid and signature tags only)', async () => {
    const other = new SimulatedAccount();
    const dev = other.pushImage(REPOSITORY, 'v2.0.0-dev.3', COMPLETES);
    other.tagImage(REPOSITORY, 'latest', dev);
    other.pushSignature(
      REPOSITORY,
      createCosignSignature({ privateKey: signingKey.privateKeyPem, repositoryUri: other.repositoryUri(REPOSITORY), digest: dev }),
    );
    account = other;

    await expect(reconcile()()).resolves.toEqual({
      services: [{ service: SERVICE, action: 'nothing-tagged', tag: null, digest: null, executionArn: null }],
    });
    expect(started).not.toHaveBeenCalled();
  });

  it('reconciles the other services when one fails, then throws a ReconciliationFailedError naming it', async () => {
    // models/summary does not exist in the account: DescribeImages answers RepositoryNotFoundException.
    const error = await reconcile([summarise, sentiment])().catch((e: unknown) => e);

    expect(started).toHaveBeenCalledTimes(1);
    expect(started.mock.calls[0]![1]).toMatchObject({ detail: { 'repository-name': REPOSITORY } });
    expect(error).toBeInstanceOf(ReconciliationFailedError);
    expect((error as ReconciliationFailedError).name).toBe('ReconciliationFailedError');
    expect((error as ReconciliationFailedError).failures).toEqual([expect.objectContaining({ name: 'RepositoryNotFoundException' })]);
    expect((error as ReconciliationFailedError).message).toContain('summarise');
    expect((error as ReconciliationFailedError).message).not.toContain(SERVICE);
  });
});

describe('reconcileExecutionName', () => {
  const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;

  it('is the name of earlier versions for the first attempt, and adds the attempt after it', () => {
    expect(reconcileExecutionName('sentiment', digest, 1)).toBe('reconcile-sentiment-0123456789abcdef01234567');
    expect(reconcileExecutionName('sentiment', digest, 2)).toBe('reconcile-sentiment-0123456789abcdef01234567-2');
  });

  it('shortens a long service name, never the digest or the attempt, to fit 80 characters', () => {
    const service = 'a-very-long-service-name-for-a-model'.repeat(3);
    const names = [1, 2, 5].map((attempt) => reconcileExecutionName(service, digest, attempt));

    for (const name of names) expect(name.length).toBeLessThanOrEqual(80);
    expect(names[0]).toMatch(/^reconcile-a-very-long-.*-0123456789abcdef01234567$/);
    expect(names[0]).toHaveLength(80);
    expect(names[1]).toMatch(/-0123456789abcdef01234567-2$/);
    expect(new Set(names).size).toBe(3);
  });
});
