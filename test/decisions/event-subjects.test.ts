import { describe, expect, it } from 'vitest';
import { servicesConcerned } from '../../lambdas/decisions/event-subjects';
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
