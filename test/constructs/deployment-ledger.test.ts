import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { LEDGER_TABLE } from '../../lambdas/contract/ledger-records';
import { DeploymentLedgerTable } from '../../lib/deployment-ledger';

function synth() {
  const stack = new Stack(new App(), 'Test');
  const ledger = new DeploymentLedgerTable(stack, 'Ledger');
  const template = Template.fromStack(stack);
  /** The CloudFormation resource behind an L2 construct, as synthesized (with its policies). */
  const resource = (construct: IConstruct) => template.toJSON().Resources[stack.getLogicalId(construct.node.defaultChild as CfnElement)];
  return { stack, ledger, template, resource };
}

describe('DeploymentLedgerTable', () => {
  it('is one table and one key, nothing else', () => {
    const { template } = synth();
    expect(
      Object.values(template.toJSON().Resources)
        .map((r: any) => r.Type)
        .sort(),
    ).toEqual(['AWS::DynamoDB::Table', 'AWS::KMS::Key']);
  });

  it('is billed on demand, keyed by pk/sk', () => {
    const { ledger, resource } = synth();
    const table = resource(ledger.table).Properties;
    expect(table.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table).not.toHaveProperty('ProvisionedThroughput');
    expect(table.KeySchema).toEqual([
      { AttributeName: LEDGER_TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: LEDGER_TABLE.sortKey, KeyType: 'RANGE' },
    ]);
    expect([LEDGER_TABLE.partitionKey, LEDGER_TABLE.sortKey]).toEqual(['pk', 'sk']);
  });

  it('keeps the audit trail: point-in-time recovery, deletion protection, retained on stack deletion and replacement', () => {
    const { ledger, resource } = synth();
    const table = resource(ledger.table);
    expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table.Properties.DeletionProtectionEnabled).toBe(true);
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
  });

  it("is encrypted with the ledger's own customer-managed key, which rotates and is retained", () => {
    const { stack, ledger, resource } = synth();
    expect(resource(ledger.table).Properties.SSESpecification).toEqual({
      SSEEnabled: true,
      SSEType: 'KMS',
      KMSMasterKeyId: { 'Fn::GetAtt': [stack.getLogicalId(ledger.key.node.defaultChild as CfnElement), 'Arn'] },
    });
    const key = resource(ledger.key);
    expect(key.Properties.EnableKeyRotation).toBe(true);
    expect(key.DeletionPolicy).toBe('Retain');
  });

  it('finds the records of one execution through the byExecution index on executionArn', () => {
    const { ledger, resource } = synth();
    const table = resource(ledger.table).Properties;
    expect(LEDGER_TABLE.executionIndex).toMatchObject({ name: 'byExecution', partitionKey: 'executionArn' });
    expect(table.GlobalSecondaryIndexes).toEqual([
      { IndexName: 'byExecution', KeySchema: [{ AttributeName: 'executionArn', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } },
    ]);
    expect(table.AttributeDefinitions).toContainEqual({ AttributeName: 'executionArn', AttributeType: 'S' });
  });

  it('lets DynamoDB delete expired waiters (and their task tokens) by the ttl attribute the waiters write', () => {
    const { ledger, resource } = synth();
    expect(resource(ledger.table).Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'ttl', Enabled: true });
    expect(LEDGER_TABLE.timeToLive).toBe('ttl');
  });
});
