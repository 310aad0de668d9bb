/** Prints played scenarios the way an operator reads an execution in the Step Functions console. */
import type { PushResult, ScenarioResult } from './play';
import type { HistoryEntry } from './workflow';

const WIDTH = 44;

export function printScenario(result: ScenarioResult, file: string): void {
  const { scenario, service } = result;
  console.log(`\n━━ ${scenario.name}  (${file})`);
  if (scenario.description) console.log(`   ${scenario.description}`);
  console.log(`   service ${service.name} [${service.environment}] = ${service.cluster}/${service.service}, running ${scenario.running.tag}`);
  for (const push of result.pushes) printPush(push);
}

function printPush(result: PushResult): void {
  const { push, report, observed } = result;
  const late = push.signatureArrivesAfterSeconds > 0 ? `, ${push.signatureArrivesAfterSeconds} s late` : '';
  console.log(`\n   push ${push.tag} (${result.digest.slice(0, 19)}…, signature: ${push.signature}${late}) → execution ${report.executionArn.split(':').pop()}`);
  console.log(`     ${'time'.padEnd(8)}${'event'.padEnd(16)}${'state'.padEnd(WIDTH)}result`);
  for (const entry of report.history) {
    const line = historyLine(entry);
    if (line) console.log(`     ${line}`);
  }
  const ending = report.status === 'SUCCEEDED' ? `SUCCEEDED ${JSON.stringify(report.output)}` : `FAILED ${report.error}: ${report.cause}`;
  console.log(`   execution ${ending}`);
  if (report.alerts.length === 0) console.log('   alerts: none');
  for (const alert of report.alerts) {
    const d = alert.event.detail;
    const what = alert.event.source === 'aws.states' ? `execution ${d.status}: ${d.error}` : `${d.status}: ${d.repository}:${d.tag} on ${d.service}`;
    console.log(`   alert → ${alert.severity} topic: ${what}`);
  }
  const signature = observed.signature === null ? '' : `, signature ${observed.signature}`;
  console.log(result.mismatches.length === 0 ? `   ✓ as expected: ${observed.status}${signature}, running ${observed.running}` : `   ✗ NOT as expected:\n     - ${result.mismatches.join('\n     - ')}`);
}

function historyLine(entry: HistoryEntry): string | undefined {
  if (entry.type === 'StateEntered') return undefined;
  const time = `+${formatSeconds(entry.at)}`.padEnd(8);
  const state = (entry.state ?? '').padEnd(WIDTH);
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

/** Prints the summary and returns whether every execution went as expected. */
export function printSummary(results: ScenarioResult[]): boolean {
  const pushes = results.flatMap((r) => r.pushes.map((p) => ({ scenario: r.scenario.name, push: p })));
  const failed = pushes.filter((p) => p.push.mismatches.length > 0);
  console.log(`\n━━ Summary: ${results.length} scenario(s), ${pushes.length} execution(s)`);
  for (const { scenario, push } of pushes) {
    const mark = push.mismatches.length === 0 ? '✓' : '✗';
    const signature = push.observed.signature === null ? '' : `, signature ${push.observed.signature}`;
    console.log(`   ${mark} ${scenario} — ${push.push.tag}: ${push.observed.status}${push.observed.error ? ` (${push.observed.error})` : ''}${signature}, running ${push.observed.running}, alerts [${push.observed.alerts.join(', ')}]`);
  }
  console.log(failed.length === 0 ? '   every execution went as expected' : `   ${failed.length} execution(s) did not go as expected`);
  return failed.length === 0;
}
