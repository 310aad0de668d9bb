import { describe, expect, it } from 'vitest';
import { START_EVENTS, type EcrPushEvent } from '../../lambdas/contract/start-events';
import { triggerOf } from '../../lambdas/steps/step-input';

const detail = { 'repository-name': 'models/sentiment', 'image-digest': `sha256:${'a'.repeat(64)}`, 'image-tag': 'v1.3.0' };
const event = (source: string | undefined, extra: Partial<EcrPushEvent['detail']> = {}): EcrPushEvent => ({
  source,
  account: '123456789012',
  region: 'us-east-1',
  detail: { ...detail, ...extra },
});

describe('triggerOf', () => {
  it('reads an operator’s rollback request with who asked and why', () => {
    expect(triggerOf(event(START_EVENTS.rollback.source, { 'requested-by': 'alice', reason: 'p99 latency' }))).toEqual({
      kind: 'rollback',
      requestedBy: 'alice',
      reason: 'p99 latency',
    });
    expect(triggerOf(event(START_EVENTS.rollback.source))).toEqual({ kind: 'rollback', requestedBy: 'unknown operator', reason: null });
  });

  it('reads the reconciliation’s event as a reconciliation, and anything else as a push', () => {
    expect(triggerOf(event(START_EVENTS.reconciliation.source))).toEqual({ kind: 'reconciliation', requestedBy: null, reason: null });
    expect(triggerOf(event(START_EVENTS.push.source))).toEqual({ kind: 'push', requestedBy: null, reason: null });
    expect(triggerOf(event(undefined, { 'requested-by': 'mallory' }))).toEqual({ kind: 'push', requestedBy: null, reason: null });
  });
});
