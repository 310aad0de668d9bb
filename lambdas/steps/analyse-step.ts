/**
 * "Analyse the canary against the stable version" (function analyse-step): one analysis of a gray release's step — the
 * two target groups' ALB metrics over a window, the service's health alarms and the analysis alarms, and the drift
 * guard (the route and the canary service as the pipeline left them) — judged by the step analysis, then what the step
 * does next; drift aborts at once, whatever the step's failureLimit. The window ends the metric lag before now and never starts before the step did (earlier minutes
 * carry the previous step's traffic); a step with no whole minute of its own yet is inconclusive, not judged on another
 * step's requests.
 */
import * as z from 'zod';
import { catalogEntrySchema } from '../contract/catalog';
import { pendingApprovalSchema } from '../contract/gray-progress';
import type { AnalysisCriteria, GrayRelease } from '../contract/release-strategy';
import {
  analysedAlarms,
  decideApproval,
  decideStep,
  evaluateStep,
  type StepAnalysis,
  type StepMove,
  type TargetGroupWindow,
} from '../decisions/step-analysis';
import { higherRelease } from '../decisions/service-lock';
import { digestClaimSeconds } from '../decisions/time-budget';
import { detectDrift } from '../decisions/traffic-drift';
import { TRIGGERS } from '../contract/start-events';
import { InvalidInputError } from '../errors';
import type { Clock } from '../shared/clock';
import { logger } from '../shared/logger';
import type { AlarmMonitor } from './ports/alarm-monitor';
import type { DeploymentLedger } from './ports/deployment-ledger';
import type { DeploymentTarget } from './ports/deployment-target';
import type { TargetGroupMetrics } from './ports/target-group-metrics';
import type { TrafficRouter } from './ports/traffic-router';
import { parseStepInput } from './step-input';

const MINUTE = 60_000;
const NO_TRAFFIC: TargetGroupWindow = { requests: 0, targetErrors: 0, connectionErrors: 0, p99Ms: null, unhealthyHosts: 0 };
const NO_WHOLE_MINUTE = "no whole minute of the step's own traffic has been published yet";

const inputSchema = z.object({
  service: catalogEntrySchema,
  step: z.object({
    number: z.number().int().positive(),
    of: z.number().int().positive(),
    weight: z.number(),
    approval: z.boolean(),
    weights: z.object({ stable: z.number(), canary: z.number() }),
    canaryTasks: z.number().int().nonnegative(),
    startedAt: z.iso.datetime({ offset: true }),
    bakeEndsAt: z.iso.datetime({ offset: true }),
  }),
  /** The step's analyses so far, and the approval it waits for (null when none). */
  record: z.object({
    failures: z.number().int().nonnegative(),
    inconclusive: z.number().int().nonnegative(),
    approval: pendingApprovalSchema.nullable().default(null),
  }),
  canaryTaskDefinitionArn: z.string().min(1),
  /** What "Probe the canary's health endpoint" found just before. */
  probe: z.object({ passed: z.boolean(), reason: z.string() }),
  /** This release (its tag, trigger, execution and when it started), as the lock decides: a higher one waiting supersedes it. */
  tag: z.string().min(1),
  trigger: z.enum(TRIGGERS),
  executionArn: z.string().min(1),
  receivedAt: z.iso.datetime({ offset: true }),
  /** The release's deployment record, where the analysis notes where the release stands. */
  ledgerKey: z.object({ service: z.string().min(1), sk: z.string().min(1) }),
});
export type AnalyseStepInput = z.infer<typeof inputSchema>;

export interface AnalyseStepResult extends StepMove {
  analysis: StepAnalysis;
  /** The metric window analysed, or null when the step had no whole minute of its own yet. */
  window: { start: string; end: string } | null;
  analysedAt: string;
}

export interface AnalyseStepDependencies {
  metrics: TargetGroupMetrics;
  alarms: Pick<AlarmMonitor, 'states'>;
  router: Pick<TrafficRouter, 'readWeights'>;
  target: Pick<DeploymentTarget, 'observeDeployment'>;
  ledger: Pick<DeploymentLedger, 'listDeployments' | 'noteGrayProgress'>;
  clock: Clock;
}

/** The window ending the metric lag before now, `windowSeconds` long, never before the step started (whole minutes). */
export function analysisWindow(now: Date, stepStartedAt: Date, criteria: Pick<AnalysisCriteria, 'windowSeconds' | 'metricLagSeconds'>) {
  const end = Math.floor((now.getTime() - criteria.metricLagSeconds * 1000) / MINUTE) * MINUTE;
  const start = Math.max(end - criteria.windowSeconds * 1000, Math.ceil(stepStartedAt.getTime() / MINUTE) * MINUTE);
  return end > start ? { start: new Date(start), end: new Date(end) } : null;
}

export function createAnalyseStepHandler(deps: AnalyseStepDependencies) {
  return async (event: unknown): Promise<AnalyseStepResult> => {
    const { service, step, record, canaryTaskDefinitionArn, ledgerKey, probe, ...release } = parseStepInput(
      inputSchema,
      event,
      'Analyse the canary against the stable version',
    );
    if (service.release.strategy !== 'gray') throw new InvalidInputError(`Analyse the canary: ${service.name} is not released gray`);
    const gray: GrayRelease = service.release;
    logger.resetKeys();
    logger.appendKeys({ targetService: service.name });
    const now = deps.clock();
    const window = analysisWindow(now, new Date(step.startedAt), gray.analysis);
    // A waiting release of this service runs at most this long: older open records are stale (take-lock's rule).
    const staleAfterSeconds = digestClaimSeconds(service);
    const { traffic } = gray;
    const groups = { stable: traffic.stableTargetGroupArn, canary: traffic.canaryTargetGroupArn };
    const [metrics, alarms, weights, canary, records] = await Promise.all([
      window ? deps.metrics.observeWindow({ routeArn: traffic.route.arn, targetGroups: groups, ...window }) : null,
      deps.alarms.states(analysedAlarms(service)),
      deps.router.readWeights(traffic.route, traffic),
      deps.target.observeDeployment({ ...service, service: traffic.canaryService }, canaryTaskDefinitionArn),
      // Only recent releases can be waiting (an older open record is stale, decisions/service-lock.ts); a ledger that
      // cannot be read costs the check, never the release.
      deps.ledger
        .listDeployments(service.name, { receivedSince: new Date(now.getTime() - staleAfterSeconds * 1000).toISOString() })
        .catch((error: Error) => {
          logger.warn('Could not read the ledger to look for a higher release', { error: error.message });
          return [];
        }),
    ]);
    const drift = detectDrift(
      { weights: step.weights, canaryTaskDefinitionArn, canaryDesiredCount: step.canaryTasks },
      {
        weights,
        canary: { taskDefinitionArn: canary.primary?.taskDefinitionArn ?? null, desiredCount: canary.primary?.desiredCount ?? 0 },
      },
    );
    // Before a whole minute of the step's own traffic is published, there is no traffic to judge: alarms and drift still are.
    const observed = metrics ?? { stable: NO_TRAFFIC, canary: NO_TRAFFIC };
    const judged = evaluateStep({ ...observed, alarms, probe, drift }, gray.analysis);
    const analysis: StepAnalysis = metrics ? judged : { ...judged, reasons: [...judged.reasons, NO_WHOLE_MINUTE] };
    const judgedStep = decideStep(analysis, record, now.getTime() >= Date.parse(step.bakeEndsAt), gray.analysis);
    const decided = decideApproval(judgedStep, record.approval, step, now, {
      ...gray.approval,
      intervalSeconds: gray.analysis.intervalSeconds,
    });
    // Someone else's change is never baked on, whatever failureLimit tolerates: the release stops at once. A higher
    // release waiting for the service takes it: this one stops at this check, and the newer one starts from the first step.
    // A failing release is never hidden as superseded: only one that would go on gives way.
    const goesOn = decided.decision !== 'abort';
    const newer = goesOn
      ? higherRelease({ ...release, receivedAt: new Date(release.receivedAt).toISOString() }, records, now, staleAfterSeconds)
      : null;
    const outcome: StepMove =
      drift !== null
        ? { ...decided, decision: 'abort', reason: drift, approval: null }
        : newer
          ? {
              ...decided,
              decision: 'superseded',
              approval: null,
              reason: `${newer.tag} is waiting for the service (execution ${newer.executionArn}) and ranks above ${release.tag}, which stops here`,
            }
          : decided;
    logger.info('Step analysed', { verdict: analysis.verdict, decision: outcome.decision, reasons: analysis.reasons });
    // For `model-rollout status`: the step and this analysis, on the release's own record.
    await deps.ledger.noteGrayProgress(ledgerKey, {
      step: step.number,
      of: step.of,
      weight: step.weight,
      stepStartedAt: step.startedAt,
      bakeEndsAt: step.bakeEndsAt,
      analysis: { verdict: analysis.verdict, decision: outcome.decision, reason: outcome.reason, at: now.toISOString() },
    });
    return {
      ...outcome,
      analysis,
      window: window && { start: window.start.toISOString(), end: window.end.toISOString() },
      analysedAt: now.toISOString(),
    };
  };
}
