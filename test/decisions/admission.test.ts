import { describe, expect, it } from 'vitest';
import type { DigestRecord } from '../../lambdas/contract/ledger-records';
import type { TriggerKind } from '../../lambdas/contract/start-events';
import { decideAdmission, type AdmissionInput } from '../../lambdas/decisions/admission';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const RUNNING_DIGEST = `sha256:${'b'.repeat(64)}`;
const ME = 'arn:aws:states:us-east-1:123456789012:execution:model-rollout-release:push-2';
const OTHER = 'arn:aws:states:us-east-1:123456789012:execution:model-rollout-release:push-1';
const NOW = new Date('2026-11-02T10:00:00.000Z');

const QUARANTINE = { at: '2026-11-01T09:00:00.000Z', reason: 'sentiment-5xx-rate in ALARM', executionArn: OTHER, tag: 'v1.3.0' };
const SUCCEEDED = {
  at: '2026-10-30T12:00:00.000Z',
  tag: 'v1.3.0',
  executionArn: OTHER,
  taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment:8',
};

/** What the ledger knows of the digest: only noted, unless a test says more. */
function known(overrides: Partial<DigestRecord> = {}): DigestRecord {
  return {
    service: 'sentiment',
    digest: DIGEST,
    tags: ['v1.3.0'],
    firstSeenAt: '2026-10-30T11:00:00.000Z',
    claim: null,
    succeeded: null,
    quarantine: null,
    released: null,
    ...overrides,
  };
}

function input(overrides: Partial<AdmissionInput> = {}): AdmissionInput {
  return {
    trigger: 'push',
    digest: DIGEST,
    tag: 'v1.3.0',
    known: null,
    runningDigest: RUNNING_DIGEST,
    executionArn: ME,
    now: NOW,
    ...overrides,
  };
}

describe('decideAdmission', () => {
  it.each<[string, Partial<AdmissionInput>, string, string]>([
    ['a push of a digest the ledger does not know', {}, 'admitted', 'admitted'],
    ['a push of a digest only noted so far', { known: known() }, 'admitted', 'admitted'],
    ['a missed push found by the reconciliation', { trigger: 'reconciliation' }, 'admitted', 'admitted'],
    ['a push when the running digest cannot be told', { runningDigest: null }, 'admitted', 'admitted'],
    ['a push of the digest the service runs', { runningDigest: DIGEST }, 'duplicate', 'already-running'],
    [
      'a rollback to the digest the service runs',
      { trigger: 'rollback', runningDigest: DIGEST, known: known({ succeeded: SUCCEEDED }) },
      'duplicate',
      'already-running',
    ],
    ['a push of a quarantined digest', { known: known({ quarantine: QUARANTINE }) }, 'refused', 'quarantined'],
    [
      'a rollback to a quarantined digest that once succeeded',
      { trigger: 'rollback', known: known({ quarantine: QUARANTINE, succeeded: SUCCEEDED }) },
      'refused',
      'quarantined',
    ],
    [
      'a quarantined digest the service still runs (its rollback failed)',
      { runningDigest: DIGEST, known: known({ quarantine: QUARANTINE }) },
      'refused',
      'quarantined',
    ],
    [
      'a digest another execution claims until later',
      { known: known({ claim: { executionArn: OTHER, until: '2026-11-02T10:00:00.001Z' } }) },
      'duplicate',
      'duplicate',
    ],
    [
      'a digest whose claim by another execution ran out',
      { known: known({ claim: { executionArn: OTHER, until: '2026-11-02T09:59:59.999Z' } }) },
      'admitted',
      'admitted',
    ],
    [
      'a digest whose claim by another execution runs out now',
      { known: known({ claim: { executionArn: OTHER, until: NOW.toISOString() } }) },
      'admitted',
      'admitted',
    ],
    [
      'a digest this execution claimed (a retried step)',
      { known: known({ claim: { executionArn: ME, until: '2026-11-02T11:00:00.000Z' } }) },
      'admitted',
      'admitted',
    ],
    [
      'a rollback to a digest another execution claims',
      { trigger: 'rollback', known: known({ succeeded: SUCCEEDED, claim: { executionArn: OTHER, until: '2026-11-02T11:00:00.000Z' } }) },
      'duplicate',
      'duplicate',
    ],
    [
      'a rollback to a version that once succeeded',
      { trigger: 'rollback', known: known({ succeeded: SUCCEEDED }) },
      'admitted',
      'admitted',
    ],
    ['a rollback to a version that never succeeded', { trigger: 'rollback', known: known() }, 'refused', 'rollback-target-not-good'],
    ['a rollback to a digest the ledger does not know', { trigger: 'rollback' }, 'refused', 'rollback-target-not-good'],
    [
      'a second push of a digest that succeeded before',
      { tag: 'v1.3.0-copy', known: known({ succeeded: SUCCEEDED }) },
      'duplicate',
      'duplicate',
    ],
    [
      'a missed push of a digest that succeeded before',
      { trigger: 'reconciliation', known: known({ succeeded: SUCCEEDED }) },
      'duplicate',
      'duplicate',
    ],
  ])('%s: %s (%s)', (_situation, overrides, verdict, code) => {
    const decision = decideAdmission(input(overrides));

    expect(decision.verdict).toBe(verdict);
    expect(decision.code).toBe(code);
  });

  it('tells how to release a quarantined digest, and why it was quarantined', () => {
    const { reason } = decideAdmission(input({ known: known({ quarantine: QUARANTINE }) }));

    expect(reason).toContain(`since ${QUARANTINE.at}`);
    expect(reason).toContain('sentiment-5xx-rate in ALARM');
    expect(reason).toContain(`model-rollout quarantine release --service sentiment --digest ${DIGEST}`);
  });

  it('names the execution that already releases the digest', () => {
    const { reason } = decideAdmission(input({ known: known({ claim: { executionArn: OTHER, until: '2026-11-02T11:00:00.000Z' } }) }));

    expect(reason).toContain(OTHER);
  });

  it('points a second push of a succeeded digest to `rollback --to`', () => {
    const { reason } = decideAdmission(input({ known: known({ succeeded: SUCCEEDED }) }));

    expect(reason).toContain(`already deployed as v1.3.0 on ${SUCCEEDED.at}`);
    expect(reason).toContain('model-rollout rollback --to');
  });

  it('says when a rollback target succeeded', () => {
    const { reason } = decideAdmission(input({ trigger: 'rollback', known: known({ succeeded: SUCCEEDED }) }));

    expect(reason).toContain(`succeeded on ${SUCCEEDED.at}`);
  });

  it.each<TriggerKind>(['push', 'reconciliation'])('admits a new digest from a %s, naming digest and tag', (trigger) => {
    expect(decideAdmission(input({ trigger }))).toEqual({
      verdict: 'admitted',
      code: 'admitted',
      reason: `Digest ${DIGEST} (v1.3.0) is new to the service.`,
    });
  });
});
