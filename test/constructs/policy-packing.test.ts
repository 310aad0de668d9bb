import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { MANAGED_POLICY_CHARACTERS, packStatements, worstCaseLength } from '../../lib/policy-packing';

const sizeOf = (statement: iam.PolicyStatement) => worstCaseLength(statement.toStatementJson());
const statement = (actions: string[], resources: string[]) => new iam.PolicyStatement({ actions, resources });
const serviceArn = (i: number) => `arn:aws:ecs:eu-west-1:123456789012:service/models-prod/model-${String(i).padStart(3, '0')}`;

describe('worstCaseLength', () => {
  it('is the JSON length of a value without references', () => {
    const value = { Effect: 'Allow', Action: ['ecs:DescribeServices'], Resource: [serviceArn(1), serviceArn(2)] };
    expect(worstCaseLength(value)).toBe(JSON.stringify(value).length);
  });

  it('counts each reference at the longest value it can take, so a resolved policy is never longer', () => {
    const joined = {
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, ':ecs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':service/c/s'],
      ],
    };
    // The longest partition (aws-us-gov, 10), Region (16) and account (12) characters.
    expect(worstCaseLength(joined)).toBe(
      JSON.stringify(`arn:${'p'.repeat(10)}:ecs:${'r'.repeat(16)}:${'a'.repeat(12)}:service/c/s`).length,
    );
    expect(worstCaseLength(joined)).toBeGreaterThanOrEqual(
      JSON.stringify('arn:aws-us-gov:ecs:us-gov-west-1:123456789012:service/c/s').length,
    );
    // A table's ARN (a generated name) is counted at 320 characters, more than CloudFormation generates.
    expect(worstCaseLength({ 'Fn::GetAtt': ['LedgerTable', 'Arn'] })).toBe(322);
  });

  it('counts a quote or backslash in a joined string as JSON escapes it', () => {
    const joined = { 'Fn::Join': ['', ['alarm:"5xx\\rate"']] };
    expect(worstCaseLength(joined)).toBe(JSON.stringify('alarm:"5xx\\rate"').length);
  });

  it('refuses a CloudFormation function it has no bound for, rather than guess', () => {
    expect(() => worstCaseLength({ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::bucket' })).toThrow(/cannot bound Fn::Sub/);
  });
});

describe('packStatements', () => {
  it('keeps statements that fit together in one policy, in their order', () => {
    const statements = [statement(['ecs:DescribeServices'], [serviceArn(1)]), statement(['ecs:UpdateService'], [serviceArn(1)])];
    expect(packStatements(statements, sizeOf)).toEqual([statements]);
  });

  it('spreads statements over as many policies as their size needs, none over the limit, none lost', () => {
    const statements = Array.from({ length: 120 }, (_, i) => statement(['ecs:DescribeServices', 'ecs:UpdateService'], [serviceArn(i)]));
    const policies = packStatements(statements, sizeOf);
    expect(policies.length).toBeGreaterThan(1);
    for (const policy of policies)
      expect(JSON.stringify({ Version: '2012-10-17', Statement: policy.map((s) => s.toStatementJson()) }).length).toBeLessThanOrEqual(
        MANAGED_POLICY_CHARACTERS,
      );
    expect(policies.flat()).toEqual(statements);
  });

  it('splits a statement too large for one policy by its resources, keeping its actions and conditions', () => {
    const resources = Array.from({ length: 150 }, (_, i) => serviceArn(i));
    const large = new iam.PolicyStatement({
      actions: ['ecs:DescribeServices'],
      resources,
      conditions: { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } },
    });
    const policies = packStatements([large], sizeOf);
    expect(policies.length).toBeGreaterThan(1);
    const parts = policies.flat();
    expect(parts.flatMap((part) => part.resources)).toEqual(resources);
    for (const part of parts) {
      expect(part.actions).toEqual(['ecs:DescribeServices']);
      expect(part.conditions).toEqual({ StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } });
    }
  });

  it('refuses a single resource that no policy could hold, naming its actions', () => {
    expect(() => packStatements([statement(['ecs:DescribeServices'], [`arn:aws:ecs:::service/${'x'.repeat(7000)}`])], sizeOf)).toThrow(
      /One resource of ecs:DescribeServices cannot fit an IAM policy/,
    );
  });
});
