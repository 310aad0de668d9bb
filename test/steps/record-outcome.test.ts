/**
 * "Record outcome in the ledger" with the real ledger (on dynalite): the record's outcome, what the digest becomes,
 * and that the execution's lock and digest claim are always freed, on a retry too.
 */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DeploymentRecord } from '../../lambdas/contract/ledger-records';
import type { OutcomeStatus } from '../../lambdas/contract/outcomes';
import { deploymentKey } from '../../lambdas/adapters/ledger-items';
import { logger } from '../../lambdas/shared/logger';
import { createRecordOutcomeHandler, type RecordOutcomeInput } from '../../lambdas/steps/record-outcome';
import { digestOf, executionArn, ledgerPerTest, seedDeployment, SERVICE, taskDefinition } from '../fixtures/ledger';

const NOW = new Date('2026-11-20T01:40:00.000Z');
const RECEIVED_AT = '2026-11-20T01:16:47.000Z';
const DIGEST = digestOf('3');
const ME = executionArn('push-v1-3-0');
const OTHER = executionArn('push-v1-4-0');
const BEFORE = taskDefinition(7);
const AFTER = taskDefinition(8);

const db = ledgerPerTest();
let record: DeploymentRecord;

beforeAll(() => logger.setLogLevel('SILENT'));

/** An execution in the middle of its rollout: deploying, holding the service lock and its digest's claim. */
beforeEach(async () => {
  record = await seedDeployment(db.ledger, {
    name: 'push-v1-3-0',
    tag: 'v1.3.0',
    digest: DIGEST,
    receivedAt: RECEIVED_AT,
    status: 'deploying',
    taskDefinitionBefore: BEFORE,
  });
  await db.ledger.claimDigest(SERVICE, DIGEST, { executionArn: ME, until: '2026-11-20T03:00:00.000Z' }, RECEIVED_AT);
  await holdLock(ME, record.key.sk, 'v1.3.0');
});

async function holdLock(holder: string, sk: string, tag: string) {
  await db.ledger.acquireLock(
    {
      service: SERVICE,
      holder: { executionArn: holder, key: { service: SERVICE, sk }, tag },
      acquiredAt: RECEIVED_AT,
      expiresAt: '2026-11-20T02:30:00.000Z',
    },
    RECEIVED_AT,
  );
}

const recordOutcome = () => createRecordOutcomeHandler({ ledger: db.ledger, clock: () => NOW });

type Outcome = RecordOutcomeInput['outcome'];

/** The `$.outcome` a "Record outcome" state writes for this execution; deployment-failed, service unchanged by default. */
function outcome(overrides: Partial<Outcome> = {}): RecordOutcomeInput {
  return {
    outcome: {
      status: 'deployment-failed',
      error: 'DeploymentFailed',
      reason: 'ECS deployment circuit breaker: tasks failed to start.',
      ledger: record.key,
      service: SERVICE,
      tag: 'v1.3.0',
      digest: DIGEST,
      execution: ME,
      serviceState: 'unchanged',
      ...overrides,
    },
  };
}

describe('record outcome in the ledger', () => {
  it('finalises the record with the outcome’s status, reason, error and time', async () => {
    await expect(recordOutcome()(outcome())).resolves.toEqual(outcome().outcome);

    const final = await db.ledger.get(record.key);
    expect(final).toMatchObject({
      status: 'deployment-failed',
      final: true,
      reason: 'ECS deployment circuit breaker: tasks failed to start.',
      error: 'DeploymentFailed',
      finishedAt: NOW.toISOString(),
    });
    expect(final?.history.at(-1)).toEqual({
      status: 'deployment-failed',
      at: NOW.toISOString(),
      reason: 'ECS deployment circuit breaker: tasks failed to start.',
    });
  });

  it('writes no error for an outcome that has none', async () => {
    await recordOutcome()(outcome({ status: 'superseded', error: undefined, reason: 'v1.4.0 ranks above v1.3.0.' }));

    await expect(db.ledger.get(record.key)).resolves.toMatchObject({ status: 'superseded', error: null });
  });

  it('keeps the signature check on the record', async () => {
    await recordOutcome()(outcome({ status: 'rejected', error: 'SignatureRejected', signature: { code: 'unsigned', evidence: [] } }));

    await expect(db.ledger.get(record.key)).resolves.toMatchObject({ signature: { code: 'unsigned', evidence: [] } });
  });

  it.each([
    ['unchanged', undefined, BEFORE],
    ['changed', AFTER, AFTER],
    ['unknown', AFTER, null],
  ] as const)('records what the service runs after the outcome when it is %s', async (serviceState, given, expected) => {
    await recordOutcome()(outcome({ serviceState, taskDefinitionAfter: given }));

    await expect(db.ledger.get(record.key)).resolves.toMatchObject({ taskDefinitionAfter: expected });
  });

  it('marks a succeeded digest good, with the revision it runs as', async () => {
    await recordOutcome()(
      outcome({ status: 'succeeded', error: null, reason: 'Healthy.', serviceState: 'changed', taskDefinitionAfter: AFTER }),
    );

    await expect(db.ledger.getDigest(SERVICE, DIGEST)).resolves.toMatchObject({
      succeeded: { at: NOW.toISOString(), tag: 'v1.3.0', executionArn: ME, taskDefinitionArn: AFTER },
      quarantine: null,
    });
  });

  it.each(['rolled-back', 'rollback-failed'] as const)('quarantines the digest of a release that %s', async (status) => {
    await recordOutcome()(
      outcome({ status, error: 'ReleaseRolledBack', reason: '5xx rate above 2%.', serviceState: 'changed', taskDefinitionAfter: BEFORE }),
    );

    await expect(db.ledger.getDigest(SERVICE, DIGEST)).resolves.toMatchObject({
      quarantine: { at: NOW.toISOString(), reason: '5xx rate above 2%.', executionArn: ME, tag: 'v1.3.0' },
      succeeded: null,
    });
  });

  it.each(['deployment-failed', 'rejected', 'superseded', 'duplicate'] as const)(
    'neither marks nor quarantines the digest of a release that is %s',
    async (status) => {
      await recordOutcome()(outcome({ status }));

      await expect(db.ledger.getDigest(SERVICE, DIGEST)).resolves.toMatchObject({ succeeded: null, quarantine: null });
    },
  );

  it.each([
    'succeeded',
    'deployment-failed',
    'rolled-back',
    'rollback-failed',
    'rejected',
    'superseded',
    'duplicate',
  ] satisfies OutcomeStatus[])('frees the service lock and the digest claim when the outcome is %s', async (status) => {
    await recordOutcome()(outcome({ status, serviceState: 'changed', taskDefinitionAfter: AFTER }));

    await expect(db.ledger.getLock(SERVICE)).resolves.toBeNull();
    await expect(db.ledger.getDigest(SERVICE, DIGEST)).resolves.toMatchObject({ claim: null });
  });

  it('leaves another execution’s lock and digest claim alone', async () => {
    // This execution was refused; the one that holds the service and the digest goes on.
    await db.ledger.releaseLock(SERVICE, ME);
    await db.ledger.releaseDigestClaim(SERVICE, DIGEST, ME);
    await holdLock(OTHER, deploymentKey(SERVICE, RECEIVED_AT, OTHER).sk, 'v1.4.0');
    await db.ledger.claimDigest(SERVICE, DIGEST, { executionArn: OTHER, until: '2026-11-20T03:00:00.000Z' }, RECEIVED_AT);

    await recordOutcome()(outcome({ status: 'duplicate', error: null }));

    await expect(db.ledger.getLock(SERVICE)).resolves.toMatchObject({ holder: { executionArn: OTHER } });
    await expect(db.ledger.getDigest(SERVICE, DIGEST)).resolves.toMatchObject({ claim: { executionArn: OTHER } });
  });

  it('finishes the job on a retry after the outcome was written: frees what is held, changes nothing else', async () => {
    // The first attempt wrote the outcome and timed out before it freed anything.
    const first = outcome({ status: 'succeeded', error: null, reason: 'Healthy.', serviceState: 'changed', taskDefinitionAfter: AFTER });
    await db.ledger.finalise(record.key, {
      status: 'succeeded',
      reason: 'Healthy.',
      error: null,
      at: '2026-11-20T01:39:00.000Z',
      taskDefinitionAfter: AFTER,
    });
    const written = await db.ledger.get(record.key);

    await expect(recordOutcome()(first)).resolves.toMatchObject({ status: 'succeeded' });

    await expect(db.ledger.get(record.key)).resolves.toEqual(written);
    await expect(db.ledger.getLock(SERVICE)).resolves.toBeNull();
    await expect(db.ledger.getDigest(SERVICE, DIGEST)).resolves.toMatchObject({ claim: null, succeeded: { taskDefinitionArn: AFTER } });
  });

  it('leaves the record as the first call wrote it on a second call', async () => {
    const step = recordOutcome();
    await step(outcome());
    const written = await db.ledger.get(record.key);

    await step(outcome({ reason: 'another reason' }));
    await expect(db.ledger.get(record.key)).resolves.toEqual(written);
  });

  it('writes nothing when the release was never recorded (repository not configured)', async () => {
    const before = await db.items();

    await expect(
      recordOutcome()(outcome({ ledger: null, service: null, status: 'rejected', error: 'ReleaseRejectedByPolicy' })),
    ).resolves.toMatchObject({ status: 'rejected' });

    await expect(db.items()).resolves.toEqual(before);
  });

  it('throws when the ledger has no record under the key it is given, freeing nothing', async () => {
    const missing = deploymentKey(SERVICE, RECEIVED_AT, executionArn('never-recorded'));

    await expect(recordOutcome()(outcome({ ledger: missing }))).rejects.toThrow(missing.sk);
    await expect(db.ledger.getLock(SERVICE)).resolves.toMatchObject({ holder: { executionArn: ME } });
  });
});

describe('record outcome in the ledger tells failures in words', () => {
  // What a Catch puts in Cause for a Lambda error (the runtime's JSON, with its stack trace), inside the sentences the
  // "Record outcome" states format around it.
  const runtimeJson = JSON.stringify({
    errorType: 'AccessDeniedException',
    errorMessage: 'User: arn:aws:sts::123456789012:assumed-role/update is not authorized to perform: ecs:UpdateService',
    trace: ['AccessDeniedException: User: … is not authorized', '    at DeploymentTarget.updateService (/var/task/index.js:2:7001)'],
  });
  const message =
    'AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/update is not authorized to perform: ecs:UpdateService';

  it('writes the error’s message, not its JSON, into the ledger, and returns the same reason, cause and signature reason', async () => {
    const written = await recordOutcome()(
      outcome({
        status: 'rollback-failed',
        error: 'RollbackFailed',
        reason: `Rollback to ${BEFORE} failed (${runtimeJson}). It was rolling back because: ServiceUnhealthy`,
        cause: `models/sentiment v1.3.0 (${DIGEST}) for service sentiment: Rollback to ${BEFORE} failed (${runtimeJson}).`,
        serviceState: 'unknown',
        signature: {
          code: 'verification-error',
          evidence: [],
          reason: `The signature could not be verified, so the image is rejected: ${runtimeJson}`,
        },
      }),
    );

    expect(written.reason).toBe(`Rollback to ${BEFORE} failed (${message}). It was rolling back because: ServiceUnhealthy`);
    expect(written.cause).toBe(`models/sentiment v1.3.0 (${DIGEST}) for service sentiment: Rollback to ${BEFORE} failed (${message}).`);
    expect(written.signature?.reason).toBe(`The signature could not be verified, so the image is rejected: ${message}`);
    const final = await db.ledger.get(record.key);
    expect(final?.reason).toBe(written.reason);
    for (const text of [final?.reason, written.reason, written.cause, written.signature?.reason]) {
      expect(text).not.toMatch(/errorType|"trace"|index\.js/);
    }
  });

  it('keeps the fields it does not read, and plain causes as they are', async () => {
    const written = await recordOutcome()(
      outcome({ reason: 'States.Timeout: {"detail": 1}', ...({ environment: 'production', stateMachine: 'arn:sm' } as object) }),
    );

    expect(written).toMatchObject({ reason: 'States.Timeout: {"detail": 1}', environment: 'production', stateMachine: 'arn:sm' });
  });
});
