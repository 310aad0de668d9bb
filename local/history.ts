/** An execution's history as the local run reports it: the runner's events, timed in simulated seconds, in one line each. */
import type { StateMachine } from 'aws-local-stepfunctions';
import { LOCK_RECHECK_SECONDS } from '../lambdas/contract/steps';
import { STATES } from '../lib/state-names';

type Json = any;

export interface HistoryEntry {
  /** Simulated seconds since the execution started. */
  at: number;
  type: string;
  state?: string;
  stateType?: string;
  detail?: string;
}

/** One event of the local runner's log (the library does not export its EventLog type). */
export type EventLog = Exclude<Awaited<ReturnType<ReturnType<StateMachine['run']>['eventLogs']['next']>>['value'], void>;

/**
 * `event` as a history entry at `at` seconds. `stateTypeOf` gives each state's type in the synthesized definition
 * (the runner's copy may run a state as another type: a Wait as a Task).
 */
export function toHistoryEntry(event: EventLog, at: number, stateTypeOf: (state: string) => string | undefined): HistoryEntry {
  const entry: HistoryEntry & Record<string, unknown> = { at, type: event.type };
  if ('state' in event) {
    entry.state = event.state.name;
    entry.stateType = stateTypeOf(event.state.name) ?? event.state.type;
    if (event.type === 'StateExited') entry.detail = summarizeOutput(event.state.name, event.state.output);
    if (event.type === 'StateRetried') entry.detail = `attempt ${event.retry.attempt}`;
  }
  if ('Error' in event) {
    entry.Error = event.Error;
    entry.Cause = typeof event.Cause === 'string' ? event.Cause : JSON.stringify(event.Cause);
    entry.detail = `${event.Error}: ${entry.Cause}`;
  }
  return entry;
}

/** The Error or Cause a history entry carries, if any. */
export function failureField(entry: HistoryEntry | undefined, field: 'Error' | 'Cause'): string | undefined {
  const raw = (entry as Json)?.[field];
  return raw === undefined ? undefined : String(raw);
}

/** What an operator would look for in a state's output, in one line. */
function summarizeOutput(state: string, output: Json): string | undefined {
  const at: Record<string, (o: Json) => Json> = {
    [STATES.checkRelease]: (o) => o.policy,
    [STATES.recordRelease]: (o) => o.ledger,
    [STATES.takeLock]: (o) => o.lock,
    [STATES.waitForLock]: () => ({ reason: `waiting for the service lock (woken when it is freed, or after ${LOCK_RECHECK_SECONDS} s)` }),
    [STATES.recordInLedger]: (o) => ({ reason: `${o.outcome?.status} recorded` }),
    [STATES.verifySignature]: (o) => o.signature,
    [STATES.waitForSignature]: (o) => ({
      reason: `waiting for a signature (woken by a push to the repository, or after ${o.service?.signing?.pollSeconds} s)`,
    }),
    [STATES.noteVerificationError]: (o) => o.signature,
    [STATES.registerRevision]: (o) => ({
      reason: `registered ${o.deployment?.newTaskDefinitionArn} (was ${o.deployment?.previousTaskDefinitionArn})`,
    }),
    [STATES.updateService]: (o) => o.rollout,
    [STATES.waitForHealth]: (o) => o.health,
    [STATES.checkHealth]: (o) => o.health,
    [STATES.noteUnhealthy]: (o) => ({ reason: o.failure?.Cause }),
    [STATES.noteRollbackUnstable]: (o) => ({ reason: o.rollbackFailure?.Cause }),
    [STATES.rollBack]: (o) => o.rollback,
    [STATES.waitForRollback]: (o) => o.rollbackHealth,
    [STATES.checkRollback]: (o) => o.rollbackHealth,
    [STATES.publishOutcome]: (o) => ({ reason: `${o.outcome?.status} published (${o.outcome?.severity})` }),
    // A gray release: each of its steps says what it did to the traffic; an analysis, its verdict and what it decided.
    [STATES.checkTrafficSetup]: (o) => o.gray,
    [STATES.scaleCanary]: (o) => o.gray,
    [STATES.waitForCanary]: (o) => o.canaryHealth,
    [STATES.checkCanary]: (o) => o.canaryHealth,
    [STATES.shiftTraffic]: (o) => o.gray,
    [STATES.bakeStep]: (o) => ({ reason: `baking ${o.service?.release?.analysis?.intervalSeconds} s until the next analysis` }),
    [STATES.analyseStep]: (o) => ({
      verdict: `${o.gray?.analysis?.analysis?.verdict} → ${o.gray?.analysis?.decision}`,
      reason: o.gray?.analysis?.reason,
    }),
    [STATES.returnToStable]: (o) => o.gray,
    [STATES.promote]: (o) => o.promotion,
    [STATES.waitForPromotion]: (o) => o.promotionHealth,
    [STATES.checkPromotion]: (o) => o.promotionHealth,
    [STATES.finishGrayRelease]: (o) => o.gray,
  };
  const pick =
    at[state] ??
    (state.startsWith('Record outcome') ? (o: Json) => ({ verdict: o.outcome?.status, reason: o.outcome?.reason }) : undefined);
  const value = pick?.(output);
  if (!value) return undefined;
  return [value.verdict, value.reason].filter(Boolean).join(' — ');
}
