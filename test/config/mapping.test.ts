import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig, toServiceCatalog } from '../../lib/config';
import { DEMO_PUBLIC_KEY, EXAMPLE, example, ROOT } from './config-fixture';

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
