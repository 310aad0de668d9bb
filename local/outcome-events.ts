/**
 * The events an execution leaves behind: those its PutEvents state published, and, when it did not succeed, the
 * status-change event Step Functions emits; and the alerts the synthesized rules route them to.
 */
import type { Severity } from '../lambdas/contract/outcomes';
import { matchesEventPattern } from './event-pattern';
import type { SynthesizedPipeline } from './synthesized-pipeline';

type Json = any;

export interface Alert {
  severity: Severity;
  rule: string;
  event: Json;
}

/** An event on the bus it was put on (by name). */
export type BusEvent = Json & { bus: string };

/** What the state machine's PutEvents entries become on their buses. */
export function publishedEvents(pipeline: SynthesizedPipeline, entries: Json[]): BusEvent[] {
  return entries.map((entry) => ({
    // The bus the entry was put on, by name (the state machine names it by ARN).
    bus: entry.EventBusName ? String(entry.EventBusName).split('event-bus/').pop() : 'default',
    source: entry.Source,
    'detail-type': entry.DetailType,
    account: pipeline.env.account,
    region: pipeline.env.region,
    resources: [],
    detail: typeof entry.Detail === 'string' ? JSON.parse(entry.Detail) : entry.Detail,
  }));
}

/** The "Step Functions Execution Status Change" event AWS would emit for an execution that did not succeed. */
export function statusChangeEvent(
  pipeline: SynthesizedPipeline,
  execution: { executionArn: string; name: string; startedAt: Date; input: Json },
  report: { status: string; error: string | null; cause: string | null },
): Json {
  const { executionArn, name, startedAt, input } = execution;
  return {
    source: 'aws.states',
    'detail-type': 'Step Functions Execution Status Change',
    account: pipeline.env.account,
    region: pipeline.env.region,
    resources: [executionArn],
    detail: {
      executionArn,
      stateMachineArn: pipeline.stateMachineArn,
      name,
      status: report.status,
      startDate: startedAt.getTime(),
      input: JSON.stringify(input),
      error: report.error,
      cause: report.cause,
    },
  };
}

/** The alerts the synthesized alert rules send for `events`: each rule sees its own bus only. */
export function routeAlerts(pipeline: SynthesizedPipeline, events: BusEvent[]): Alert[] {
  return events.flatMap(({ bus, ...event }) =>
    pipeline.alertRules
      .filter((rule) => rule.bus === bus && matchesEventPattern(event, rule.pattern))
      .flatMap((rule) => rule.severities.map((severity) => ({ severity, rule: rule.name, event }))),
  );
}
