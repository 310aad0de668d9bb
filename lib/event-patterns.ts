import * as events from 'aws-cdk-lib/aws-events';
import type { Construct } from 'constructs';

/**
 * EventBridge's "Event pattern size" quota: 2,048 characters per rule by default, adjustable to 4,096 (Amazon EventBridge
 * quotas). A pattern listing many repositories is split over several rules, each within it.
 */
export const EVENT_PATTERN_CHARACTERS = 2_048;

/**
 * `values` in consecutive chunks, as few as possible, such that `patternOf(chunk)` — the rule's pattern as CloudFormation
 * receives it — stays within `limit` characters of JSON.
 */
export function chunkByPatternSize<T>(
  values: readonly T[],
  patternOf: (chunk: readonly T[]) => unknown,
  limit = EVENT_PATTERN_CHARACTERS,
): T[][] {
  const size = (chunk: readonly T[]) => JSON.stringify(patternOf(chunk)).length;
  const chunks: T[][] = [];
  let current: T[] = [];
  for (const value of values) {
    if (size([value]) > limit)
      throw new Error(`One value makes an event pattern of ${size([value])} characters, above ${limit}: ${String(value)}`);
    if (current.length > 0 && size([...current, value]) > limit) {
      chunks.push(current);
      current = [];
    }
    current.push(value);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * One rule per chunk of `values` whose pattern fits the quota (`<baseId>`, `<baseId>2`, …), each sending to `targets`.
 * The pattern is set on the CloudFormation rule in CloudFormation's own form: the form whose size was measured.
 */
export function chunkedRules<T>(
  scope: Construct,
  rule: { baseId: string; description: string; targets: events.IRuleTarget[] },
  values: readonly T[],
  patternOf: (chunk: readonly T[]) => { source: string[] },
): events.Rule[] {
  return chunkByPatternSize(values, patternOf).map((chunk, index) => {
    const created = new events.Rule(scope, index === 0 ? rule.baseId : `${rule.baseId}${index + 1}`, {
      description: rule.description,
      // A rule needs a pattern to be created; it is replaced below by the whole one.
      eventPattern: { source: patternOf(chunk).source },
      targets: rule.targets,
    });
    (created.node.defaultChild as events.CfnRule).eventPattern = patternOf(chunk);
    return created;
  });
}
