import { App, type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ApproverPolicy } from '../../lib/approver-policy';
import { DeploymentLedgerTable } from '../../lib/deployment-ledger';

function synth() {
  const stack = new Stack(new App(), 'Test');
  const ledger = new DeploymentLedgerTable(stack, 'Ledger');
  const policy = new ApproverPolicy(stack, 'ApproverPolicy', { ledger });
  const template = Template.fromStack(stack);
  const logicalId = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as CfnElement);
  return { stack, ledger, policy, template, logicalId };
}

describe('ApproverPolicy', () => {
  it('is one managed policy attached to nobody: operators attach it to their own roles', () => {
    const { template, policy, logicalId } = synth();
    const policies = template.findResources('AWS::IAM::ManagedPolicy');
    expect(Object.keys(policies)).toEqual([logicalId(policy)]);
    const properties = policies[logicalId(policy)]!.Properties;
    expect(properties).not.toHaveProperty('Roles');
    expect(properties).not.toHaveProperty('Users');
    expect(properties).not.toHaveProperty('Groups');
  });

  it('allows exactly what the operator commands call: find the wait, answer its token, read the stack outputs', () => {
    const { template, policy, ledger, logicalId } = synth();
    const { Statement } = template.toJSON().Resources[logicalId(policy)].Properties.PolicyDocument;
    expect(Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'dynamodb:Query',
        Resource: { 'Fn::GetAtt': [logicalId(ledger.table), 'Arn'] },
        // The waits an operator answers, not the health waits in the services' own partitions.
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['OPERATOR-WAITS#*'] } },
      },
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: { 'Fn::GetAtt': [logicalId(ledger.key), 'Arn'] },
        Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['dynamodb.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } },
      },
      // Step Functions offers no resource type for SendTaskSuccess.
      { Effect: 'Allow', Action: 'states:SendTaskSuccess', Resource: '*' },
      {
        Effect: 'Allow',
        Action: 'cloudformation:DescribeStacks',
        Resource: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':cloudformation:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':stack/Test/*',
            ],
          ],
        },
      },
    ]);
  });

  it('acknowledges its two wildcards for cdk-nag, each with its reason', () => {
    const { policy } = synth();
    const acknowledged = policy.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .map((entry) => entry.data as Record<string, string>);
    expect(acknowledged).toEqual([
      {
        'Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudformation:<AWS::Region>:<AWS::AccountId>:stack/Test/*]':
          expect.stringMatching(/^cloudformation:DescribeStacks: CloudFormation gives a stack its ID/),
      },
      {
        'Annotation::AwsSolutions-IAM5[Resource::*]': expect.stringMatching(
          /^states:SendTaskSuccess: Step Functions offers no resource type/,
        ),
      },
    ]);
  });

  it("answers one team's services only when given them: their operator-waits partitions, exactly", () => {
    const stack = new Stack(new App(), 'Test');
    const ledger = new DeploymentLedgerTable(stack, 'Ledger');
    const policy = new ApproverPolicy(stack, 'SentimentApprovers', { ledger, services: ['sentiment', 'sentiment-batch'] });
    const properties = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(policy.node.defaultChild as CfnElement)].Properties;
    expect(properties.PolicyDocument.Statement[0]).toEqual({
      Effect: 'Allow',
      Action: 'dynamodb:Query',
      Resource: { 'Fn::GetAtt': [stack.getLogicalId(ledger.table.node.defaultChild as CfnElement), 'Arn'] },
      // StringEquals: a service name is no pattern (a `*` in one would not open the others).
      Condition: {
        'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['OPERATOR-WAITS#sentiment', 'OPERATOR-WAITS#sentiment-batch'] },
      },
    });
    expect(properties.Description).toContain('sentiment, sentiment-batch');
  });
});
