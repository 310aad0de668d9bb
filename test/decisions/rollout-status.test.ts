import { describe, expect, it } from 'vitest';
import type { DeploymentRecord, ServiceLock, Waiter } from '../../lambdas/contract/ledger-records';
import { rolloutStatus } from '../../lambdas/decisions/rollout-status';

const NOW = new Date('2026-12-06T10:00:00.000Z');
const arn = (name: string) => `arn:aws:states:us-east-1:123456789012:execution:ModelRollout:${name}`;

function record(name: string, tag: string, status: DeploymentRecord['status'], receivedAt: string): DeploymentRecord {
  const final = !['received', 'waiting', 'deploying'].includes(status);
  return {
    key: { service: 'sentiment', sk: `DEPLOYMENT#${receivedAt}#${name}` },
    service: 'sentiment',
    environment: 'production',
    repository: 'models/sentiment',
    tag,
    digest: `sha256:${'a'.repeat(64)}`,
    trigger: { kind: 'push', requestedBy: null, reason: null },
    executionArn: arn(name),
    receivedAt,
    status,
    final,
    reason: `${tag} ${status}`,
    error: null,
    history: [],
    lockedAt: null,
    finishedAt: null,
    signature: null,
    taskDefinitionBefore: null,
    taskDefinitionAfter: null,
    model: {},
  };
}

const lock = (name: string, tag: string, expiresAt = '2026-12-06T11:00:00.000Z'): ServiceLock => ({
  service: 'sentiment',
  holder: { executionArn: arn(name), key: { service: 'sentiment', sk: `DEPLOYMENT#x#${name}` }, tag },
  acquiredAt: '2026-12-06T09:55:00.000Z',
  expiresAt,
});

const waiter = (name: string, expiresAt = '2026-12-06T10:03:45.000Z'): Waiter => ({
  service: 'sentiment',
  executionArn: arn(name),
  state: 'Wait for the new revision to become healthy',
  waitsFor: 'deployment',
  taskToken: 'secret',
  check: {},
  since: '2026-12-06T09:56:00.000Z',
  expiresAt,
});

describe('rolloutStatus', () => {
  it('is not running when nothing holds the lock and every record is final', () => {
    const status = rolloutStatus(
      'sentiment',
      { lock: null, records: [record('p1', 'v1.2.0', 'succeeded', '2026-12-06T09:00:00.000Z')], waiters: [] },
      NOW,
    );
    expect(status).toEqual({
      running: false,
      holder: null,
      waiting: [],
      gray: null,
      underWay: [],
      summary: 'sentiment: no rollout is running',
    });
  });

  it('says what an approval waits for, until when, and the commands that answer it (never its token)', () => {
    const approval: Waiter = {
      ...waiter('p2'),
      state: "Wait for an operator's approval",
      waitsFor: 'approval',
      check: {
        tag: 'v1.3.0',
        step: 2,
        of: 5,
        weight: 10,
        why: 'step 2 of 5 passed and asks for approval',
        until: '2026-12-06T14:00:00.000Z',
      },
    };
    const status = rolloutStatus(
      'sentiment',
      { lock: lock('p2', 'v1.3.0'), records: [record('p2', 'v1.3.0', 'deploying', '2026-12-06T09:54:00.000Z')], waiters: [approval] },
      NOW,
    );
    expect(status.waiting[0]?.operator).toEqual({
      why: 'step 2 of 5 passed and asks for approval',
      until: '2026-12-06T14:00:00.000Z',
      answers: 'model-rollout approve | reject | promote | promote --full | abort --service sentiment --tag v1.3.0',
    });
    expect(status.summary).toContain(
      '(step 2 of 5 passed and asks for approval; until 2026-12-06T14:00:00.000Z; answer: model-rollout approve',
    );
    expect(JSON.stringify(status)).not.toContain('secret');
  });

  it("shows only the holder's newest wait: an approval an operator answered stays in the ledger until it expires", () => {
    const answeredApproval: Waiter = {
      ...waiter('p2'),
      state: "Wait for an operator's approval",
      waitsFor: 'approval',
      since: '2026-12-06T09:55:30.000Z',
      expiresAt: '2026-12-06T14:00:00.000Z',
      check: { tag: 'v1.3.0', step: null, of: 5, weight: 0, why: 'asks before its first step', until: '2026-12-06T14:00:00.000Z' },
    };
    const observed = { lock: lock('p2', 'v1.3.0'), records: [record('p2', 'v1.3.0', 'deploying', '2026-12-06T09:54:00.000Z')] };
    // Approved: the release scales its canary, and its health wait is the newest.
    const scaling = rolloutStatus('sentiment', { ...observed, waiters: [answeredApproval, waiter('p2')] }, NOW);
    expect(scaling.waiting).toEqual([
      {
        state: 'Wait for the new revision to become healthy',
        since: '2026-12-06T09:56:00.000Z',
        looksItselfBy: '2026-12-06T10:03:45.000Z',
      },
    ]);
    expect(scaling.summary).not.toContain('approval');
    // A scaling canary's wait, kept for the functions and for operators at the same moment: the operators' one shows.
    const canaryWait: Waiter = { ...waiter('p2'), state: 'Wait for the canary to become healthy', waitsFor: 'canary', check: {} };
    const scalingWait: Waiter = {
      ...canaryWait,
      waitsFor: 'scaling',
      check: {
        tag: 'v1.3.0',
        step: null,
        of: 5,
        weight: 0,
        why: 'its canary is scaling for step 1 of 5 (5 %)',
        until: canaryWait.expiresAt,
      },
    };
    for (const waiters of [
      [canaryWait, scalingWait],
      [scalingWait, canaryWait],
    ]) {
      expect(rolloutStatus('sentiment', { ...observed, waiters }, NOW).waiting[0]?.operator).toEqual({
        why: 'its canary is scaling for step 1 of 5 (5 %)',
        until: canaryWait.expiresAt,
        answers: 'model-rollout abort --service sentiment --tag v1.3.0',
      });
    }
    // The newest wait timed out to look itself (its waiter expired): the answered approval is still not the wait.
    const expiredCanaryWait = { ...waiter('p2'), expiresAt: '2026-12-06T09:59:00.000Z' };
    expect(rolloutStatus('sentiment', { ...observed, waiters: [answeredApproval, expiredCanaryWait] }, NOW).waiting).toEqual([]);
    // Before the answer, the approval was the newest.
    const asking = rolloutStatus('sentiment', { ...observed, waiters: [answeredApproval] }, NOW);
    expect(asking.waiting.map((w) => w.state)).toEqual(["Wait for an operator's approval"]);
  });

  it('names the holder, what it waits for (never its token), and the releases behind it', () => {
    const status = rolloutStatus(
      'sentiment',
      {
        lock: lock('p2', 'v1.3.0'),
        records: [
          record('p2', 'v1.3.0', 'deploying', '2026-12-06T09:54:00.000Z'),
          record('p3', 'v1.4.0', 'waiting', '2026-12-06T09:58:00.000Z'),
        ],
        waiters: [waiter('p2'), waiter('p3')],
      },
      NOW,
    );
    expect(status).toMatchObject({
      running: true,
      holder: { tag: 'v1.3.0', executionArn: arn('p2'), since: '2026-12-06T09:55:00.000Z', leaseEndsAt: '2026-12-06T11:00:00.000Z' },
      waiting: [
        {
          state: 'Wait for the new revision to become healthy',
          since: '2026-12-06T09:56:00.000Z',
          looksItselfBy: '2026-12-06T10:03:45.000Z',
        },
      ],
      underWay: [{ tag: 'v1.4.0', status: 'waiting' }],
    });
    expect(status.summary).toBe(
      'sentiment: v1.3.0 is rolling out (holds the service lock since 2026-12-06T09:55:00.000Z, lease until 2026-12-06T11:00:00.000Z), ' +
        'waiting in "Wait for the new revision to become healthy" since 2026-12-06T09:56:00.000Z (looks itself by 2026-12-06T10:03:45.000Z); ' +
        'under way behind it: v1.4.0 (waiting)',
    );
    expect(JSON.stringify(status)).not.toContain('secret');
  });

  it("tells where the holder's gray release stands: its step, weight, bake and last analysis", () => {
    const grayProgress = {
      step: 3,
      of: 5,
      weight: 30,
      stepStartedAt: '2026-12-06T09:40:00.000Z',
      bakeEndsAt: '2026-12-06T10:10:00.000Z',
      analysis: { verdict: 'passed', decision: 'keep-baking', reason: 'canary: 900 requests', at: '2026-12-06T09:55:00.000Z' },
    };
    const status = rolloutStatus(
      'sentiment',
      {
        lock: lock('p2', 'v1.3.0'),
        records: [{ ...record('p2', 'v1.3.0', 'deploying', '2026-12-06T09:30:00.000Z'), grayProgress }],
        waiters: [],
      },
      NOW,
    );
    expect(status.gray).toEqual(grayProgress);
    expect(status.summary).toContain(
      '; gray release at step 3 of 5 (30 % on the canary) since 2026-12-06T09:40:00.000Z, baking until 2026-12-06T10:10:00.000Z; ' +
        'last analysis at 2026-12-06T09:55:00.000Z: passed → keep-baking',
    );
  });

  it('does not count a lock whose lease ran out (a crashed holder), nor a waiter whose wait ended', () => {
    const status = rolloutStatus(
      'sentiment',
      { lock: lock('p2', 'v1.3.0', '2026-12-06T09:59:59.999Z'), records: [], waiters: [waiter('p2', '2026-12-06T10:00:00.000Z')] },
      NOW,
    );
    expect(status).toMatchObject({ running: false, holder: null, waiting: [] });
  });

  it('is running while a release is under way without the lock (received, or waiting for it)', () => {
    const status = rolloutStatus(
      'sentiment',
      { lock: null, records: [record('p4', 'v1.5.0', 'received', '2026-12-06T09:59:00.000Z')], waiters: [] },
      NOW,
    );
    expect(status).toMatchObject({ running: true, holder: null, underWay: [{ tag: 'v1.5.0', status: 'received' }] });
    expect(status.summary).toBe('sentiment: no release holds the service lock; under way: v1.5.0 (received)');
  });

  it('does not count a record left open for more than a day: its execution ended without being finalised', () => {
    const status = rolloutStatus(
      'sentiment',
      { lock: null, records: [record('p0', 'v1.1.0', 'deploying', '2026-12-05T09:59:59.999Z')], waiters: [] },
      NOW,
    );
    expect(status.running).toBe(false);
  });
});
