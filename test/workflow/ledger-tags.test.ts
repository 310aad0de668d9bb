/** The deployment ledger through the real state machine: a release tag pushed again with another image (19). */
import { beforeAll, describe, expect, it } from 'vitest';
import { playScenario, type ScenarioResult } from '../../local/play';
import { scenarioSchema } from '../../local/scenario';
import { STATES } from '../../lib/state-names';
import { ROOT, REPOSITORY_URI, example, recordOf, calls, modelImage, visited, expectNoMismatches } from './ledger-fixture';

describe('a release tag pushed again with another image (19)', () => {
  let result: ScenarioResult;
  beforeAll(async () => {
    result = await playScenario(example('19-release-tag-pushed-again-with-another-image'), ROOT);
  });

  it('rejects the second image by policy, naming the tag and both images, without touching ECS', () => {
    expectNoMismatches(result);
    const [first, again, next] = result.executions;
    expect(again!.digest).not.toBe(first!.digest);
    expect(again!.report).toMatchObject({ status: 'FAILED', error: 'ReleaseRejectedByPolicy' });
    expect(again!.report.cause).toContain('models/sentiment v1.3.0');
    for (const text of [
      'Tag "v1.3.0"',
      first!.digest,
      again!.digest,
      'Release tags are immutable releases',
      'push the new image as a new version',
    ]) {
      expect(again!.report.cause).toContain(text);
    }
    expect(visited(again!)).toContain(STATES.recordTagReused);
    expect(visited(again!)).not.toContain(STATES.verifySignature);
    expect(recordOf(result, again!)).toMatchObject({
      tag: 'v1.3.0',
      digest: again!.digest,
      status: 'rejected',
      error: 'ReleaseRejectedByPolicy',
      final: true,
      lockedAt: null,
    });

    // Only v1.3.0's first image and v1.3.1 were rolled out.
    expect(calls(result, 'RegisterTaskDefinition').map(modelImage)).toEqual([
      `${REPOSITORY_URI}@${first!.digest}`,
      `${REPOSITORY_URI}@${next!.digest}`,
    ]);
    expect(calls(result, 'UpdateService')).toHaveLength(2);
    // The ledger holds one image under v1.3.0 that ran.
    const ran = result.ledger.deployments.filter((r) => r.tag === 'v1.3.0' && r.status === 'succeeded').map((r) => r.digest);
    expect(ran).toEqual([first!.digest]);
  });

  it('lets an image nobody signed claim no tag: the signed build pushed under the same tag deploys', async () => {
    const unsignedFirst = await playScenario(
      scenarioSchema.parse({
        name: 'unsigned image under a release tag',
        service: 'sentiment',
        running: { tag: 'v1.2.0' },
        steps: [
          {
            tag: 'v1.3.0',
            signature: 'none',
            expect: { status: 'rejected', error: 'SignatureRejected', running: 'v1.2.0', alerts: ['warning'] },
          },
          { tag: 'v1.3.0', labels: { build: 'signed' }, expect: { status: 'succeeded', error: null, running: 'v1.3.0', alerts: ['info'] } },
        ],
      }),
      ROOT,
    );
    expectNoMismatches(unsignedFirst);
    const [unsigned, signed] = unsignedFirst.executions;
    expect(signed!.digest).not.toBe(unsigned!.digest);
  });

  it('lets a development tag name a new image with every build: CI re-pushes it', async () => {
    const dev = await playScenario(
      scenarioSchema.parse({
        name: 'development tag re-pushed',
        service: 'summarizer-staging',
        running: { tag: 'v2.0.0' },
        steps: [
          {
            tag: 'v2.1.0-dev.3',
            labels: { build: '1' },
            expect: { status: 'succeeded', error: null, running: 'v2.1.0-dev.3', alerts: ['info'] },
          },
          {
            tag: 'v2.1.0-dev.3',
            labels: { build: '2' },
            expect: { status: 'succeeded', error: null, running: 'v2.1.0-dev.3', alerts: ['info'] },
          },
        ],
      }),
      ROOT,
    );
    expectNoMismatches(dev);
    const [build1, build2] = dev.executions;
    expect(build2!.digest).not.toBe(build1!.digest);
    expect(calls(dev, 'RegisterTaskDefinition').map((r) => r.containerDefinitions[0].image.split('@')[1])).toEqual([
      build1!.digest,
      build2!.digest,
    ]);
  });
});
