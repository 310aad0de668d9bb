/**
 * IAM's size limits, checked on the synthesized policies with their ARNs resolved as they will be in the account
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html, "IAM and AWS STS character limits"):
 * a customer managed policy at most 6,144 characters, a role's inline policies at most 10,240 in all, white space not
 * counted. A policy past the limit fails `cdk deploy`, not synth: these tests are where it shows first.
 */
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/build-app';
import { resolvePolicy } from '../../local/iam/policies';
import { configWithServices, EXAMPLE_CONFIG, temporaryFolder } from '../fixtures/example-config';

const ENV = { account: '123456789012', region: 'us-east-1', partition: 'aws' };
const MANAGED_POLICY_LIMIT = 6_144;
const INLINE_POLICIES_PER_ROLE_LIMIT = 10_240;

const folder = temporaryFolder('policy-size');
afterAll(() => folder.remove());

/** Characters IAM counts: the policy JSON without white space. */
const sizeOf = (document: unknown) => JSON.stringify(document).length;

function policySizes(configFile: string, name: string) {
  const { app, stack } = buildApp(configFile, {
    outdir: path.join(folder.path, `${name}.out`),
    context: { 'aws:cdk:bundling-stacks': [] },
  });
  app.synth();
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string; Properties: any }>;
  const resolved = (document: unknown) => resolvePolicy(document as never, ENV, resources);
  const managed: Record<string, number> = {};
  const inlinePerRole: Record<string, number> = {};
  const managedPerRole: Record<string, number> = {};
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type === 'AWS::IAM::ManagedPolicy') {
      managed[id] = sizeOf(resolved(resource.Properties.PolicyDocument));
      // The approvers' policy is attached to no role of the stack: operators attach it to theirs.
      for (const role of (resource.Properties.Roles ?? []) as { Ref: string }[])
        managedPerRole[role.Ref] = (managedPerRole[role.Ref] ?? 0) + 1;
    }
    if (resource.Type === 'AWS::IAM::Policy') {
      for (const role of resource.Properties.Roles as { Ref: string }[]) {
        inlinePerRole[role.Ref] = (inlinePerRole[role.Ref] ?? 0) + sizeOf(resolved(resource.Properties.PolicyDocument));
      }
    }
    if (resource.Type === 'AWS::IAM::Role') {
      for (const policy of resource.Properties.Policies ?? [])
        inlinePerRole[id] = (inlinePerRole[id] ?? 0) + sizeOf(resolved(policy.PolicyDocument));
    }
  }
  return { managed, inlinePerRole, managedPerRole };
}

describe("the synthesized policies stay within IAM's size limits", () => {
  it.each([
    ['the example configuration', () => EXAMPLE_CONFIG],
    ['ten services', () => configWithServices(folder.path, 10)],
    ['a hundred services, the scale one stack is built for', () => configWithServices(folder.path, 100)],
  ])('%s', (name, config) => {
    const { managed, inlinePerRole, managedPerRole } = policySizes(config(), name.split(' ')[1]!);
    expect(Object.keys(managed).length).toBeGreaterThan(0);
    // IAM attaches at most 10 managed policies to a role by default.
    expect(Object.entries(managedPerRole).filter(([, count]) => count > 10)).toEqual([]);
    expect(Object.entries(managed).filter(([, size]) => size > MANAGED_POLICY_LIMIT)).toEqual([]);
    expect(Object.entries(inlinePerRole).filter(([, size]) => size > INLINE_POLICIES_PER_ROLE_LIMIT)).toEqual([]);
  });

  it('counts what IAM counts: a policy past the limit is found', () => {
    const statement = {
      Effect: 'Allow',
      Action: 'ecs:DescribeServices',
      Resource: 'arn:aws:ecs:us-east-1:123456789012:service/models-prod/model-000',
    };
    const document = { Version: '2012-10-17', Statement: Array.from({ length: 60 }, () => statement) };
    expect(sizeOf(document)).toBeGreaterThan(MANAGED_POLICY_LIMIT);
    expect(sizeOf({ Version: '2012-10-17', Statement: [statement] })).toBeLessThan(200);
  });
});
