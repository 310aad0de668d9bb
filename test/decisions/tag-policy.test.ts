import { describe, expect, it } from 'vitest';
import type { Environment } from '../../lambdas/contract/catalog';
import {
  compareReleaseTags,
  evaluateTagPolicy,
  evaluateTagReuse,
  isImmutableTag,
  parseReleaseTag,
  refuseUnsupportedController,
  type ParsedTag,
} from '../../lambdas/decisions/tag-policy';

function parsed(tag: string): ParsedTag {
  const result = parseReleaseTag(tag);
  if (!result) throw new Error(`test setup: ${tag} should parse`);
  return result;
}

describe('parseReleaseTag', () => {
  it.each([
    ['v1.2.3', { channel: 'release', core: '1.2.3', iteration: 0 }],
    ['v0.0.0', { channel: 'release', core: '0.0.0', iteration: 0 }],
    ['v10.20.30', { channel: 'release', core: '10.20.30', iteration: 0 }],
    ['v1.2.3-hotfix', { channel: 'hotfix', core: '1.2.3', iteration: 0 }],
    ['v1.2.3-hotfix.4', { channel: 'hotfix', core: '1.2.3', iteration: 4 }],
    ['v1.2.3-dev', { channel: 'development', core: '1.2.3', iteration: 0 }],
    ['v1.2.3-dev.17', { channel: 'development', core: '1.2.3', iteration: 17 }],
  ])('reads %s', (tag, expected) => {
    expect(parseReleaseTag(tag)).toEqual({ tag, ...expected });
  });

  it.each([
    ['1.2.3', 'no leading v'],
    ['v1.2', 'two parts'],
    ['v1.2.3.4', 'four parts'],
    ['v01.2.3', 'leading zero in major'],
    ['v1.02.3', 'leading zero in minor'],
    ['v1.2.3-beta', 'unknown suffix'],
    ['v1.2.3-hotfix.01', 'leading zero in iteration'],
    ['v1.2.3-hotfix.', 'empty iteration'],
    ['v1.2.3-dev.x', 'non-numeric iteration'],
    ['v1.2.3+build.5', 'build metadata'],
    ['V1.2.3', 'capital V'],
    ['latest', 'a moving tag'],
    ['', 'empty'],
    [' v1.2.3', 'leading space'],
    ['v99999999999999999.0.0', 'major beyond a safe integer'],
  ])('rejects %j (%s)', (tag) => {
    expect(parseReleaseTag(tag)).toBeNull();
  });
});

describe('compareReleaseTags', () => {
  it.each([
    ['v1.2.3', 'v1.2.4'],
    ['v1.2.10', 'v1.10.0'],
    ['v1.9.9', 'v2.0.0'],
    // A hotfix patches the release of the same core, so it ranks above it (SemVer would rank it below).
    ['v1.2.3', 'v1.2.3-hotfix'],
    ['v1.2.3-hotfix', 'v1.2.3-hotfix.1'],
    ['v1.2.3-hotfix.2', 'v1.2.3-hotfix.10'],
    ['v1.2.3-dev', 'v1.2.3'],
    ['v1.2.3-dev.9', 'v1.2.3'],
    ['v1.2.3-dev.9', 'v1.2.3-hotfix'],
    ['v1.2.3-hotfix.9', 'v1.2.4-dev'],
  ])('ranks %s below %s', (lower, higher) => {
    expect(compareReleaseTags(parsed(lower), parsed(higher))).toBeLessThan(0);
    expect(compareReleaseTags(parsed(higher), parsed(lower))).toBeGreaterThan(0);
  });

  it.each([
    ['v1.2.3', 'v1.2.3'],
    ['v1.2.3-hotfix', 'v1.2.3-hotfix.0'],
  ])('ranks %s equal to %s', (a, b) => {
    expect(compareReleaseTags(parsed(a), parsed(b))).toBe(0);
  });
});

describe('evaluateTagPolicy', () => {
  it.each<[string, Environment, string | null]>([
    ['v1.3.0', 'production', 'v1.2.0'],
    ['v1.2.0', 'production', 'v1.2.0'],
    ['v1.2.0-hotfix', 'production', 'v1.2.0'],
    ['v1.2.0-hotfix.2', 'production', 'v1.2.0-hotfix.1'],
    ['v1.3.0-dev', 'staging', 'v1.2.0'],
    ['v1.3.0-dev.4', 'development', 'v1.3.0-dev.3'],
    ['v1.3.0', 'staging', 'v1.3.0-dev.9'],
  ])('accepts %s for %s running %s', (tag, environment, runningVersion) => {
    expect(evaluateTagPolicy({ tag, environment, runningVersion })).toEqual({
      verdict: 'accepted',
      code: 'accepted',
      reason: expect.stringContaining(`ranks at or above the running version "${runningVersion}"`),
    });
  });

  it.each<[string | null, string]>([
    [null, 'the running version is unknown'],
    ['latest', 'the running version "latest" is not a release tag'],
    ['sha-4f2a9c1', 'the running version "sha-4f2a9c1" is not a release tag'],
  ])('accepts without a downgrade check when the running version is %j', (runningVersion, explanation) => {
    const decision = evaluateTagPolicy({ tag: 'v0.1.0', environment: 'production', runningVersion });
    expect(decision.verdict).toBe('accepted');
    expect(decision.code).toBe('accepted');
    expect(decision.reason).toContain(explanation);
    expect(decision.reason).toContain('no downgrade check was made');
  });

  it.each(['1.2.3', 'v1.2', 'v01.2.3', 'v1.2.3-beta', 'latest'])('rejects the invalid tag %j, naming it and the accepted forms', (tag) => {
    const decision = evaluateTagPolicy({ tag, environment: 'staging', runningVersion: null });
    expect(decision).toMatchObject({ verdict: 'rejected', code: 'invalid-tag' });
    expect(decision.reason).toContain(`"${tag}"`);
    expect(decision.reason).toContain('vX.Y.Z, vX.Y.Z-hotfix[.N] or vX.Y.Z-dev[.N]');
  });

  it.each(['v1.3.0-dev', 'v1.3.0-dev.2'])('rejects the development tag %s in production', (tag) => {
    const decision = evaluateTagPolicy({ tag, environment: 'production', runningVersion: 'v1.2.0' });
    expect(decision).toMatchObject({ verdict: 'rejected', code: 'development-tag-in-production' });
    expect(decision.reason).toContain(`"${tag}"`);
    expect(decision.reason).toContain('production');
  });

  it.each<[string, string]>([
    ['v1.2.0', 'v1.3.0'],
    ['v1.2.0', 'v1.2.0-hotfix'],
    ['v1.2.0-hotfix.1', 'v1.2.0-hotfix.2'],
    ['v1.3.0-dev', 'v1.3.0'],
    ['v0.9.9', 'v1.0.0-dev'],
  ])('rejects %s as a downgrade from %s', (tag, runningVersion) => {
    const decision = evaluateTagPolicy({ tag, environment: 'staging', runningVersion });
    expect(decision).toMatchObject({ verdict: 'rejected', code: 'downgrade' });
    expect(decision.reason).toContain(`"${tag}"`);
    expect(decision.reason).toContain(`"${runningVersion}"`);
  });

  it('checks the tag before the environment and the environment before the running version', () => {
    expect(evaluateTagPolicy({ tag: 'v1-dev', environment: 'production', runningVersion: 'v2.0.0' }).code).toBe('invalid-tag');
    expect(evaluateTagPolicy({ tag: 'v1.0.0-dev', environment: 'production', runningVersion: 'v2.0.0' }).code).toBe(
      'development-tag-in-production',
    );
  });
});

describe('refuseUnsupportedController', () => {
  it('lets a service under the ECS (rolling update) controller through', () => {
    expect(refuseUnsupportedController({ service: 'sentiment', deploymentController: 'ECS' })).toBeNull();
  });

  it.each(['CODE_DEPLOY', 'EXTERNAL'])('refuses a service under the %s controller, naming it', (deploymentController) => {
    expect(refuseUnsupportedController({ service: 'sentiment', deploymentController })).toEqual({
      verdict: 'rejected',
      code: 'deployment-controller-not-ecs',
      reason: expect.stringMatching(new RegExp(`sentiment uses the ${deploymentController} deployment controller.*nothing was changed`)),
    });
  });
});

describe('evaluateTagReuse', () => {
  const FIRST = `sha256:${'a'.repeat(64)}`;
  const OTHER = `sha256:${'b'.repeat(64)}`;
  const recorded = (digest: string) => ({ digest, firstSeenAt: '2026-11-01T10:00:00.000Z' });

  it.each<[string, string, string, ReturnType<typeof recorded> | null, string | null]>([
    ['a release tag pushed again with another image', 'v1.3.0', OTHER, recorded(FIRST), 'v1.3.1 or v1.3.0-hotfix.1'],
    ['a hotfix tag pushed again with another image', 'v1.3.0-hotfix.2', OTHER, recorded(FIRST), 'v1.3.1 or v1.3.0-hotfix.3'],
    [
      'a hotfix tag without iteration pushed again with another image',
      'v2.0.9-hotfix',
      OTHER,
      recorded(FIRST),
      'v2.0.10 or v2.0.9-hotfix.1',
    ],
    ['the same image under the tag again (redelivery, retry, rollback)', 'v1.3.0', FIRST, recorded(FIRST), null],
    ['a release tag the ledger never saw', 'v1.3.0', OTHER, null, null],
    ['a development tag pushed again with another image (CI re-pushes them)', 'v1.3.0-dev.4', OTHER, recorded(FIRST), null],
    ['a development tag without iteration pushed again', 'v1.3.0-dev', OTHER, recorded(FIRST), null],
    ['a tag outside the release policy (rejected by it anyway)', 'latest', OTHER, recorded(FIRST), null],
  ])('%s', (_situation, tag, digest, known, suggestion) => {
    const decision = evaluateTagReuse({ tag, digest, recorded: known });

    if (suggestion === null) {
      expect(decision).toBeNull();
      return;
    }
    expect(decision).toEqual({
      verdict: 'rejected',
      code: 'release-tag-reused',
      reason:
        `Tag "${tag}" already names image ${FIRST} for this service (recorded 2026-11-01T10:00:00.000Z); this push names ${OTHER}. ` +
        `Release tags are immutable releases: push the new image as a new version (for example ${suggestion}) instead.`,
    });
  });
});

describe('isImmutableTag', () => {
  it.each([
    ['v1.3.0', true],
    ['v1.3.0-hotfix', true],
    ['v1.3.0-hotfix.7', true],
    ['v1.3.0-dev', false],
    ['v1.3.0-dev.7', false],
    ['latest', false],
    ['sha256-abc.sig', false],
  ])('%s: %s', (tag, immutable) => {
    expect(isImmutableTag(tag)).toBe(immutable);
  });
});
