/**
 * Step Functions' callback pattern, as the event-driven waits answer a waiting Task state. Declared here, where it is
 * used; `adapters/task-tokens.ts` implements it with SendTaskSuccess and SendTaskFailure.
 */

/** `answered`: the waiting Task ends with this answer; `closed`: it had already ended (answered, timed out, stopped). */
export type TokenAnswer = 'answered' | 'closed';

export interface TaskTokens {
  /** Ends the waiting Task with `output` as its result. */
  succeed(taskToken: string, output: unknown): Promise<TokenAnswer>;
  /** Fails the waiting Task with `error` (which the state's Catch matches) and `cause`. */
  fail(taskToken: string, error: string, cause: string): Promise<TokenAnswer>;
}
