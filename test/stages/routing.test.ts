import { App, Stack } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, it } from 'vitest';
import { at } from '../../lambdas/contract/execution-state';
import { fieldIs, from, resultFor, verdictIs } from '../../lib/stages/routing';

/** A Choice's rendered condition, as the definition holds it. */
function rendered(condition: sfn.Condition) {
  const stack = new Stack(new App(), 'Test');
  const choice = new sfn.Choice(stack, 'Choice').when(condition, new sfn.Pass(stack, 'Then')).otherwise(new sfn.Pass(stack, 'Else'));
  return (choice.toStateJson() as { Choices: unknown[] }).Choices[0];
}

describe('the typed execution state', () => {
  it('names a path by the keys the handlers return', () => {
    expect(at('lock')).toBe('$.lock');
    expect(at('deployment', 'rollbackTaskDefinitionArn')).toBe('$.deployment.rollbackTaskDefinitionArn');
    expect(at('service', 'signing', 'pollSeconds')).toBe('$.service.signing.pollSeconds');
  });

  it('routes on the verdict at a key, and on a field of it', () => {
    expect(rendered(verdictIs('rollbackHealth', 'progressing'))).toMatchObject({
      Variable: '$.rollbackHealth.verdict',
      StringEquals: 'progressing',
      Next: 'Then',
    });
    expect(rendered(fieldIs('rollback', 'action', 'no-target'))).toMatchObject({
      Variable: '$.rollback.action',
      StringEquals: 'no-target',
    });
  });

  it("writes a Pass state's result as the handler would: literals as they are, paths as `field.$`", () => {
    expect(resultFor('ledger', { verdict: 'rejected', code: 'release-tag-reused', reason: from('$.lock.reason') })).toEqual({
      verdict: 'rejected',
      code: 'release-tag-reused',
      'reason.$': '$.lock.reason',
    });
  });
});

/**
 * Compile-time checks, run by `tsc --noEmit` in `npm test` (never run): each line must fail to compile, or tsc
 * reports the unused @ts-expect-error. A verdict a handler cannot return, or a renamed field, cannot reach a Choice.
 */
void (() => {
  // @ts-expect-error take-lock returns acquired | wait | superseded | rejected
  verdictIs('lock', 'granted');
  // @ts-expect-error the rollback's result has no field `status`
  fieldIs('rollback', 'status', 'x');
  // @ts-expect-error the execution state has no key `deploy`
  at('deploy');
  // @ts-expect-error record-release never returns the code `tag-reused`
  resultFor('ledger', { code: 'tag-reused' });
});
