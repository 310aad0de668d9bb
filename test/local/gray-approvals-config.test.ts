/**
 * examples/gray-approvals.config.json, the configuration of the scenarios where a gray release waits for an operator:
 * examples/gray-release.config.json with approvals asked (before the first step, by the production default; after the
 * 10 % step) and inconclusive analyses pausing for a human.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, toServiceCatalog } from '../../lib/config';

const ROOT = path.resolve(__dirname, '..', '..');
const catalogOf = (file: string) => toServiceCatalog(loadConfig(path.join(ROOT, 'examples', file)), path.join(ROOT, 'examples'));

describe('the gray-approvals example configuration', () => {
  it('is the gray-release example with only its approvals and its inconclusive action changed', () => {
    const [approvals, plain] = [catalogOf('gray-approvals.config.json'), catalogOf('gray-release.config.json')];
    const withoutApprovals = (catalog: typeof plain) =>
      catalog.map((s) =>
        s.release.strategy === 'gray'
          ? {
              ...s,
              release: {
                ...s.release,
                approval: null,
                steps: s.release.steps.map(({ approval, ...step }) => step),
                analysis: { ...s.release.analysis, onInconclusive: null },
              },
            }
          : s,
      );
    expect(withoutApprovals(approvals)).toEqual(withoutApprovals(plain));
    const [sentiment] = approvals;
    expect(sentiment.release).toMatchObject({
      approval: { beforeFirstStep: true, timeoutSeconds: 3600, onTimeout: 'rollback' },
      steps: [false, true, false, false, false].map((approval) => ({ approval })),
      analysis: { onInconclusive: 'pause' },
    });
  });
});
