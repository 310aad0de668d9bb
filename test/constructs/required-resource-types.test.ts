/**
 * Every Allow statement of every identity policy in the synthesized template must name, for each of its actions, a
 * resource of each resource type the Service Authorization Reference marks required for that action (`*` names them
 * all). AWS checks an action with two required types against a resource of each, so a statement that names only one
 * is never enough: ecs:DescribeServiceDeployments needs the service and the service deployment.
 */
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/build-app';
import { resolvePolicy } from '../../local/iam/policies';
import { EXAMPLE_CONFIG, readExampleConfig, temporaryFolder, writeConfig } from '../fixtures/example-config';
import { canName, requiredResourceTypes } from '../fixtures/resource-types';

const ENV = { account: '123456789012', region: 'us-east-1', partition: 'aws' };
const folder = temporaryFolder('required-resource-types');
afterAll(() => folder.remove());

/** The example with every conditional grant on: KMS keys by alias and ARN, signing profiles (Notation root pinned). */
function variantConfig(): string {
  const example = readExampleConfig();
  const [sentiment, summarizer] = example.services;
  return writeConfig(folder.path, 'variant', {
    ...example,
    signerRootCertificate: 'test/fixtures/notation/test-only-root-ca.cert.pem',
    services: [
      {
        ...sentiment,
        signing: {
          ...sentiment.signing,
          kmsKeys: ['alias/model-signing', 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab'],
          signingProfiles: ['arn:aws:signer:us-east-1:123456789012:/signing-profiles/ModelRelease'],
        },
      },
      summarizer,
    ],
  });
}

type Statement = { Effect: string; Action?: string | string[]; Resource?: string | string[] };

/** `<policy logical ID>: <action>` for every action of an Allow statement, with the statement's resources. */
function identityStatements(configFile: string, outdir: string): { who: string; action: string; resources: string[] }[] {
  const { app, stack } = buildApp(configFile, { outdir, context: { 'aws:cdk:bundling-stacks': [] } });
  app.synth();
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string; Properties: any }>;
  const documents = Object.entries(resources).flatMap(([id, r]) => {
    if (r.Type === 'AWS::IAM::ManagedPolicy' || r.Type === 'AWS::IAM::Policy') return [{ who: id, document: r.Properties.PolicyDocument }];
    if (r.Type === 'AWS::IAM::Role')
      return ((r.Properties.Policies ?? []) as any[]).map((p) => ({ who: `${id}/${p.PolicyName}`, document: p.PolicyDocument }));
    return [];
  });
  return documents.flatMap(({ who, document }) =>
    (resolvePolicy(document, ENV, resources).Statement as Statement[])
      .filter((s) => s.Effect === 'Allow')
      .flatMap((s) => [s.Action ?? []].flat().map((action) => ({ who, action, resources: [s.Resource ?? []].flat() }))),
  );
}

/** What each statement leaves uncovered: `who: action on [resources] names no <type> (<ARN format>)`. */
async function uncovered(statements: { who: string; action: string; resources: string[] }[]): Promise<string[]> {
  const gaps: string[] = [];
  for (const { who, action, resources } of statements) {
    if (action.includes('*'))
      throw new Error(`${who} allows the wildcard action ${action}: name the actions so their resource types can be checked`);
    for (const type of await requiredResourceTypes(action)) {
      // A Query of an index is authorized on the index's ARN (table/<name>/index/<index>), which stands for its table.
      const named = resources.some(
        (r) => canName(r, type.arnFormat) || (action === 'dynamodb:Query' && type.name === 'table' && /:table\/[^/]+\/index\//.test(r)),
      );
      if (!named) gaps.push(`${who}: ${action} on [${resources.join(', ')}] names no ${type.name} (${type.arnFormat})`);
    }
  }
  return gaps;
}

describe('identity policies name every resource type their actions require', () => {
  it.each([
    ['example', () => EXAMPLE_CONFIG],
    ['variant (KMS aliases and keys, signing profiles)', variantConfig],
  ])('%s configuration', async (name, config) => {
    const statements = identityStatements(config(), path.join(folder.path, `${name.split(' ')[0]}.out`));
    expect(statements.map((s) => s.action)).toContain('ecs:DescribeServiceDeployments');
    expect(await uncovered(statements)).toEqual([]);
  });

  it('finds a statement that names only one of two required resource types', async () => {
    const deployments = 'arn:aws:ecs:us-east-1:123456789012:service-deployment/models-prod/sentiment/*';
    const service = 'arn:aws:ecs:us-east-1:123456789012:service/models-prod/sentiment';
    expect(await uncovered([{ who: 'CheckHealthPolicy', action: 'ecs:DescribeServiceDeployments', resources: [deployments] }])).toEqual([
      `CheckHealthPolicy: ecs:DescribeServiceDeployments on [${deployments}] names no service (arn:\${Partition}:ecs:\${Region}:\${Account}:service/\${ClusterName}/\${ServiceName})`,
    ]);
    expect(
      await uncovered([{ who: 'CheckHealthPolicy', action: 'ecs:DescribeServiceDeployments', resources: [deployments, service] }]),
    ).toEqual([]);
    expect(await uncovered([{ who: 'P', action: 'ecs:DescribeServiceDeployments', resources: ['*'] }])).toEqual([]);
  });
});

describe('canName', () => {
  const service = 'arn:${Partition}:ecs:${Region}:${Account}:service/${ClusterName}/${ServiceName}';
  it.each([
    ['arn:aws:ecs:us-east-1:123456789012:service/models-prod/sentiment', true],
    ['arn:aws:ecs:us-east-1:123456789012:service/models-prod/*', true],
    ['arn:aws:ecs:*:*:service/*', true],
    ['arn:aws:ecs:us-east-1:123456789012:service-deployment/models-prod/sentiment/*', false],
    ['arn:aws:ecs:us-east-1:123456789012:service/models-prod', false],
    ['arn:aws:ecs:us-east-1:123456789012:task-definition/*', false],
  ])('%s names an ECS service: %s', (pattern, expected) => {
    expect(canName(pattern, service)).toBe(expected);
  });
});
