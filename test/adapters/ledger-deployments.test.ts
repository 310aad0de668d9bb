/**
 * The ledger's deployment records against a real (in-process) DynamoDB: conditions, list_append, string sets and the index are
 * DynamoDB's own behaviour, which a mock would only restate. Each test gets a fresh table.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import type { DeploymentRecord } from '../../lambdas/contract/ledger-records';
import type { DeploymentLedger } from '../../lambdas/adapters/ledger';
import { deploymentKey } from '../../lambdas/adapters/ledger-items';
import { InvalidInputError } from '../../lambdas/errors';
import { ledgerPerTest } from '../fixtures/ledger';
import { AFTER_ARN, BEFORE_ARN, DIGEST, executionArn, lockFor, received, SERVICE } from '../fixtures/ledger-adapter';

const perTest = ledgerPerTest();
let ledger: DeploymentLedger;

beforeEach(() => {
  ledger = perTest.ledger;
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

describe('DeploymentLedger.noteGrayProgress', () => {
  const progress = {
    step: 2,
    of: 5,
    weight: 10,
    stepStartedAt: '2026-11-02T10:10:00.000Z',
    bakeEndsAt: '2026-11-02T10:40:00.000Z',
    analysis: { verdict: 'passed', decision: 'keep-baking', reason: 'canary: 300 requests', at: '2026-11-02T10:15:00.000Z' },
  };

  it('notes where a gray release stands on its open record, without a history entry', async () => {
    const { key } = await ledger.recordReceived(received());
    await expect(ledger.noteGrayProgress(key, progress)).resolves.toBe(true);
    const record = await ledger.get(key);
    expect(record?.grayProgress).toEqual(progress);
    expect(record?.history).toHaveLength(1);
  });

  it('leaves a final record as it is', async () => {
    const { key } = await ledger.recordReceived(received());
    await ledger.finalise(key, {
      status: 'rolled-back',
      at: '2026-11-02T11:00:00.000Z',
      reason: 'stopped',
      error: 'ReleaseRolledBack',
    } as never);
    await expect(ledger.noteGrayProgress(key, progress)).resolves.toBe(false);
    expect((await ledger.get(key))?.grayProgress).toBeUndefined();
  });
});
