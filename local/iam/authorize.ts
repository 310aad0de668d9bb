/**
 * Clients that authorize every command as one role before the simulated account (or the local ledger) answers it, and
 * refuse it as AWS would. The local run gives each step's handler clients acting as that step's function role, so a
 * policy that lacks a permission fails the run exactly where it would fail in AWS.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DeploymentLedger } from '../../lambdas/adapters/ledger';
import { firstDenial, type Denial } from './evaluate';
import type { RuleTargetName } from '../../lib/state-names';
import type { AccountPolicies, PrincipalName } from './policies';
import { authorizationFor, type AuthorizationRequest, type RequestScope } from './requests';
import { retryingAsTheSdk } from '../sdk-retry';

type Sender = { send: (command: any) => Promise<any> };

/** What a local run needs to authorize: the synthesized policies, the simulated account, and the ledger table's name. */
export interface IamWorld {
  pipeline: { iam: AccountPolicies };
  account: { account: string; region: string; ecs: Sender; ecr: Sender; cloudwatch: Sender; kms: Sender; signer: Sender; elbv2: Sender };
  ledgerTable: LedgerTable;
}

export interface LedgerTable {
  documentClient: Pick<DynamoDBDocumentClient, 'send'>;
  tableName: string;
}

/** What a world's calls were: how many checks passed, and every denial (in order). */
export interface IamLog {
  allowed: number;
  denials: Denial[];
}

const logs = new WeakMap<object, IamLog>();

/** The authorization log of the run on this simulated account. */
export function iamLogOf(account: object): IamLog {
  let log = logs.get(account);
  if (!log) logs.set(account, (log = { allowed: 0, denials: [] }));
  return log;
}

/**
 * A refused call, shaped like the SDK's service exception: `name`, `$fault`, `$metadata.httpStatusCode`. Most services
 * answer AccessDeniedException with HTTP 400; CloudWatch's query protocol answers AccessDenied with 403, and Signer's
 * REST API AccessDeniedException with 403 (their API references, "Common errors" / "Errors"). Elastic Load Balancing
 * answers AccessDenied with 403 (as SDK errors in the wild show it: "StatusCode: 403, … api error AccessDenied: User: …
 * is not authorized to perform: elasticloadbalancing:SetRulePriorities", DNXLabs/terraform-aws-eks-lb-controller#41).
 */
export class AccessDeniedError extends Error {
  readonly $fault = 'client';
  readonly $metadata: { httpStatusCode: number; requestId: string };
  constructor(
    readonly name: string,
    message: string,
    httpStatusCode: number,
  ) {
    super(message);
    this.$metadata = { httpStatusCode, requestId: 'local-iam' };
  }
}

function scopeOf(world: IamWorld): RequestScope {
  const { iam } = world.pipeline;
  return {
    ...iam.env,
    account: world.account.account,
    region: world.account.region,
    ledger: { tableName: world.ledgerTable.tableName, ...iam.ledger },
  };
}

/** Checks `requests` as `principal`; the first denial is logged and returned. */
async function enforce(world: IamWorld, principal: PrincipalName, requests: AuthorizationRequest[]): Promise<Denial | undefined> {
  const log = iamLogOf(world.account);
  const denial = await firstDenial(world.pipeline.iam, principal, requests);
  if (denial) log.denials.push(denial);
  else log.allowed += requests.length;
  return denial;
}

/** The error the service called (the first request's) answers with for `denial`. */
function sdkError(service: string, denial: Denial): AccessDeniedError {
  if (service === 'dynamodb' && denial.request.action.startsWith('kms:')) {
    // What DynamoDB answers when the table's key refuses the caller (seen in aws-cdk#10010 and aws-cdk#18616).
    return new AccessDeniedError(
      'AccessDeniedException',
      'KMS key access denied error: com.amazonaws.services.kms.model.AWSKMSException: The ciphertext refers to a customer master key that does not exist, ' +
        `does not exist in this region, or you are not allowed to access. (Service: AWSKMS; Status Code: 400; Error Code: AccessDeniedException; Request ID: local-iam) [${denial.message}]`,
      400,
    );
  }
  if (service === 'cloudwatch' || service === 'elasticloadbalancing') return new AccessDeniedError('AccessDenied', denial.message, 403);
  if (service === 'signer') return new AccessDeniedError('AccessDeniedException', denial.message, 403);
  return new AccessDeniedError('AccessDeniedException', denial.message, 400);
}

/** `client`, authorizing each command as `principal` first (and, for a KMS alias, on the key the answer names). */
export function authorizing<T extends Sender>(world: IamWorld, principal: PrincipalName, client: T): T {
  const send = async (command: any) => {
    const { before, after } = authorizationFor(command, scopeOf(world));
    // The service called is the first check's (a DynamoDB item call also checks kms:Decrypt, after the item action).
    const denied = await enforce(world, principal, before);
    if (denied) throw sdkError(before[0].action.split(':')[0], denied);
    const output = await client.send(command);
    const deniedAfter = after ? await enforce(world, principal, after(output)) : undefined;
    if (deniedAfter) throw sdkError(deniedAfter.request.action.split(':')[0], deniedAfter);
    return output;
  };
  return { send } as unknown as T;
}

/**
 * A DynamoDB client of the local ledger (a real SDK client, as the CLI builds its document client from one) that
 * authorizes each command as `principal` before it is sent: an SDK middleware, at its first step, with the command's
 * name and its input as the caller gave it.
 */
export function dynamoDbAs(world: IamWorld, principal: PrincipalName, endpoint: string): DynamoDBClient {
  const client = new DynamoDBClient({
    endpoint,
    region: world.account.region,
    credentials: { accessKeyId: 'fake-local-ledger', secretAccessKey: 'fake-local-ledger' },
  });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const { before } = authorizationFor({ constructor: { name: context.commandName! }, input: args.input }, scopeOf(world));
      const denied = await enforce(world, principal, before);
      if (denied) throw sdkError(before[0].action.split(':')[0], denied);
      return next(args);
    },
    { step: 'initialize', name: 'localIamAuthorization' },
  );
  return client;
}

/**
 * The simulated account's clients and a ledger, each acting as `principal`, retrying as the SDK's default clients do
 * (the ledger's is a real SDK client already).
 */
export function clientsAs(world: IamWorld, principal: PrincipalName) {
  const { account } = world;
  const client = <T extends Sender>(service: T) => retryingAsTheSdk(authorizing(world, principal, service));
  return {
    ecs: client(account.ecs),
    ecr: client(account.ecr),
    cloudwatch: client(account.cloudwatch),
    kms: client(account.kms),
    signer: client(account.signer),
    elbv2: client(account.elbv2),
    ledger: new DeploymentLedger(authorizing(world, principal, world.ledgerTable.documentClient), world.ledgerTable.tableName),
  };
}

/**
 * A call the state machine makes through a service integration (Lambda invoke, events:PutEvents), authorized as the
 * state machine's role. Step Functions names such a failure `<Service>.<SDK exception>`: an AccessDeniedException of
 * Lambda or EventBridge has no modelled exception class, so `Lambda.AWSLambdaException` (Step Functions developer
 * guide, "Handling Lambda service exceptions") and `EventBridge.AmazonEventBridgeException`, with the service's
 * message and status in the cause.
 */
export async function authorizeIntegration(world: IamWorld, command: { constructor: { name: string }; input: unknown }): Promise<void> {
  const { before } = authorizationFor(command, scopeOf(world));
  const denied = await enforce(world, 'state-machine', before);
  if (!denied) return;
  const [error, service, status] = denied.request.action.startsWith('lambda:')
    ? ['Lambda.AWSLambdaException', 'AWSLambda', 403]
    : ['EventBridge.AmazonEventBridgeException', 'AmazonEventBridge', 400];
  throw new AccessDeniedError(
    error,
    `${denied.message} (Service: ${service}; Status Code: ${status}; Error Code: AccessDeniedException; Request ID: local-iam)`,
    status,
  );
}

/** An integration command (the state machine's own calls are not SDK commands locally): a name and an input. */
export function integrationCommand(name: 'InvokeCommand' | 'PutEventsCommand', input: unknown) {
  return { constructor: { name }, input };
}

/**
 * The trigger rule starting an execution for a push, as its EventsRole. When refused, EventBridge retries and then
 * keeps the event in the trigger's dead-letter queue: no execution starts (the local run has no queue, so it says so).
 */
export async function authorizeTrigger(world: IamWorld, stateMachineArn: string): Promise<void> {
  const denied = await enforce(
    world,
    'trigger',
    authorizationFor({ constructor: { name: 'StartExecutionCommand' }, input: { stateMachineArn } }, scopeOf(world)).before,
  );
  if (denied)
    throw new Error(`The trigger rule could not start an execution (the push event would go to its dead-letter queue): ${denied.message}`);
}

/**
 * EventBridge invoking an event function for its rule (the crash finaliser, the reconciliation): allowed by the
 * function's resource policy for events.amazonaws.com from that rule. When refused, EventBridge retries and then keeps
 * the event in the event dead-letter queue: the function never runs (the local run says so).
 */
export async function authorizeRuleInvoke(world: IamWorld, name: RuleTargetName, ruleArn?: string): Promise<void> {
  const { iam } = world.pipeline;
  const invoke = authorizationFor(integrationCommand('InvokeCommand', { FunctionName: iam.functionArns[name] }), scopeOf(world)).before.map(
    (r) => ({
      ...r,
      // The rule that delivers the event (for a function several rules target, the one whose pattern matched).
      context: { 'aws:SourceArn': ruleArn ?? iam.invokingRules[name], 'aws:SourceAccount': world.account.account },
    }),
  );
  const denied = await enforce(world, 'events', invoke);
  if (denied)
    throw new Error(
      `EventBridge could not invoke the ${name} function (the event would go to the event dead-letter queue): ${denied.message}`,
    );
}
