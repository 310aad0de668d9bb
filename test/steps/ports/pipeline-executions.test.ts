import { describe, expect, it } from 'vitest';
import { executionName } from '../../../lambdas/steps/ports/pipeline-executions';

describe('executionName', () => {
  it('joins the parts with hyphens', () => {
    expect(executionName('reconcile', 'sentiment', '7f5b2640')).toBe('reconcile-sentiment-7f5b2640');
  });

  it('replaces every character Step Functions does not allow by a hyphen, keeping letters, digits, - and _', () => {
    expect(executionName('rollback', 'models/sentiment', 'v1.3.0', 'by alice@example.com', 'A_b-9')).toBe(
      'rollback-models-sentiment-v1-3-0-by-alice-example-com-A_b-9',
    );
  });

  it('caps the name at 80 characters', () => {
    const name = executionName('reconcile', 'a-very-long-service-name'.repeat(4), 'f'.repeat(24));

    expect(name).toHaveLength(80);
    expect(name).toBe(`reconcile-${'a-very-long-service-name'.repeat(4)}`.slice(0, 80));
  });

  it('leaves a name of up to 80 characters whole', () => {
    const parts = ['x'.repeat(39), 'y'.repeat(40)];

    expect(executionName(...parts)).toBe(`${parts[0]}-${parts[1]}`);
  });
});
