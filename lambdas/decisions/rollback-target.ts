/**
 * Where a failed release is rolled back to. The last known good version (the ledger's newest succeeded deployment
 * whose digest is not quarantined) when there is one; otherwise the revision the service ran before the update — but
 * only when the ledger has no record that this revision's own release failed (rolled back, rollback failed,
 * quarantined): a rollback onto a known-bad version is no rollback. With neither, there is no good version to return
 * to, and the execution says so instead of rolling back blindly. Pure: the steps read the ledger and ECS, this decides.
 */
import type { DeploymentRecord, DigestRecord } from '../contract/ledger-records';
import type { KnownBadRelease, LastKnownGood, RegisteredRevision } from '../contract/steps';

/** How many known-bad releases "Take the service lock" hands on: the newest, which the service can still be running. */
export const MAX_KNOWN_BAD_RELEASES = 50;

/**
 * The releases of the service the ledger records as failed after they changed it, newest first, one per digest:
 * deployments that ended rolled-back or rollback-failed (even if an operator released the quarantine since: that
 * lets the digest be deployed again, it does not make it good), and quarantined digests.
 */
export function knownBadReleases(
  records: Pick<DeploymentRecord, 'status' | 'tag' | 'digest' | 'finishedAt'>[],
  digests: Pick<DigestRecord, 'digest' | 'quarantine'>[],
): KnownBadRelease[] {
  const failed: KnownBadRelease[] = [
    ...records.flatMap((r) =>
      (r.status === 'rolled-back' || r.status === 'rollback-failed') && r.finishedAt
        ? [{ tag: r.tag, digest: r.digest, outcome: r.status, at: r.finishedAt }]
        : [],
    ),
    ...digests.flatMap((d) =>
      d.quarantine ? [{ tag: d.quarantine.tag, digest: d.digest, outcome: 'quarantined' as const, at: d.quarantine.at }] : [],
    ),
  ];
  const newestFirst = failed.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  const seen = new Set<string>();
  return newestFirst.filter((f) => !seen.has(f.digest) && seen.add(f.digest)).slice(0, MAX_KNOWN_BAD_RELEASES);
}

export interface RollbackTargetInput {
  /** From "Take the service lock": the ledger's newest succeeded, non-quarantined deployment, if any. */
  lastKnownGood: LastKnownGood | null;
  /** The revision the service ran before the update, and what it runs (null when that cannot be told). */
  previous: { taskDefinitionArn: string; version: string | null; digest: string | null };
  /** From "Take the service lock": the releases the ledger records as failed. */
  knownBad: KnownBadRelease[];
}

export type RollbackTarget = Pick<RegisteredRevision, 'rollbackTaskDefinitionArn' | 'rollbackTarget'>;

export function decideRollbackTarget({ lastKnownGood, previous, knownBad }: RollbackTargetInput): RollbackTarget {
  if (lastKnownGood) {
    return {
      rollbackTaskDefinitionArn: lastKnownGood.taskDefinitionArn,
      rollbackTarget: {
        version: lastKnownGood.tag,
        digest: lastKnownGood.digest,
        source: 'last-known-good',
        reason: `${lastKnownGood.tag} (${lastKnownGood.digest}) is the last known good version: it succeeded on ${lastKnownGood.succeededAt}.`,
      },
    };
  }
  const what = `${previous.taskDefinitionArn} (${previous.version ?? 'version unknown'}, ${previous.digest ?? 'digest unknown'})`;
  const failed = previous.digest === null ? undefined : knownBad.find((bad) => bad.digest === previous.digest);
  if (failed) {
    const how = failed.outcome === 'quarantined' ? `is quarantined since ${failed.at}` : `ended ${failed.outcome} on ${failed.at}`;
    return {
      rollbackTaskDefinitionArn: null,
      rollbackTarget: {
        version: previous.version,
        digest: previous.digest,
        source: 'none',
        reason:
          `No known good version exists: the ledger has no succeeded deployment to return to, and the revision the service ran ` +
          `before this release, ${what}, is known bad: its release as ${failed.tag} ${how}.`,
      },
    };
  }
  return {
    rollbackTaskDefinitionArn: previous.taskDefinitionArn,
    rollbackTarget: {
      version: previous.version,
      digest: previous.digest,
      source: 'previous-revision',
      reason: `The ledger knows no succeeded deployment, so the rollback returns to the revision the service ran before, ${what}, of which it records no failure.`,
    },
  };
}
