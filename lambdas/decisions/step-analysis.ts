/**
 * Whether one analysis window of a gray release's step passed, failed or could not tell, and what the step does next.
 * Pure: the caller reads the target groups' ALB metrics, the alarms, the probe and the drift guard, and passes them in.
 */
import type { CatalogEntry } from '../contract/catalog';
import type { AnalysisCriteria } from '../contract/release-strategy';
import type { AlarmObservation } from './health';

/**
 * One target group's ALB metrics over the analysis window (namespace AWS/ApplicationELB, dimensions LoadBalancer and
 * TargetGroup). ALB publishes HTTPCode_Target_5XX_Count and TargetConnectionErrorCount only for minutes in which they
 * are non-zero, so a missing datapoint is 0 there; a missing RequestCount means no request reached the group.
 */
export interface TargetGroupWindow {
  /** RequestCount, Sum over the window. */
  requests: number;
  /** HTTPCode_Target_5XX_Count, Sum over the window (0 when no datapoint). */
  targetErrors: number;
  /** TargetConnectionErrorCount, Sum over the window (0 when no datapoint). */
  connectionErrors: number;
  /** TargetResponseTime p99 over the whole window, in milliseconds; null when no request was answered. */
  p99Ms: number | null;
  /** UnHealthyHostCount, Maximum over the window (0 when no datapoint). */
  unhealthyHosts: number;
}

export type AnalysisVerdict = 'passed' | 'failed' | 'inconclusive';

/** What the /health probe found on the canary's tasks this window. */
export interface ProbeFinding {
  passed: boolean;
  /** e.g. "10.0.1.7:8080 answered 200 in 350 ms (at most 200 ms)". */
  reason: string;
}

/** Everything one analysis looks at. */
export interface StepObservation {
  canary: TargetGroupWindow;
  stable: TargetGroupWindow;
  alarms: AlarmObservation[];
  /** null when the probe did not run this window. */
  probe: ProbeFinding | null;
  /** Why the traffic set-up is not as the pipeline left it (decisions/traffic-drift.ts), or null. */
  drift: string | null;
}

export interface StepAnalysis {
  verdict: AnalysisVerdict;
  /** Every finding, failing ones first: the console and the ledger show them all, not only the first. */
  reasons: string[];
}

type Finding = { verdict: AnalysisVerdict; reason: string };

const percent = (n: number) => `${Number(n.toFixed(2))} %`;
/**
 * Above a limit by more than floating-point noise: 1.1 − 0.6 is 0.5000000000000001 in binary floating point, and a canary
 * exactly at the limit must pass, as the configuration reads.
 */
const above = (value: number, limit: number) => value - limit > 1e-9;

/**
 * Requests that reached for the group, and how many of them failed: ALB counts in RequestCount only the requests a target
 * answered, so the connections a target refused (TargetConnectionErrorCount) are added to both.
 */
const attempted = (w: TargetGroupWindow) => w.requests + w.connectionErrors;
const errorCount = (w: TargetGroupWindow) => w.targetErrors + w.connectionErrors;
const errorRatePercent = (w: TargetGroupWindow) => (attempted(w) === 0 ? 0 : (100 * errorCount(w)) / attempted(w));

function errorFindings(o: StepObservation, c: AnalysisCriteria): Finding[] {
  const { canary, stable } = o;
  if (attempted(canary) < c.minRequests) {
    // A small sample decides nothing, unless its errors alone already exceed the rate at minRequests requests.
    const allowed = (c.maxErrorRatePercent / 100) * c.minRequests;
    if (errorCount(canary) > allowed) {
      return [
        {
          verdict: 'failed',
          reason: `the canary failed ${errorCount(canary)} of ${attempted(canary)} requests: above ${percent(c.maxErrorRatePercent)} of even ${c.minRequests}`,
        },
      ];
    }
    return [
      {
        verdict: 'inconclusive',
        reason: `the canary saw ${attempted(canary)} requests, fewer than the ${c.minRequests} needed to judge it`,
      },
    ];
  }
  const rate = errorRatePercent(canary);
  const findings: Finding[] = [];
  if (above(rate, c.maxErrorRatePercent)) {
    findings.push({
      verdict: 'failed',
      reason: `the canary's error rate ${percent(rate)} is above the maximum ${percent(c.maxErrorRatePercent)}`,
    });
  }
  // Compared with the stable version only when it had a sample of its own (none at the 100 % step).
  if (attempted(stable) >= c.minRequests) {
    const stableRate = errorRatePercent(stable);
    if (above(rate - stableRate, c.maxErrorRateIncrease)) {
      findings.push({
        verdict: 'failed',
        reason: `the canary's error rate ${percent(rate)} is more than ${c.maxErrorRateIncrease} points above the stable version's ${percent(stableRate)}`,
      });
    }
  }
  return findings;
}

function latencyFindings(o: StepObservation, c: AnalysisCriteria): Finding[] {
  const { canary, stable } = o;
  if (canary.p99Ms === null || canary.requests < c.minRequests) return [];
  const findings: Finding[] = [];
  if (above(canary.p99Ms, c.maxP99Ms)) {
    findings.push({ verdict: 'failed', reason: `the canary's p99 ${canary.p99Ms} ms is above the maximum ${c.maxP99Ms} ms` });
  }
  if (stable.p99Ms !== null && stable.requests >= c.minRequests && above(canary.p99Ms, stable.p99Ms * c.maxP99Ratio)) {
    findings.push({
      verdict: 'failed',
      reason: `the canary's p99 ${canary.p99Ms} ms is more than ${c.maxP99Ratio} × the stable version's ${stable.p99Ms} ms`,
    });
  }
  return findings;
}

function alarmFindings(o: StepObservation): Finding[] {
  return o.alarms.flatMap((alarm): Finding[] => {
    if (alarm.state === 'ALARM') return [{ verdict: 'failed', reason: `alarm ${alarm.name} is in ALARM` }];
    if (alarm.state === 'INSUFFICIENT_DATA') return [{ verdict: 'inconclusive', reason: `alarm ${alarm.name} has insufficient data` }];
    if (alarm.state === 'MISSING') return [{ verdict: 'inconclusive', reason: `alarm ${alarm.name} does not exist in CloudWatch` }];
    return [];
  });
}

/**
 * One analysis window's verdict. Failed when anything is wrong: traffic changed outside the pipeline, an alarm in
 * ALARM, a failed probe, unhealthy canary hosts, an error rate or p99 above its maximum or too far above the stable
 * version's. Otherwise inconclusive when the window cannot tell (too few canary requests, an alarm without data), and
 * passed only when every check had what it needed. Inconclusive never passes a step.
 */
export function evaluateStep(observation: StepObservation, criteria: AnalysisCriteria): StepAnalysis {
  const findings: Finding[] = [
    ...(observation.drift === null ? [] : [{ verdict: 'failed' as const, reason: observation.drift }]),
    ...alarmFindings(observation),
    ...(observation.probe && !observation.probe.passed ? [{ verdict: 'failed' as const, reason: observation.probe.reason }] : []),
    ...(observation.canary.unhealthyHosts > 0
      ? [
          {
            verdict: 'failed' as const,
            reason: `${observation.canary.unhealthyHosts} canary target(s) failed the load balancer's health check`,
          },
        ]
      : []),
    ...errorFindings(observation, criteria),
    ...latencyFindings(observation, criteria),
  ];
  const failed = findings.filter((f) => f.verdict === 'failed');
  const inconclusive = findings.filter((f) => f.verdict === 'inconclusive');
  const verdict: AnalysisVerdict = failed.length > 0 ? 'failed' : inconclusive.length > 0 ? 'inconclusive' : 'passed';
  const reasons = [...failed, ...inconclusive].map((f) => f.reason);
  if (verdict === 'passed') reasons.push(passedReason(observation));
  return { verdict, reasons };
}

function passedReason({ canary, stable }: StepObservation): string {
  const stableText = stable.requests > 0 ? `; stable ${percent(errorRatePercent(stable))}, p99 ${stable.p99Ms} ms` : '';
  return `canary: ${canary.requests} requests, ${percent(errorRatePercent(canary))} errors, p99 ${canary.p99Ms} ms${stableText}`;
}

/** What a step does after an analysis (decideStep), before approvals are considered. */
export type StepDecision = 'keep-baking' | 'step-passed' | 'pause' | 'abort';
/**
 * What the step does next, approvals considered (decideApproval): ask-approval asks an operator now, await-approval
 * keeps waiting for the answer (analyses go on meanwhile); superseded, a higher release waits for the service (decided
 * by the caller, with the ledger).
 */
export type NextMove = Exclude<StepDecision, 'pause'> | 'ask-approval' | 'await-approval' | 'superseded';

/** The analyses a step has had so far (this one not included). */
export interface StepRecord {
  failures: number;
  inconclusive: number;
}

export interface StepOutcome extends StepRecord {
  decision: StepDecision;
  reason: string;
}

/**
 * An approval under way: why it was asked, when, when it ends as configured if nobody answers, and how long its next
 * wait lasts (until the next analysis, or the deadline if sooner).
 */
export interface PendingApproval {
  why: string;
  requestedAt: string;
  deadline: string;
  waitSeconds: number;
}

export interface StepMove extends StepRecord {
  decision: NextMove;
  reason: string;
  approval: PendingApproval | null;
}

/**
 * After an analysis: a failure beyond `failureLimit` aborts the release, an inconclusive window beyond
 * `inconclusiveLimit` does `onInconclusive` (pause for a human, or abort); a step passes on a passing analysis once its
 * bake time is over, and keeps baking otherwise. Limits count every analysis of the step, not only consecutive ones.
 */
export function decideStep(
  analysis: StepAnalysis,
  record: StepRecord,
  bakeOver: boolean,
  criteria: Pick<AnalysisCriteria, 'failureLimit' | 'inconclusiveLimit' | 'onInconclusive'>,
): StepOutcome {
  const why = analysis.reasons.join('; ');
  if (analysis.verdict === 'failed') {
    const failures = record.failures + 1;
    const decision = failures > criteria.failureLimit ? 'abort' : 'keep-baking';
    const tally = `failed analysis ${failures} (${criteria.failureLimit} tolerated)`;
    return { ...record, failures, decision, reason: `${tally}: ${why}` };
  }
  if (analysis.verdict === 'inconclusive') {
    const inconclusive = record.inconclusive + 1;
    const beyond = inconclusive > criteria.inconclusiveLimit;
    const decision = !beyond ? 'keep-baking' : criteria.onInconclusive === 'pause' ? 'pause' : 'abort';
    const tally = `inconclusive analysis ${inconclusive} (${criteria.inconclusiveLimit} tolerated)`;
    return { ...record, inconclusive, decision, reason: `${tally}: ${why}` };
  }
  return { ...record, decision: bakeOver ? 'step-passed' : 'keep-baking', reason: why };
}

/** Opens an approval at `now`, its first wait until the next analysis (or the deadline, if sooner). */
export function askApproval(why: string, now: Date, settings: { timeoutSeconds: number; intervalSeconds: number }): PendingApproval {
  return {
    why,
    requestedAt: now.toISOString(),
    deadline: new Date(now.getTime() + settings.timeoutSeconds * 1000).toISOString(),
    waitSeconds: Math.min(settings.intervalSeconds, settings.timeoutSeconds),
  };
}

/**
 * After an analysis, with approvals: a step that passed and asks for approval, or that paused on inconclusive analyses,
 * asks an operator; while the approval waits, the analyses go on and an abort still aborts; once its deadline passed,
 * the approval ends as configured (`onTimeout`: continue as if approved — only on an analysis that passes the step —
 * or roll back). An operator's answer never
 * comes through here: the state machine routes it.
 */
export function decideApproval(
  outcome: StepOutcome,
  pending: PendingApproval | null,
  step: { number: number; of: number; approval: boolean },
  now: Date,
  settings: { timeoutSeconds: number; onTimeout: 'rollback' | 'continue'; intervalSeconds: number },
): StepMove {
  const { decision, reason, ...record } = outcome;
  if (decision === 'abort') return { ...record, decision, reason, approval: null };
  if (pending) {
    const left = Math.ceil((Date.parse(pending.deadline) - now.getTime()) / 1000);
    if (left > 0) {
      const approval = { ...pending, waitSeconds: Math.min(settings.intervalSeconds, left) };
      return { ...record, decision: 'await-approval', reason: `${pending.why}; still waiting for an operator (${reason})`, approval };
    }
    const minutes = Math.round(settings.timeoutSeconds / 60);
    const unanswered = `nobody answered the approval asked at ${pending.requestedAt} within ${minutes} min`;
    // "continue" goes on as if approved, on an analysis that passes the step: never on a failing or inconclusive one.
    if (settings.onTimeout === 'continue' && decision === 'step-passed') {
      return {
        ...record,
        decision: 'step-passed',
        reason: `${unanswered}: the release goes on (onTimeout continue; ${reason})`,
        approval: null,
      };
    }
    const why = settings.onTimeout === 'continue' ? `and the last analysis does not pass the step (${reason})` : '(onTimeout rollback)';
    return { ...record, decision: 'abort', reason: `${unanswered} ${why}`, approval: null };
  }
  if (decision === 'pause') {
    const why = `step ${step.number} of ${step.of} paused: ${reason}`;
    return { ...record, decision: 'ask-approval', reason: why, approval: askApproval(why, now, settings) };
  }
  if (decision === 'step-passed' && step.approval) {
    const why = `step ${step.number} of ${step.of} passed and asks for approval before the release goes on`;
    return { ...record, decision: 'ask-approval', reason: `${why} (${reason})`, approval: askApproval(why, now, settings) };
  }
  return { ...record, decision, reason, approval: null };
}

/**
 * The alarms an analysis reads: the service's own health alarms (which the rolling release checks too) and the
 * gray release's analysis alarms, each once.
 */
export function analysedAlarms(service: CatalogEntry): string[] {
  const extra = service.release.strategy === 'gray' ? service.release.analysis.alarms : [];
  return [...new Set([...service.health.alarms, ...extra])];
}
