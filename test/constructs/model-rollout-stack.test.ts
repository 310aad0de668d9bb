import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig, toServiceCatalog } from '../../lib/config';
import { ModelRolloutStack } from '../../lib/model-rollout-stack';
import { STACK_OUTPUTS } from '../../cli/stack-resources';

const ROOT = path.resolve(__dirname, '..', '..');

/** The stack for the example configuration, with `changes` applied to it; bundling skipped (bundling.test.ts bundles). */
function synth(changes: Record<string, unknown> = {}) {
  const example = JSON.parse(readFileSync(path.join(ROOT, 'model-rollout.config.json'), 'utf8'));
  const config = parseConfig({ ...example, ...changes }, ROOT);
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new ModelRolloutStack(app, config.stackName, { config, catalog: toServiceCatalog(config, ROOT) });
  const template = Template.fromStack(stack);
  const ref = (construct: IConstruct) => ({ Ref: stack.getLogicalId(construct.node.defaultChild as CfnElement) });
  const schedule = () =>
    template.toJSON().Resources[stack.getLogicalId(stack.pipeline.reconciliation.node.defaultChild as CfnElement)].Properties
      .ScheduleExpression;
  const getAtt = (construct: IConstruct, attribute: string) => ({
    'Fn::GetAtt': [stack.getLogicalId(construct.node.defaultChild as CfnElement), attribute],
  });
  return { config, stack, template, ref, getAtt, schedule };
}

describe('ModelRolloutStack', () => {
  it('has one ledger, the table the pipeline functions are given', () => {
    const { stack, template, ref } = synth();
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    const recordRelease =
      template.toJSON().Resources[stack.getLogicalId(stack.pipeline.functions['record-release'].node.defaultChild as CfnElement)];
    expect(recordRelease.Properties.Environment.Variables.LEDGER_TABLE_NAME).toEqual(ref(stack.ledger.table));
  });

  it("outputs the ledger table name, the state machine ARN and the approvers' policy, under the keys the CLI and README name", () => {
    const { stack, template, ref } = synth();
    const outputs = template.toJSON().Outputs;
    expect(STACK_OUTPUTS).toEqual({
      tableName: 'LedgerTableName',
      stateMachineArn: 'StateMachineArn',
      approverPolicyArn: 'ApproverPolicyArn',
    });
    expect(outputs[STACK_OUTPUTS.tableName]).toMatchObject({ Value: ref(stack.ledger.table) });
    expect(outputs[STACK_OUTPUTS.stateMachineArn]).toMatchObject({ Value: ref(stack.pipeline.stateMachine) });
    expect(outputs[STACK_OUTPUTS.approverPolicyArn]).toMatchObject({ Value: ref(stack.approverPolicy) });
    expect(Object.keys(outputs).sort()).toEqual([
      'ApproverPolicyArn',
      'CriticalTopicArn',
      'InfoTopicArn',
      'LedgerTableName',
      'StateMachineArn',
      'WarningTopicArn',
    ]);
  });

  it("gives each gray service's operators an approvers' policy of their own, named after the service, never its place", () => {
    const file = path.join(ROOT, 'examples', 'gray-release.config.json');
    const config = loadConfig(file);
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new ModelRolloutStack(app, config.stackName, { config, catalog: toServiceCatalog(config, path.dirname(file)) });
    const outputs = Template.fromStack(stack).toJSON().Outputs;
    const suffix = `sentiment${createHash('sha256').update('sentiment').digest('hex').slice(0, 8)}`;
    const policy = stack.serviceApproverPolicies.sentiment!;
    expect(Object.keys(stack.serviceApproverPolicies)).toEqual(['sentiment']);
    const logicalId = stack.getLogicalId(policy.node.defaultChild as CfnElement);
    expect(logicalId.startsWith(`ApproverPolicy${suffix}`)).toBe(true);
    expect(outputs[`ApproverPolicyArn${suffix}`]).toMatchObject({
      Value: { Ref: logicalId },
      Description: expect.stringContaining("sentiment's operators"),
    });
    // A rolling service (the example configuration's) gets none.
    expect(synth().stack.serviceApproverPolicies).toEqual({});
  });

  it('reconciles every 15 minutes unless reconcileEveryMinutes says otherwise', () => {
    expect(synth().schedule()).toBe('rate(15 minutes)');
    expect(synth({ reconcileEveryMinutes: 5 }).schedule()).toBe('rate(5 minutes)');
    expect(synth({ reconcileEveryMinutes: 1 }).schedule()).toBe('rate(1 minute)');
    expect(synth({ reconcileEveryMinutes: 1440 }).schedule()).toBe('rate(1 day)');
  });

  it("runs every function in the configured private subnets with the network's security group, and the configured concurrency", () => {
    const { config, stack, template, getAtt } = synth({ concurrencyPerFunction: 3 });
    const functions = Object.entries(template.findResources('AWS::Lambda::Function'));
    expect(functions).toHaveLength(15);
    const reconcile = stack.getLogicalId(stack.pipeline.functions.reconcile.node.defaultChild as CfnElement);
    for (const [id, fn] of functions) {
      expect({ id, vpc: fn.Properties.VpcConfig, reserved: fn.Properties.ReservedConcurrentExecutions }).toEqual({
        id,
        vpc: {
          SubnetIds: [...config.network.privateSubnetIds],
          SecurityGroupIds: [getAtt(stack.network.functionSecurityGroup, 'GroupId')],
        },
        reserved: id === reconcile ? 1 : 3,
      });
    }
  });

  it("alarms on the critical topic when either of the pipeline's dead-letter queues, or the undelivered alerts, hold a message", () => {
    const { stack, template, ref, getAtt } = synth();
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'))
      .map((a) => a.Properties)
      .filter((a) => a.Namespace === 'AWS/SQS');
    expect(alarms.map((a) => a.Dimensions).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual(
      [stack.pipeline.triggerDeadLetterQueue, stack.pipeline.eventDeadLetterQueue, stack.alerts.undeliveredAlerts]
        .map((queue) => [{ Name: 'QueueName', Value: getAtt(queue, 'QueueName') }])
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    );
    for (const alarm of alarms) expect(alarm.AlarmActions).toEqual([ref(stack.alerts.topics.critical)]);
  });

  it('reaches AWS without the internet: no 0.0.0.0/0, no NAT or internet gateway, no route', () => {
    const { template } = synth();
    const text = JSON.stringify(template.toJSON());
    expect(text).not.toContain('0.0.0.0/0');
    expect(text).not.toContain('::/0');
    for (const type of ['AWS::EC2::VPC', 'AWS::EC2::NatGateway', 'AWS::EC2::InternetGateway', 'AWS::EC2::Route', 'AWS::EC2::EIP']) {
      template.resourceCountIs(type, 0);
    }
  });
});
