/**
 * Whether a release that passed the tag policy is new work for the service: not a digest already handled, in progress
 * or running, not a quarantined digest, and — for an operator's rollback — a version that once succeeded.
 * Pure: the step reads the ledger and the running digest, this decides.
 */
import type { DigestRecord, LedgerAdmission, ServiceLock } from '../contract/ledger-records';
import type { TriggerKind } from '../contract/start-events';
import type { PolicyCode } from '../contract/steps';
import { compareReleaseTags, parseReleaseTag } from './tag-policy';

export interface AdmissionInput {
  trigger: TriggerKind;
  digest: string;
  tag: string;
  /** The ledger's knowledge of the digest, as it was before this execution claimed it. */
  known: DigestRecord | null;
  /** The digest the service runs now; null when it cannot be told. */
  runningDigest: string | null;
  executionArn: string;
  now: Date;
}

export type AdmissionDecision = Omit<LedgerAdmission, 'key'>;

export function decideAdmission({ trigger, digest, tag, known, runningDigest, executionArn, now }: AdmissionInput): AdmissionDecision {
  if (known?.quarantine) {
    const { at, tag: quarantinedTag, reason } = known.quarantine;
    return {
      verdict: 'refused',
      code: 'quarantined',
      reason:
        `Digest ${digest} is quarantined since ${at}: its release as ${quarantinedTag} was rolled back (${reason}). ` +
        `Release it with \`model-rollout quarantine release --service ${known.service} --digest ${digest}\` before it may be deployed again.`,
    };
  }
  const claim = known?.claim;
  if (claim && claim.executionArn !== executionArn && new Date(claim.until) > now) {
    return {
      verdict: 'duplicate',
      code: 'duplicate',
      reason: `Digest ${digest} is already being released by execution ${claim.executionArn}; this event (tag ${tag}) adds nothing.`,
    };
  }
  // After the claim: while a rollout of it is under way ECS already "runs" it, but it is not proven good yet.
  if (runningDigest === digest) {
    return { verdict: 'duplicate', code: 'already-running', reason: `The service already runs ${digest}; nothing to do.` };
  }
  if (trigger === 'rollback') {
    return known?.succeeded
      ? { verdict: 'admitted', code: 'admitted', reason: `Rolling back to ${tag} (${digest}), which succeeded on ${known.succeeded.at}.` }
      : {
          verdict: 'refused',
          code: 'rollback-target-not-good',
          reason: `A rollback may only return to a version that once succeeded; the ledger has no succeeded deployment of ${tag} (${digest}).`,
        };
  }
  if (known?.succeeded) {
    return {
      verdict: 'duplicate',
      code: 'duplicate',
      reason:
        `Digest ${digest} was already deployed as ${known.succeeded.tag} on ${known.succeeded.at}; a second push (tag ${tag}) is not redeployed. ` +
        'To return to it, use `model-rollout rollback --to`.',
    };
  }
  return { verdict: 'admitted', code: 'admitted', reason: `Digest ${digest} (${tag}) is new to the service.` };
}

/**
 * A push that ranks below the version the service is being moved to right now (the lock holder's) arrived too late:
 * the tag policy calls it a downgrade, but it lost a race rather than broke a rule, so it is superseded (recorded, not
 * alerted). Null when the downgrade stands as a rejection.
 */
export function supersededOnArrival({
  tag,
  policyCode,
  lock,
  now,
}: {
  tag: string;
  policyCode: PolicyCode;
  lock: ServiceLock | null;
  now: Date;
}): AdmissionDecision | null {
  if (policyCode !== 'downgrade' || !lock || new Date(lock.expiresAt) <= now) return null;
  const mine = parseReleaseTag(tag);
  const theirs = parseReleaseTag(lock.holder.tag);
  if (!mine || !theirs || compareReleaseTags(theirs, mine) <= 0) return null;
  return {
    verdict: 'superseded',
    code: 'superseded',
    reason: `${lock.holder.tag} is being deployed (execution ${lock.holder.executionArn}) and ranks above ${tag}, so ${tag} is not deployed.`,
  };
}
