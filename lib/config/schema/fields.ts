/** Building blocks the schema's sections share: each one's error names the bad value. */
import * as path from 'node:path';
import * as z from 'zod';
import { isFile } from '../key-files';
import { show } from '../messages';
import type { Range } from '../rules';

/** `z.strictObject` whose unknown-key error lists the keys that are allowed, so that a typo is easy to spot. */
export function strictObject<Shape extends z.ZodRawShape>(shape: Shape) {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss) =>
      iss.code === 'unrecognized_keys'
        ? `unknown ${iss.keys.length === 1 ? 'key' : 'keys'} ${iss.keys.map((k) => show(k)).join(', ')} (allowed: ${allowed})`
        : undefined,
  });
}

export function wholeNumberBetween({ min, max }: Range, orElse = '') {
  const error = (iss: { input?: unknown }) =>
    iss.input === undefined
      ? `is required (a whole number from ${min} to ${max})`
      : `${show(iss.input)} is not a whole number from ${min} to ${max}${orElse}`;
  return z.int({ error }).min(min, { error }).max(max, { error });
}

/** Like wholeNumberBetween, for a field that takes fractions too (a percentage, a ratio). */
export function numberBetween({ min, max }: Range) {
  const error = (iss: { input?: unknown }) => `${show(iss.input)} is not a number from ${min} to ${max}`;
  return z.number({ error }).min(min, { error }).max(max, { error });
}

/** A string matching `pattern`, or the error `<value> is not <what>`. */
export function id(pattern: RegExp, what: string) {
  return z.string().regex(pattern, { error: (iss) => `${show(iss.input)} is not ${what}` });
}

/** A path to a file that exists, relative to `baseDir` (the configuration file's folder). */
export function existingFile(baseDir: string) {
  return z
    .string()
    .min(1)
    .refine((file) => isFile(path.resolve(baseDir, file)), {
      error: (iss) => `${show(iss.input)} not found (looked for ${path.resolve(baseDir, String(iss.input))})`,
    });
}

/** Adds one issue per repeated value, at `[...at, index, field?]`, pointing back at the first occurrence. */
export function reportDuplicates(
  ctx: z.RefinementCtx,
  values: readonly string[],
  at: readonly (string | number)[],
  describe: (value: string, firstIndex: number) => string,
  field?: string,
): void {
  const first = new Map<string, number>();
  values.forEach((value, index) => {
    const seen = first.get(value);
    if (seen === undefined) {
      first.set(value, index);
      return;
    }
    ctx.addIssue({
      code: 'custom',
      path: field === undefined ? [...at, index] : [...at, index, field],
      input: value,
      message: describe(value, seen),
    });
  });
}
