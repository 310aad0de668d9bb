import { describe, expect, it } from 'vitest';
import { chunkByPatternSize, EVENT_PATTERN_CHARACTERS } from '../../lib/event-patterns';

const patternOf = (repositories: readonly string[]) => ({ source: ['aws.ecr'], detail: { 'repository-name': repositories } });
const sizeOf = (repositories: readonly string[]) => JSON.stringify(patternOf(repositories)).length;

describe('chunkByPatternSize', () => {
  it('keeps everything in one pattern while it fits', () => {
    expect(chunkByPatternSize(['models/a', 'models/b'], patternOf)).toEqual([['models/a', 'models/b']]);
  });

  it('cuts the values into consecutive chunks, each pattern within the quota, none lost and none repeated', () => {
    const repositories = Array.from({ length: 200 }, (_, i) => `models/model-${String(i).padStart(3, '0')}`);
    const chunks = chunkByPatternSize(repositories, patternOf);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.flat()).toEqual(repositories);
    for (const chunk of chunks) expect(sizeOf(chunk)).toBeLessThanOrEqual(EVENT_PATTERN_CHARACTERS);
    // Each chunk is as full as it can be: with the next value it would not fit.
    for (let i = 0; i + 1 < chunks.length; i++)
      expect(sizeOf([...chunks[i]!, chunks[i + 1]![0]!])).toBeGreaterThan(EVENT_PATTERN_CHARACTERS);
  });

  it('refuses a value that alone makes a pattern over the quota, naming it', () => {
    expect(() => chunkByPatternSize([`models/${'x'.repeat(2100)}`], patternOf)).toThrow(/above 2048: models\/x/);
  });
});
