import { afterEach, describe, expect, it, vi } from 'vitest';
import { CHECK_HEALTH } from '../../../lib/stages/rollout/functions';
import { ConfigError } from '../../../lib/config';
import { sentimentService } from '../../fixtures/catalog';
import {
  SENTIMENT,
  synth,
  LEDGER_ACCESS,
  LEDGER_FUNCTIONS,
  logicalId,
  prefixOf,
  getAtt,
  policyStatementsOf,
  allStatements,
} from './fixture';

describe('wildcard resources', () => {
  afterEach(() => vi.restoreAllMocks());

  it('fail the synth when the permission that allows one does not say why, even if another permission of the same action does', () => {
    const permissions = CHECK_HEALTH.permissions;
    vi.spyOn(CHECK_HEALTH, 'permissions').mockImplementation((context) => [
      ...permissions(context),
      { actions: ['ecs:DescribeServiceDeployments'], resources: ['*'] },
    ]);

    expect(() => synth()).toThrow(/check-health is allowed ecs:DescribeServiceDeployments on \*, and the permission does not say why/);
  });
});

describe('Lambda steps', () => {
  it('runs fifteen Node.js 24 functions with tracing, a timeout, the table name only where it is read, and the catalog in no environment', () => {
    const { stack, pipeline, ledger, template } = synth();
    const functions = Object.entries(template.findResources('AWS::Lambda::Function'));
    expect(functions).toHaveLength(15);
    const idOf = (name: keyof typeof pipeline.functions) => logicalId(stack, pipeline.functions[name]);
    // analyse-step and await-operator use the ledger in a gray release only, but are named the table everywhere (they
    // load the same way).
    const readsLedger = [...LEDGER_FUNCTIONS.map(idOf), idOf('analyse-step'), idOf('await-operator')];
    const tableRef = { Ref: logicalId(stack, ledger.table) };
    for (const [id, fn] of functions) {
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Timeout: 30, TracingConfig: { Mode: 'Active' } });
      const variables = fn.Properties.Environment.Variables;
      // The catalog is written into the code of the functions that read it (test/constructs/bundling.test.ts).
      expect(JSON.stringify(variables)).not.toContain('models/sentiment');
      expect(variables.LEDGER_TABLE_NAME).toEqual(readsLedger.includes(id) ? tableRef : undefined);
      expect('STATE_MACHINE_ARN' in variables).toBe(id === idOf('reconcile') || id === idOf('finalise-execution'));
    }
  });

  it('refuses an empty catalog', () => {
    expect(() => synth([])).toThrow(/names no service/);
  });

  it('refuses, with a ConfigError naming the limit, more services than ten policies of a role can hold', () => {
    const many = Array.from({ length: 400 }, (_, i) => ({
      ...SENTIMENT,
      name: `s${i}`,
      repositoryName: `models/s${i}`,
      service: `s${i}`,
    }));
    expect(() => synth(many)).toThrow(ConfigError);
    expect(() => synth(many)).toThrow(
      /function would need \d+ IAM policies for this configuration's 400 services; a role takes at most 10 managed policies/,
    );
  });
});

describe('IAM', () => {
  const serviceArn = (cluster: string, service: string) => ({
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ecs:eu-west-1:123456789012:service/${cluster}/${service}`]],
  });

  it('scopes ECS service actions to the configured services', () => {
    const { template } = synth();
    const update = policyStatementsOf(template, 'PipelineUpdateService');
    const services = [serviceArn('models-prod', 'sentiment'), serviceArn('models-staging', 'summarizer')];
    // A rollback first reads what the service runs.
    expect(update).toEqual([{ Action: ['ecs:UpdateService', 'ecs:DescribeServices'], Effect: 'Allow', Resource: services }]);
  });

  const repositoryArn = (r: string) => ({
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ecr:eu-west-1:123456789012:repository/${r}`]],
  });

  it('scopes ECR reads (signature tags, referrers, managed signing status) to the configured repositories', () => {
    const { template } = synth();
    const verify = policyStatementsOf(template, 'PipelineVerifySignature');
    expect(verify).toEqual([
      {
        Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:DescribeImageSigningStatus'],
        Effect: 'Allow',
        Resource: ['models/sentiment', 'models/summarizer'].map(repositoryArn),
      },
    ]);
  });

  it('reads the public half of configured KMS keys only: by key ARN, or any key when asked for by a configured alias', () => {
    const keyArn = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const withKms = sentimentService({
      signing: { kmsKeys: [keyArn, 'alias/release-signing', 'arn:aws:kms:eu-west-1:123456789012:alias/backup-signing'] },
    });
    const verify = policyStatementsOf(synth([withKms]).template, 'PipelineVerifySignature');
    expect(verify).toContainEqual({ Action: 'kms:GetPublicKey', Effect: 'Allow', Resource: keyArn });
    expect(verify).toContainEqual({
      Action: 'kms:GetPublicKey',
      Effect: 'Allow',
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':kms:eu-west-1:123456789012:key/*']] },
      Condition: { StringEquals: { 'kms:RequestAlias': ['alias/release-signing', 'alias/backup-signing'] } },
    });
    expect(verify.flatMap((s) => [s.Action].flat())).not.toContain('signer:GetRevocationStatus');
  });

  it('checks revocation with AWS Signer and pins the root only when a signing profile is trusted', () => {
    const profile = 'arn:aws:signer:eu-west-1:123456789012:/signing-profiles/ModelRelease';
    const versionOfOther = 'arn:aws:signer:eu-west-1:210987654321:/signing-profiles/Partner/abcdEFGH12';
    const withProfile = sentimentService({ signing: { signingProfiles: [profile, versionOfOther] } });
    expect(() => synth([withProfile])).toThrow(/sentiment trust AWS Signer signing profiles, but no signerRootCertificates/);

    const { template } = synth([withProfile], {
      signerRootCertificates: '-----BEGIN CERTIFICATE-----\nroot\n-----END CERTIFICATE-----\n',
    });
    expect(policyStatementsOf(template, 'PipelineVerifySignature')).toContainEqual({
      Action: 'signer:GetRevocationStatus',
      Effect: 'Allow',
      Resource: [
        profile,
        'arn:aws:signer:eu-west-1:210987654321:/signing-profiles/Partner',
        'arn:aws:signer:eu-west-1:123456789012:/signing-jobs/*',
        'arn:aws:signer:eu-west-1:210987654321:/signing-jobs/*',
      ],
    });
    for (const [id, fn] of Object.entries(template.findResources('AWS::Lambda::Function'))) {
      expect('SIGNER_ROOT_CERTIFICATES' in fn.Properties.Environment.Variables).toBe(id.startsWith('PipelineVerifySignature'));
    }
  });

  it('allows a wildcard only for actions that have no narrower resource, and PassRole only on the configured roles, only to ECS tasks', () => {
    const { template } = synth();
    const wildcardActions = (policies: Record<string, any>) =>
      new Set(
        Object.values(policies)
          .flatMap((p: any) => p.Properties.PolicyDocument.Statement)
          .filter((s) => s.Resource === '*')
          .flatMap((s) => [s.Action].flat()),
      );
    // The functions: reading task definitions (no resource type), their network interfaces in the VPC, X-Ray, answering
    // a task token (no resource type). RegisterTaskDefinition is scoped to the configured families.
    expect(wildcardActions(template.findResources('AWS::IAM::ManagedPolicy'))).toEqual(
      new Set([
        'ecs:DescribeTaskDefinition',
        'states:SendTaskSuccess',
        'ec2:CreateNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DeleteNetworkInterface',
        'ec2:AssignPrivateIpAddresses',
        'ec2:UnassignPrivateIpAddresses',
        'xray:PutTraceSegments',
        'xray:PutTelemetryRecords',
      ]),
    );
    // The state machine's role (CDK's): X-Ray and the execution log delivery.
    expect(wildcardActions(template.findResources('AWS::IAM::Policy'))).toEqual(
      new Set([
        'xray:PutTraceSegments',
        'xray:PutTelemetryRecords',
        'xray:GetSamplingRules',
        'xray:GetSamplingTargets',
        'logs:CreateLogDelivery',
        'logs:GetLogDelivery',
        'logs:UpdateLogDelivery',
        'logs:DeleteLogDelivery',
        'logs:ListLogDeliveries',
        'logs:PutResourcePolicy',
        'logs:DescribeResourcePolicies',
        'logs:DescribeLogGroups',
      ]),
    );

    const passRoles = allStatements(template).filter((s) => [s.Action].flat().includes('iam:PassRole'));
    expect(passRoles).toEqual([
      {
        Action: 'iam:PassRole',
        Effect: 'Allow',
        // Each configured role once: the two services share the execution role.
        Resource: [
          'arn:aws:iam::123456789012:role/sentiment-task',
          'arn:aws:iam::123456789012:role/sentiment-execution',
          'arn:aws:iam::123456789012:role/summarizer-task',
        ],
        Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      },
    ]);
    expect(policyStatementsOf(template, 'PipelineRegisterRevision')).toContainEqual(passRoles[0]);
  });

  it('allows no PassRole at all when no service names a role', () => {
    const { template } = synth([sentimentService({ taskRoleArn: null, executionRoleArn: null })]);
    expect(
      allStatements(template)
        .flatMap((s) => [s.Action].flat())
        .filter((a: string) => a.startsWith('iam:')),
    ).toEqual([]);
  });

  it('lets each ledger function perform exactly its item operations, on the ledger table and its index only', () => {
    const { stack, ledger, template } = synth();
    const tableArn = { 'Fn::GetAtt': [logicalId(stack, ledger.table), 'Arn'] };
    for (const name of LEDGER_FUNCTIONS) {
      const dynamo = policyStatementsOf(template, prefixOf(name)).filter((s) =>
        [s.Action].flat().some((a: string) => a.startsWith('dynamodb:')),
      );
      const onTable = {
        Action: LEDGER_ACCESS[name].length === 1 ? LEDGER_ACCESS[name][0] : [...LEDGER_ACCESS[name]],
        Effect: 'Allow',
        Resource: tableArn,
      };
      // Only the crash finaliser queries the execution index, by its name (no `/index/*`), and only with Query.
      const onIndex = { Action: 'dynamodb:Query', Effect: 'Allow', Resource: { 'Fn::Join': ['', [tableArn, '/index/byExecution']] } };
      expect({ name, dynamo }).toEqual({ name, dynamo: name === 'finalise-execution' ? [onTable, onIndex] : [onTable] });
    }
  });

  it('grants no DynamoDB wildcard, no Scan and no table-level action, and none to functions that do not use the ledger', () => {
    const { pipeline, template } = synth();
    const statements = allStatements(template);
    const dynamoActions = new Set(statements.flatMap((s) => [s.Action].flat()).filter((a: string) => a.startsWith('dynamodb:')));
    expect(dynamoActions).toEqual(
      new Set(['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:DeleteItem']),
    );
    for (const name of Object.keys(pipeline.functions).filter((n) => !(LEDGER_FUNCTIONS as string[]).includes(n))) {
      const touchesLedger = policyStatementsOf(template, prefixOf(name)).filter((s) =>
        [s.Action].flat().some((a: string) => /^(dynamodb|kms):/.test(a)),
      );
      expect({ name, touchesLedger }).toEqual({ name, touchesLedger: [] });
    }
  });

  it("lets the ledger functions use the ledger's key only through DynamoDB: to encrypt where they write, to decrypt only where they read", () => {
    const { stack, ledger, template } = synth();
    const keyArn = getAtt(stack, ledger.key);
    const viaDynamoDb = { StringEquals: { 'kms:ViaService': 'dynamodb.eu-west-1.amazonaws.com' } };
    // The event handlers' statement for the queue key is the dead-letter test's.
    const kmsOf = (name: string) =>
      policyStatementsOf(template, prefixOf(name)).filter(
        (s) => [s.Action].flat().some((a: string) => a.startsWith('kms:')) && JSON.stringify(s.Resource) === JSON.stringify(keyArn),
      );
    for (const name of LEDGER_FUNCTIONS.filter((n) => n !== 'reconcile')) {
      expect({ name, kms: kmsOf(name) }).toEqual({
        name,
        kms: [{ Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], Effect: 'Allow', Resource: keyArn, Condition: viaDynamoDb }],
      });
    }
    expect(kmsOf('reconcile')).toEqual([{ Action: 'kms:Decrypt', Effect: 'Allow', Resource: keyArn, Condition: viaDynamoDb }]);
    // No function may use the ledger key any other way.
    const ledgerKeyStatements = allStatements(template).filter((s) => JSON.stringify(s.Resource).includes(logicalId(stack, ledger.key)));
    expect(ledgerKeyStatements).toHaveLength(LEDGER_FUNCTIONS.length);
    for (const statement of ledgerKeyStatements) expect(statement.Condition).toEqual(viaDynamoDb);
  });

  it('lets record-release read image manifests and labels, and reconcile list images, in the configured repositories only', () => {
    const { template } = synth();
    const ecrOf = (name: string) =>
      policyStatementsOf(template, prefixOf(name)).filter((s) => [s.Action].flat().some((a: string) => a.startsWith('ecr:')));
    const repositories = ['models/sentiment', 'models/summarizer'].map(repositoryArn);
    expect(ecrOf('record-release')).toEqual([
      { Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], Effect: 'Allow', Resource: repositories },
    ]);
    expect(ecrOf('reconcile')).toEqual([{ Action: 'ecr:DescribeImages', Effect: 'Allow', Resource: repositories }]);
    for (const name of ['take-lock', 'record-outcome', 'finalise-execution']) expect({ name, ecr: ecrOf(name) }).toEqual({ name, ecr: [] });
  });

  it('reads only the configured alarms', () => {
    const { template } = synth();
    const health = policyStatementsOf(template, 'PipelineCheckHealth');
    const alarms = health.find((s) => s.Action === 'cloudwatch:DescribeAlarms');
    expect(alarms.Resource).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:eu-west-1:123456789012:alarm:sentiment-5xx-rate']],
    });
  });
});
