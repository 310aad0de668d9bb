/**
 * One registry of error names (lambdas/errors.ts): every error the Lambda code throws is one of its named classes (or
 * an error it passes on unchanged), so Retry/Catch, logs and the console all see a name that says what happened.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as errors from '../../lambdas/errors';

const LAMBDAS = path.resolve(__dirname, '..', '..', 'lambdas');

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(path.join(folder, entry.name)) : entry.name.endsWith('.ts') ? [path.join(folder, entry.name)] : [],
  );
}

describe('error names', () => {
  it('the Lambda code throws no anonymous Error', () => {
    const anonymous = sourceFiles(LAMBDAS).flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .map((line, index) => ({ line, where: `${path.relative(LAMBDAS, file)}:${index + 1}` }))
        .filter(({ line }) => /\b(throw|reject\()\s*(new\s+)?(Error|TypeError|RangeError|AggregateError)\(/.test(line))
        .map(({ where }) => where),
    );
    expect(anonymous).toEqual([]);
  });

  it('gives every error class of the registry the name ERROR_NAMES lists for it, each name once', () => {
    type ErrorClass = new (message: string) => Error;
    const classes = (Object.values(errors) as unknown[]).filter(
      (value): value is ErrorClass => typeof value === 'function' && (value as ErrorClass).prototype instanceof Error,
    );
    const names = classes.map((ErrorClass) => new ErrorClass('test').name);
    expect(names.sort()).toEqual(Object.values(errors.ERROR_NAMES).sort());
    for (const ErrorClass of classes) expect(ErrorClass.name, 'the class is named after its error name').toBe(new ErrorClass('test').name);
  });
});
