import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { DeploymentLedgerTable } from './deployment-ledger';
import { OPERATOR_WAITS_PREFIX, operatorWaitsPk } from '../lambdas/adapters/ledger-items';
import { acknowledge, render } from './nag';

export interface ApproverPolicyProps {
  /** The ledger whose waiters hold the task tokens the operators answer. */
  readonly ledger: DeploymentLedgerTable;
  /**
   * The services whose waits it answers (their operator-waits partitions only).
   * @default - every service's
   */
  readonly services?: readonly string[];
}

/**
 * What an operator's role needs to answer a gray release (`model-rollout approve | reject | promote | abort`), and
 * nothing more: find the wait in the ledger (Query; the ledger key only through DynamoDB), answer its task token
 * (SendTaskSuccess), and read the ledger's table name from this stack's outputs (`--stack`, `--config`). Who the
 * caller is (STS GetCallerIdentity) needs no permission. The stack creates it; operators' roles attach it.
 */
export class ApproverPolicy extends iam.ManagedPolicy {
  constructor(scope: Construct, id: string, props: ApproverPolicyProps) {
    super(scope, id, {
      description: props.services
        ? `model-rollout operators of ${props.services.join(', ')}: approve, reject, promote or abort a gray release waiting for them`.slice(
            0,
            1000,
          )
        : 'model-rollout operators: approve, reject, promote or abort a gray release waiting for them',
    });
    const stack = Stack.of(this);
    const { table, key } = props.ledger;
    // `stack/<name>/<id>`: any stack of this name, as the stack's own ARN (AWS::StackId) would also name only this one.
    const stackArn = stack.formatArn({ service: 'cloudformation', resource: 'stack', resourceName: `${stack.stackName}/*` });
    this.addStatements(
      // Only the partitions of the waits an operator answers: not the health waits' tokens in the services' partitions,
      // which an operator could otherwise answer "healthy" (DynamoDB fine-grained access control, dynamodb:LeadingKeys).
      // The health waits kept there too, a canary scaling for its step and a promotion (abort only), take no verdict
      // from their answers: the state machine re-reads the service's health.
      new iam.PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [table.tableArn],
        // One team's services only, by their exact partitions (StringEquals: a service name is no pattern), or all.
        conditions: props.services
          ? { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': props.services.map(operatorWaitsPk) } }
          : { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${OPERATOR_WAITS_PREFIX}*`] } },
      }),
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${stack.region}.amazonaws.com` } },
      }),
      new iam.PolicyStatement({ actions: ['states:SendTaskSuccess'], resources: ['*'] }),
      new iam.PolicyStatement({ actions: ['cloudformation:DescribeStacks'], resources: [stackArn] }),
    );
    acknowledge(
      this,
      `AwsSolutions-IAM5[Resource::${render(stack.resolve(stackArn))}]`,
      "cloudformation:DescribeStacks: CloudFormation gives a stack its ID (the ARN's last part) when it creates it; this stack's name only, so that --stack and --config find the ledger's table name in its outputs.",
    );
    acknowledge(
      this,
      'AwsSolutions-IAM5[Resource::*]',
      'states:SendTaskSuccess: Step Functions offers no resource type for it (Service Authorization Reference); who may answer a wait is decided by who can read its task token, which only the ledger and the functions that wait hold; this policy reads only the waits an operator answers (dynamodb:LeadingKeys), so a health wait token stays out of reach (a canary scaling for its step and a promotion are kept there too, for an abort, and the state machine takes no health verdict from their answers).',
    );
  }
}
