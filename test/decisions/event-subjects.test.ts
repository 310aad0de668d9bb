import { describe, expect, it } from 'vitest';
import { maySignDigest, servicesConcerned } from '../../lambdas/decisions/event-subjects';
import { grayRelease, sentimentService } from '../fixtures/catalog';

const SENTIMENT = sentimentService();
const SUMMARIZER = sentimentService({
  name: 'summarizer',
  service: 'summarizer',
  cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/models-prod',
  health: { alarms: ['summarizer-5xx', 'shared-latency'] },
});
const STAGING = sentimentService({ name: 'sentiment-staging', cluster: 'models-staging', health: { alarms: ['shared-latency'] } });
const CATALOG = [SENTIMENT, SUMMARIZER, STAGING];
const names = (entries: { name: string }[]) => entries.map((e) => e.name);

describe('servicesConcerned', () => {
  it.each([
    ['the long ARN of a configured service', ['arn:aws:ecs:us-east-1:123456789012:service/models-prod/sentiment'], ['sentiment']],
    [
      'the same service name in another cluster',
      ['arn:aws:ecs:us-east-1:123456789012:service/models-staging/sentiment'],
      ['sentiment-staging'],
    ],
    ['a cluster configured by ARN', ['arn:aws:ecs:us-east-1:123456789012:service/models-prod/summarizer'], ['summarizer']],
    [
      'a short (old-format) ARN: every cluster with that service name',
      ['arn:aws:ecs:us-east-1:123456789012:service/sentiment'],
      ['sentiment', 'sentiment-staging'],
    ],
    ['a service not configured', ['arn:aws:ecs:us-east-1:123456789012:service/models-prod/other'], []],
    ['not a service ARN', ['arn:aws:ecs:us-east-1:123456789012:cluster/models-prod'], []],
  ])('a deployment event naming %s', (_, serviceArns, expected) => {
    expect(names(servicesConcerned({ kind: 'deployment', serviceArns }, CATALOG))).toEqual(expected);
  });

  it('finds a gray release by its canary service, in its own cluster only', () => {
    const gray = sentimentService({ name: 'sentiment-gray', release: grayRelease() });
    const canaryIn = (cluster: string) => [`arn:aws:ecs:us-east-1:123456789012:service/${cluster}/sentiment-canary`];
    expect(names(servicesConcerned({ kind: 'deployment', serviceArns: canaryIn('models-prod') }, [...CATALOG, gray]))).toEqual([
      'sentiment-gray',
    ]);
    expect(servicesConcerned({ kind: 'deployment', serviceArns: canaryIn('models-staging') }, [...CATALOG, gray])).toEqual([]);
    // A rolling release has no canary service: the same name concerns nobody.
    expect(servicesConcerned({ kind: 'deployment', serviceArns: canaryIn('models-prod') }, CATALOG)).toEqual([]);
  });

  it('finds every service whose health watches the alarm', () => {
    expect(names(servicesConcerned({ kind: 'alarm', alarmName: 'shared-latency' }, CATALOG))).toEqual(['summarizer', 'sentiment-staging']);
    expect(names(servicesConcerned({ kind: 'alarm', alarmName: 'sentiment-5xx-rate' }, CATALOG))).toEqual(['sentiment']);
    expect(servicesConcerned({ kind: 'alarm', alarmName: 'unknown' }, CATALOG)).toEqual([]);
  });

  it('finds a gray release by its analysis alarms too (their change wakes its bake)', () => {
    const gray = sentimentService({
      name: 'sentiment-gray',
      release: { ...grayRelease(), analysis: { ...grayRelease().analysis, alarms: ['sentiment-canary-5xx'] } },
    });
    const analysisAlarm = 'sentiment-canary-5xx';
    expect(names(servicesConcerned({ kind: 'alarm', alarmName: analysisAlarm }, [...CATALOG, gray]))).toEqual(['sentiment-gray']);
  });
});

describe('servicesConcerned by a push', () => {
  it('finds every service deploying images of the repository, and none for another', () => {
    const twin = sentimentService({ name: 'sentiment-batch', service: 'sentiment-batch' });
    const summarizer = sentimentService({ name: 'summarizer', repository: 'models/summarizer' });
    const catalog = [SENTIMENT, twin, summarizer];
    expect(names(servicesConcerned({ kind: 'push', repositoryName: 'models/sentiment' }, catalog))).toEqual([
      'sentiment',
      'sentiment-batch',
    ]);
    expect(names(servicesConcerned({ kind: 'push', repositoryName: 'models/summarizer' }, catalog))).toEqual(['summarizer']);
    expect(servicesConcerned({ kind: 'push', repositoryName: 'models/sentiment-old' }, catalog)).toEqual([]);
  });
});

describe('maySignDigest', () => {
  const digest = `sha256:${'7f'.repeat(32)}`;
  it.each([
    ['an untagged push (a referrer: its event does not name its subject)', undefined, true],
    ['an empty tag (an untagged push, were ECR to send one)', '', true],
    ["cosign's signature tag of the digest", `sha256-${'7f'.repeat(32)}.sig`, true],
    ["cosign's signature tag of another digest", `sha256-${'aa'.repeat(32)}.sig`, false],
    ["cosign's attestation tag of the digest", `sha256-${'7f'.repeat(32)}.att`, false],
    ['a release tag', 'v1.3.0', false],
    ['a signature tag with a short digest', 'sha256-7f7f.sig', false],
  ])('%s → %s', (_, tag, expected) => {
    expect(maySignDigest(tag, digest)).toBe(expected);
  });
});
