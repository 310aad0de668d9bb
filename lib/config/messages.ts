/** How a configuration problem is worded: every message names the field path and the bad value. */
import type * as z from 'zod';

/** Error map for the issues the schema does not word itself: every message names the bad value. */
export function describeIssue(iss: z.core.$ZodRawIssue): string | undefined {
  const missing = iss.input === undefined;
  switch (iss.code) {
    case 'invalid_value':
      return missing
        ? `is required (one of ${iss.values.join(' | ')})`
        : `${show(iss.input)} is not one of ${iss.values.map(String).join(' | ')}`;
    case 'invalid_type':
      return missing ? `is required (${iss.expected})` : `expected ${iss.expected}, got ${show(iss.input)}`;
    case 'invalid_format':
      return iss.format === 'email'
        ? `${show(iss.input)} is not a valid e-mail address`
        : `${show(iss.input)} is not a valid ${iss.format}`;
    case 'too_small':
      if (iss.origin === 'string') {
        return iss.minimum === 1 ? 'must not be empty' : `${show(iss.input)} is too short (at least ${iss.minimum} characters)`;
      }
      if (iss.origin === 'array') return `must list at least ${iss.minimum} item${iss.minimum === 1 ? '' : 's'}`;
      return `${show(iss.input)} is less than ${iss.minimum}`;
    case 'too_big':
      if (iss.origin === 'string') return `${show(iss.input)} is too long (at most ${iss.maximum} characters)`;
      if (iss.origin === 'array') return `lists more than ${iss.maximum} items`;
      return `${show(iss.input)} is more than ${iss.maximum}`;
    default:
      return undefined; // zod's own wording
  }
}

/** A value as it would appear in the JSON file, shortened so that one bad field cannot flood the terminal. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

/** `['services', 1, 'environment']` → `services[1].environment`. */
export function formatPath(issuePath: readonly PropertyKey[]): string {
  if (issuePath.length === 0) return '(configuration)';
  return issuePath.map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`)).join('');
}
