/**
 * The event-driven health wait (function await-health): instead of polling every few seconds, an execution waits for a
 * task token, and this function answers it once the service's health is decided.
 *
 * From the state machine ("Wait for …" Tasks, `.waitForTaskToken`): it stores the waiter first, then checks once — the
 * deployment may have settled before the waiter existed, and no event would come for it — and answers at once when the
 * verdict is no longer progressing. From EventBridge (ECS "ECS Deployment State Change", CloudWatch "Alarm State
 * Change"; both delivered at least once, possibly late, duplicated or out of order): it never trusts the event's own
 * words, only uses it to know which services to re-read, and answers each of their waiters whose health is decided.
 * A lost event (or one whose re-read ECS's eventual consistency made too early) costs time: the Task times out after
 * the update's recheckSeconds and the state machine looks once itself, then waits again.
 *
 * It also keeps the service lock's waits ("Wait for the service to be free": the waiter only) and answers them when the
 * state machine says an outcome freed the lock ("Wake the releases waiting for the service"), the waits for a late
 * signature (await-signature.ts: woken by ECR pushes), and it ends a gray release's bake when one of its analysed alarms
 * goes to ALARM.
 *
 * Two wake-ups racing for one waiter answer it once (the second finds the Task closed).
 */
import * as z from 'zod';
import { catalogEntrySchema, type CatalogEntry, type ServiceCatalog } from '../contract/catalog';
import type { ServiceLock, WaitKind, Waiter } from '../contract/ledger-records';
import type { AwaitHealthInput, AwaitLockInput, HealthResult, WakeLockWaitersInput } from '../contract/steps';
import {
  ABORTABLE_WAITS,
  type AbortableWait,
  ANALYSE_NOW,
  type HumanWaitDetails,
  humanWaitSchema,
  type OperatorDecision,
  SUPERSEDED,
} from '../contract/operator-decisions';
import { TRIGGERS } from '../contract/start-events';
import { type ServiceEvent, servicesConcerned } from '../decisions/event-subjects';
import { heldByAnother, supersedesApprovalWait } from '../decisions/service-lock';
import { analysedAlarms } from '../decisions/step-analysis';
import { WakeFailedError } from '../errors';
import { logger } from '../shared/logger';
import { answerWaiter, waiterOf } from './waits';
import {
  isPushEvent,
  isSignatureWait,
  type SignaturePushHandled,
  type SignatureWaitStarted,
  startWaitingForSignature,
  wakeSignatureWaiters,
} from './await-signature';
import { type HealthObservers, healthCheckSchema, observeHealth } from './observe-health';
import type { TaskTokens } from './ports/task-tokens';
import type { DeploymentLedger } from './ports/deployment-ledger';
import type { Waiters } from './ports/waiters';
import { parseStepInput, parseTriggerEvent } from './step-input';

const stepSchema = z.object({
  number: z.number().int().positive(),
  of: z.number().int().positive(),
  weight: z.number().int().nonnegative(),
});
const waitInputSchema = healthCheckSchema
  .extend({
    service: catalogEntrySchema,
    taskToken: z.string().min(1),
    executionArn: z.string().min(1),
    waitingState: z.string().min(1),
    waitsFor: z.enum(['deployment', 'rollback', 'canary']),
    timeoutSeconds: z.number().int().positive(),
    abortable: z.boolean().optional(),
    gray: z.object({ step: stepSchema.nullable(), next: stepSchema.nullable() }).optional(),
    tag: z.string().min(1).optional(),
    trigger: z.enum(TRIGGERS).optional(),
  })
  .refine((input) => !input.abortable || (input.gray !== undefined && input.tag !== undefined && input.trigger !== undefined), {
    path: ['abortable'],
    message: 'a wait operators may abort names its release (gray, tag and trigger)',
  })
  .refine((input) => !input.abortable || input.waitsFor !== 'rollback', {
    path: ['abortable'],
    message: 'a rollback is not a wait operators may abort',
  }) satisfies z.ZodType<AwaitHealthInput>;

/** "ECS Deployment State Change", or "ECS Service Action" (SERVICE_STEADY_STATE: a scaled canary's tasks run). */
const ecsDeploymentEventSchema = z.object({
  source: z.literal('aws.ecs'),
  'detail-type': z.enum(['ECS Deployment State Change', 'ECS Service Action']),
  resources: z.array(z.string()).min(1),
});
const alarmEventSchema = z.object({
  source: z.literal('aws.cloudwatch'),
  'detail-type': z.literal('CloudWatch Alarm State Change'),
  /**
   * When the alarm changed state (the event's time); `detail.state.value` is the state it changed to (CloudWatch user
   * guide, "Alarm events and EventBridge": one event whenever an alarm changes state, delivered at least once).
   */
  time: z.string().optional(),
  detail: z.object({ alarmName: z.string().min(1), state: z.object({ value: z.string() }).partial().optional() }),
});
const serviceEventSchema = z.union([ecsDeploymentEventSchema, alarmEventSchema]);

export interface AwaitHealthDependencies extends HealthObservers {
  waiters: Waiters;
  /** The service lock, read once after a lock wait's waiter is stored. */
  locks: Pick<DeploymentLedger, 'getLock'>;
  tokens: TaskTokens;
  /** The configured services: an event names its service by ARN or alarm name only. */
  catalog: ServiceCatalog;
}

/** From the state machine: whether the execution now waits for an event, and what the check found. */
export interface WaitStarted {
  waiting: boolean;
  health: HealthResult;
}

/** From EventBridge: the waiters answered (a bake woken for an analysis counts as `progressing`: nothing is decided yet). */
export interface WakeResult {
  services: string[];
  answered: { service: string; executionArn: string; state: string; verdict: HealthResult['verdict'] }[];
}

/** The waits this function answers (the ledger may hold waiters of other kinds). */
const HEALTH_WAITS: ReadonlySet<WaitKind> = new Set(['deployment', 'rollback', 'canary']);

const isEvent = (event: unknown) => typeof event === 'object' && event !== null && 'detail-type' in event;

/** "Wait for the service to be free": the waiter only; take-lock tries again once woken or after the timeout. */
const lockWaitSchema = z.object({
  service: catalogEntrySchema,
  tag: z.string().min(1),
  taskToken: z.string().min(1),
  executionArn: z.string().min(1),
  waitingState: z.string().min(1),
  waitsFor: z.literal('lock'),
  timeoutSeconds: z.number().int().positive(),
}) satisfies z.ZodType<AwaitLockInput>;
const wakeLockWaitersSchema = z.object({
  wake: z.literal('lock-waiters'),
  service: z.string().min(1).nullable(),
}) satisfies z.ZodType<WakeLockWaitersInput>;

const isLockWait = (event: unknown) => typeof event === 'object' && event !== null && (event as { waitsFor?: unknown }).waitsFor === 'lock';
const isLockWake = (event: unknown) => typeof event === 'object' && event !== null && 'wake' in event;

export function createAwaitHealthHandler(deps: AwaitHealthDependencies) {
  return async (event: unknown): Promise<WaitStarted | WakeResult | LockWaitStarted | SignatureWaitStarted | SignaturePushHandled> => {
    if (isPushEvent(event)) return wakeSignatureWaiters(deps, event);
    if (isEvent(event)) return wake(deps, event);
    if (isSignatureWait(event)) return startWaitingForSignature(deps, event);
    if (isLockWait(event)) return startWaitingForLock(deps, event);
    if (isLockWake(event)) return wakeLockWaiters(deps, event);
    return startWaiting(deps, event);
  };
}

/** From the state machine, for the service lock: whether the execution now waits. */
export interface LockWaitStarted {
  waiting: boolean;
  until: string;
}

async function startWaitingForLock(deps: AwaitHealthDependencies, event: unknown): Promise<LockWaitStarted> {
  const wait = parseStepInput(lockWaitSchema, event, 'Wait for the service to be free');
  const { service, tag, executionArn, waitingState } = wait;
  const now = deps.clock();
  const waiter = waiterOf(wait, 'lock', {}, now);
  const until = waiter.expiresAt;
  await deps.waiters.put(waiter);
  // The holder may have freed the lock since take-lock looked, before this waiter existed: nobody would wake it. One
  // look after storing it, and take-lock tries again at once.
  const lock = await deps.locks.getLock(service.name);
  const free = !heldByAnother(lock, executionArn, now);
  if (free) await answerWaiter(deps, waiter, { lockFreed: true });
  if (!free && lock) await supersedeApprovalWait(deps, service.name, lock, { tag, executionArn }, now);
  logger.info(free ? 'The service lock is free already' : 'Waiting for the service lock', { state: waitingState, until });
  return { waiting: !free, until };
}

/**
 * The holder waits for approval before its first step (nothing changed yet) and this release ranks above it: it need
 * not wait hours for an approval of a release about to be superseded anyway. Its wait is answered "superseded" (it
 * returns the traffic it never moved and ends superseded, freeing the lock, which wakes this release).
 */
async function supersedeApprovalWait(
  deps: AwaitHealthDependencies,
  service: string,
  lock: ServiceLock,
  me: { tag: string; executionArn: string },
  now: Date,
): Promise<void> {
  const waits = await deps.waiters.waitingOn(service, now.toISOString(), 'operators');
  for (const wait of waits.filter((w) => w.executionArn === lock.holder.executionArn && w.waitsFor === 'approval')) {
    const details = humanWaitSchema.safeParse(wait.check);
    if (!details.success || details.data.step !== null || !supersedesApprovalWait(me, details.data)) continue;
    const reason = `${me.tag} is waiting for the service (execution ${me.executionArn}) and ranks above ${details.data.tag}, which waited for approval before its first step`;
    const superseded: OperatorDecision = { action: SUPERSEDED, by: `release ${me.tag}`, at: now.toISOString(), reason };
    await answerWaiter(deps, wait, superseded);
    logger.info('Superseded a lower release waiting for approval before its first step', { holder: lock.holder.executionArn });
  }
}

/**
 * From the state machine, once an outcome freed the service's lock: every release waiting for it is answered, and
 * take-lock decides again which one goes (the lock's order, latest wins). A failure is the caller's to ignore: the
 * waits look again after LOCK_RECHECK_SECONDS.
 */
async function wakeLockWaiters(deps: AwaitHealthDependencies, event: unknown): Promise<WakeResult> {
  const { service } = parseStepInput(wakeLockWaitersSchema, event, 'Wake the releases waiting for the service');
  if (service === null) return { services: [], answered: [] };
  // Every outcome asks, also one that never held the lock: while someone still holds it (its lease running), waking the
  // waiters would only make each look and wait again.
  const now = deps.clock();
  const lock = await deps.locks.getLock(service);
  if (heldByAnother(lock, null, now)) {
    logger.info('The service lock is still held: no release to wake', { service, holder: lock?.holder.executionArn });
    return { services: [service], answered: [] };
  }
  const waiters = (await deps.waiters.waitingOn(service, now.toISOString(), 'events')).filter((w) => w.waitsFor === 'lock');
  const answered: WakeResult['answered'] = [];
  for (const waiter of waiters) {
    if (await answerWaiter(deps, waiter, { lockFreed: true }))
      answered.push({ service, executionArn: waiter.executionArn, state: waiter.state, verdict: 'progressing' });
  }
  logger.info('Woke the releases waiting for the service lock', { service, answered: answered.length });
  return { services: [service], answered };
}

async function startWaiting(deps: AwaitHealthDependencies, event: unknown): Promise<WaitStarted> {
  const wait = parseStepInput(waitInputSchema, event, 'Wait for the service to become healthy');
  const { service, taskToken, executionArn, waitingState, waitsFor, timeoutSeconds, abortable, gray, tag, trigger, ...check } = wait;
  logger.resetKeys();
  logger.appendKeys({ targetService: service.name });
  const waiter = waiterOf(wait, waitsFor, check, deps.clock());
  await deps.waiters.put(waiter);
  if (abortable && gray && tag && trigger && waitsFor !== 'rollback') {
    // Best effort: a copy that cannot be stored costs operators this look's abort, never the release its wait.
    const copy = operatorsCopyOf(waiter, ABORTABLE_WAITS[waitsFor], { ...gray, tag, trigger, deadline: check.deadline });
    await deps.waiters.put(copy).catch((error: Error) => {
      logger.error('The wait could not be kept for operators: no abort until its next look', { state: waitingState, error: error.message });
    });
  }
  const health = await observeHealth(deps, service, check);
  const waiting = health.verdict === 'progressing';
  if (!waiting) await answerWaiter(deps, waiter, health);
  logger.info(waiting ? 'Waiting for an ECS or alarm event' : 'Health already decided', { state: waitingState, verdict: health.verdict });
  return { waiting, health };
}

/**
 * A health wait an operator may abort, where operators find it: the same token, kind `scaling` (the canary scaling for
 * a step) or `promoting` (the stable service taking the release), in the operator-waits partition. The health waiter's
 * partition stays out of operators' reach; what an operator answers this token with is checked by the state machine
 * (only an abort is taken, and a health verdict is re-read, never taken from the answer).
 */
function operatorsCopyOf(
  waiter: Waiter,
  kind: AbortableWait,
  {
    step,
    next,
    tag,
    trigger,
    deadline,
  }: NonNullable<AwaitHealthInput['gray']> & Required<Pick<AwaitHealthInput, 'tag' | 'trigger'>> & { deadline: string },
): Waiter {
  const of = next?.of ?? step?.of ?? 1;
  const why =
    kind === 'scaling' && next
      ? `its canary is scaling for step ${next.number} of ${next.of} (${next.weight} %)`
      : 'its stable service is taking the release, all traffic on the canary meanwhile';
  const details: HumanWaitDetails = {
    tag,
    trigger,
    step: step?.number ?? null,
    of,
    weight: step?.weight ?? 0,
    why,
    // By when the service must run it (the update's health deadline), not when the wait looks itself.
    until: deadline,
  };
  return { ...waiter, waitsFor: kind, check: humanWaitSchema.parse(details) };
}

async function wake(deps: AwaitHealthDependencies, event: unknown): Promise<WakeResult> {
  const parsed = parseTriggerEvent(serviceEventSchema, event, 'ECS deployment or CloudWatch alarm event');
  const subject: ServiceEvent =
    parsed.source === 'aws.ecs'
      ? { kind: 'deployment', serviceArns: parsed.resources }
      : { kind: 'alarm', alarmName: parsed.detail.alarmName };
  const services = servicesConcerned(subject, deps.catalog);
  const answered: WakeResult['answered'] = [];
  const failures: Error[] = [];
  for (const service of services) {
    try {
      answered.push(...(await wakeWaitersOf(deps, service)));
      if (parsed.source === 'aws.cloudwatch' && parsed.detail.state?.value === 'ALARM') {
        answered.push(...(await wakeBakesOf(deps, service, parsed.detail.alarmName, parsed.time)));
      }
    } catch (error) {
      failures.push(...(error instanceof WakeFailedError ? error.failures : [error as Error]));
    }
  }
  logger.info('Event handled', { event: parsed['detail-type'], services: services.map((s) => s.name), answered: answered.length });
  if (failures.length > 0) {
    throw new WakeFailedError(`${failures.length} waiter(s) could not be woken: ${failures.map((f) => f.message).join('; ')}`, failures);
  }
  return { services: services.map((s) => s.name), answered };
}

/**
 * Re-reads the service for each of its health waiters and answers those whose health is decided. One waiter's failure
 * does not keep the others waiting: each is tried, and the failures are thrown together at the end (WakeFailedError),
 * so that the event is retried for them. A waiter whose check cannot be read is skipped (it expires with its wait).
 */
async function wakeWaitersOf(deps: AwaitHealthDependencies, service: CatalogEntry): Promise<WakeResult['answered']> {
  const answered: WakeResult['answered'] = [];
  const failures: Error[] = [];
  const waiters = await deps.waiters.waitingOn(service.name, deps.clock().toISOString(), 'events');
  for (const waiter of waiters.filter((w) => HEALTH_WAITS.has(w.waitsFor))) {
    const check = healthCheckSchema.safeParse(waiter.check);
    if (!check.success) {
      logger.error('Waiter skipped: its check cannot be read', { executionArn: waiter.executionArn, state: waiter.state });
      continue;
    }
    try {
      const health = await observeHealth(deps, service, check.data);
      if (health.verdict !== 'progressing' && (await answerWaiter(deps, waiter, health))) {
        answered.push({ service: service.name, executionArn: waiter.executionArn, state: waiter.state, verdict: health.verdict });
      }
    } catch (error) {
      failures.push(error as Error);
    }
  }
  if (failures.length > 0) {
    throw new WakeFailedError(
      `${failures.length} waiter(s) of ${service.name} could not be woken: ${failures.map((f) => f.message).join('; ')}`,
      failures,
    );
  }
  return answered;
}

/**
 * An analysed alarm went to ALARM: each bake of the service ends now, so that the step is analysed at once instead of
 * at the end of its interval (an ALARM fails the analysis whatever its window holds). The event's own words are not
 * trusted: the analysis reads the alarm itself. Only a change to ALARM wakes (the other changes can wait for the next
 * analysis), and not a bake that began after the change: the analysis before it read the alarm already — so a
 * duplicate or retried event costs nothing, and a flapping alarm at most one analysis per ALARM, which failureLimit
 * bounds. An approval with traffic on the canary is woken the same way (its analyses go on while it waits; the
 * analysis keeps the approval open unless it fails).
 */
async function wakeBakesOf(
  deps: AwaitHealthDependencies,
  service: CatalogEntry,
  alarmName: string,
  changedAt: string | undefined,
): Promise<WakeResult['answered']> {
  if (!analysedAlarms(service).includes(alarmName) || service.release.strategy !== 'gray') return [];
  const now = deps.clock().toISOString();
  const changed = changedAt ? Date.parse(changedAt) : Number.NaN;
  // A bake, or an approval with traffic on the canary (whose analyses go on while it waits); not an approval before
  // the first step, when nothing is analysed.
  const analysed = (w: Waiter) =>
    w.waitsFor === 'bake' || (w.waitsFor === 'approval' && humanWaitSchema.safeParse(w.check).data?.step != null);
  const bakes = (await deps.waiters.waitingOn(service.name, now, 'operators')).filter(
    (w) => analysed(w) && !(Date.parse(w.since) > changed),
  );
  const answered: WakeResult['answered'] = [];
  for (const bake of bakes) {
    const wake: OperatorDecision = { action: ANALYSE_NOW, by: `alarm ${alarmName}`, at: now, reason: `alarm ${alarmName} changed state` };
    if (await answerWaiter(deps, bake, wake))
      answered.push({ service: service.name, executionArn: bake.executionArn, state: bake.state, verdict: 'progressing' });
  }
  return answered;
}
