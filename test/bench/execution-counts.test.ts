import { describe, expect, it } from 'vitest';
import { countBilledWork, firstHealthyCheckAt, type HistoryEvent } from '../../bench/execution-counts';

const LAMBDA_STATES = new Set(['Update service', 'Check service health']);
const HEALTH_CHECKS = new Set(['Check service health']);

/** A state entered and exited at one simulated second, as the local run records it. */
const run = (state: string, at: number, detail?: string): HistoryEvent[] => [
  { at, type: 'StateEntered', state },
  { at, type: 'StateExited', state, detail },
];

describe('countBilledWork', () => {
  it('counts every state entered as one transition and every Lambda task entered as one invocation', () => {
    const history = [
      { at: 0, type: 'ExecutionStarted' },
      ...run('Update service', 0),
      ...run('Wait for the new revision to become healthy', 30),
      ...run('Check service health', 30, 'healthy — rollout complete'),
      ...run('Release deployed', 30),
      { at: 30, type: 'ExecutionSucceeded' },
    ];
    expect(countBilledWork(history, LAMBDA_STATES)).toEqual({ stateTransitions: 4, lambdaInvocations: 2 });
  });

  it('counts each retry as one more transition and, for a Lambda task, one more invocation', () => {
    const history = [
      { at: 0, type: 'StateEntered', state: 'Update service' },
      { at: 0, type: 'StateFailed', state: 'Update service' },
      { at: 2, type: 'StateRetried', state: 'Update service', detail: 'attempt 1' },
      { at: 2, type: 'StateFailed', state: 'Update service' },
      { at: 6, type: 'StateRetried', state: 'Update service', detail: 'attempt 2' },
      { at: 6, type: 'StateExited', state: 'Update service' },
      { at: 6, type: 'StateEntered', state: 'Publish outcome alert' },
      { at: 6, type: 'StateRetried', state: 'Publish outcome alert', detail: 'attempt 1' },
      { at: 6, type: 'StateExited', state: 'Publish outcome alert' },
    ];
    expect(countBilledWork(history, LAMBDA_STATES)).toEqual({ stateTransitions: 5, lambdaInvocations: 3 });
  });

  it('counts nothing in an empty history', () => {
    expect(countBilledWork([], LAMBDA_STATES)).toEqual({ stateTransitions: 0, lambdaInvocations: 0 });
  });
});

describe('firstHealthyCheckAt', () => {
  it('is the simulated second of the first health check that exited healthy', () => {
    const history = [
      ...run('Check service health', 30, 'progressing — Still rolling out: rollout IN_PROGRESS.'),
      ...run('Check service health', 60, 'healthy — Running revision 2 with 2/2 tasks, rollout complete.'),
      ...run('Check service health', 90, 'healthy — Running revision 2 with 2/2 tasks, rollout complete.'),
    ];
    expect(firstHealthyCheckAt(history, HEALTH_CHECKS)).toBe(60);
  });

  it('ignores unhealthy verdicts and states that are not health checks', () => {
    const history = [
      ...run('Check service health', 30, 'unhealthy — Alarm sentiment-5xx-rate is in ALARM.'),
      ...run('Record outcome in the ledger', 30, 'healthy — a state that only looks like a check'),
    ];
    expect(firstHealthyCheckAt(history, HEALTH_CHECKS)).toBeNull();
  });
});
