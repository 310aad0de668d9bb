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
