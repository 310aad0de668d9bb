/** What the RolloutPipeline construct tests share: a synthesized two-service stack and readers of its template. */
import { App, type CfnElement, type Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { expect } from 'vitest';
import type { IConstruct } from 'constructs';
import type { CatalogEntry } from '../../../lambdas/contract/catalog';
import type { NetworkConfig } from '../../../lib/config';
import { DeploymentLedgerTable } from '../../../lib/deployment-ledger';
import { PrivateNetwork } from '../../../lib/private-network';
import { RolloutPipeline } from '../../../lib/rollout-pipeline';
import { EVENT_FUNCTIONS, STEP_FUNCTIONS } from '../../../lib/state-names';
import { sentimentService } from '../../fixtures/catalog';
import { TEST_NETWORK } from '../../fixtures/network';

// The IAM tests name its alarm; the timeout test needs its deadline below the summarizer's.
export const SENTIMENT = sentimentService({ health: { deadlineSeconds: 900, alarms: ['sentiment-5xx-rate'] } });
export const SUMMARIZER: CatalogEntry = {
  ...SENTIMENT,
  name: 'summarizer',
  environment: 'staging',
  repository: 'models/summarizer',
  cluster: 'models-staging',
  service: 'summarizer',
  // Its own task role, the sentiment service's execution role: PassRole names each configured role once.
  taskRoleArn: 'arn:aws:iam::123456789012:role/summarizer-task',
  health: { deadlineSeconds: 1200, pollSeconds: 20, alarms: [] },
};

/** TEST_NETWORK with the configuration's defaults filled in (endpoints created, none existing, no extra groups). */
export const NETWORK: NetworkConfig = { ...TEST_NETWORK, endpoints: 'create', existingEndpoints: [], endpointSecurityGroupIds: [] };

export interface SynthOptions {
  executionTimeout?: Duration;
  signerRootCertificates?: string;
  reconcileEvery?: Duration;
  concurrencyPerFunction?: number | 'none';
}

export function synth(catalog: CatalogEntry[] = [SENTIMENT, SUMMARIZER], options: SynthOptions = {}) {
  // Bundling skipped: these tests read the template; test/constructs/bundling.test.ts bundles for real.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const network = new PrivateNetwork(stack, 'Network', { network: NETWORK, catalog });
  const ledger = new DeploymentLedgerTable(stack, 'Ledger');
  const pipeline = new RolloutPipeline(stack, 'Pipeline', { catalog, ledger, network, ...options });
  const template = Template.fromStack(stack);
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  const definition = JSON.parse(resolveJoin(machine.Properties.DefinitionString));
  return { stack, network, ledger, pipeline, template, definition };
}

/** The functions that read or write the ledger, each with exactly the item operations its step performs. */
export const LEDGER_ACCESS = {
  'record-release': ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
  'take-lock': ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  'record-outcome': ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
  'await-health': ['dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:DeleteItem', 'dynamodb:GetItem'],
  'finalise-execution': ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
  reconcile: ['dynamodb:GetItem'],
} as const;
export const LEDGER_FUNCTIONS = Object.keys(LEDGER_ACCESS) as (keyof typeof LEDGER_ACCESS)[];

/** Logical ID of the CloudFormation resource behind an L2 construct. */
export function logicalId(stack: Stack, construct: IConstruct): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
}

/** The role-policy prefix of a function's logical IDs: `record-release` → `PipelineRecordRelease`. */
export function prefixOf(name: string): string {
  return `Pipeline${name.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase())}`;
}

/** The definition string is an Fn::Join of literal text and ARN tokens; tokens become placeholders. */
export function resolveJoin(value: any): string {
  if (typeof value === 'string') return value;
  const [separator, parts] = value['Fn::Join'];
  return parts.map((p: any) => (typeof p === 'string' ? p : `<${JSON.stringify(p).replace(/"/g, "'")}>`)).join(separator);
}

/** `{ Fn::GetAtt: [<logical ID of construct>, attribute] }`. */
export function getAtt(stack: Stack, construct: IConstruct, attribute = 'Arn') {
  return { 'Fn::GetAtt': [logicalId(stack, construct), attribute] };
}

/**
 * What every function is allowed whatever its step (writing its own log group, managing its network interfaces in the
 * VPC, sending traces): checked on their own by the "in common" test, left out here so each step's test lists its own.
 */
export function isCommonToEveryFunction(statement: any): boolean {
  const actions: string[] = [statement.Action].flat();
  return (
    actions.every((a) => a.startsWith('xray:')) ||
    actions.every((a) => a.startsWith('ec2:')) ||
    actions.every((a) => a === 'logs:CreateLogStream' || a === 'logs:PutLogEvents')
  );
}

/**
 * The statements of the customer-managed policy attached to the role whose logical ID starts with the prefix, except
 * those common to every function. There must be no inline policy on that role: the function would get permissions its
 * managed policy does not show.
 */
export function policyStatementsOf(template: Template, functionLogicalIdPrefix: string): any[] {
  const onRole = (p: any) => p.Properties.Roles.some((r: any) => r.Ref.startsWith(functionLogicalIdPrefix));
  expect(Object.values(template.findResources('AWS::IAM::Policy')).filter(onRole)).toEqual([]);
  const managed = Object.values(template.findResources('AWS::IAM::ManagedPolicy')).filter(onRole);
  expect(managed).toHaveLength(1);
  return managed.flatMap((p: any) => p.Properties.PolicyDocument.Statement).filter((s: any) => !isCommonToEveryFunction(s));
}

/** Every statement of every IAM policy in the template, inline or customer-managed. */
export function allStatements(template: Template): any[] {
  return [
    ...Object.values(template.findResources('AWS::IAM::Policy')),
    ...Object.values(template.findResources('AWS::IAM::ManagedPolicy')),
  ].flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

export const ALL_FUNCTIONS = [...STEP_FUNCTIONS, ...EVENT_FUNCTIONS];

/** Every variable a function may be given: none holds a credential, and none may be added unnoticed. */
export const ALLOWED_ENVIRONMENT = [
  'POWERTOOLS_SERVICE_NAME',
  'NODE_OPTIONS',
  'LEDGER_TABLE_NAME',
  'SIGNER_ROOT_CERTIFICATES',
  'STATE_MACHINE_ARN',
];

/**
 * Whether a value would show a credential to anyone reading the function's configuration: a private key, an AWS access
 * key ID, or a 40-character run shaped like a secret access key. Public keys and certificates (the catalog's trusted
 * keys, the Signer root) are public, and their base64 lines are left out of the search.
 */
export function looksLikeSecret(value: string): boolean {
  const withoutPublicPem = value.replace(/-----BEGIN (PUBLIC KEY|CERTIFICATE)-----[\s\S]*?-----END \1-----/g, '');
  return (
    /PRIVATE KEY/.test(value) ||
    /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/.test(value) ||
    /(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/.test(withoutPublicPem)
  );
}

/** `[logical ID, variable]` of every environment value of every function that looks like a secret. */
export function secretLookingVariables(template: Template): [string, string][] {
  return Object.entries(template.findResources('AWS::Lambda::Function')).flatMap(([id, fn]) =>
    Object.entries<unknown>(fn.Properties.Environment?.Variables ?? {})
      .filter(([, value]) => looksLikeSecret(typeof value === 'string' ? value : JSON.stringify(value)))
      .map(([name]): [string, string] => [id, name]),
  );
}
