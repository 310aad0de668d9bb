import { describe, expect, it } from 'vitest';
import { SimulatedAccount } from '../../local/simulated-account';
import { SimulatedTime } from '../../local/simulated-time';
import { LocalTaskTokens } from '../../local/task-tokens';

const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:Pipeline:local-0001';

function world() {
  const account = new SimulatedAccount({ start: new Date('2026-12-06T10:00:00Z') });
  const time = new SimulatedTime(account);
  // Each participant starts after every participant of the test has joined: time moves only once all of them wait.
  const participant = <T>(work: () => T | Promise<T>): Promise<T> =>
    time.participate(async () => {
      await Promise.resolve();
      return work();
    });
  return { account, time, participant, tokens: new LocalTaskTokens(time) };
}

describe('LocalTaskTokens', () => {
  it('ends the task with the output of SendTaskSuccess, sent by another participant while it waits', async () => {
    const { account, time, participant, tokens } = world();
    const token = tokens.open(EXECUTION, 'Wait for approval');
    const waiting = participant(() => tokens.answer(token, 3600));
    const approving = participant(async () => {
      await time.sleep(600);
      expect(tokens.waiting(EXECUTION)).toEqual([{ token, executionArn: EXECUTION, state: 'Wait for approval' }]);
      return tokens.sendTaskSuccess({ taskToken: token, output: '{"approvedBy":"alice"}' });
    });
    await expect(waiting).resolves.toEqual({ approvedBy: 'alice' });
    await approving;
    // Answered at 600 s: the waiting task did not sleep on to its timeout.
    expect(account.clock().toISOString()).toBe('2026-12-06T10:10:00.000Z');
    expect(tokens.waiting()).toEqual([]);
  });

  it('fails the task with the error and cause of SendTaskFailure, which Catch matches by name', async () => {
    const { participant, tokens } = world();
    const token = tokens.open(EXECUTION, 'Wait for approval');
    const waiting = participant(() => tokens.answer(token, 3600));
    await participant(async () => tokens.sendTaskFailure({ taskToken: token, error: 'Operator.Rejected', cause: 'bob: not today' }));
    await expect(waiting).rejects.toMatchObject({ name: 'Operator.Rejected', message: 'bob: not today' });
  });

  it('keeps an answer sent before the task started to wait (its Lambda function answered it itself)', async () => {
    const { participant, tokens } = world();
    const token = tokens.open(EXECUTION, 'Wait for the deployment');
    tokens.sendTaskSuccess({ taskToken: token, output: '"already done"' });
    await expect(participant(() => tokens.answer(token, 60))).resolves.toBe('already done');
  });

  it('fails the task with States.Timeout once TimeoutSeconds pass in simulated time, and closes its token', async () => {
    const { account, participant, tokens } = world();
    const token = tokens.open(EXECUTION, 'Wait for approval');
    await expect(participant(() => tokens.answer(token, 900))).rejects.toMatchObject({ name: 'States.Timeout' });
    expect(account.clock().toISOString()).toBe('2026-12-06T10:15:00.000Z');
    expect(() => tokens.sendTaskSuccess({ taskToken: token, output: '{}' })).toThrow(expect.objectContaining({ name: 'TaskTimedOut' }));
  });

  it('answers each token once: a second answer is TaskTimedOut (the task is already closed)', async () => {
    const { participant, tokens } = world();
    const token = tokens.open(EXECUTION, 'Wait for approval');
    const waiting = participant(() => tokens.answer(token, 60));
    await participant(async () => tokens.sendTaskSuccess({ taskToken: token, output: '1' }));
    await waiting;
    expect(() => tokens.sendTaskFailure({ taskToken: token, error: 'Late' })).toThrow(expect.objectContaining({ name: 'TaskTimedOut' }));
  });

  it('closes the tokens of an execution that stopped', () => {
    const { tokens } = world();
    const token = tokens.open(EXECUTION, 'Wait for approval');
    const other = tokens.open(`${EXECUTION}2`, 'Wait for approval');
    tokens.closeExecution(EXECUTION);
    expect(() => tokens.sendTaskSuccess({ taskToken: token, output: '{}' })).toThrow(expect.objectContaining({ name: 'TaskTimedOut' }));
    expect(tokens.waiting().map((w) => w.token)).toEqual([other]);
  });

  it.each([
    ['not a token it issued', { taskToken: 'AAAAKgAAAAIAAAAAAAAAAQ==', output: '{}' }, 'InvalidToken'],
    ['no token', { taskToken: undefined, output: '{}' }, 'InvalidToken'],
    ['output that is not JSON', { output: '{approved' }, 'InvalidOutput'],
    ['output over 262,144 bytes', { output: JSON.stringify('x'.repeat(262_143)) }, 'InvalidOutput'],
  ])('refuses %s', (_, input, errorName) => {
    const { tokens } = world();
    const token = tokens.open(EXECUTION, 'Wait for approval');
    expect(() => tokens.sendTaskSuccess({ taskToken: token, ...input })).toThrow(expect.objectContaining({ name: errorName }));
    // Refused: the task still waits.
    expect(tokens.waiting()).toHaveLength(1);
  });

  it('refuses an error name over 256 characters', () => {
    const { tokens } = world();
    const taskToken = tokens.open(EXECUTION, 'Wait for approval');
    expect(() => tokens.sendTaskFailure({ taskToken, error: 'E'.repeat(257) })).toThrow(
      expect.objectContaining({ name: 'ValidationException' }),
    );
  });
});

describe('LocalTaskTokens, waiting in steps', () => {
  it('waits a while without ending the task, and then for its answer', async () => {
    const { time, participant, tokens } = world();
    const token = tokens.open(EXECUTION, 'Wait for the new revision to become healthy');
    const waiting = participant(async () => {
      const first = await tokens.answeredWithin(token, 60);
      const second = await tokens.answeredWithin(token, 600);
      return { first, second, output: await tokens.answer(token, 0) };
    });
    // Answered at 120 s: after the first while (60 s), within the second.
    await participant(async () => {
      await time.sleep(120);
      tokens.sendTaskSuccess({ taskToken: token, output: '"healthy"' });
    });
    await expect(waiting).resolves.toEqual({ first: false, second: true, output: 'healthy' });
  });

  it('stops a task whose execution stopped at once, without moving time to its timeout', async () => {
    const { account, time, participant, tokens } = world();
    const token = tokens.open(EXECUTION, 'Wait for approval');
    const waiting = participant(() => tokens.answer(token, 86_400));
    await participant(async () => {
      await time.sleep(60);
      tokens.closeExecution(EXECUTION);
    });
    await expect(waiting).rejects.toMatchObject({ name: 'States.Runtime' });
    expect(account.clock().toISOString()).toBe('2026-12-06T10:01:00.000Z');
    // Time goes on for everyone else.
    await participant(() => time.sleep(30));
    expect(account.clock().toISOString()).toBe('2026-12-06T10:01:30.000Z');
  });

  it('gives the task its timeout, never an answer sent at that very instant', async () => {
    const { time, participant, tokens } = world();
    const token = tokens.open(EXECUTION, 'Wait for approval');
    const waiting = participant(() => tokens.answer(token, 60));
    const late = participant(async () => {
      await time.sleep(60);
      return tokens.sendTaskSuccess({ taskToken: token, output: '{}' });
    });
    await expect(waiting).rejects.toMatchObject({ name: 'States.Timeout' });
    await expect(late).rejects.toMatchObject({ name: 'TaskTimedOut' });
  });
});
