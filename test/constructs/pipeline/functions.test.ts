import type { Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import type { IConstruct } from 'constructs';
import { EVENT_FUNCTIONS, RULE_TARGETS } from '../../../lib/state-names';
import { sentimentService } from '../../fixtures/catalog';
import { TEST_NETWORK } from '../../fixtures/network';
import {
  SENTIMENT,
  SUMMARIZER,
  type SynthOptions,
  synth,
  logicalId,
  prefixOf,
  getAtt,
  isCommonToEveryFunction,
  policyStatementsOf,
  ALL_FUNCTIONS,
  ALLOWED_ENVIRONMENT,
  looksLikeSecret,
  secretLookingVariables,
} from './fixture';

describe('network', () => {
  it("runs every function in the configured private subnets, behind the functions' security group only", () => {
    const { stack, network, template } = synth();
    const functions = Object.entries(template.findResources('AWS::Lambda::Function'));
    expect(functions).toHaveLength(ALL_FUNCTIONS.length);
    for (const [id, fn] of functions) {
      expect({ id, vpc: fn.Properties.VpcConfig }).toEqual({
        id,
        vpc: {
          SubnetIds: [...TEST_NETWORK.privateSubnetIds],
          SecurityGroupIds: [getAtt(stack, network.functionSecurityGroup, 'GroupId')],
        },
      });
    }
  });

  it('reserves concurrency: 1 for the reconciliation, concurrencyPerFunction (5 by default) for every other function', () => {
    const reserved = (options: SynthOptions) => {
      const { stack, pipeline, template } = synth(undefined, options);
      const resources = template.toJSON().Resources;
      return Object.fromEntries(
        ALL_FUNCTIONS.map((name) => [name, resources[logicalId(stack, pipeline.functions[name])].Properties.ReservedConcurrentExecutions]),
      );
    };
    const expected = (n: number) => Object.fromEntries(ALL_FUNCTIONS.map((name) => [name, name === 'reconcile' ? 1 : n]));
    expect(reserved({})).toEqual(expected(5));
    expect(reserved({ concurrencyPerFunction: 7 })).toEqual(expected(7));
    // An account whose quota leaves nothing to reserve: no function reserves any, the reconciliation neither.
    expect(reserved({ concurrencyPerFunction: 'none' })).toEqual(Object.fromEntries(ALL_FUNCTIONS.map((name) => [name, undefined])));
    // 0 would stop every function: refused, naming the value.
    expect(() => synth(undefined, { concurrencyPerFunction: 0 })).toThrow('concurrencyPerFunction 0 is not a whole number of at least 1');
    expect(() => synth(undefined, { concurrencyPerFunction: 2.5 })).toThrow('concurrencyPerFunction 2.5 is not');
  });

  it('has no function URL, and lets only EventBridge invoke a function directly, once per rule', () => {
    const { pipeline, template } = synth();
    template.resourceCountIs('AWS::Lambda::Url', 0);
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).map((p) => p.Properties);
    // The finaliser's rule, the reconciliation's, and the health wait's (deployments, alarms).
    expect(permissions).toHaveLength(EVENT_FUNCTIONS.length + pipeline.waitEvents.length);
    for (const permission of permissions) {
      expect(permission).toMatchObject({ Action: 'lambda:InvokeFunction', Principal: 'events.amazonaws.com' });
      expect(permission).not.toHaveProperty('FunctionUrlAuthType');
    }
  });
});

describe('environment', () => {
  it('encrypts every function’s environment (the trust anchors) with its own rotated customer-managed key', () => {
    const { stack, pipeline, template } = synth();
    const resources = template.toJSON().Resources;
    for (const name of ALL_FUNCTIONS) {
      expect({ name, key: resources[logicalId(stack, pipeline.functions[name])].Properties.KmsKeyArn }).toEqual({
        name,
        key: getAtt(stack, pipeline.environmentKey),
      });
    }
    expect(resources[logicalId(stack, pipeline.environmentKey)].Properties.EnableKeyRotation).toBe(true);
  });

  it('gives the functions no environment variable beyond the expected ones', () => {
    const withProfile = sentimentService({
      signing: { signingProfiles: ['arn:aws:signer:eu-west-1:123456789012:/signing-profiles/ModelRelease'] },
    });
    const { template } = synth([withProfile, SUMMARIZER], {
      signerRootCertificates: '-----BEGIN CERTIFICATE-----\nroot\n-----END CERTIFICATE-----\n',
    });
    const names = Object.values(template.findResources('AWS::Lambda::Function')).map((fn) =>
      Object.keys(fn.Properties.Environment.Variables),
    );
    for (const variables of names) expect(ALLOWED_ENVIRONMENT).toEqual(expect.arrayContaining(variables));
    // Every allowed variable is used by some function: the list is not broader than the code.
    expect(new Set(names.flat())).toEqual(new Set(ALLOWED_ENVIRONMENT));
  });

  it('puts nothing in an environment value that looks like a secret', () => {
    const withProfile = sentimentService({
      signing: { signingProfiles: ['arn:aws:signer:eu-west-1:123456789012:/signing-profiles/ModelRelease'] },
    });
    const { template } = synth([withProfile, SUMMARIZER], {
      signerRootCertificates:
        '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUFakeRootForTestsOnly0123456789wCgYIKoZIzj0EAwIw\n-----END CERTIFICATE-----\n',
    });
    expect(secretLookingVariables(template)).toEqual([]);
  });

  it('would notice a secret: a private key, an access key ID, a secret access key, wherever it is in a value', () => {
    expect(looksLikeSecret('-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----')).toBe(true);
    expect(looksLikeSecret('{"container":"AKIAIOSFODNN7EXAMPLE"}')).toBe(true);
    expect(looksLikeSecret('{"container":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}')).toBe(true);
    expect(looksLikeSecret(JSON.stringify([SENTIMENT, SUMMARIZER]))).toBe(false);
    // End to end: a secret-shaped value given as the Signer root reaches SIGNER_ROOT_CERTIFICATES and is reported there.
    const withProfile = sentimentService({
      signing: { signingProfiles: ['arn:aws:signer:eu-west-1:123456789012:/signing-profiles/ModelRelease'] },
    });
    const { stack, pipeline, template } = synth([withProfile], {
      signerRootCertificates: '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\n',
    });
    expect(secretLookingVariables(template)).toEqual([
      [logicalId(stack, pipeline.functions['verify-signature']), 'SIGNER_ROOT_CERTIFICATES'],
    ]);
  });
});

describe('encryption', () => {
  it("encrypts every log group, each function's own and the executions', with the logs key", () => {
    const { stack, pipeline, template } = synth();
    const logsKey = getAtt(stack, pipeline.logsKey);
    const resources = template.toJSON().Resources;
    const functionLogGroups = ALL_FUNCTIONS.map(
      (name) => resources[logicalId(stack, pipeline.functions[name])].Properties.LoggingConfig.LogGroup.Ref,
    );
    expect(new Set(functionLogGroups).size).toBe(ALL_FUNCTIONS.length);
    const logGroups = template.findResources('AWS::Logs::LogGroup');
    expect(Object.keys(logGroups).sort()).toEqual([...functionLogGroups, logicalId(stack, pipeline.executionLogGroup)].sort());
    for (const [id, group] of Object.entries(logGroups)) expect({ id, key: group.Properties.KmsKeyId }).toEqual({ id, key: logsKey });
    // No CDK log-retention function creating /aws/lambda/… groups of its own, unencrypted.
    expect(Object.values(resources).filter((r: any) => r.Type === 'Custom::LogRetention')).toEqual([]);
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: Match.objectLike({
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: getAtt(stack, pipeline.executionLogGroup) } }],
      }),
    });
  });

  it('encrypts both dead-letter queues with the queue key, not with SQS-managed keys', () => {
    const { stack, pipeline, template } = synth();
    const queues = template.findResources('AWS::SQS::Queue');
    expect(Object.keys(queues).sort()).toEqual(
      [logicalId(stack, pipeline.triggerDeadLetterQueue), logicalId(stack, pipeline.eventDeadLetterQueue)].sort(),
    );
    for (const queue of Object.values(queues)) {
      expect(queue.Properties.KmsMasterKeyId).toEqual(getAtt(stack, pipeline.queueKey));
      expect(queue.Properties).not.toHaveProperty('SqsManagedSseEnabled');
    }
  });

  it("rotates every key: the ledger's, the logs', the queues' and the functions' environment's", () => {
    const { template } = synth();
    const keys = Object.values(template.findResources('AWS::KMS::Key'));
    expect(keys).toHaveLength(4);
    for (const key of keys) expect(key.Properties.EnableKeyRotation).toBe(true);
  });

  /** The key policy statements of a key other than the account root's. */
  const servicesStatements = (template: Template, stack: Stack, key: IConstruct) =>
    template.toJSON().Resources[logicalId(stack, key)].Properties.KeyPolicy.Statement.filter((s: any) => !('AWS' in s.Principal));

  it("lets CloudWatch Logs use the logs key for this account's log groups in this Region only", () => {
    const { stack, pipeline, template } = synth();
    expect(servicesStatements(template, stack, pipeline.logsKey)).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'logs.eu-west-1.amazonaws.com' },
        Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        Resource: '*',
        Condition: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': {
              'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:eu-west-1:123456789012:log-group:*']],
            },
          },
        },
      },
    ]);
  });

  it("lets EventBridge use the queue key for this account's rules only, to put undeliverable events in the queues", () => {
    const { stack, pipeline, template } = synth();
    expect(servicesStatements(template, stack, pipeline.queueKey)).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: '*',
        Condition: {
          ArnLike: {
            'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:eu-west-1:123456789012:rule/*']] },
          },
        },
      },
    ]);
  });
});

describe('dead letters of the functions rules invoke', () => {
  it('sends the events the crash finaliser, the reconciliation and the health wait failed on to the event dead-letter queue', () => {
    const { stack, pipeline, template } = synth();
    const resources = template.toJSON().Resources;
    for (const name of ALL_FUNCTIONS) {
      const config = resources[logicalId(stack, pipeline.functions[name])].Properties.DeadLetterConfig;
      // The steps are invoked synchronously by the state machine, which catches and records their failures.
      expect({ name, config }).toEqual({
        name,
        config: (RULE_TARGETS as readonly string[]).includes(name)
          ? { TargetArn: getAtt(stack, pipeline.eventDeadLetterQueue) }
          : undefined,
      });
    }
  });

  it('lets only the functions rules invoke send to that queue, using the queue key only through SQS', () => {
    const { stack, pipeline, template } = synth();
    const queueStatements = (name: string) =>
      policyStatementsOf(template, prefixOf(name)).filter(
        (s) =>
          [s.Action].flat().some((a: string) => a.startsWith('sqs:')) ||
          JSON.stringify(s.Resource).includes(logicalId(stack, pipeline.queueKey)),
      );
    for (const name of ALL_FUNCTIONS) {
      expect({ name, statements: queueStatements(name) }).toEqual({
        name,
        statements: (RULE_TARGETS as readonly string[]).includes(name)
          ? [
              { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: getAtt(stack, pipeline.eventDeadLetterQueue) },
              {
                Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
                Effect: 'Allow',
                Resource: getAtt(stack, pipeline.queueKey),
                Condition: { StringEquals: { 'kms:ViaService': 'sqs.eu-west-1.amazonaws.com' } },
              },
            ]
          : [],
      });
    }
  });
});

describe('roles and policies', () => {
  it('gives each function its own role with one customer-managed policy: no inline policy, no AWS managed policy', () => {
    const { stack, pipeline, template } = synth();
    const resources = template.toJSON().Resources;
    const roleIds = new Set<string>();
    for (const name of ALL_FUNCTIONS) {
      const roleId = resources[logicalId(stack, pipeline.functions[name])].Properties.Role['Fn::GetAtt'][0];
      roleIds.add(roleId);
      const role = resources[roleId];
      expect({ name, type: role.Type, assumedBy: role.Properties.AssumeRolePolicyDocument.Statement }).toEqual({
        name,
        type: 'AWS::IAM::Role',
        assumedBy: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }],
      });
      expect(role.Properties).not.toHaveProperty('Policies');
      expect(role.Properties).not.toHaveProperty('ManagedPolicyArns');
      const attachedTo = (type: string) =>
        Object.entries(template.findResources(type))
          .filter(([, p]) => p.Properties.Roles?.some((r: any) => r.Ref === roleId))
          .map(([id]) => id);
      expect({ name, inline: attachedTo('AWS::IAM::Policy'), managed: attachedTo('AWS::IAM::ManagedPolicy') }).toEqual({
        name,
        inline: [],
        managed: [logicalId(stack, pipeline.policies[name])],
      });
      expect(resources[logicalId(stack, pipeline.policies[name])].Properties.Roles).toEqual([{ Ref: roleId }]);
    }
    expect(roleIds.size).toBe(ALL_FUNCTIONS.length);
  });

  it('lets every function write its own log group, manage its network interfaces and send traces, nothing more in common', () => {
    const { stack, pipeline, template } = synth();
    const resources = template.toJSON().Resources;
    for (const name of ALL_FUNCTIONS) {
      const logGroup = resources[logicalId(stack, pipeline.functions[name])].Properties.LoggingConfig.LogGroup.Ref;
      const common =
        resources[logicalId(stack, pipeline.policies[name])].Properties.PolicyDocument.Statement.filter(isCommonToEveryFunction);
      expect({ name, common }).toEqual({
        name,
        common: [
          { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [logGroup, 'Arn'] } },
          {
            Action: [
              'ec2:CreateNetworkInterface',
              'ec2:DescribeNetworkInterfaces',
              'ec2:DeleteNetworkInterface',
              'ec2:AssignPrivateIpAddresses',
              'ec2:UnassignPrivateIpAddresses',
            ],
            Effect: 'Allow',
            Resource: '*',
          },
          { Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Effect: 'Allow', Resource: '*' },
        ],
      });
    }
  });

  it('creates each function only once its policy exists (Lambda checks the network interface permissions then)', () => {
    const { stack, pipeline, template } = synth();
    const resources = template.toJSON().Resources;
    for (const name of ALL_FUNCTIONS) {
      expect({ name, dependsOn: resources[logicalId(stack, pipeline.functions[name])].DependsOn }).toEqual({
        name,
        dependsOn: expect.arrayContaining([logicalId(stack, pipeline.policies[name])]),
      });
    }
  });
});
