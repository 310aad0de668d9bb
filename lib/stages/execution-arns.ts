import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';

/**
 * Executions of the state machine whose names match `names`, as DescribeExecution needs them. The Service Authorization
 * Reference (AWS Step Functions) marks two resource types required for DescribeExecution, execution* and express*, and
 * "you must include an ARN or pattern for each required resource type": both (this state machine is Standard; the
 * express pattern matches nothing else).
 */
export function executionArns(stateMachine: sfn.StateMachine, names: string): string[] {
  return (['execution', 'express'] as const).map((resource) =>
    Stack.of(stateMachine).formatArn({
      service: 'states',
      resource,
      resourceName: `${stateMachine.stateMachineName}:${names}`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    }),
  );
}
