import { describe, expect, it } from 'vitest';
import type { DeploymentRecord, DigestRecord } from '../../lambdas/contract/ledger-records';
import type { KnownBadRelease, LastKnownGood } from '../../lambdas/contract/steps';
import {
  decideRollbackTarget,
  knownBadReleases,
  MAX_KNOWN_BAD_RELEASES,
  type RollbackTargetInput,
} from '../../lambdas/decisions/rollback-target';

const digest = (hex: string) => `sha256:${hex.repeat(64)}`;
const PREVIOUS_ARN = 'arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment-task:3';
const GOOD: LastKnownGood = {
  tag: 'v1.1.0',
  digest: digest('1'),
  taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment-task:1',
  succeededAt: '2026-11-01T10:00:00.000Z',
};
const previous = { taskDefinitionArn: PREVIOUS_ARN, version: 'v1.3.0', digest: digest('3') };
const bad = (overrides: Partial<KnownBadRelease> = {}): KnownBadRelease => ({
  tag: 'v1.3.0',
  digest: digest('3'),
  outcome: 'rollback-failed',
  at: '2026-11-02T10:00:00.000Z',
  ...overrides,
});

describe('decideRollbackTarget', () => {
  it.each<[string, Partial<RollbackTargetInput>, 'last-known-good' | 'previous-revision' | 'none', string | null]>([
    ['the ledger knows a good version', { lastKnownGood: GOOD }, 'last-known-good', GOOD.taskDefinitionArn],
    [
      'the ledger knows a good version, and the previous revision is known bad',
      { lastKnownGood: GOOD, knownBad: [bad()] },
      'last-known-good',
      GOOD.taskDefinitionArn,
    ],
    ['no good version, and no record of the previous revision (deployed before the pipeline)', {}, 'previous-revision', PREVIOUS_ARN],
    [
      'no good version, other releases failed',
      { knownBad: [bad({ digest: digest('4'), tag: 'v1.4.0' })] },
      'previous-revision',
      PREVIOUS_ARN,
    ],
    ['no good version, the previous revision’s release ended rollback-failed', { knownBad: [bad()] }, 'none', null],
    ['no good version, the previous revision’s release was rolled back', { knownBad: [bad({ outcome: 'rolled-back' })] }, 'none', null],
    ['no good version, the previous revision’s digest is quarantined', { knownBad: [bad({ outcome: 'quarantined' })] }, 'none', null],
    [
      'no good version, the previous revision’s digest cannot be told',
      { previous: { ...previous, digest: null }, knownBad: [bad()] },
      'previous-revision',
      PREVIOUS_ARN,
    ],
  ])('%s: %s', (_situation, overrides, source, arn) => {
    const decision = decideRollbackTarget({ lastKnownGood: null, previous, knownBad: [], ...overrides });

    expect(decision.rollbackTarget.source).toBe(source);
    expect(decision.rollbackTaskDefinitionArn).toBe(arn);
  });

  it('says why no version is good to return to, naming the revision the service ran before and what its release ended as', () => {
    const { rollbackTarget } = decideRollbackTarget({ lastKnownGood: null, previous, knownBad: [bad()] });

    expect(rollbackTarget).toEqual({
      version: 'v1.3.0',
      digest: digest('3'),
      source: 'none',
      reason:
        `No known good version exists: the ledger has no succeeded deployment to return to, and the revision the service ran before this release, ` +
        `${PREVIOUS_ARN} (v1.3.0, ${digest('3')}), is known bad: its release as v1.3.0 ended rollback-failed on 2026-11-02T10:00:00.000Z.`,
    });
  });

  it('names the version it returns to and why', () => {
    expect(decideRollbackTarget({ lastKnownGood: GOOD, previous, knownBad: [] }).rollbackTarget).toEqual({
      version: 'v1.1.0',
      digest: GOOD.digest,
      source: 'last-known-good',
      reason: `v1.1.0 (${GOOD.digest}) is the last known good version: it succeeded on 2026-11-01T10:00:00.000Z.`,
    });
    expect(decideRollbackTarget({ lastKnownGood: null, previous, knownBad: [] }).rollbackTarget).toMatchObject({
      version: 'v1.3.0',
      digest: digest('3'),
      source: 'previous-revision',
    });
  });
});

describe('knownBadReleases', () => {
  type Record = Pick<DeploymentRecord, 'status' | 'tag' | 'digest' | 'finishedAt'>;
  const record = (tag: string, hex: string, status: Record['status'], finishedAt: string | null): Record => ({
    tag,
    digest: digest(hex),
    status,
    finishedAt,
  });
  const noQuarantine = (hex: string): Pick<DigestRecord, 'digest' | 'quarantine'> => ({ digest: digest(hex), quarantine: null });

  it('lists deployments that ended rolled back or rollback failed, and quarantined digests, newest first, once per digest', () => {
    const records = [
      record('v1.2.0', '2', 'rolled-back', '2026-11-02T10:00:00.000Z'),
      record('v1.3.0', '3', 'rollback-failed', '2026-11-03T10:00:00.000Z'),
      record('v1.3.0-hotfix', '3', 'rolled-back', '2026-11-01T10:00:00.000Z'),
      record('v1.4.0', '4', 'succeeded', '2026-11-04T10:00:00.000Z'),
      record('v1.5.0', '5', 'deployment-failed', '2026-11-05T10:00:00.000Z'),
      record('v1.6.0', '6', 'execution-aborted', '2026-11-06T10:00:00.000Z'),
      record('v1.7.0', '7', 'deploying', null),
    ];
    const digests = [
      noQuarantine('4'),
      { digest: digest('8'), quarantine: { at: '2026-10-30T10:00:00.000Z', reason: 'rolled back', executionArn: 'arn:x', tag: 'v0.8.0' } },
    ];

    expect(knownBadReleases(records, digests)).toEqual([
      { tag: 'v1.3.0', digest: digest('3'), outcome: 'rollback-failed', at: '2026-11-03T10:00:00.000Z' },
      { tag: 'v1.2.0', digest: digest('2'), outcome: 'rolled-back', at: '2026-11-02T10:00:00.000Z' },
      { tag: 'v0.8.0', digest: digest('8'), outcome: 'quarantined', at: '2026-10-30T10:00:00.000Z' },
    ]);
  });

  it('keeps a rolled-back release known bad after an operator released its quarantine', () => {
    expect(knownBadReleases([record('v1.2.0', '2', 'rolled-back', '2026-11-02T10:00:00.000Z')], [noQuarantine('2')])).toHaveLength(1);
  });

  it(`hands on at most the ${MAX_KNOWN_BAD_RELEASES} newest`, () => {
    const many = Array.from({ length: MAX_KNOWN_BAD_RELEASES + 5 }, (_, i) => ({
      tag: `v1.0.${i}`,
      digest: `sha256:${i.toString(16).padStart(64, '0')}`,
      status: 'rolled-back' as const,
      finishedAt: new Date(Date.UTC(2026, 10, 1, 0, i)).toISOString(),
    }));

    const listed = knownBadReleases(many, []);

    expect(listed).toHaveLength(MAX_KNOWN_BAD_RELEASES);
    expect(listed[0]!.tag).toBe(`v1.0.${MAX_KNOWN_BAD_RELEASES + 4}`);
  });
});
