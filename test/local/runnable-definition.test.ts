import { describe, expect, it } from 'vitest';
import { runnableDefinition, waitSeconds, waitStates, type WaitState } from '../../local/runnable-definition';

const definition = {
  StartAt: 'Wait a little',
  States: {
    'Wait a little': { Type: 'Wait', SecondsPath: '$.service.pollSeconds', InputPath: '$', Next: 'Look' },
    Look: {
      Type: 'Task',
      Resource: 'arn:aws:lambda:us-east-1:123456789012:function:Look',
      Parameters: { 'since.$': '$$.Execution.StartTime', 'id.$': '$$.Execution.Id', nested: { 'at.$': '$$.Execution.StartTime' } },
      Next: 'Wait until',
    },
    'Wait until': { Type: 'Wait', TimestampPath: '$.until', End: true },
  },
};
const START = '2026-01-01T00:00:00.000Z';

describe('the definition the local runner runs', () => {
  const runnable = runnableDefinition(definition, START);

  it('runs each Wait as a Task of the same name that keeps its paths and its Next or End', () => {
    const task = { Type: 'Task', Resource: expect.any(String), TimeoutSeconds: 24 * 60 * 60 };
    expect(runnable.States['Wait a little']).toEqual({ ...task, InputPath: '$', Next: 'Look' });
    expect(runnable.States['Wait until']).toEqual({ ...task, End: true });
  });

  it('writes the simulated start time where a parameter reads $$.Execution.StartTime, and nothing else', () => {
    expect(runnable.States.Look.Parameters).toEqual({ since: START, 'id.$': '$$.Execution.Id', nested: { at: START } });
  });

  it('leaves the synthesized definition as it was', () => {
    expect(definition.States['Wait a little'].Type).toBe('Wait');
    expect([...waitStates(definition).keys()]).toEqual(['Wait a little', 'Wait until']);
  });
});

describe('how long a Wait waits', () => {
  const now = new Date(START);
  it.each<[string, WaitState, unknown, number]>([
    ['Seconds', { Type: 'Wait', Seconds: 30 }, {}, 30],
    ['SecondsPath', { Type: 'Wait', SecondsPath: '$.service.health.pollSeconds' }, { service: { health: { pollSeconds: 15 } } }, 15],
    ['Timestamp', { Type: 'Wait', Timestamp: '2026-01-01T00:01:00Z' }, {}, 60],
    ['TimestampPath', { Type: 'Wait', TimestampPath: '$.until' }, { until: '2026-01-01T00:00:05Z' }, 5],
    ['a Timestamp already past', { Type: 'Wait', Timestamp: '2025-12-31T00:00:00Z' }, {}, 0],
    ['a Timestamp with milliseconds, truncated to the second', { Type: 'Wait', Timestamp: '2026-01-01T00:00:10.900Z' }, {}, 10],
  ])('%s', (_, state, input, seconds) => {
    expect(waitSeconds(state, input, now)).toBe(seconds);
  });

  it.each<[string, WaitState, unknown]>([
    ['a SecondsPath to nothing', { Type: 'Wait', SecondsPath: '$.missing' }, {}],
    ['a SecondsPath to a string', { Type: 'Wait', SecondsPath: '$.s' }, { s: '30' }],
    ['a SecondsPath to a fraction', { Type: 'Wait', SecondsPath: '$.s' }, { s: 1.5 }],
    ['a SecondsPath to a negative number', { Type: 'Wait', SecondsPath: '$.s' }, { s: -1 }],
    ['Seconds beyond 99999999', { Type: 'Wait', Seconds: 100_000_000 }, {}],
    ['a TimestampPath to nothing', { Type: 'Wait', TimestampPath: '$.missing' }, {}],
    ['a Timestamp with an offset instead of Z', { Type: 'Wait', Timestamp: '2026-01-01T01:00:00+01:00' }, {}],
    ['a Timestamp with a lowercase t', { Type: 'Wait', Timestamp: '2026-01-01t00:01:00Z' }, {}],
  ])('fails the execution with States.Runtime on %s, as Step Functions does', (_, state, input) => {
    expect(() => waitSeconds(state, input, now)).toThrow(expect.objectContaining({ name: 'States.Runtime' }));
  });

  it('refuses a path it cannot read rather than guessing', () => {
    expect(() => waitSeconds({ Type: 'Wait', SecondsPath: '$.items[0].seconds' }, {}, now)).toThrow(/\$\.a\.b only/);
  });
});
