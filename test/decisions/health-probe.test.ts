import { describe, expect, it } from 'vitest';
import type { ProbeSettings } from '../../lambdas/contract/release-strategy';
import { judgeProbe, type ProbeAttempt, type TargetProbe } from '../../lambdas/decisions/health-probe';

/** The configuration's defaults (lib/config: probe), on port 8080. */
const SETTINGS: ProbeSettings = {
  path: '/health',
  port: 8080,
  expectStatus: 200,
  maxLatencyMs: 200,
  attempts: 5,
  timeoutMs: 1000,
  warmup: true,
};
const ok = (latencyMs = 40): ProbeAttempt => ({ status: 200, latencyMs, error: null });
const target = (ip: string, ...attempts: ProbeAttempt[]): TargetProbe => ({ target: `${ip}:8080`, attempts });
const fast = (ip: string) => target(ip, ok(900), ok(), ok(), ok(), ok(60));

describe('judgeProbe', () => {
  it('passes when every counted attempt of every target answered 200 in time, the slow first one discarded', () => {
    expect(judgeProbe([fast('10.0.1.7'), fast('10.0.2.9')], SETTINGS)).toEqual({
      passed: true,
      reason: '2 canary target(s) answered 200 on /health 4 time(s) each, slowest 60 ms (at most 200 ms)',
    });
  });

  it.each<[string, TargetProbe[], Partial<ProbeSettings>, string]>([
    [
      '200, but in 350 ms',
      [fast('10.0.1.7'), target('10.0.2.9', ok(), ok(), ok(350), ok(), ok())],
      {},
      '10.0.2.9:8080 answered 200 in 350 ms (expected 200 within 200 ms)',
    ],
    ['a 503', [target('10.0.1.7', ok(), ok(), { status: 503, latencyMs: 5, error: null }, ok(), ok())], {}, 'answered 503 in 5 ms'],
    [
      'no answer',
      [target('10.0.1.7', ok(), ok(), { status: null, latencyMs: 1000, error: 'timed out after 1000 ms' }, ok(), ok())],
      {},
      'did not answer (timed out after 1000 ms)',
    ],
    ['no target at all', [], {}, 'no target to probe'],
    ['the slow first attempt, when warm-up is off', [fast('10.0.1.7')], { warmup: false }, 'answered 200 in 900 ms'],
    [
      'a target with only its warm-up attempt',
      [target('10.0.1.7', ok())],
      {},
      'was not probed (1 attempt(s), the first discarded as warm-up)',
    ],
  ])('fails on %s', (_, probes, settings, reason) => {
    const finding = judgeProbe(probes, { ...SETTINGS, ...settings });
    expect(finding.passed).toBe(false);
    expect(finding.reason).toContain(reason);
  });

  it('names every failing target, each by its first bad attempt', () => {
    const slow = target('10.0.1.7', ok(), ok(250), ok(300), ok(), ok());
    const down = target('10.0.2.9', ok(), { status: 502, latencyMs: 3, error: null }, ok(), ok(), ok());
    expect(judgeProbe([slow, down, fast('10.0.3.3')], SETTINGS).reason).toBe(
      'health probe failed: 10.0.1.7:8080 answered 200 in 250 ms (expected 200 within 200 ms); 10.0.2.9:8080 answered 502 in 3 ms (expected 200 within 200 ms)',
    );
  });

  it('judges the expected status configured, not always 200', () => {
    const noContent = target('10.0.1.7', ...Array.from({ length: 5 }, () => ({ status: 204, latencyMs: 10, error: null })));
    expect(judgeProbe([noContent], { ...SETTINGS, expectStatus: 204 }).passed).toBe(true);
    expect(judgeProbe([noContent], SETTINGS).passed).toBe(false);
  });
});
