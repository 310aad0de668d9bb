import { describe, expect, it } from 'vitest';
import type { Environment } from '../../lambdas/contract/catalog';
import { newestAllowedRelease, type TaggedImage } from '../../lambdas/decisions/reconciliation';

function image(tag: string): TaggedImage {
  return { tag, digest: `sha256:${Buffer.from(tag).toString('hex').padEnd(64, '0').slice(0, 64)}` };
}

describe('newestAllowedRelease', () => {
  it.each<[string, string[], Environment, string | null]>([
    ['ranks versions numerically, not as text', ['v1.9.0', 'v1.10.0', 'v1.2.0'], 'production', 'v1.10.0'],
    ['does not depend on the order ECR lists images in', ['v1.10.0', 'v1.9.0'], 'production', 'v1.10.0'],
    ['ranks a hotfix above the release it patches', ['v1.3.0', 'v1.3.0-hotfix.2', 'v1.3.0-hotfix'], 'production', 'v1.3.0-hotfix.2'],
    ['skips tags that are not release tags', ['latest', 'v2', 'v1.3.0', 'sha-4f2a9c1'], 'production', 'v1.3.0'],
    ['skips development tags in production, however high', ['v1.3.0', 'v2.0.0-dev.1'], 'production', 'v1.3.0'],
    ['takes a development tag in staging when it ranks highest', ['v1.3.0', 'v2.0.0-dev.1'], 'staging', 'v2.0.0-dev.1'],
    ['takes a development tag in development when it ranks highest', ['v1.3.0', 'v1.4.0-dev'], 'development', 'v1.4.0-dev'],
    ['ranks a development build below its release', ['v1.4.0-dev.9', 'v1.4.0'], 'staging', 'v1.4.0'],
    ['finds nothing when no tag is allowed', ['latest', 'v1.4.0-dev'], 'production', null],
    ['finds nothing in an empty repository', [], 'production', null],
  ])('%s', (_behaviour, tags, environment, expected) => {
    const images = tags.map(image);

    expect(newestAllowedRelease(images, environment)).toEqual(expected === null ? null : image(expected));
  });
});
