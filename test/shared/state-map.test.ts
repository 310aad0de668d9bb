import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { STATES } from '../../lib/state-names';

const ROOT = path.resolve(__dirname, '..', '..');
const FOLDERS = ['lib/stages', 'lambdas/steps', 'lambdas/decisions', 'lambdas/adapters'];

/** The README's "Where each state lives" table: each row's states and the files named in each of its four columns. */
function stateMap(): { states: string[]; files: string[][] }[] {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.split('### Where each state lives')[1]!.split('\n### ')[0]!;
  return section
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| states'))
    .map((line) => {
      const [states, ...columns] = line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim());
      return {
        states: states!.split(/, (?=[A-Z])/),
        files: columns.map((cell) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!)),
      };
    });
}

describe("README's map from console states to files", () => {
  const rows = stateMap();

  it('names every state of the definition once', () => {
    const named = rows.flatMap((row) => row.states);
    expect([...named].sort()).toEqual(Object.values(STATES).sort());
  });

  it('names only files that exist, each in the folder of its column', () => {
    const missing = rows.flatMap((row) =>
      row.files.flatMap((files, column) => files.filter((file) => !existsSync(path.join(ROOT, FOLDERS[column]!, file)))),
    );
    expect(rows.length).toBeGreaterThan(10);
    expect(missing).toEqual([]);
  });

  it('names, for each state, the stage file that builds it under that name', () => {
    const keyOf = new Map(Object.entries(STATES).map(([key, name]) => [name as string, key]));
    const elsewhere = rows.flatMap(({ states, files: [stages] }) => {
      const sources = stages!.map((file) => readFileSync(path.join(ROOT, 'lib/stages', file), 'utf8')).join('\n');
      return states.filter((state) => !sources.includes(`STATES.${keyOf.get(state)}`));
    });
    expect(elsewhere).toEqual([]);
  });

  it('names exactly the decisions each handler asks (itself, or through the signature or shared step module it calls)', () => {
    const decisionsOf = (handler: string) => {
      const source = readFileSync(path.join(ROOT, 'lambdas/steps', handler), 'utf8');
      const signature = [...source.matchAll(/from '\.\.\/signature\/([\w-]+)'/g)].map((m) =>
        readFileSync(path.join(ROOT, 'lambdas/signature', `${m[1]}.ts`), 'utf8'),
      );
      // A module beside the steps that several steps share (e.g. observe-health.ts), not a port.
      const shared = [...source.matchAll(/from '\.\/([\w-]+)'/g)].map((m) =>
        readFileSync(path.join(ROOT, 'lambdas/steps', `${m[1]}.ts`), 'utf8'),
      );
      const imported = [source, ...signature, ...shared].flatMap((text) =>
        [...text.matchAll(/from '\.\.\/decisions\/([\w-]+)'/g)].map((m) => `${m[1]}.ts`),
      );
      return [...new Set(imported)].sort();
    };
    const wrong = rows
      .filter(({ files: [, handlers] }) => handlers!.length > 0)
      .map(({ states, files: [, [handler], decisions] }) => ({ states, listed: [...decisions!].sort(), imported: decisionsOf(handler!) }))
      .filter(({ listed, imported }) => JSON.stringify(listed) !== JSON.stringify(imported));
    expect(wrong).toEqual([]);
  });
});
