/**
 * The release tag policy: which pushed tags may be deployed to which environment, and in what order releases rank.
 * Pure: no AWS, no clock, no environment.
 */
import { compare, valid } from 'semver';
import type { Environment } from '../contract/catalog';
import type { PolicyCode } from '../contract/steps';

export type ReleaseChannel = 'development' | 'release' | 'hotfix';

export interface ParsedTag {
  tag: string;
  channel: ReleaseChannel;
  /** The `X.Y.Z` part, without the leading `v`. */
  core: string;
  /** The `N` of `-hotfix.N` / `-dev.N`; 0 when absent. */
  iteration: number;
}

export interface PolicyDecision {
  verdict: 'accepted' | 'rejected';
  code: PolicyCode;
  reason: string;
}

const ACCEPTED_FORMS = 'vX.Y.Z, vX.Y.Z-hotfix[.N] or vX.Y.Z-dev[.N] (for example v1.4.0 or v1.4.0-hotfix.2)';

// The X.Y.Z core is checked by semver (leading zeros, overflow); the regex only splits the tag into its parts.
const TAG_PATTERN = /^v(\d+\.\d+\.\d+)(?:-(hotfix|dev)(?:\.(0|[1-9]\d*))?)?$/;

const CHANNEL_BY_SUFFIX: Record<string, ReleaseChannel> = { hotfix: 'hotfix', dev: 'development' };

/** A hotfix patches the release of the same core, so it ranks above it (unlike SemVer, where a pre-release ranks below). */
const CHANNEL_RANK: Record<ReleaseChannel, number> = { development: 0, release: 1, hotfix: 2 };

/** Environments that may run development tags. */
const DEVELOPMENT_TAG_ENVIRONMENTS: readonly Environment[] = ['staging', 'development'];

export function parseReleaseTag(tag: string): ParsedTag | null {
  const match = TAG_PATTERN.exec(tag);
  if (!match) return null;
  const [, core, suffix, iterationText] = match;
  const iteration = iterationText === undefined ? 0 : Number(iterationText);
  if (valid(core) !== core || !Number.isSafeInteger(iteration)) return null;
  const channel = suffix === undefined ? 'release' : CHANNEL_BY_SUFFIX[suffix];
  return { tag, channel, core, iteration };
}

/** Orders tags as the release policy ranks them: negative when `a` ranks below `b`, 0 when equal. */
export function compareReleaseTags(a: ParsedTag, b: ParsedTag): number {
  return compare(a.core, b.core) || CHANNEL_RANK[a.channel] - CHANNEL_RANK[b.channel] || a.iteration - b.iteration;
}

export function evaluateTagPolicy({
  tag,
  environment,
  runningVersion,
  allowDowngrade = false,
}: {
  tag: string;
  environment: Environment;
  runningVersion: string | null;
  /** An operator's rollback goes back on purpose; the ledger checks that the version once succeeded. */
  allowDowngrade?: boolean;
}): PolicyDecision {
  const candidate = parseReleaseTag(tag);
  if (!candidate) {
    return reject('invalid-tag', `Tag "${tag}" is not a release tag; accepted forms are ${ACCEPTED_FORMS}.`);
  }
  if (candidate.channel === 'development' && !DEVELOPMENT_TAG_ENVIRONMENTS.includes(environment)) {
    return reject(
      'development-tag-in-production',
      `Tag "${tag}" is a development tag; development tags may be deployed only to ` +
        `${DEVELOPMENT_TAG_ENVIRONMENTS.join(' or ')} services, not to ${environment}.`,
    );
  }
  const running = runningVersion === null ? null : parseReleaseTag(runningVersion);
  if (!running) {
    const unknown = runningVersion === null ? 'is unknown' : `"${runningVersion}" is not a release tag`;
    return accept(`Tag "${tag}" is a valid ${candidate.channel} tag; the running version ${unknown}, so no downgrade check was made.`);
  }
  if (compareReleaseTags(candidate, running) < 0) {
    if (allowDowngrade) {
      return accept(
        `Tag "${tag}" is a valid ${candidate.channel} tag; it ranks below the running version "${runningVersion}", as a rollback does.`,
      );
    }
    return reject('downgrade', `Tag "${tag}" would downgrade the service: it ranks below the running version "${runningVersion}".`);
  }
  return accept(`Tag "${tag}" is a valid ${candidate.channel} tag and ranks at or above the running version "${runningVersion}".`);
}

/**
 * Channels whose tags are releases: once a tag named an image for a service, it names that image for good (as ECR's
 * IMMUTABLE tag setting would make it). Development tags are excluded: CI pushes the same `-dev[.N]` tag again with
 * each build, and staging is expected to follow it.
 */
export const IMMUTABLE_CHANNELS: readonly ReleaseChannel[] = ['release', 'hotfix'];

/** Whether the ledger binds `tag` to the first verified image that takes the service under it: a release or hotfix tag. */
export function isImmutableTag(tag: string): boolean {
  const parsed = parseReleaseTag(tag);
  return parsed !== null && IMMUTABLE_CHANNELS.includes(parsed.channel);
}

/**
 * A release or hotfix tag that already named another image for the service is rejected: one version, one image.
 * `recorded` is the image the ledger bound the tag to (null: none yet). The same image again — a
 * redelivered event, a retry, an operator's rollback to it — is not a reuse. Null when the tag may go on.
 */
export function evaluateTagReuse({
  tag,
  digest,
  recorded,
}: {
  tag: string;
  digest: string;
  recorded: { digest: string; firstSeenAt: string } | null;
}): PolicyDecision | null {
  const candidate = parseReleaseTag(tag);
  if (!candidate || !IMMUTABLE_CHANNELS.includes(candidate.channel) || !recorded || recorded.digest === digest) return null;
  return reject(
    'release-tag-reused',
    `Tag "${tag}" already names image ${recorded.digest} for this service (recorded ${recorded.firstSeenAt}); this push names ` +
      `${digest}. Release tags are immutable releases: push the new image as a new version (for example ${nextVersions(candidate)}) instead.`,
  );
}

/** The versions that would come next after `tag`: the next patch release and the next hotfix of the same core. */
function nextVersions({ core, channel, iteration }: ParsedTag): string {
  const [major, minor, patch] = core.split('.').map(Number);
  const nextHotfix = channel === 'hotfix' ? `v${core}-hotfix.${iteration + 1}` : `v${core}-hotfix.1`;
  return `v${major}.${minor}.${patch! + 1} or ${nextHotfix}`;
}

function accept(reason: string): PolicyDecision {
  return { verdict: 'accepted', code: 'accepted', reason };
}

function reject(code: Exclude<PolicyCode, 'accepted'>, reason: string): PolicyDecision {
  return { verdict: 'rejected', code, reason };
}

/**
 * Only the rolling update (ECS) deployment controller lets UpdateService change a service's task definition; a
 * CODE_DEPLOY or EXTERNAL service is deployed by CodeDeploy or a task-set controller (API_UpdateService). Refused before
 * anything is recorded as deploying or changed; null when the service can be released to.
 */
export function refuseUnsupportedController({
  service,
  deploymentController,
}: {
  service: string;
  deploymentController: string;
}): PolicyDecision | null {
  if (deploymentController === 'ECS') return null;
  return reject(
    'deployment-controller-not-ecs',
    `Service ${service} uses the ${deploymentController} deployment controller; model-rollout updates only services with the ECS ` +
      '(rolling update) controller, so nothing was changed. Deploy it with its own controller, or move the service to the ECS controller.',
  );
}
