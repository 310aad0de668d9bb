import { describe, expect, it } from 'vitest';
import type { DeploymentRecord, DeploymentStatus, ServiceLock } from '../../lambdas/contract/ledger-records';
import {
  decideLock,
  heldByAnother,
  lastKnownGood,
  supersedesApprovalWait,
  type Candidate,
  type LockInput,
} from '../../lambdas/decisions/service-lock';

const RECEIVED_AT = '2026-11-02T10:00:00.000Z';
const NOW = new Date('2026-11-02T10:05:00.000Z');

function executionArn(name: string): string {
  return `arn:aws:states:us-east-1:123456789012:execution:model-rollout-release:${name}`;
}

const ME: Candidate = { executionArn: executionArn('me'), tag: 'v1.3.0', trigger: 'push', receivedAt: RECEIVED_AT };

type Other = LockInput['others'][number];

function other(tag: string, status: DeploymentStatus, overrides: Partial<Other> = {}): Other {
  return {
    executionArn: executionArn(`other-${tag}-${status}`),
    tag,
    status,
    finishedAt: null,
    receivedAt: RECEIVED_AT,
    ...overrides,
  };
}

function lockHeldBy(name: string, expiresAt: string, tag = 'v1.2.0'): ServiceLock {
  return {
    service: 'sentiment',
    holder: { executionArn: executionArn(name), key: { service: 'sentiment', sk: `DEPLOYMENT#2026-11-02T09:50:00.000Z#${name}` }, tag },
    acquiredAt: '2026-11-02T09:50:00.000Z',
    expiresAt,
  };
}

function turn(overrides: Partial<LockInput> = {}) {
  return decideLock({ me: ME, others: [], lock: null, now: NOW, ...overrides });
}

describe('decideLock', () => {
  it('ignores a waiting or deploying record left by an execution that ended a day ago without being finalised', () => {
    const stale = other('v1.4.0', 'waiting', { receivedAt: '2026-11-01T10:04:59.000Z' });
    const fresh = other('v1.4.0', 'waiting', { receivedAt: '2026-11-01T10:05:01.000Z' });
    expect(turn({ others: [stale] }).verdict).toBe('take-lock');
    expect(turn({ others: [fresh] }).verdict).toBe('superseded');
  });

  it("counts a higher release waiting longer than a day when the service's releases may run that long", () => {
    // Waiting two days behind a gray release: not stale for a service whose releases may run three.
    const longWaiting = other('v1.4.0', 'waiting', { receivedAt: '2026-10-31T10:05:00.000Z' });
    expect(turn({ others: [longWaiting] }).verdict).toBe('take-lock');
    expect(turn({ others: [longWaiting], staleAfterSeconds: 3 * 24 * 3600 }).verdict).toBe('superseded');
  });

  describe('the lock', () => {
    it.each<[string, ServiceLock | null, string]>([
      ['no lock', null, 'the service is free'],
      ['a lock this execution holds', lockHeldBy('me', '2026-11-02T11:00:00.000Z'), 'this execution holds the lock'],
      ['a lease that ran out', lockHeldBy('crashed', '2026-11-02T10:04:59.999Z'), `the lease of ${executionArn('crashed')} expired`],
      ['a lease running out now', lockHeldBy('crashed', NOW.toISOString()), `the lease of ${executionArn('crashed')} expired`],
    ])('takes the lock with %s', (_situation, lock, why) => {
      const decision = turn({ lock });

      expect(decision.verdict).toBe('take-lock');
      expect(decision.reason).toContain(why);
    });

    it('waits while another execution’s lease runs, naming it and when the lease ends', () => {
      const decision = turn({ lock: lockHeldBy('holder', '2026-11-02T10:05:00.001Z', 'v1.2.0') });

      expect(decision.verdict).toBe('wait');
      expect(decision.reason).toContain('v1.2.0');
      expect(decision.reason).toContain(executionArn('holder'));
      expect(decision.reason).toContain('2026-11-02T10:05:00.001Z');
    });
  });

  describe('latest version wins', () => {
    it.each<[string, Other, string]>([
      ['a higher version waiting', other('v1.4.0', 'waiting'), 'is waiting too'],
      ['a higher version deploying', other('v1.4.0', 'deploying'), 'is being deployed'],
      ['a hotfix of the same version waiting', other('v1.3.0-hotfix', 'waiting'), 'is waiting too'],
      [
        'a higher version deployed while this one waited',
        other('v1.4.0', 'succeeded', { finishedAt: '2026-11-02T10:01:00.000Z' }),
        'was deployed',
      ],
      ['a higher version deployed the moment this one arrived', other('v1.4.0', 'succeeded', { finishedAt: RECEIVED_AT }), 'was deployed'],
    ])('is superseded by %s', (_situation, higher, what) => {
      const decision = turn({ others: [higher] });

      expect(decision).toEqual({
        verdict: 'superseded',
        by: higher.executionArn,
        reason: `${higher.tag} ${what} (execution ${higher.executionArn}) and ranks above v1.3.0, so v1.3.0 is not deployed.`,
      });
    });

    it.each<[string, Other]>([
      ['a higher version deployed before this one arrived', other('v1.4.0', 'succeeded', { finishedAt: '2026-11-02T09:59:59.999Z' })],
      ['a higher version only received (not verified yet)', other('v1.4.0', 'received')],
      ['a higher version that was rejected', other('v1.4.0', 'rejected', { finishedAt: '2026-11-02T10:01:00.000Z' })],
      ['a higher version that was rolled back', other('v1.4.0', 'rolled-back', { finishedAt: '2026-11-02T10:01:00.000Z' })],
      ['a higher version superseded itself', other('v1.4.0', 'superseded', { finishedAt: '2026-11-02T10:01:00.000Z' })],
      ['a higher version whose execution failed', other('v1.4.0', 'execution-failed', { finishedAt: '2026-11-02T10:01:00.000Z' })],
      ['the same version waiting', other('v1.3.0', 'waiting')],
      ['a lower version deploying', other('v1.2.0', 'deploying')],
      ['a development build of the same version waiting', other('v1.3.0-dev.4', 'waiting')],
      ['a higher-looking tag that is not a release tag', other('v9.9', 'waiting')],
    ])('is not superseded by %s', (_situation, candidate) => {
      expect(turn({ others: [candidate] }).verdict).toBe('take-lock');
    });

    it('does not count its own record', () => {
      expect(turn({ others: [other('v1.4.0', 'waiting', { executionArn: ME.executionArn })] }).verdict).toBe('take-lock');
    });

    it('is superseded rather than told to wait when both apply', () => {
      const decision = turn({ others: [other('v1.4.0', 'waiting')], lock: lockHeldBy('holder', '2026-11-02T11:00:00.000Z') });

      expect(decision.verdict).toBe('superseded');
    });

    it('never supersedes an operator’s rollback: it waits its turn instead', () => {
      const rollback: Candidate = { ...ME, tag: 'v1.1.0', trigger: 'rollback' };
      const others = [other('v1.4.0', 'deploying'), other('v1.3.0', 'succeeded', { finishedAt: '2026-11-02T10:01:00.000Z' })];

      expect(decideLock({ me: rollback, others, lock: lockHeldBy('holder', '2026-11-02T11:00:00.000Z'), now: NOW }).verdict).toBe('wait');
      expect(decideLock({ me: rollback, others, lock: null, now: NOW }).verdict).toBe('take-lock');
    });

    it('never supersedes a release whose own tag cannot be ranked', () => {
      expect(decideLock({ me: { ...ME, tag: 'latest' }, others: [other('v1.4.0', 'waiting')], lock: null, now: NOW }).verdict).toBe(
        'take-lock',
      );
    });

    it.each(['push', 'reconciliation'] as const)('supersedes a release from a %s', (kind) => {
      expect(decideLock({ me: { ...ME, trigger: kind }, others: [other('v1.4.0', 'waiting')], lock: null, now: NOW }).verdict).toBe(
        'superseded',
      );
    });
  });
});

describe('lastKnownGood', () => {
  type Record = Parameters<typeof lastKnownGood>[0][number];
  const REVISION = (n: number) => `arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment:${n}`;
  const digest = (c: string) => `sha256:${c.repeat(64)}`;

  function record(
    tag: string,
    digestChar: string,
    finishedAt: string | null,
    overrides: Partial<Pick<DeploymentRecord, 'status' | 'taskDefinitionAfter'>> = {},
  ): Record {
    return {
      status: 'succeeded',
      tag,
      digest: digest(digestChar),
      taskDefinitionAfter: REVISION(Number(tag.slice(3, 4))),
      finishedAt,
      ...overrides,
    };
  }

  it('is the newest succeeded deployment by when it finished, not by position or version', () => {
    const records = [
      record('v1.5.0', 'e', '2026-10-01T00:00:00.000Z'),
      record('v1.3.0', 'c', '2026-10-20T00:00:00.000Z'),
      record('v1.4.0', 'd', '2026-10-10T00:00:00.000Z'),
    ];

    expect(lastKnownGood(records, new Set())).toEqual({
      tag: 'v1.3.0',
      digest: digest('c'),
      taskDefinitionArn: REVISION(3),
      succeededAt: '2026-10-20T00:00:00.000Z',
    });
  });

  it('skips a quarantined digest', () => {
    const records = [record('v1.3.0', 'c', '2026-10-20T00:00:00.000Z'), record('v1.4.0', 'd', '2026-10-25T00:00:00.000Z')];

    expect(lastKnownGood(records, new Set([digest('d')]))?.tag).toBe('v1.3.0');
  });

  it.each<[string, Record]>([
    ['rolled back', record('v1.4.0', 'd', '2026-10-25T00:00:00.000Z', { status: 'rolled-back' })],
    ['still deploying', record('v1.4.0', 'd', null, { status: 'deploying' })],
    ['superseded', record('v1.4.0', 'd', '2026-10-25T00:00:00.000Z', { status: 'superseded' })],
    ['succeeded without a recorded revision', record('v1.4.0', 'd', '2026-10-25T00:00:00.000Z', { taskDefinitionAfter: null })],
    ['succeeded without a finish time', record('v1.4.0', 'd', null)],
  ])('skips a deployment %s', (_situation, newer) => {
    expect(lastKnownGood([record('v1.3.0', 'c', '2026-10-20T00:00:00.000Z'), newer], new Set())?.tag).toBe('v1.3.0');
  });

  it('is null when nothing ever succeeded, or only quarantined digests did', () => {
    expect(lastKnownGood([], new Set())).toBeNull();
    expect(lastKnownGood([record('v1.4.0', 'd', '2026-10-25T00:00:00.000Z', { status: 'rolled-back' })], new Set())).toBeNull();
    expect(lastKnownGood([record('v1.3.0', 'c', '2026-10-20T00:00:00.000Z')], new Set([digest('c')]))).toBeNull();
  });
});

describe('supersedesApprovalWait', () => {
  it.each([
    ['a higher release', 'v1.4.0', { tag: 'v1.3.0', trigger: 'push' as const }, true],
    ['a hotfix of the same version', 'v1.3.0-hotfix', { tag: 'v1.3.0' }, true],
    ['a lower release', 'v1.2.9', { tag: 'v1.3.0', trigger: 'push' as const }, false],
    ['the same release', 'v1.3.0', { tag: 'v1.3.0' }, false],
    ["above an operator's rollback", 'v1.4.0', { tag: 'v1.3.0', trigger: 'rollback' as const }, false],
    ['a tag outside the policy', 'latest', { tag: 'v1.3.0' }, false],
  ])('%s: %s over %o → %s', (_, tag, holder, expected) => {
    expect(supersedesApprovalWait({ tag }, holder)).toBe(expected);
  });
});

describe('heldByAnother', () => {
  it.each([
    ['no lock', null, executionArn('me'), false],
    ['held by another, lease running', lockHeldBy('other', '2026-11-02T11:00:00.000Z'), executionArn('me'), true],
    ['held by me', lockHeldBy('me', '2026-11-02T11:00:00.000Z'), executionArn('me'), false],
    ['held by another, lease run out', lockHeldBy('other', '2026-11-02T10:04:59.000Z'), executionArn('me'), false],
    ['held, asked for anyone', lockHeldBy('me', '2026-11-02T11:00:00.000Z'), null, true],
  ])('%s → %s', (_, lock, me, expected) => {
    expect(heldByAnother(lock, me, NOW)).toBe(expected);
  });
});
