import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig, toServiceCatalog } from '../../lib/config';
import { DEMO_PUBLIC_KEY, EXAMPLE, example, exampleWithGray, LISTENER_ARN, listenerRuleArn, ROOT, targetGroupArn } from './config-fixture';

describe('the example configuration', () => {
  it('becomes a catalog in the contract shape, with the key read into PEM and the deadline in seconds', () => {
    const catalog = toServiceCatalog(loadConfig(EXAMPLE), ROOT);

    expect(catalog[0]).toEqual({
      name: 'sentiment',
      environment: 'production',
      repository: 'models/sentiment',
      cluster: 'models-prod',
      service: 'sentiment',
      container: 'model',
      taskDefinitionFamily: 'sentiment-task',
      taskRoleArn: 'arn:aws:iam::123456789012:role/sentiment-task',
      executionRoleArn: 'arn:aws:iam::123456789012:role/sentiment-execution',
      signing: {
        publicKeys: [DEMO_PUBLIC_KEY],
        kmsKeys: [],
        signingProfiles: [],
        threshold: 1,
        lateSignatureSeconds: 120,
        pollSeconds: 15,
      },
      health: { deadlineSeconds: 900, pollSeconds: 30, alarms: ['sentiment-5xx-rate', 'sentiment-p99-latency'] },
      release: { strategy: 'rolling' },
    });
    expect(catalog.map((entry) => entry.name)).toEqual(['sentiment', 'summarizer-staging']);
  });
});

describe('service roles', () => {
  it('puts each service’s roles into its catalog entry', () => {
    const catalog = toServiceCatalog(loadConfig(EXAMPLE), ROOT);

    expect(catalog.map(({ name, taskRoleArn, executionRoleArn }) => ({ name, taskRoleArn, executionRoleArn }))).toEqual([
      {
        name: 'sentiment',
        taskRoleArn: 'arn:aws:iam::123456789012:role/sentiment-task',
        executionRoleArn: 'arn:aws:iam::123456789012:role/sentiment-execution',
      },
      {
        name: 'summarizer-staging',
        taskRoleArn: 'arn:aws:iam::123456789012:role/summarizer-task',
        executionRoleArn: 'arn:aws:iam::123456789012:role/summarizer-execution',
      },
    ]);
  });

  it('leaves a role out of the configuration as null in the catalog (the task definition may then name none)', () => {
    const raw = example();
    delete raw.services[0].taskRoleArn;
    delete raw.services[1].executionRoleArn;

    const config = parseConfig(raw, ROOT);
    const catalog = toServiceCatalog(config, ROOT);

    expect(config.services[0]!.taskRoleArn).toBeUndefined();
    expect(catalog.map(({ taskRoleArn, executionRoleArn }) => [taskRoleArn, executionRoleArn])).toEqual([
      [null, 'arn:aws:iam::123456789012:role/sentiment-execution'],
      ['arn:aws:iam::123456789012:role/summarizer-task', null],
    ]);
  });
});

describe('release', () => {
  it('maps a gray release into the contract: minutes in seconds, the listener rule as its route', () => {
    const raw = exampleWithGray();
    Object.assign(raw.services[0].release, {
      steps: [
        { weight: 10, bakeMinutes: 15, approval: true },
        { weight: 100, bakeMinutes: 45 },
      ],
      approval: { timeoutMinutes: 120, onTimeout: 'continue' },
      keepPreviousMinutes: 0,
      canary: { minTasks: 2 },
      analysis: { intervalMinutes: 3, windowMinutes: 4, alarms: ['sentiment-canary-5xx'] },
    });

    const [sentiment, summarizer] = toServiceCatalog(parseConfig(raw, ROOT), ROOT);

    expect(sentiment!.release).toEqual({
      strategy: 'gray',
      traffic: {
        route: { kind: 'listener-rule', arn: listenerRuleArn('9683b2d02a6cabee') },
        stableTargetGroupArn: targetGroupArn('sentiment-stable'),
        canaryTargetGroupArn: targetGroupArn('sentiment-canary'),
        canaryService: 'sentiment-canary',
        taskSecurityGroupId: 'sg-0a1b2c3d4e5f60011',
      },
      steps: [
        { weight: 10, bakeSeconds: 900, approval: true },
        { weight: 100, bakeSeconds: 2700, approval: false },
      ],
      approval: { beforeFirstStep: true, timeoutSeconds: 7200, onTimeout: 'continue' },
      keepPreviousSeconds: 0,
      canary: { minTasks: 2 },
      analysis: {
        intervalSeconds: 180,
        windowSeconds: 240,
        metricLagSeconds: 180,
        minRequests: 200,
        maxErrorRatePercent: 1,
        maxErrorRateIncrease: 0.5,
        maxP99Ms: 2000,
        maxP99Ratio: 1.25,
        failureLimit: 0,
        inconclusiveLimit: 2,
        onInconclusive: 'pause',
        alarms: ['sentiment-canary-5xx'],
      },
      probe: { path: '/health', port: 8080, expectStatus: 200, maxLatencyMs: 200, attempts: 5, timeoutMs: 1000, warmup: true },
    });
    expect(summarizer!.release).toEqual({ strategy: 'rolling' });
  });

  it('maps a listener to its default action', () => {
    const raw = exampleWithGray();
    delete raw.services[0].release.traffic.listenerRuleArn;
    raw.services[0].release.traffic.listenerArn = LISTENER_ARN;

    const [sentiment] = toServiceCatalog(parseConfig(raw, ROOT), ROOT);

    expect(sentiment!.release).toMatchObject({ traffic: { route: { kind: 'listener-default-action', arn: LISTENER_ARN } } });
  });
});
