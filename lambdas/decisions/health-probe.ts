/**
 * Whether the canary's tasks answer their health endpoint as the release needs: the expected status, within the
 * latency threshold, on every attempt that counts. The load balancer's own health check cannot say "within 200 ms" (its
 * timeout is whole seconds), so the pipeline asks each task itself. Pure: the caller sends the requests.
 */
import type { ProbeSettings } from '../contract/release-strategy';
import type { ProbeFinding } from './step-analysis';

/** One request's answer: its status (null when none came: refused, reset, timed out) and how long it took. */
export interface ProbeAttempt {
  status: number | null;
  latencyMs: number;
  /** Why no status came, e.g. "timed out after 1000 ms"; null when one did. */
  error: string | null;
}

export interface TargetProbe {
  /** `<ip>:<port>`, as the console should name it. */
  target: string;
  attempts: ProbeAttempt[];
}

const describe = (target: string, a: ProbeAttempt, s: Pick<ProbeSettings, 'expectStatus' | 'maxLatencyMs'>) =>
  a.status === null
    ? `${target} did not answer (${a.error ?? 'no response'})`
    : `${target} answered ${a.status} in ${Math.round(a.latencyMs)} ms (expected ${s.expectStatus} within ${s.maxLatencyMs} ms)`;

/** The attempts that count: all of them, or all but the first (connection set-up, a model server's first /health). */
function counted(attempts: ProbeAttempt[], warmup: boolean): ProbeAttempt[] {
  return warmup ? attempts.slice(1) : attempts;
}

/**
 * Passed when there is at least one target and every counted attempt of every target got `expectStatus` within
 * `maxLatencyMs`; the reason names each target's first failing attempt, so "200 in 350 ms" reads as the failure it is.
 */
export function judgeProbe(probes: TargetProbe[], settings: ProbeSettings): ProbeFinding {
  if (probes.length === 0) return { passed: false, reason: 'the canary target group has no target to probe' };
  const failures: string[] = [];
  let slowest = 0;
  for (const { target, attempts } of probes) {
    const judged = counted(attempts, settings.warmup);
    if (judged.length === 0) {
      failures.push(`${target} was not probed (${attempts.length} attempt(s), the first discarded as warm-up)`);
      continue;
    }
    const bad = judged.find((a) => a.status !== settings.expectStatus || a.latencyMs > settings.maxLatencyMs);
    if (bad) failures.push(describe(target, bad, settings));
    slowest = Math.max(slowest, ...judged.map((a) => a.latencyMs));
  }
  if (failures.length > 0) return { passed: false, reason: `health probe failed: ${failures.join('; ')}` };
  const attempts = settings.warmup ? settings.attempts - 1 : settings.attempts;
  return {
    passed: true,
    reason: `${probes.length} canary target(s) answered ${settings.expectStatus} on ${settings.path} ${attempts} time(s) each, slowest ${Math.round(slowest)} ms (at most ${settings.maxLatencyMs} ms)`,
  };
}
