/**
 * Where a service's rollout stands now, as the ledger tells it: who holds the service lock (and so may be changing the
 * service), what that execution waits for, and which releases wait behind it. Pure: `model-rollout status` reads the
 * ledger and passes the time in.
 */
import type { DeploymentRecord, GrayProgressNote, ServiceLock, Waiter } from '../contract/ledger-records';
import { ACTIONS_BY_WAIT, HUMAN_WAITS, type HumanWait, humanWaitSchema } from '../contract/operator-decisions';
import { STALE_AFTER_SECONDS } from './time-budget';

export interface RolloutStatus {
  /** true while a release may change the service: the lock is held (its lease not run out) or a release is under way. */
  running: boolean;
  /** The release holding the service lock, or null when the lock is free (or its lease ran out: a crashed holder). */
  holder: { tag: string; executionArn: string; since: string; leaseEndsAt: string } | null;
  /**
   * What the holder's execution waits for now (its Task state; none or one), and when the wait looks itself if nothing
   * wakes it; for a wait an operator answers (an approval, a bake), why and until when it waits, and the commands that
   * answer it.
   */
  waiting: {
    state: string;
    since: string;
    looksItselfBy: string;
    operator?: { why: string; until: string; answers: string };
  }[];
  /** The holder's gray release: its step, weight, bake and last analysis; null for a rolling release (or before its first analysis). */
  gray: GrayProgressNote | null;
  /** Releases received and not finished, other than the holder's, oldest first (a day-old one no longer counts). */
  underWay: { tag: string; status: string; receivedAt: string; executionArn: string }[];
  /** One line for people. */
  summary: string;
}

export function rolloutStatus(
  service: string,
  /** `waiters`: every waiter kept for the service, expired ones too (LedgerWaiters.kept). */
  observed: { lock: ServiceLock | null; records: readonly DeploymentRecord[]; waiters: readonly Waiter[] },
  now: Date,
): RolloutStatus {
  const at = now.toISOString();
  const lock = observed.lock && observed.lock.expiresAt > at ? observed.lock : null;
  const holder = lock
    ? { tag: lock.holder.tag, executionArn: lock.holder.executionArn, since: lock.acquiredAt, leaseEndsAt: lock.expiresAt }
    : null;
  const staleBefore = new Date(now.getTime() - STALE_AFTER_SECONDS * 1000).toISOString();
  const underWay = observed.records
    .filter((r) => !r.final && r.receivedAt > staleBefore && r.executionArn !== holder?.executionArn)
    .map((r) => ({ tag: r.tag, status: r.status, receivedAt: r.receivedAt, executionArn: r.executionArn }));
  const waiting = currentWaitOf(holder, observed.waiters, at).map((w) => ({
    state: w.state,
    since: w.since,
    looksItselfBy: w.expiresAt,
    ...operatorWait(service, w),
  }));
  const running = holder !== null || underWay.length > 0;
  const gray = (holder && observed.records.find((r) => r.executionArn === holder.executionArn && !r.final)?.grayProgress) ?? null;
  return { running, holder, waiting, gray, underWay, summary: summaryOf(service, holder, waiting, underWay, gray) };
}

const isHumanWait = (waiter: Waiter) => (HUMAN_WAITS as readonly string[]).includes(waiter.waitsFor);

/**
 * The holder's wait now: its newest waiter, if it has not expired. An execution waits in one Task at a time, and a
 * waiter stays in the ledger until it expires when an operator answered it (the CLI only reads): an older one of the
 * holder's ended, even one still unexpired (an approval answered hours before its deadline, shown again while the
 * newest wait has timed out to look itself would be a wait that is over).
 */
function currentWaitOf(holder: RolloutStatus['holder'], waiters: readonly Waiter[], at: string): Waiter[] {
  const own = waiters.filter((w) => holder !== null && w.executionArn === holder.executionArn);
  // A canary's or a promotion's wait is kept twice (for the functions, and for operators as `scaling` or `promoting`):
  // the operators' says more.
  const later = (w: Waiter, than: Waiter) => w.since > than.since || (w.since === than.since && isHumanWait(w) && !isHumanWait(than));
  const newest = own.reduce<Waiter | null>((latest, w) => (latest === null || later(w, latest) ? w : latest), null);
  return newest === null || newest.expiresAt <= at ? [] : [newest];
}

/** A wait an operator answers: why it waits, until when, and the commands (by ACTIONS_BY_WAIT) that answer it. */
function operatorWait(service: string, waiter: Waiter): { operator?: { why: string; until: string; answers: string } } {
  if (!isHumanWait(waiter)) return {};
  const details = humanWaitSchema.safeParse(waiter.check);
  if (!details.success) return {};
  const actions = ACTIONS_BY_WAIT[waiter.waitsFor as HumanWait].map((a) => (a === 'promote-full' ? 'promote --full' : a));
  const answers = `model-rollout ${actions.join(' | ')} --service ${service} --tag ${details.data.tag}`;
  return { operator: { why: details.data.why, until: details.data.until, answers } };
}

function summaryOf(
  service: string,
  holder: RolloutStatus['holder'],
  waiting: RolloutStatus['waiting'],
  underWay: RolloutStatus['underWay'],
  gray: GrayProgressNote | null,
) {
  const queued = underWay.length > 0 ? `; under way behind it: ${underWay.map((r) => `${r.tag} (${r.status})`).join(', ')}` : '';
  if (holder === null) {
    return underWay.length > 0
      ? `${service}: no release holds the service lock; under way: ${underWay.map((r) => `${r.tag} (${r.status})`).join(', ')}`
      : `${service}: no rollout is running`;
  }
  const wait = waiting
    .map((w) =>
      w.operator
        ? `, waiting in "${w.state}" since ${w.since} (${w.operator.why}; until ${w.operator.until}; answer: ${w.operator.answers})`
        : `, waiting in "${w.state}" since ${w.since} (looks itself by ${w.looksItselfBy})`,
    )
    .join('');
  const step = gray
    ? `; gray release at step ${gray.step} of ${gray.of} (${gray.weight} % on the canary) since ${gray.stepStartedAt}, baking until ` +
      `${gray.bakeEndsAt}; last analysis at ${gray.analysis.at}: ${gray.analysis.verdict} → ${gray.analysis.decision}`
    : '';
  return `${service}: ${holder.tag} is rolling out (holds the service lock since ${holder.since}, lease until ${holder.leaseEndsAt})${wait}${step}${queued}`;
}
