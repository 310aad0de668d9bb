/**
 * examples/gray-release.config.json, the configuration of the gray-release scenarios: the example configuration with
 * the sentiment model released gray, asking for no approval (the gray scenarios play it).
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, toServiceCatalog } from '../../lib/config';

const ROOT = path.resolve(__dirname, '..', '..');
const FILE = path.join(ROOT, 'examples', 'gray-release.config.json');
const ELB = 'arn:aws:elasticloadbalancing:us-east-1:123456789012';

describe('the gray-release example configuration', () => {
  it('is the example configuration with only the sentiment service’s release changed', () => {
    const gray = loadConfig(FILE);
    const example = loadConfig(path.join(ROOT, 'model-rollout.config.json'));
    // Key files are named relative to each file's own folder: compared once read, in the catalog.
    const withoutKeys = ({ services, ...rest }: typeof gray) => ({ ...rest, services: services.map(({ signing, release, ...s }) => s) });
    expect(withoutKeys(gray)).toEqual(withoutKeys(example));
    const [grayCatalog, exampleCatalog] = [toServiceCatalog(gray, path.dirname(FILE)), toServiceCatalog(example, ROOT)];
    expect(grayCatalog.map((s) => s.signing)).toEqual(exampleCatalog.map((s) => s.signing));
    expect(grayCatalog.map((s) => s.release.strategy)).toEqual(['gray', 'rolling']);
  });

  it('maps to a gray release on the listener rule, 5/10/30/60/100 % baking 10 minutes each, analysed every 5', () => {
    const [sentiment] = toServiceCatalog(loadConfig(FILE), path.dirname(FILE));
    expect(sentiment.release).toMatchObject({
      strategy: 'gray',
      traffic: {
        route: {
          kind: 'listener-rule',
          arn: `${ELB}:listener-rule/app/models-internal/5d1e2f3a4b5c6d7e/8a9b0c1d2e3f4a5b/1c2d3e4f5a6b7c8d`,
        },
        stableTargetGroupArn: `${ELB}:targetgroup/sentiment-stable/2b3c4d5e6f7a8b9c`,
        canaryTargetGroupArn: `${ELB}:targetgroup/sentiment-canary/3c4d5e6f7a8b9c0d`,
        canaryService: 'sentiment-canary',
      },
      steps: [5, 10, 30, 60, 100].map((weight) => ({ weight, bakeSeconds: 600, approval: false })),
      approval: { beforeFirstStep: false },
      keepPreviousSeconds: 600,
      analysis: { intervalSeconds: 300, windowSeconds: 300, metricLagSeconds: 180, minRequests: 100, alarms: [] },
      probe: { port: 8080, path: '/health' },
    });
  });
});
