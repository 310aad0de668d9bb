/** The adapter against the local run's Step Functions task tokens, which answer as the API reference documents. */
import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { TaskTokens } from '../../lambdas/adapters/task-tokens';
import { TransientAwsError } from '../../lambdas/errors';
import { SimulatedAccount } from '../../local/simulated-account';
import { SimulatedTime } from '../../local/simulated-time';
import { LocalTaskTokens } from '../../local/task-tokens';

const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:Pipeline:local-0001';

function world() {
  const local = new LocalTaskTokens(new SimulatedTime(new SimulatedAccount()));
  const sent: unknown[] = [];
  const sfn = {
    send: async (command: unknown) => {
      sent.push(command);
      if (command instanceof SendTaskSuccessCommand) return local.sendTaskSuccess(command.input);
      if (command instanceof SendTaskFailureCommand) return local.sendTaskFailure(command.input);
      throw new Error('unexpected command');
    },
  };
  return { local, sent, tokens: new TaskTokens(sfn) };
}

describe('TaskTokens', () => {
  it('ends the waiting Task with the output as JSON', async () => {
    const { local, tokens } = world();
    const token = local.open(EXECUTION, 'Wait for the service to become healthy');
    await expect(tokens.succeed(token, { verdict: 'healthy' })).resolves.toBe('answered');
    await expect(local.answer(token, 60)).resolves.toEqual({ verdict: 'healthy' });
  });

  it('fails the waiting Task with the error and cause, cut to the API limits', async () => {
    const { local, tokens } = world();
    const token = local.open(EXECUTION, 'Wait for approval');
    await expect(tokens.fail(token, `Operator.${'x'.repeat(300)}`, 'rejected')).resolves.toBe('answered');
    await expect(local.answer(token, 60)).rejects.toMatchObject({ name: `Operator.${'x'.repeat(247)}`, message: 'rejected' });
  });

  it('says "closed" for a Task that already ended, however the API words it', async () => {
    const { local, tokens } = world();
    const token = local.open(EXECUTION, 'Wait for approval');
    await tokens.succeed(token, {});
    await expect(tokens.succeed(token, {})).resolves.toBe('closed');
    await expect(tokens.fail('not-a-token', 'E', 'c')).resolves.toBe('closed');
  });

  it('lets other failures through as the pipeline classifies them (throttling is transient)', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    const tokens = new TaskTokens({ send: async () => Promise.reject(throttled) });
    await expect(tokens.succeed('t', {})).rejects.toBeInstanceOf(TransientAwsError);
  });
});
