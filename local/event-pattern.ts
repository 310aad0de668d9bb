/**
 * Matches an event against an EventBridge event pattern, so the local run can tell which of the synthesized rules
 * (and so which SNS topics) an alert would reach. Covers the pattern syntax this project's rules use — exact values,
 * `prefix`, `suffix`, `anything-but` (values or prefix), `exists`, nested objects and `$or` — and refuses anything else loudly
 * rather than guessing.
 */
type Pattern = { [key: string]: unknown };

export function matchesEventPattern(event: unknown, pattern: Pattern): boolean {
  return Object.entries(pattern).every(([key, rule]) => {
    if (key === '$or') {
      return (rule as Pattern[]).some((alternative) => matchesEventPattern(event, alternative));
    }
    const present = isRecord(event) && key in event;
    const value = present ? (event as Record<string, unknown>)[key] : undefined;
    if (Array.isArray(rule)) {
      return matchesAnyOf(value, present, rule);
    }
    if (isRecord(rule)) {
      return present && matchesEventPattern(value, rule);
    }
    throw new Error(`Event pattern field "${key}" must be an array or an object, got ${JSON.stringify(rule)}`);
  });
}

function matchesAnyOf(value: unknown, present: boolean, alternatives: unknown[]): boolean {
  // An array value matches when any of its elements matches (EventBridge semantics).
  const candidates = Array.isArray(value) ? value : [value];
  return alternatives.some((alternative) => {
    if (isRecord(alternative)) {
      return matchesOperator(candidates, present, alternative);
    }
    return present && candidates.some((candidate) => candidate === alternative);
  });
}

function matchesOperator(candidates: unknown[], present: boolean, operator: Record<string, unknown>): boolean {
  const [[name, argument]] = Object.entries(operator);
  switch (name) {
    case 'exists':
      return present === argument;
    case 'prefix':
      return present && candidates.some((c) => typeof c === 'string' && c.startsWith(String(argument)));
    // "Suffix matching" (EventBridge user guide, content filtering): the value ends with the string.
    case 'suffix':
      return present && candidates.some((c) => typeof c === 'string' && c.endsWith(String(argument)));
    case 'anything-but': {
      if (!present) return false;
      if (isRecord(argument) && 'prefix' in argument) {
        return candidates.every((c) => typeof c !== 'string' || !c.startsWith(String(argument.prefix)));
      }
      const excluded = Array.isArray(argument) ? argument : [argument];
      return candidates.every((c) => !excluded.includes(c));
    }
    default:
      throw new Error(`The local run does not emulate the event pattern operator "${name}"`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
