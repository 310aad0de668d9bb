/** Step Functions, as the reconciliation and `model-rollout rollback` use it: start one execution of the pipeline. */
import { ExecutionAlreadyExists, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { callAws } from '../errors';

export type StartedExecution = { executionArn: string; alreadyStarted: false } | { executionArn: null; alreadyStarted: true };

export class PipelineExecutions {
  constructor(private readonly sfn: Pick<SFNClient, 'send'>, private readonly stateMachineArn: string) {}

  /**
   * Starts an execution named `name`. Names are unique per state machine: starting one that already exists (with other
   * input) is reported as already started, not thrown, so a caller that names executions after what they do is idempotent.
   */
  async start(name: string, input: unknown): Promise<StartedExecution> {
    const command = new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input: JSON.stringify(input) });
    try {
      const { executionArn } = await callAws(`StartExecution ${name}`, () => this.sfn.send(command));
      if (!executionArn) throw new Error(`StartExecution ${name} returned no execution ARN`);
      return { executionArn, alreadyStarted: false };
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists || (error as Error)?.name === 'ExecutionAlreadyExists') return { executionArn: null, alreadyStarted: true };
      throw error;
    }
  }
}

/** An execution name from free text: Step Functions allows 1–80 characters of [A-Za-z0-9-_]. */
export function executionName(...parts: string[]): string {
  return parts.join('-').replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 80);
}
