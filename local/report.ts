/** Prints played scenarios the way an operator reads an execution in the Step Functions console. */
import { APPROVAL_REQUEST_EVENT } from '../lambdas/contract/outcomes';
import type { ExecutionResult, ExternalResult, NotStartedResult, OperationResult, ScenarioResult, WaitResult } from './play';
import { isPush, NOT_STARTED } from './scenario';
import type { HistoryEntry } from './workflow';

const WIDTH = 44;

export function printScenario(result: ScenarioResult, file: string): void {
  const { scenario, service } = result;
  console.log(`\n━━ ${scenario.name}  (${file})`);
  if (scenario.description) console.log(`   ${scenario.description}`);
  console.log(
    `   service ${service.name} [${service.environment}] = ${service.cluster}/${service.service}, running ${scenario.running.tag}`,
  );
  for (const entry of result.timeline) {
    if (entry.kind === 'execution') printExecution(entry.result);
    else if (entry.kind === 'not-started') printNotStarted(entry.result);
    else if (entry.kind === 'wait') printWait(entry.result);
    else if (entry.kind === 'external') printExternal(entry.result);
    else printOperation(entry.result);
  }
  for (const step of scenario.steps) {
    if (isPush(step) && step.deliveries === 0)
      console.log(`\n   push ${step.tag}: its event never arrived (only the reconciliation can find it)`);
  }
  console.log(`\n   $ model-rollout history --service ${service.name}`);
  for (const line of result.history) console.log(`     ${line}`);
  for (const mismatch of result.endMismatches) console.log(`   ✗ NOT as expected: ${mismatch}`);
}

function printNotStarted(result: NotStartedResult): void {
  const detail = (result.event as { detail: Record<string, unknown> }).detail;
  console.log(
    `\n   ${result.label} (${detail['repository-name']}, ${detail.result}, image-tag ${detail['image-tag'] ?? 'absent'}) → no execution: the trigger rule does not match`,
  );
  console.log(
    result.mismatches.length === 0
      ? `   ✓ as expected: ${NOT_STARTED}`
      : `   ✗ NOT as expected:\n     - ${result.mismatches.join('\n     - ')}`,
  );
}

function printWait(result: WaitResult): void {
  const minutes = result.step.wait / 60;
  console.log(
    `\n   … ${Number.isInteger(minutes) ? `${minutes} min` : `${result.step.wait} s`} pass${result.step.why ? ` (${result.step.why})` : ''}, until ${result.until}`,
  );
}

function printExternal(result: ExternalResult): void {
  const what = { 'rule-reset': 'a cdk deploy resets the weighted rule to its template, stable 100 / canary 0' }[result.step.external];
  console.log(`\n   ⚠ outside the pipeline, at ${result.at}: ${what}${result.step.why ? ` (${result.step.why})` : ''}`);
}

function printOperation(result: OperationResult): void {
  console.log(`\n   $ ${result.command}  → exit ${result.exitCode}`);
  for (const line of result.output) console.log(`     ${line}`);
  if (result.mismatches.length > 0) console.log(`   ✗ NOT as expected:\n     - ${result.mismatches.join('\n     - ')}`);
}

function printExecution(result: ExecutionResult): void {
  const { step, report, observed } = result;
  const late = isPush(step) && step.signatureArrivesAfterSeconds > 0 ? `, ${step.signatureArrivesAfterSeconds} s late` : '';
  const signature = isPush(step) ? `, signature: ${step.signature}${late}` : '';
  console.log(`\n   ${result.label} (${result.digest.slice(0, 19)}…${signature}) → execution ${report.executionArn.split(':').pop()}`);
  console.log(`     ${'time'.padEnd(8)}${'event'.padEnd(16)}${'state'.padEnd(WIDTH)}result`);
  for (const entry of report.history) {
    const line = historyLine(entry);
    if (line) console.log(`     ${line}`);
  }
  const ending =
    report.status === 'SUCCEEDED'
      ? `SUCCEEDED ${truncate(JSON.stringify(report.output), 400)}`
      : `${report.status} ${report.error ?? ''}: ${report.cause}`;
  console.log(`   execution ${ending}`);
  if (report.finalised)
    console.log(`   crash finaliser: ${report.finalised} (ledger record closed, service lock and digest claim released)`);
  if (report.alerts.length === 0) console.log('   alerts: none');
  for (const alert of report.alerts) {
    const d = alert.event.detail;
    const what =
      alert.event.source === 'aws.states'
        ? `execution ${d.status}: ${d.error}`
        : alert.event['detail-type'] === APPROVAL_REQUEST_EVENT.detailType
          ? `approval requested for ${d.tag} on ${d.service} (${d.why}; until ${d.deadline}, then ${d.onTimeout}): ${d.command}`
          : `${d.status}: ${d.repository}:${d.tag} on ${d.service}`;
    console.log(`   alert → ${alert.severity} topic: ${what}`);
  }
  const checked = observed.signature === null ? '' : `, signature ${observed.signature}`;
  console.log(
    result.mismatches.length === 0
      ? `   ✓ as expected: ${observed.status}${checked}, running ${observed.running}`
      : `   ✗ NOT as expected:\n     - ${result.mismatches.join('\n     - ')}`,
  );
}

function historyLine(entry: HistoryEntry): string | undefined {
  if (entry.type === 'StateEntered') return undefined;
  const time = `+${formatSeconds(entry.at)}`.padEnd(8);
  const state = `${entry.state ?? ''} `.padEnd(WIDTH);
  const detail = entry.detail ? truncate(entry.detail, 150) : '';
  return `${time}${entry.type.padEnd(16)}${state}${detail}`;
}

function formatSeconds(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return `${m}:${String(s).padStart(2, '0')}`;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Prints the summary and returns whether every execution and command went as expected. */
export function printSummary(results: ScenarioResult[]): boolean {
  let failed = 0;
  let executions = 0;
  console.log(`\n━━ Summary: ${results.length} scenario(s)`);
  for (const result of results) {
    for (const entry of result.timeline) {
      const { mismatches } = entry.result;
      if (mismatches.length > 0) failed++;
      const mark = mismatches.length === 0 ? '✓' : '✗';
      if (entry.kind === 'operation') {
        console.log(`   ${mark} ${result.scenario.name} — ${entry.result.command}: exit ${entry.result.exitCode}`);
        continue;
      }
      if (entry.kind === 'wait' || entry.kind === 'external') continue;
      if (entry.kind === 'not-started') {
        console.log(`   ${mark} ${result.scenario.name} — ${entry.result.label}: ${NOT_STARTED} (the trigger rule does not match)`);
        continue;
      }
      executions++;
      const { label, observed } = entry.result;
      const signature = observed.signature === null ? '' : `, signature ${observed.signature}`;
      console.log(
        `   ${mark} ${result.scenario.name} — ${label}: ${observed.status}${observed.error ? ` (${observed.error})` : ''}${signature}, running ${observed.running}, alerts [${observed.alerts.join(', ')}]`,
      );
    }
    if (result.endMismatches.length > 0) failed++;
  }
  console.log(
    failed === 0
      ? `   all ${executions} execution(s) and every command went as expected`
      : `   ${failed} execution(s), command(s) or end state(s) did not go as expected`,
  );
  return failed === 0;
}
