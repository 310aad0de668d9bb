/**
 * Step Functions, as the reconciliation, the crash finaliser and `model-rollout rollback` use it: start one execution of
 * the pipeline, or look one up.
 */
import { DescribeExecutionCommand, ExecutionAlreadyExists, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { UnexpectedAwsAnswerError, callAws } from '../errors';
import type * as ports from '../steps/ports/pipeline-executions';

export class PipelineExecutions implements ports.PipelineExecutions {
  constructor(
    private readonly sfn: Pick<SFNClient, 'send'>,
    private readonly stateMachineArn: string,
  ) {}

  /**
   * Starts an execution named `name`. Names are unique per state machine: starting one that already exists (with other
   * input) is reported as already started, not thrown, so a caller that names executions after what they do is idempotent.
   * Step Functions answers ExecutionAlreadyExists for a closed execution too, whatever the input, until 90 days after it
   * closed (StartExecution API reference, "name"): `describe` tells the two apart.
   */
  async start(name: string, input: unknown): Promise<ports.StartedExecution> {
    const command = new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input: JSON.stringify(input) });
    try {
      const { executionArn } = await callAws(`StartExecution ${name}`, () => this.sfn.send(command));
      if (!executionArn) throw new UnexpectedAwsAnswerError(`StartExecution ${name} returned no execution ARN`);
      return { executionArn, alreadyStarted: false };
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists || (error as Error)?.name === 'ExecutionAlreadyExists')
        return { executionArn: null, alreadyStarted: true };
      throw error;
    }
  }

  /**
   * The name of `executionArn` if it is an execution of this state machine; null for any other ARN. A name may hold
   * dots, `=` or non-ASCII letters (StartExecution, "name"), never a colon.
   */
  ownExecutionName(executionArn: string): string | null {
    const prefix = executionArnOf(this.stateMachineArn, '');
    const name = executionArn.startsWith(prefix) ? executionArn.slice(prefix.length) : '';
    return name.length > 0 && !name.includes(':') ? name : null;
  }

  /** The status of this state machine's execution named `name` (DescribeExecution, on the execution's ARN). */
  async describe(name: string): Promise<ports.ExecutionLookup> {
    const executionArn = executionArnOf(this.stateMachineArn, name);
    try {
      const { status } = await callAws(`DescribeExecution ${name}`, () => this.sfn.send(new DescribeExecutionCommand({ executionArn })));
      if (!status) throw new UnexpectedAwsAnswerError(`DescribeExecution ${name} returned no status`);
      return { executionArn, status };
    } catch (error) {
      if ((error as Error)?.name === 'ExecutionDoesNotExist') return { executionArn, status: 'missing' };
      throw error;
    }
  }
}

/** `arn:<partition>:states:<region>:<account>:stateMachine:<machine>` + name → `…:execution:<machine>:<name>`. */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}
