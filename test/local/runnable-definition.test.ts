import { describe, expect, it } from 'vitest';
import {
  LOCAL_TASK_TOKEN,
  LOCAL_TIMEOUT_PARAMETER,
  runnableDefinition,
  tokenTasks,
  tokenTaskTimeoutSeconds,
  waitSeconds,
  waitStates,
  withTaskToken,
  type WaitState,
} from '../../local/runnable-definition';

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

describe('a Task that waits for a task token, as the local runner runs it', () => {
  const withToken = {
    StartAt: 'Wait for the service to become healthy',
    States: {
      'Wait for the service to become healthy': {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: {
          FunctionName: 'arn:fn',
          Payload: { wait: { 'taskToken.$': '$$.Task.Token', state: 'Wait' }, 'service.$': '$.service' },
        },
        TimeoutSecondsPath: '$.service.health.deadlineSeconds',
        HeartbeatSeconds: 60,
        Catch: [{ ErrorEquals: ['States.Timeout'], Next: 'Check once' }],
        End: true,
      },
      'Check once': { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:123456789012:function:Check', TimeoutSeconds: 60, End: true },
      Approve: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: { 't.$': '$$.Task.Token' },
        TimeoutSeconds: 600,
        End: true,
      },
    },
  };
  const runnable = runnableDefinition(withToken, START);
  const state = runnable.States['Wait for the service to become healthy'];

  it('finds the token Tasks and their timeouts, and only those', () => {
    expect([...tokenTasks(withToken)]).toEqual([
      ['Wait for the service to become healthy', { timeoutSeconds: undefined, timeoutSecondsPath: '$.service.health.deadlineSeconds' }],
      ['Approve', { timeoutSeconds: 600, timeoutSecondsPath: undefined }],
    ]);
  });

  it('puts a placeholder where the token goes, passes the timeout path as a parameter, and keeps the Catch', () => {
    expect(state.Parameters).toEqual({
      FunctionName: 'arn:fn',
      Payload: { wait: { taskToken: LOCAL_TASK_TOKEN, state: 'Wait' }, 'service.$': '$.service' },
      [`${LOCAL_TIMEOUT_PARAMETER}.$`]: '$.service.health.deadlineSeconds',
    });
    // The local run times the wait in simulated time; the runner only gets a wall-clock day, never a heartbeat.
    expect(state).toMatchObject({ TimeoutSeconds: 86_400, Catch: withToken.States['Wait for the service to become healthy'].Catch });
    expect(state).not.toHaveProperty('TimeoutSecondsPath');
    expect(state).not.toHaveProperty('HeartbeatSeconds');
    expect(runnable.States['Check once']).toEqual(withToken.States['Check once']);
  });

  it('writes the token in and takes the timeout parameter out before the function is invoked', () => {
    const evaluated = {
      FunctionName: 'arn:fn',
      Payload: { wait: { taskToken: LOCAL_TASK_TOKEN }, list: [LOCAL_TASK_TOKEN] },
      [LOCAL_TIMEOUT_PARAMETER]: 900,
    };
    expect(withTaskToken(evaluated, 'tok-1')).toEqual({
      FunctionName: 'arn:fn',
      Payload: { wait: { taskToken: 'tok-1' }, list: ['tok-1'] },
    });
  });

  it.each<[string, Parameters<typeof tokenTaskTimeoutSeconds>[0], unknown, number | RegExp]>([
    ['TimeoutSeconds', { timeoutSeconds: 600 }, {}, 600],
    ['the value of TimeoutSecondsPath', { timeoutSecondsPath: '$.t' }, { [LOCAL_TIMEOUT_PARAMETER]: 900 }, 900],
    ['the default when neither is set', {}, {}, 99_999_999],
    ['a path to no number', { timeoutSecondsPath: '$.t' }, {}, /TimeoutSecondsPath \$\.t is undefined/],
    ['a path to 0', { timeoutSecondsPath: '$.t' }, { [LOCAL_TIMEOUT_PARAMETER]: 0 }, /is 0, not a whole number of seconds from 1/],
  ])('times out after %s', (_, task, parameters, expected) => {
    if (typeof expected === 'number') expect(tokenTaskTimeoutSeconds(task, parameters)).toBe(expected);
    else
      expect(() => tokenTaskTimeoutSeconds(task, parameters)).toThrow(
        expect.objectContaining({ name: 'States.Runtime', message: expect.stringMatching(expected) }),
      );
  });
});
