/** Conditions of the Choice states, built from the typed execution state: a verdict a handler cannot return fails to compile. */
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { at, type FieldOf, type StateKey, type VerdictKey, type VerdictOf } from '../../lambdas/contract/execution-state';
import type { ExecutionState } from '../../lambdas/contract/execution-state';

/** The result at `key` carries `verdict`. */
export function verdictIs<K extends VerdictKey>(key: K, verdict: VerdictOf<K>): sfn.Condition {
  return sfn.Condition.stringEquals(`$.${key}.verdict`, verdict as string);
}

/** The string field `field` of the result at `key` equals `value`. */
export function fieldIs<K extends StateKey, F extends FieldOf<K>>(
  key: K,
  field: F,
  value: NonNullable<ExecutionState[K]>[F] & string,
): sfn.Condition {
  return sfn.Condition.stringEquals(at(key, field), value);
}
