/**
 * The typed execution state, as the definition writes and reads it: Choice conditions, and Pass states that write a
 * result in a handler's place. A verdict, code or field the handler's type does not have fails to compile.
 */
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

/** A value a Pass state reads from a JSONPath (or computes with an intrinsic function) instead of a literal. */
export interface FromPath {
  readonly path: string;
}
export function from(path: string): FromPath {
  return { path };
}

/**
 * The Parameters of a Pass state whose result goes where `key`'s handler would put it: each field a literal of that
 * handler's own type, or `from(path)`.
 */
export function resultFor<K extends StateKey>(
  _key: K,
  fields: { [F in FieldOf<K>]?: NonNullable<ExecutionState[K]>[F] | FromPath },
): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(fields).map(([field, value]) =>
      value !== null && typeof value === 'object' && 'path' in value && Object.keys(value).length === 1
        ? [`${field}.$`, (value as FromPath).path]
        : [field, value],
    ),
  );
}
