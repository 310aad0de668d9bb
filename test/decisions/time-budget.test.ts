import { describe, expect, it } from 'vitest';
import {
  digestClaimSeconds,
  executionTimeoutSeconds,
  grayReleaseSeconds,
  healthRecheckSeconds,
  leaseSeconds,
} from '../../lambdas/decisions/time-budget';
import { MAX_DRAIN_SECONDS } from '../../lambdas/decisions/traffic-steps';
import { grayRelease, sentimentService } from '../fixtures/catalog';

describe('leaseSeconds', () => {
  it.each([
    [{ deadlineSeconds: 900, pollSeconds: 30 }, 2 * 930 + 900],
    [{ deadlineSeconds: 60, pollSeconds: 10 }, 2 * 70 + 900],
  ])('for %o is a rollout and a rollback to their deadlines plus 15 minutes: %i s', (health, expected) => {
    expect(leaseSeconds({ health })).toBe(expected);
  });

  it('adds, for a gray release, its whole plan: each step (canary deadline, bake, every tolerated analysis past it), the standby, the promotion, the drain', () => {
    const gray = grayRelease(); // 5 steps of 30 min, analyses every 5 min tolerating 0 failed and 2 inconclusive, 1 h standby
    const service = sentimentService({ release: gray, health: { deadlineSeconds: 900, pollSeconds: 30 } });
    // Each step: 6 analyses of its bake and 3 more it may add (0 failed, 2 inconclusive tolerated, the one deciding), each
    // run (the probe, then the analysis) two minutes.
    const steps = 5 * (900 + 1800 + (6 + 3) * 120 + 3 * 300);
    // Approvals of a day each (analysed every 5 minutes meanwhile): before the first step, and each step may pause.
    const approvals = 6 * (86400 + 288 * 120);
    const plan = steps + approvals + 3600 + 900 + MAX_DRAIN_SECONDS;
    expect(grayReleaseSeconds(service)).toBe(plan);
    expect(leaseSeconds(service)).toBe(2 * 930 + 900 + plan);
    expect(grayReleaseSeconds(sentimentService())).toBe(0);
  });

  it('counts one approval per step that asks for one when inconclusive analyses roll back instead of pausing', () => {
    const gray = grayRelease();
    const release = {
      ...gray,
      steps: gray.steps.map((s, i) => ({ ...s, approval: i === 1 })),
      approval: { ...gray.approval, beforeFirstStep: false, timeoutSeconds: 3600 },
      analysis: { ...gray.analysis, onInconclusive: 'rollback' as const },
    };
    const withApproval = sentimentService({ release, health: { deadlineSeconds: 900, pollSeconds: 30 } });
    const without = sentimentService({
      release: { ...release, steps: gray.steps },
      health: { deadlineSeconds: 900, pollSeconds: 30 },
    });
    expect(grayReleaseSeconds(withApproval) - grayReleaseSeconds(without)).toBe(3600 + 12 * 120);
  });
});

describe('digestClaimSeconds', () => {
  it('covers the wait for a late signature, a lease spent waiting for the service, and the release’s own lease', () => {
    const service = sentimentService({ signing: { lateSignatureSeconds: 600 }, health: { deadlineSeconds: 900, pollSeconds: 30 } });

    expect(digestClaimSeconds(service)).toBe(600 + 2 * (2 * 930 + 900));
  });
});

describe('executionTimeoutSeconds', () => {
  it('takes each part from the service that needs the most of it, plus 30 minutes', () => {
    const slowSigner = sentimentService({ name: 'a', signing: { lateSignatureSeconds: 1800 }, health: { deadlineSeconds: 300 } });
    const longDeadline = sentimentService({ name: 'b', signing: { lateSignatureSeconds: 0 }, health: { deadlineSeconds: 7200 } });

    expect(executionTimeoutSeconds([slowSigner, longDeadline])).toBe(1800 + leaseSeconds(longDeadline) + 2 * 7200 + 1800);
  });

  it('outlasts the longest gray release, so that no execution times out with its canary taking traffic', () => {
    const gray = sentimentService({ name: 'g', release: grayRelease() });
    expect(executionTimeoutSeconds([sentimentService(), gray])).toBeGreaterThan(leaseSeconds(gray) + grayReleaseSeconds(gray));
  });
});

describe('healthRecheckSeconds', () => {
  it.each([
    [900, 225, 'a quarter of the default 15-minute deadline'],
    [7200, 1800, 'a quarter of the longest deadline: at most four looks however long ECS takes'],
    [901, 226, 'rounded up: the fourth look is never before the deadline'],
    [60, 60, 'at least a minute'],
  ])('deadline %i s → a look of its own every %i s: %s', (deadline, expected) => {
    expect(healthRecheckSeconds(deadline)).toBe(expected);
  });
});
