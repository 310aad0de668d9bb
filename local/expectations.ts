/** A scenario's expectations against what happened: each mismatch in words, an empty list when all went as expected. */
import type { DeploymentLedger } from '../lambdas/adapters/ledger';
import { ALERT_EVENT } from '../lambdas/contract/outcomes';
import { NOT_STARTED, type Expectation, type ScenarioOperation, type ScenarioPush } from './scenario';
import type { Observed } from './scenario-results';
import type { ExecutionReport } from './workflow';

/** What an execution did, as the expectations name it: its outcome, the signature verdict, what runs, the alerts. */
export function observe(report: ExecutionReport, running: string): Observed {
  const outcome = outcomeAlert(report) ?? report.output;
  return {
    status: outcome?.status ?? 'none',
    signature: outcome?.signature?.code ?? null,
    error: report.error,
    running,
    alerts: [...new Set(report.alerts.map((a) => a.severity))].sort(),
  };
}

/** The outcome the execution published (not a gray release's request for approval, which comes the same way). */
function outcomeAlert(report: ExecutionReport) {
  return report.alerts.find((a) => a.event.source === ALERT_EVENT.source && a.event['detail-type'] === ALERT_EVENT.detailType)?.event
    .detail;
}

/** An execution's mismatches: with what was expected, and knobs (injected failures, a crash) that had no effect. */
export async function executionMismatches(
  expected: Expectation | undefined,
  observed: Observed,
  report: ExecutionReport,
  where: { ledger: DeploymentLedger; service: string; digest: string; crashAfter: string | undefined },
): Promise<string[]> {
  return [
    ...(expected ? compare(expected, observed) : []),
    ...(expected ? await compareDetails(expected, report, where.ledger, where.service, where.digest) : []),
    // A failure injected into this execution that it never reached is a knob with no effect: the scenario would lie.
    ...Object.entries(report.unusedFailures).map(
      ([command, n]) => `awsFailures.${command}: ${n} injected failure(s) never reached by this execution`,
    ),
    ...Object.entries(report.unusedLambdaFailures).map(
      ([state, n]) => `lambdaFailures.${state}: ${n} injected failure(s) for invocations that never came`,
    ),
    ...(where.crashAfter !== undefined && report.status !== 'ABORTED'
      ? [`crashAfter: the execution never ran "${where.crashAfter}", so it did not crash there`]
      : []),
  ];
}

/** A push delivery the trigger rule does not match: wrong if an execution was expected, or failures were planned in it. */
export function notStartedMismatches(push: ScenarioPush, expected: Expectation | undefined, first: boolean): string[] {
  const failuresPlanned =
    first && (Object.keys(push.awsFailures).length > 0 || Object.keys(push.lambdaFailures).length > 0 || push.crashAfter !== undefined);
  return [
    ...(expected && expected.status !== NOT_STARTED
      ? [`status: expected ${expected.status}, got ${NOT_STARTED} (the trigger rule does not match this event)`]
      : []),
    ...(failuresPlanned
      ? ['awsFailures, lambdaFailures, crashAfter: the trigger rule starts no execution for this event, so nothing can fail in it']
      : []),
  ];
}

/** An operator command's mismatches: its exit status, and whether it started an execution. */
export function operationMismatches(
  operation: ScenarioOperation,
  answer: { exitCode: number; output: string[] },
  started: boolean,
): string[] {
  return [
    ...(answer.exitCode !== operation.expectExit
      ? [`exit status: expected ${operation.expectExit}, got ${answer.exitCode} (${answer.output.join(' | ')})`]
      : []),
    ...(operation.expect && !started ? ['expected an execution to start, but none did'] : []),
    ...(!operation.expect && started ? ['an execution started, but none was expected'] : []),
  ];
}

/** The expectations on what the execution did beyond its outcome: its AWS calls, the ledger after it, its alert. */
async function compareDetails(
  expected: Expectation,
  report: ExecutionReport,
  ledger: DeploymentLedger,
  service: string,
  digest: string,
): Promise<string[]> {
  const mismatches: string[] = [];
  for (const [command, count] of Object.entries(expected.calls ?? {})) {
    const made = report.calls.filter((c) => c.command === command).length;
    if (made !== count) mismatches.push(`calls.${command}: expected ${count}, got ${made}`);
  }
  if (expected.ledger?.status !== undefined) {
    const record = await ledger.findByExecution(report.executionArn);
    if (record?.status !== expected.ledger.status)
      mismatches.push(`ledger.status: expected ${expected.ledger.status}, got ${record?.status ?? 'no record of this execution'}`);
  }
  if (expected.ledger?.quarantined !== undefined) {
    const quarantined = Boolean((await ledger.getDigest(service, digest))?.quarantine);
    if (quarantined !== expected.ledger.quarantined)
      mismatches.push(`ledger.quarantined: expected ${expected.ledger.quarantined}, got ${quarantined}`);
  }
  return [...mismatches, ...compareAlert(expected, report)];
}

function compareAlert(expected: Expectation, report: ExecutionReport): string[] {
  const mismatches: string[] = [];
  const wanted = Object.entries(expected.alert ?? {});
  const alert = outcomeAlert(report);
  if (wanted.length > 0 && !alert) mismatches.push('alert: expected an outcome alert, but none was published');
  for (const [field, value] of alert ? wanted : []) {
    const actual = field.split('.').reduce<unknown>((at, key) => (at as Record<string, unknown> | null | undefined)?.[key], alert);
    const matches =
      value !== null && typeof value === 'object' ? typeof actual === 'string' && actual.includes(value.contains) : actual === value;
    if (!matches) mismatches.push(`alert.${field}: expected ${JSON.stringify(value)}, got ${JSON.stringify(actual)}`);
  }
  return mismatches;
}

function compare(expected: Expectation, observed: Observed): string[] {
  const mismatches: string[] = [];
  if (expected.status !== observed.status) mismatches.push(`status: expected ${expected.status}, got ${observed.status}`);
  if (expected.signature !== undefined && expected.signature !== observed.signature) {
    mismatches.push(`signature: expected ${expected.signature}, got ${observed.signature ?? 'not checked'}`);
  }
  if (expected.error !== observed.error) mismatches.push(`error: expected ${expected.error ?? 'none'}, got ${observed.error ?? 'none'}`);
  if (expected.running !== undefined && expected.running !== observed.running)
    mismatches.push(`running: expected ${expected.running}, got ${observed.running}`);
  const wanted = [...new Set(expected.alerts)].sort();
  if (wanted.join(',') !== observed.alerts.join(',')) {
    mismatches.push(`alerts: expected [${wanted.join(', ')}], got [${observed.alerts.join(', ')}]`);
  }
  return mismatches;
}
