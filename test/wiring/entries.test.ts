/**
 * Each Lambda entry builds its handler through its own wiring, the one the local run uses too, and imports no other
 * function's wiring: esbuild bundles per entry, so a bundle carries only its own function's adapters and clients.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENT_FUNCTIONS, STEP_FUNCTIONS } from '../../lib/state-names';

const LAMBDAS = path.resolve(__dirname, '..', '..', 'lambdas');
const importsOf = (file: string) => [...readFileSync(file, 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]);

describe('the Lambda entries', () => {
  it.each([...STEP_FUNCTIONS, ...EVENT_FUNCTIONS])('%s builds its handler through its own wiring only', (name) => {
    const imports = importsOf(path.join(LAMBDAS, 'functions', `${name}.ts`));
    expect(imports.filter((i) => i.startsWith('../wiring/'))).toEqual([`../wiring/${name}`]);
    expect(imports.filter((i) => i.startsWith('../steps/'))).toEqual([]);
  });

  it('are one per function, as are the wirings (beside the shared client and settings types)', () => {
    const names = [...STEP_FUNCTIONS, ...EVENT_FUNCTIONS].map((name) => `${name}.ts`).sort();
    expect(readdirSync(path.join(LAMBDAS, 'functions')).sort()).toEqual(names);
    expect(readdirSync(path.join(LAMBDAS, 'wiring')).sort()).toEqual([...names, 'clients.ts'].sort());
  });

  it('import the SDK clients they construct, and the wirings import none (types only)', () => {
    for (const file of readdirSync(path.join(LAMBDAS, 'wiring'))) {
      const source = readFileSync(path.join(LAMBDAS, 'wiring', file), 'utf8');
      expect(source, file).not.toMatch(/^import \{[^}]*\} from '@aws-sdk\//m);
    }
  });
});
