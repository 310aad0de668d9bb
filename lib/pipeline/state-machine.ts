/** The state machine itself, its execution log and the bus it publishes outcomes on. */
import { type Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';

/** The stack's own event bus for outcomes, named after the stack so that its policy can name it without referring to itself. */
export function outcomeBus(scope: Construct): events.EventBus {
  return new events.EventBus(scope, 'OutcomeBus', {
    eventBusName: `${Stack.of(scope).stackName}-outcomes`,
    description: 'model-rollout outcomes: only the rollout state machine publishes here',
  });
}

/** A Standard state machine running `definition`, traced, every execution logged in full to an encrypted log group. */
export function rolloutStateMachine(
  scope: Construct,
  props: { definition: sfn.IChainable; timeout: Duration; logsKey: kms.IKey },
): { stateMachine: sfn.StateMachine; executionLogGroup: logs.LogGroup } {
  const executionLogGroup = new logs.LogGroup(scope, 'ExecutionLogs', {
    // Under /aws/vendedlogs/, as Step Functions advises: CloudWatch Logs then needs no resource policy entry per log
    // group, which otherwise fills the account's 5,120-character resource policy limit
    // (https://docs.aws.amazon.com/step-functions/latest/dg/bp-cwl.html). Kept on stack deletion (RETAIN): a stack of
    // the same name deployed again needs this log group deleted first, or a new stack name.
    logGroupName: `/aws/vendedlogs/states/${Stack.of(scope).stackName}-executions`,
    retention: logs.RetentionDays.ONE_YEAR,
    removalPolicy: RemovalPolicy.RETAIN,
    encryptionKey: props.logsKey,
  });
  const stateMachine = new sfn.StateMachine(scope, 'StateMachine', {
    stateMachineType: sfn.StateMachineType.STANDARD,
    comment:
      'Checks, records, verifies, deploys and health-gates one model-serving release, one at a time per service; rolls back to the last known good version when it is unhealthy.',
    definitionBody: sfn.DefinitionBody.fromChainable(props.definition),
    timeout: props.timeout,
    tracingEnabled: true,
    logs: { destination: executionLogGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
  });
  return { stateMachine, executionLogGroup };
}
