import { describe, expect, it } from 'vitest';
import type { AnalysisCriteria } from '../../lambdas/contract/release-strategy';
import { targetGroupWindow } from '../fixtures/target-group-window';
import { grayRelease } from '../fixtures/catalog';
import {
  type AnalysisVerdict,
  askApproval,
  decideApproval,
  decideStep,
  evaluateStep,
  type StepAnalysis,
  type StepObservation,
  type TargetGroupWindow,
} from '../../lambdas/decisions/step-analysis';

/** The configuration's defaults (lib/config: analysis), watching one alarm. */
const CRITERIA: AnalysisCriteria = { ...grayRelease().analysis, alarms: ['sentiment-canary-5xx'] };

const window = targetGroupWindow;

/** A canary at 10 % that looks exactly like the stable version, every alarm OK, probe passed, no drift. */
function observation(
  o: Partial<Omit<StepObservation, 'canary' | 'stable'>> & {
    canary?: Partial<TargetGroupWindow>;
    stable?: Partial<TargetGroupWindow>;
  } = {},
): StepObservation {
  const { canary, stable, ...rest } = o;
  return {
    canary: window(canary),
    stable: window({ requests: 9000, ...stable }),
    alarms: [{ name: 'sentiment-canary-5xx', state: 'OK' }],
    probe: { passed: true, reason: 'every task answered 200 within 200 ms' },
    drift: null,
    ...rest,
  };
}

type Case = [string, StepObservation, AnalysisVerdict, string[]];
const titled = (cases: Case[]) => cases.map(([name, o, verdict, parts]) => [name, verdict, o, parts] as const);

const cases: Case[] = [
  ['a canary like the stable version', observation(), 'passed', ['canary: 1000 requests, 0 % errors, p99 400 ms', 'stable 0 %']],
  [
    'a canary at 100 % (no stable traffic to compare with)',
    observation({ stable: { requests: 0, p99Ms: null } }),
    'passed',
    ['canary: 1000 requests'],
  ],
  ['no probe this window', observation({ probe: null }), 'passed', []],
  // inconclusive
  ['no traffic at all', observation({ canary: { requests: 0, p99Ms: null } }), 'inconclusive', ['0 requests, fewer than the 200 needed']],
  ['too little traffic, with a few errors', observation({ canary: { requests: 50, targetErrors: 2 } }), 'inconclusive', ['50 requests']],
  [
    'an alarm without data',
    observation({ alarms: [{ name: 'sentiment-canary-5xx', state: 'INSUFFICIENT_DATA' }] }),
    'inconclusive',
    ['insufficient data'],
  ],
  [
    'an alarm CloudWatch does not know',
    observation({ alarms: [{ name: 'sentiment-canary-5xx', state: 'MISSING' }] }),
    'inconclusive',
    ['does not exist'],
  ],
  // failed
  ['5XX above the maximum rate', observation({ canary: { targetErrors: 11 } }), 'failed', ['error rate 1.1 % is above the maximum 1 %']],
  ['connection errors count as errors', observation({ canary: { targetErrors: 3, connectionErrors: 8 } }), 'failed', ['1.09 %']],
  [
    'a canary that refuses every connection (no RequestCount at all)',
    observation({ canary: { requests: 0, connectionErrors: 400, p99Ms: null } }),
    'failed',
    ['error rate 100 %'],
  ],
  [
    'errors below the maximum but too far above stable',
    observation({ canary: { targetErrors: 9 }, stable: { targetErrors: 18 } }),
    'failed',
    ["0.9 % is more than 0.5 points above the stable version's 0.2 %"],
  ],
  [
    'few requests, but already more errors than the maximum allows at minRequests',
    observation({ canary: { requests: 40, targetErrors: 3 } }),
    'failed',
    ['failed 3 of 40 requests'],
  ],
  [
    'p99 above the maximum',
    observation({ canary: { p99Ms: 2100 }, stable: { p99Ms: 2000 } }),
    'failed',
    ['p99 2100 ms is above the maximum 2000 ms'],
  ],
  [
    'p99 too far above stable',
    observation({ canary: { p99Ms: 501 } }),
    'failed',
    ["p99 501 ms is more than 1.25 × the stable version's 400 ms"],
  ],
  [
    'an alarm in ALARM',
    observation({ alarms: [{ name: 'sentiment-canary-5xx', state: 'ALARM' }] }),
    'failed',
    ['alarm sentiment-canary-5xx is in ALARM'],
  ],
  ['a failed probe', observation({ probe: { passed: false, reason: '10.0.1.7:8080 answered 200 in 350 ms' } }), 'failed', ['350 ms']],
  ['unhealthy canary hosts', observation({ canary: { unhealthyHosts: 1 } }), 'failed', ['1 canary target(s) failed']],
  ['drift', observation({ drift: 'Traffic changed outside the pipeline: x' }), 'failed', ['Traffic changed outside the pipeline']],
  [
    'a failure outranks no traffic',
    observation({ canary: { requests: 0, p99Ms: null }, drift: 'Traffic changed outside the pipeline: x' }),
    'failed',
    ['Traffic changed', 'fewer than the 200'],
  ],
];

describe('evaluateStep', () => {
  it.each(titled(cases))('%s → %s', (_, verdict, o, reasonParts) => {
    const analysis = evaluateStep(o, CRITERIA);
    expect(analysis.verdict).toBe(verdict);
    for (const part of reasonParts) expect(analysis.reasons.join(' | ')).toContain(part);
  });

  it('lists failures before the inconclusive findings', () => {
    const analysis = evaluateStep(
      observation({
        alarms: [
          { name: 'a', state: 'INSUFFICIENT_DATA' },
          { name: 'b', state: 'ALARM' },
        ],
      }),
      CRITERIA,
    );
    expect(analysis.reasons).toEqual(['alarm b is in ALARM', 'alarm a has insufficient data']);
  });

  it('passes a canary exactly at a limit, whatever binary floating point makes of the subtraction', () => {
    // 1.1 % − 0.6 % is 0.5000000000000001 in floating point: exactly the allowed increase, which passes.
    expect(
      evaluateStep(observation({ canary: { targetErrors: 11 }, stable: { requests: 1000, targetErrors: 6 } }), {
        ...CRITERIA,
        maxErrorRatePercent: 2,
      }).verdict,
    ).toBe('passed');
    // 0.3 × 1.1 = 0.33000000000000007: a p99 of exactly stable × ratio passes too.
    expect(evaluateStep(observation({ canary: { p99Ms: 0.33 }, stable: { p99Ms: 0.3 } }), { ...CRITERIA, maxP99Ratio: 1.1 }).verdict).toBe(
      'passed',
    );
    expect(
      evaluateStep(observation({ canary: { targetErrors: 12 }, stable: { requests: 1000, targetErrors: 6 } }), {
        ...CRITERIA,
        maxErrorRatePercent: 2,
      }).verdict,
    ).toBe('failed');
  });

  it('compares with the stable version only when it had enough requests of its own', () => {
    const fewStable = observation({ canary: { p99Ms: 900 }, stable: { requests: 100, p99Ms: 400 } });
    expect(evaluateStep(fewStable, CRITERIA).verdict).toBe('passed');
    expect(evaluateStep({ ...fewStable, stable: window({ requests: 200, p99Ms: 400 }) }, CRITERIA).verdict).toBe('failed');
  });
});

const analysis = (verdict: AnalysisVerdict): StepAnalysis => ({ verdict, reasons: [`${verdict} because`] });

describe('decideStep', () => {
  const limits = { failureLimit: 1, inconclusiveLimit: 1, onInconclusive: 'pause' as const };
  it.each([
    ['passed, bake not over', 'passed', { failures: 0, inconclusive: 0 }, false, 'keep-baking'],
    ['passed, bake over', 'passed', { failures: 1, inconclusive: 1 }, true, 'step-passed'],
    ['failed within the limit', 'failed', { failures: 0, inconclusive: 0 }, false, 'keep-baking'],
    ['failed within the limit, even with the bake over', 'failed', { failures: 0, inconclusive: 0 }, true, 'keep-baking'],
    ['failed beyond the limit', 'failed', { failures: 1, inconclusive: 0 }, false, 'abort'],
    ['inconclusive within the limit, bake over: never passes', 'inconclusive', { failures: 0, inconclusive: 0 }, true, 'keep-baking'],
    ['inconclusive beyond the limit', 'inconclusive', { failures: 0, inconclusive: 1 }, false, 'pause'],
  ] as const)('%s → %s', (_, verdict, record, bakeOver, decision) => {
    expect(decideStep(analysis(verdict), record, bakeOver, limits).decision).toBe(decision);
  });

  it('counts each verdict in its own tally and says which one it was', () => {
    const failed = decideStep(analysis('failed'), { failures: 0, inconclusive: 2 }, false, limits);
    expect(failed).toEqual({
      failures: 1,
      inconclusive: 2,
      decision: 'keep-baking',
      reason: 'failed analysis 1 (1 tolerated): failed because',
    });
    const inconclusive = decideStep(analysis('inconclusive'), { failures: 1, inconclusive: 0 }, false, limits);
    expect(inconclusive).toMatchObject({ failures: 1, inconclusive: 1, decision: 'keep-baking' });
  });

  it('aborts instead of pausing when onInconclusive is rollback', () => {
    const outcome = decideStep(analysis('inconclusive'), { failures: 0, inconclusive: 1 }, false, {
      ...limits,
      onInconclusive: 'rollback',
    });
    expect(outcome.decision).toBe('abort');
  });

  it('aborts on the first failure with the default failureLimit 0', () => {
    expect(decideStep(analysis('failed'), { failures: 0, inconclusive: 0 }, false, CRITERIA).decision).toBe('abort');
  });
});

describe('decideApproval', () => {
  const now = new Date('2026-12-06T10:00:00.000Z');
  const settings = { timeoutSeconds: 3600, onTimeout: 'rollback' as const, intervalSeconds: 300 };
  const step = { number: 2, of: 5, approval: false };
  const outcome = (decision: 'keep-baking' | 'step-passed' | 'pause' | 'abort') => ({
    failures: 0,
    inconclusive: 0,
    decision,
    reason: `${decision} because`,
  });
  const pending = askApproval('step 2 of 5 passed and asks for approval', new Date('2026-12-06T09:30:00.000Z'), settings);

  it.each([
    ['a passed step without approval goes on', 'step-passed', false, 'step-passed'],
    ['a passed step with approval asks for it', 'step-passed', true, 'ask-approval'],
    ['a baking step with approval keeps baking', 'keep-baking', true, 'keep-baking'],
    ['a paused step asks an operator', 'pause', false, 'ask-approval'],
    ['an abort aborts, approval or not', 'abort', true, 'abort'],
  ] as const)('%s', (_, decision, approval, expected) => {
    const move = decideApproval(outcome(decision), null, { ...step, approval }, now, settings);
    expect(move.decision).toBe(expected);
    expect(move.approval !== null).toBe(expected === 'ask-approval');
  });

  it('opens an approval that ends after the timeout, its first wait until the next analysis', () => {
    const move = decideApproval(outcome('pause'), null, step, now, settings);
    expect(move.approval).toEqual({
      why: 'step 2 of 5 paused: pause because',
      requestedAt: '2026-12-06T10:00:00.000Z',
      deadline: '2026-12-06T11:00:00.000Z',
      waitSeconds: 300,
    });
  });

  it('keeps waiting while analyses go on, never past the deadline', () => {
    const waiting = decideApproval(outcome('step-passed'), pending, step, now, settings);
    expect(waiting).toMatchObject({ decision: 'await-approval', approval: { ...pending, waitSeconds: 300 } });
    const nearEnd = decideApproval(outcome('keep-baking'), pending, step, new Date('2026-12-06T10:28:20.000Z'), settings);
    expect(nearEnd).toMatchObject({ decision: 'await-approval', approval: { waitSeconds: 100 } });
  });

  it('aborts a waiting approval when the analysis aborts', () => {
    expect(decideApproval(outcome('abort'), pending, step, now, settings)).toMatchObject({ decision: 'abort', approval: null });
  });

  it('ends an unanswered approval as configured once its deadline passed', () => {
    const late = new Date('2026-12-06T10:30:00.000Z');
    const rollback = decideApproval(outcome('keep-baking'), pending, step, late, settings);
    expect(rollback).toMatchObject({ decision: 'abort', approval: null });
    expect(rollback.reason).toContain('nobody answered the approval asked at 2026-12-06T09:30:00.000Z within 60 min');
    const goOn = decideApproval(outcome('step-passed'), pending, step, late, { ...settings, onTimeout: 'continue' });
    expect(goOn).toMatchObject({ decision: 'step-passed', approval: null });
    // Never on an analysis that does not pass the step (a failure within failureLimit, an inconclusive window).
    const failing = decideApproval(outcome('keep-baking'), pending, step, late, { ...settings, onTimeout: 'continue' });
    expect(failing).toMatchObject({ decision: 'abort', approval: null });
    expect(failing.reason).toContain('and the last analysis does not pass the step (keep-baking because)');
  });
});
