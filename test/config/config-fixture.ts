/** The example configuration, parsed afresh for each case to break in one place, and the issues a broken one gets. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { expect } from 'vitest';
import { ConfigError, parseConfig } from '../../lib/config';

export const ROOT = path.resolve(__dirname, '../..');
export const EXAMPLE = path.join(ROOT, 'model-rollout.config.json');
export const DEMO_PUBLIC_KEY = readFileSync(path.join(ROOT, 'examples/keys/demo-cosign.pub'), 'utf8');

/** A fresh, valid raw configuration (the example file) for each case to break in one place. */
export function example(): any {
  return JSON.parse(readFileSync(EXAMPLE, 'utf8'));
}

/** The issues parseConfig reports for `raw`, or a failure if it accepts it. */
export function issuesOf(raw: unknown, baseDir = ROOT): readonly string[] {
  try {
    parseConfig(raw, baseDir);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  expect.fail('expected the configuration to be rejected');
}
