/** What the state machine's role may do beyond CDK's grants, and the cdk-nag findings on it. */
import { Stack } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { ALERT_EVENT } from '../../lambdas/contract/outcomes';
import { acknowledge } from '../nag';

/**
 * Outcome events page people, so nobody but the state machine may publish them. Within an account an Allow of either
 * the caller's identity policy or the bus policy suffices ("Policy evaluation for requests within a single account",
 * IAM user guide): the bus policy can only deny. It denies every principal but the state machine's role (for a role,
 * aws:PrincipalArn is the role's ARN, not the session's: IAM global condition keys), and every source but the
 * pipeline's. events:source is multivalued (one value per entry: Service Authorization Reference, Amazon EventBridge),
 * so a set operator: one entry of another source denies the call. The role's own policy says the same, so neither
 * policy alone is the only guard.
 */
export function restrictOutcomeBus(outcomeBus: events.EventBus, stateMachine: sfn.StateMachine): void {
  const stack = Stack.of(outcomeBus);
  const otherSources = { 'ForAnyValue:StringNotEquals': { 'events:source': ALERT_EVENT.source } };
  // The bus's own Policy property, not CDK's one AWS::Events::EventBusPolicy per statement: those are identified by
  // their statement ID across the account and Region, so a second stack's would collide with the first's.
  const busArn = stack.formatArn({ service: 'events', resource: 'event-bus', resourceName: `${stack.stackName}-outcomes` });
  const deny = (sid: string, conditions: Record<string, unknown>) =>
    new iam.PolicyStatement({
      sid,
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['events:PutEvents'],
      resources: [busArn],
      conditions,
    });
  (outcomeBus.node.defaultChild as events.CfnEventBus).policy = new iam.PolicyDocument({
    statements: [
      deny('OnlyTheRolloutStateMachinePublishes', { ArnNotEquals: { 'aws:PrincipalArn': stateMachine.role.roleArn } }),
      deny('OnlyOutcomeEvents', otherSources),
    ],
  }).toJSON();
  stateMachine.addToRolePolicy(
    new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      actions: ['events:PutEvents'],
      resources: [outcomeBus.eventBusArn],
      conditions: otherSources,
    }),
  );
}

/** The state machine's role is CDK's: what the tasks, logging and tracing need, in CDK's inline default policy. */
export function acknowledgeStateMachineRole(stateMachine: sfn.StateMachine, stepFunctions: Record<string, lambda.Function>): void {
  const role = stateMachine.role;
  const stack = Stack.of(stateMachine);
  for (const [name, fn] of Object.entries(stepFunctions)) {
    const logicalId = stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
    acknowledge(
      role,
      `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
      `The state machine's task invokes the ${name} function; CDK's LambdaInvoke grant also names its versions (:*), of which the pipeline publishes none.`,
    );
  }
  acknowledge(
    role,
    'AwsSolutions-IAM5[Resource::*]',
    'X-Ray (xray:PutTraceSegments and related) and the execution log delivery (logs:CreateLogDelivery and related) support no resource-level permissions.',
  );
  acknowledge(
    role,
    'NIST.800.53.R5-IAMNoInlinePolicy',
    "CDK writes the state machine role's grants (invoke the pipeline's functions, put the outcome event, logs, X-Ray) into this role's own default policy; nothing else uses it.",
  );
}
