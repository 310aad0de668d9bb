/**
 * Answers a Task state waiting for a task token (SendTaskSuccess, SendTaskFailure). A token whose Task already ended is
 * no failure here: two wake-ups may race for one wait (an event delivered twice, the Task's own check once), and only
 * the first answer counts. The API answers such a token TaskTimedOut ("the task token has either expired or the task
 * associated with the token has already been closed"); InvalidToken and TaskDoesNotExist say the same of a token whose
 * execution is gone (API_SendTaskSuccess, Errors).
 */
import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { callAws } from '../errors';
import type { TaskTokens as TaskTokensPort, TokenAnswer } from '../steps/ports/task-tokens';

const CLOSED_TOKEN_ERRORS: ReadonlySet<string> = new Set(['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist']);
/** SendTaskFailure's limits (API_SendTaskFailure): error up to 256 characters, cause up to 32,768. */
const MAX_ERROR = 256;
const MAX_CAUSE = 32_768;

export class TaskTokens implements TaskTokensPort {
  constructor(private readonly sfn: Pick<SFNClient, 'send'>) {}

  succeed(taskToken: string, output: unknown): Promise<TokenAnswer> {
    return this.answer('SendTaskSuccess', () => this.sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) })));
  }

  fail(taskToken: string, error: string, cause: string): Promise<TokenAnswer> {
    return this.answer('SendTaskFailure', () =>
      this.sfn.send(new SendTaskFailureCommand({ taskToken, error: error.slice(0, MAX_ERROR), cause: cause.slice(0, MAX_CAUSE) })),
    );
  }

  private async answer(operation: string, send: () => Promise<unknown>): Promise<TokenAnswer> {
    return callAws(operation, async () => {
      try {
        await send();
        return 'answered';
      } catch (error) {
        if (CLOSED_TOKEN_ERRORS.has((error as Error)?.name)) return 'closed';
        throw error;
      }
    });
  }
}
