/**
 * Step Functions' callback pattern, as the local run keeps it: a Task state that waits for a task token
 * (`.waitForTaskToken`) hands out a token and ends only when someone calls SendTaskSuccess or SendTaskFailure with it,
 * or when its TimeoutSeconds run out (States.Timeout) — in simulated time here
 * (https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html#connect-wait-token).
 *
 * The answers follow the API reference (API_SendTaskSuccess, API_SendTaskFailure): `output` must be JSON of at most
 * 262,144 bytes (InvalidOutput); a token that is not one Step Functions issued is InvalidToken; a token whose task
 * already ended — answered, timed out, or its execution stopped — is TaskTimedOut ("the task token has either expired or
 * the task associated with the token has already been closed"); `error` is at most 256 characters and `cause` 32,768.
 */
import { InvalidOutput, InvalidToken, TaskTimedOut, ValidationException } from '@aws-sdk/client-sfn';
import type { InterruptibleSleep, SimulatedTime } from './simulated-time';

type Json = any;

const MAX_OUTPUT_BYTES = 262_144;
const MAX_ERROR_CHARACTERS = 256;
const MAX_CAUSE_CHARACTERS = 32_768;
/** Local tokens say whose they are; AWS's are opaque, up to 2,048 characters (API_SendTaskSuccess, taskToken). */
const TOKEN = /^local-task-token:(\d+):(.+)$/;

type Answer = { output: Json } | { error: string; cause: string };

interface OpenTask {
  executionArn: string;
  state: string;
  answer?: Answer;
  sleep?: InterruptibleSleep;
  closed: boolean;
}

/** The error a Task state fails with: Catch and Retry match its name. */
export class TaskStateError extends Error {
  constructor(
    override readonly name: string,
    message: string,
  ) {
    super(message);
  }
}

const sdkError = <E>(ErrorClass: new (o: { message: string; $metadata: object }) => E, message: string) =>
  new ErrorClass({ message, $metadata: {} });

export class LocalTaskTokens {
  private readonly tasks = new Map<string, OpenTask>();
  private issued = 0;

  constructor(private readonly time: SimulatedTime) {}

  /** A new token for the task state `state` of `executionArn`, which now waits for it. */
  open(executionArn: string, state: string): string {
    const token = `local-task-token:${++this.issued}:${state}`;
    this.tasks.set(token, { executionArn, state, closed: false });
    return token;
  }

  /**
   * The task's output once its token is answered: SendTaskSuccess's output, or SendTaskFailure's error thrown as the
   * state's error. Past `timeoutSeconds` the task fails with States.Timeout and its token is closed.
   */
  async answer(token: string, timeoutSeconds: number): Promise<Json> {
    const task = this.openTaskOf(token);
    if (!task.answer) {
      // Closed the moment time runs out: an answer sent at that same instant is TaskTimedOut, as only one can win.
      task.sleep = this.time.sleepInterruptibly(timeoutSeconds, () => {
        task.closed = true;
      });
      const how = await task.sleep.ended;
      task.sleep = undefined;
      if (how === 'elapsed') {
        throw new TaskStateError('States.Timeout', `The task "${task.state}" was not answered within ${timeoutSeconds} s`);
      }
    }
    if (!task.answer) throw new TaskStateError('States.Runtime', `The execution of the task "${task.state}" stopped`);
    task.closed = true;
    const answer = task.answer;
    if ('error' in answer) throw new TaskStateError(answer.error, answer.cause);
    return answer.output;
  }

  /**
   * Waits at most `seconds` for the token's answer without ending the task: true once answered (take it with `answer`),
   * false when the time ran out first (the task still waits). What the local run waits with while it lets simulated
   * time act on the account in between.
   */
  async answeredWithin(token: string, seconds: number): Promise<boolean> {
    const task = this.openTaskOf(token);
    if (task.answer) return true;
    task.sleep = this.time.sleepInterruptibly(seconds);
    await task.sleep.ended;
    task.sleep = undefined;
    return task.answer !== undefined || task.closed;
  }

  private openTaskOf(token: string): OpenTask {
    const task = this.tasks.get(token);
    if (!task || task.closed) throw new Error(`The local run has no open task for token ${token}`);
    return task;
  }

  /** SendTaskSuccess. */
  sendTaskSuccess(input: { taskToken?: string; output?: string }): Record<string, never> {
    const task = this.openTask(input.taskToken);
    let output: Json;
    try {
      output = JSON.parse(input.output ?? '');
    } catch {
      throw sdkError(InvalidOutput, 'The provided JSON output data is invalid.');
    }
    if (Buffer.byteLength(input.output!, 'utf8') > MAX_OUTPUT_BYTES) {
      throw sdkError(InvalidOutput, `The output is longer than ${MAX_OUTPUT_BYTES} bytes.`);
    }
    this.settle(task, { output });
    return {};
  }

  /** SendTaskFailure: the task fails with `error` (default: no name, as Step Functions leaves it) and `cause`. */
  sendTaskFailure(input: { taskToken?: string; error?: string; cause?: string }): Record<string, never> {
    const task = this.openTask(input.taskToken);
    const error = input.error ?? '';
    const cause = input.cause ?? '';
    if (error.length > MAX_ERROR_CHARACTERS || cause.length > MAX_CAUSE_CHARACTERS) {
      throw sdkError(ValidationException, `error is at most ${MAX_ERROR_CHARACTERS} characters and cause ${MAX_CAUSE_CHARACTERS}`);
    }
    this.settle(task, { error, cause });
    return {};
  }

  /** The task failed before it waited (its function's invocation failed): its token is answered TaskTimedOut. */
  closeTask(token: string): void {
    const task = this.tasks.get(token);
    if (task) task.closed = true;
  }

  /** The execution stopped (ended or aborted): its waiting tasks are closed, their tokens answered TaskTimedOut. */
  closeExecution(executionArn: string): void {
    for (const task of this.tasks.values()) {
      if (task.executionArn !== executionArn || task.closed) continue;
      task.closed = true;
      // A task still waiting stops now (its handler ends with an error nobody reads) instead of sleeping on to its
      // timeout and moving simulated time there.
      task.sleep?.cancel();
    }
  }

  /** The tokens the execution's tasks wait on now, by state: what the scenarios' operator steps answer. */
  waiting(executionArn?: string): { token: string; executionArn: string; state: string }[] {
    return [...this.tasks.entries()]
      .filter(([, task]) => !task.closed && !task.answer && (executionArn === undefined || task.executionArn === executionArn))
      .map(([token, task]) => ({ token, executionArn: task.executionArn, state: task.state }));
  }

  private openTask(taskToken: string | undefined): OpenTask {
    const task = taskToken && TOKEN.test(taskToken) ? this.tasks.get(taskToken) : undefined;
    if (!task) throw sdkError(InvalidToken, 'Invalid Token');
    // A second answer, a timed-out task, an execution that ended: "already closed".
    if (task.closed || task.answer) throw sdkError(TaskTimedOut, 'Task Timed Out');
    return task;
  }

  private settle(task: OpenTask, answer: Answer): void {
    task.answer = answer;
    // Answered while the state still runs its Lambda function (before `answer` waits): kept for it.
    task.sleep?.interrupt();
  }
}
