/**
 * The gray release's changes to traffic and to the canary service (function steer-traffic), one operation per state:
 *
 * - `check-setup` "Check the traffic set-up": the route at rest and the canary service usable (decisions/traffic-setup);
 *   the stable service's desired count, which sizes every step's canary.
 * - `scale-canary` "Scale the canary for the next step": the next step of the plan (decisions/traffic-steps), the
 *   canary service on the release's revision with the step's task count; its health loop then waits for it.
 * - `shift` "Shift traffic to the next step": the route, still as the pipeline left it (else TrafficDriftError), gets the
 *   step's weights, read back with DescribeRules (or DescribeListeners) before the step counts as started; a write not
 *   yet visible is retried.
 * - `return-to-stable` "Return all traffic to the stable service" (an abort) and "Return traffic to the promoted stable
 *   service" (the end): stable 100 / canary 0, confirmed, and how long the canary must drain (its sticky clients).
 * - `retire-canary` "Scale the canary to 0", once it drained.
 *
 * Every operation returns the gray release's progress (`$.gray`) updated.
 */
import * as z from 'zod';
import { catalogEntrySchema, type CatalogEntry } from '../contract/catalog';
import { type GrayProgress, grayProgressSchema, type TrafficSetupResult } from '../contract/gray-progress';
import type { GrayRelease } from '../contract/release-strategy';
import { healthRecheckSeconds } from '../decisions/time-budget';
import { checkTrafficSetup } from '../decisions/traffic-setup';
import type { ObservedWeights } from '../decisions/traffic-drift';
import { askApproval } from '../decisions/step-analysis';
import { ALL_TO_STABLE, canaryDrainSeconds, nextStep, type TrafficWeights } from '../decisions/traffic-steps';
import { ERROR_NAMES, InvalidInputError, TrafficDriftError, TransientAwsError } from '../errors';
import type { Clock } from '../shared/clock';
import { logger } from '../shared/logger';
import type { DeploymentTarget } from './ports/deployment-target';
import type { TrafficRouter } from './ports/traffic-router';
import { parseStepInput } from './step-input';

const inputSchema = z.discriminatedUnion('operation', [
  z.object({ operation: z.literal('check-setup'), service: catalogEntrySchema }),
  z.object({
    operation: z.literal('scale-canary'),
    service: catalogEntrySchema,
    gray: grayProgressSchema,
    canaryTaskDefinitionArn: z.string().min(1),
    /** An operator's `promote --full`: the canary is scaled for the last step, the steps between are skipped. */
    toLastStep: z.boolean().default(false),
  }),
  z.object({ operation: z.literal('shift'), service: catalogEntrySchema, gray: grayProgressSchema }),
  z.object({
    operation: z.literal('return-to-stable'),
    service: catalogEntrySchema,
    gray: grayProgressSchema,
    returnedFor: z.enum(['abort', 'promoted', 'superseded']),
  }),
  z.object({ operation: z.literal('retire-canary'), service: catalogEntrySchema, gray: grayProgressSchema }),
]);
export type SteerTrafficInput = z.input<typeof inputSchema>;

export interface SteerTrafficDependencies {
  router: Pick<TrafficRouter, 'readWeights' | 'writeWeights'>;
  target: Pick<DeploymentTarget, 'serviceSetup' | 'scaleService'>;
  clock: Clock;
}

const NO_ANALYSIS: GrayProgress['analysis'] = {
  failures: 0,
  inconclusive: 0,
  decision: 'keep-baking',
  reason: 'no analysis yet',
  approval: null,
};
const show = (w: TrafficWeights) => `stable ${w.stable} / canary ${w.canary}`;

export function createSteerTrafficHandler(deps: SteerTrafficDependencies) {
  return async (event: unknown): Promise<GrayProgress | TrafficSetupResult> => {
    const input = parseStepInput(inputSchema, event, 'Steer traffic');
    const { service } = input;
    if (service.release.strategy !== 'gray') throw new InvalidInputError(`Steer traffic: ${service.name} is not released gray`);
    logger.resetKeys();
    logger.appendKeys({ targetService: service.name, operation: input.operation });
    const gray = service.release;
    switch (input.operation) {
      case 'check-setup':
        return checkSetup(deps, service, gray);
      case 'scale-canary':
        return scaleCanary(deps, service, gray, input.gray, input.canaryTaskDefinitionArn, input.toLastStep);
      case 'shift':
        return shift(deps, gray, input.gray);
      case 'return-to-stable':
        return returnToStable(deps, gray, input.gray, input.returnedFor);
      case 'retire-canary':
        return retireCanary(deps, service, gray, input.gray);
    }
  };
}

/** The canary as a service of the entry's cluster. */
const canaryOf = (service: CatalogEntry, gray: GrayRelease): CatalogEntry => ({ ...service, service: gray.traffic.canaryService });

async function checkSetup(deps: SteerTrafficDependencies, service: CatalogEntry, gray: GrayRelease): Promise<TrafficSetupResult> {
  const [weights, canary, stable] = await Promise.all([
    deps.router.readWeights(gray.traffic.route, gray.traffic).catch((error: Error): ObservedWeights | null => {
      if (error.name === ERROR_NAMES.noForwardAction) return null;
      throw error;
    }),
    deps.target.serviceSetup(canaryOf(service, gray)),
    deps.target.serviceSetup(service),
  ]);
  const setup = checkTrafficSetup({
    weights,
    canary: {
      status: canary.status,
      taskDefinitionFamily: canary.taskDefinitionArn ? familyOf(canary.taskDefinitionArn) : null,
      deploymentController: canary.deploymentController,
      targetGroupArns: canary.targetGroupArns,
    },
    canaryService: gray.traffic.canaryService,
    stableTaskDefinitionFamily: service.taskDefinitionFamily,
    stableService: service.service,
    stableDesiredCount: stable.desiredCount,
    stableTargetGroupArns: stable.targetGroupArns,
    stableTargetGroupArn: gray.traffic.stableTargetGroupArn,
    canaryTargetGroupArn: gray.traffic.canaryTargetGroupArn,
  });
  const reason = setup.ready
    ? `The traffic set-up is ready: the route sends all requests to the stable service, the canary service ${gray.traffic.canaryService} is usable`
    : `The traffic set-up is not ready for a gray release, nothing was changed: ${setup.problems.join('; ')}`;
  logger.info('Traffic set-up checked', { ready: setup.ready, problems: setup.problems });
  // The approval before the first step opens here: nothing has changed yet, nothing is analysed while it waits.
  const firstApproval = setup.ready && gray.approval.beforeFirstStep;
  const why = `${gray.steps.length} step(s) planned; the release waits for approval before the canary takes any traffic`;
  const approval = firstApproval
    ? askApproval(why, deps.clock(), { ...gray.approval, intervalSeconds: gray.approval.timeoutSeconds })
    : null;
  return {
    ...setup,
    step: null,
    next: null,
    stableDesiredCount: stable.desiredCount,
    weights: ALL_TO_STABLE,
    canaryUpdate: null,
    analysis: approval ? { ...NO_ANALYSIS, decision: 'ask-approval', reason: why, approval } : NO_ANALYSIS,
    returnedFor: null,
    drainSeconds: 0,
    reason,
  };
}

async function scaleCanary(
  deps: SteerTrafficDependencies,
  service: CatalogEntry,
  gray: GrayRelease,
  progress: GrayProgress,
  canaryTaskDefinitionArn: string,
  toLastStep: boolean,
): Promise<GrayProgress> {
  const next = nextStep(gray, progress.step?.index ?? null, progress.stableDesiredCount, toLastStep);
  if (next === null) throw new InvalidInputError(`Scale the canary: step ${progress.step?.number} was the last of the plan`);
  await deps.target.scaleService(canaryOf(service, gray), next.canaryTasks, canaryTaskDefinitionArn);
  const startedAt = deps.clock();
  const reason = `Scaling the canary to ${next.canaryTasks} task(s) of ${canaryTaskDefinitionArn} for step ${next.number} of ${next.of} (${next.weight} %)`;
  logger.info('Canary scaled', { step: next.number, canaryTasks: next.canaryTasks, stableDesiredCount: progress.stableDesiredCount });
  return {
    ...progress,
    next,
    canaryUpdate: {
      startedAt: startedAt.toISOString(),
      deadline: new Date(startedAt.getTime() + service.health.deadlineSeconds * 1000).toISOString(),
      recheckSeconds: healthRecheckSeconds(service.health.deadlineSeconds),
    },
    reason,
  };
}

/**
 * The step starts once its weights read back as written. Before writing, the route must still be as the pipeline left
 * it: a change made meanwhile (a `cdk deploy` that reset the rule) is never written over (TrafficDriftError). The last
 * step's bake also covers the standby (keepPreviousSeconds): the previous version stays ready on the stable service,
 * and the analyses go on, until the promotion.
 */
async function shift(deps: SteerTrafficDependencies, gray: GrayRelease, progress: GrayProgress): Promise<GrayProgress> {
  const { next } = progress;
  if (next === null) throw new InvalidInputError('Shift traffic: no step was planned (the canary was not scaled for one)');
  const before = await deps.router.readWeights(gray.traffic.route, gray.traffic);
  // A retried shift may find its own earlier write: that is no drift.
  if (!sameWeights(before, progress.weights) && !sameWeights(before, next.weights)) {
    throw new TrafficDriftError(
      `Traffic changed outside the pipeline (e.g. a cdk deploy): the rule routes ${describe(before)}, the pipeline set ${show(progress.weights)}; nothing was written over it`,
    );
  }
  await writeConfirmed(deps, gray, next.weights);
  const startedAt = deps.clock();
  const bakeSeconds = next.bakeSeconds + (next.last ? gray.keepPreviousSeconds : 0);
  const standby =
    next.last && gray.keepPreviousSeconds > 0 ? `, ${gray.keepPreviousSeconds / 60} min of it the previous version's standby` : '';
  logger.info('Traffic shifted', { step: next.number, weights: next.weights });
  return {
    ...progress,
    step: { ...next, startedAt: startedAt.toISOString(), bakeEndsAt: new Date(startedAt.getTime() + bakeSeconds * 1000).toISOString() },
    next: null,
    weights: next.weights,
    canaryUpdate: null,
    analysis: NO_ANALYSIS,
    reason: `Step ${next.number} of ${next.of}: ${show(next.weights)}, baking ${bakeSeconds / 60} min${standby}`,
  };
}

const sameWeights = (read: ObservedWeights, expected: TrafficWeights) =>
  read.stable === expected.stable && read.canary === expected.canary && read.otherTargetGroups.length === 0;
const describe = (read: ObservedWeights) =>
  `${show(read)}${read.otherTargetGroups.length > 0 ? ` and ${read.otherTargetGroups.join(', ')}` : ''}`;

/**
 * All traffic to stable, confirmed; the canary keeps its tasks while the clients its target group stickiness holds come
 * back (drainSeconds, for the state machine's Wait before retire-canary).
 */
async function returnToStable(
  deps: SteerTrafficDependencies,
  gray: GrayRelease,
  progress: GrayProgress,
  returnedFor: 'abort' | 'promoted' | 'superseded',
): Promise<GrayProgress> {
  const read = await writeConfirmed(deps, gray, ALL_TO_STABLE);
  const drainSeconds = canaryDrainSeconds(read.stickinessSeconds ?? 0);
  logger.info('Traffic returned to the stable service', { from: progress.weights, drainSeconds });
  return {
    ...progress,
    next: null,
    weights: ALL_TO_STABLE,
    canaryUpdate: null,
    returnedFor,
    drainSeconds,
    // Says nothing of the canary's tasks yet: the reason is the outcome's if scaling it to 0 then fails.
    reason: `All traffic is on the stable service (it was ${show(progress.weights)})`,
  };
}

/** The canary scaled to 0, once no client is sent to it any more. */
async function retireCanary(deps: SteerTrafficDependencies, service: CatalogEntry, gray: GrayRelease, progress: GrayProgress) {
  await deps.target.scaleService(canaryOf(service, gray), 0);
  logger.info('Canary scaled to 0');
  return { ...progress, reason: `${progress.reason}; the canary is scaled to 0 after ${progress.drainSeconds} s of drain` };
}

/**
 * Writes the weights and reads them back: DescribeRules may not show a write at once (ELB's API is eventually
 * consistent), so a read that differs is a TransientAwsError, which the state machine retries (writing again is harmless).
 */
async function writeConfirmed(deps: SteerTrafficDependencies, gray: GrayRelease, weights: TrafficWeights): Promise<ObservedWeights> {
  await deps.router.writeWeights(gray.traffic.route, gray.traffic, weights);
  const read = await deps.router.readWeights(gray.traffic.route, gray.traffic);
  if (!sameWeights(read, weights)) {
    throw new TransientAwsError(`The route ${gray.traffic.route.arn} reads ${describe(read)} after ${show(weights)} was written`);
  }
  return read;
}

/** `arn:…:task-definition/<family>:<revision>` → family. */
function familyOf(taskDefinitionArn: string): string {
  return taskDefinitionArn.replace(/^.*:task-definition\//, '').replace(/:\d+$/, '');
}
