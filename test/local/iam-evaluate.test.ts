/**
 * The local run's IAM evaluator: what it allows and refuses, how a refusal looks (as the SDK raises it), and that a
 * repeated request is evaluated once.
 */
import { describe, expect, it } from 'vitest';
import { authorizing, type IamWorld } from '../../local/iam/authorize';
import { decide, firstDenial, iamStatistics } from '../../local/iam/evaluate';
import type { AccountPolicies, PolicyDocument, PrincipalName, RolePrincipal } from '../../local/iam/policies';

const ACCOUNT = '123456789012';
const SERVICE = `arn:aws:ecs:us-east-1:${ACCOUNT}:service/models-prod/sentiment`;
const DEPLOYMENTS = `arn:aws:ecs:us-east-1:${ACCOUNT}:service-deployment/models-prod/sentiment/*`;
const DEPLOYMENT = `arn:aws:ecs:us-east-1:${ACCOUNT}:service-deployment/models-prod/sentiment/abc`;
const TABLE = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/LedgerTable`;
const KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/LedgerKey`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/sentiment-task`;
const SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/CheckHealthRole/CheckHealth`;

const allow = (Action: string | string[], Resource: string | string[], Condition?: unknown) => ({
  Effect: 'Allow',
  Action,
  Resource,
  ...(Condition ? { Condition } : {}),
});
const FINALISER = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:FinaliseExecution`;
const RULE = `arn:aws:events:us-east-1:${ACCOUNT}:rule/ExecutionEnded`;
const finaliserPolicy: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: 'lambda:InvokeFunction',
      Resource: FINALISER,
      Condition: { ArnLike: { 'aws:SourceArn': RULE } },
    },
  ],
};
const accountRootKeyPolicy: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' }],
};

/** Policies where the check-health role holds `statements`, and the ledger key has `keyPolicy`. */
function policies(statements: Record<string, unknown>[], keyPolicy: PolicyDocument = accountRootKeyPolicy): AccountPolicies {
  const principal: RolePrincipal = {
    name: 'check-health',
    roleArn: `arn:aws:iam::${ACCOUNT}:role/CheckHealthRole`,
    sessionArn: SESSION,
    identityPolicies: [{ name: 'CheckHealthPolicy', policy: { Version: '2012-10-17', Statement: statements } }],
  };
  return {
    env: { account: ACCOUNT, region: 'us-east-1', partition: 'aws' },
    principals: {
      'check-health': principal,
      events: { name: 'events', roleArn: '', sessionArn: 'events.amazonaws.com', identityPolicies: [] },
    } as unknown as Record<PrincipalName, RolePrincipal>,
    keyPolicies: new Map([[KEY, keyPolicy]]),
    functionPolicies: new Map([[FINALISER, finaliserPolicy]]),
    busPolicies: new Map(),
    endpointPolicies: new Map(),
    invokingRules: { 'finalise-execution': RULE, reconcile: `${RULE}-schedule`, 'await-health': `${RULE}-deployments` },
    ruleArns: {},
    ledger: { tableArn: TABLE, keyArn: KEY },
    functionArns: {} as AccountPolicies['functionArns'],
  };
}

const request = (action: string, resource: string, context: Record<string, string> = {}) => ({ action, resource, context });

/** A world whose simulated account answers every command with `{ answered: <command> }` and counts the calls. */
function world(iam: AccountPolicies) {
  const calls: string[] = [];
  const sender = {
    send: async (command: { constructor: { name: string } }) => {
      calls.push(command.constructor.name);
      return { answered: command.constructor.name };
    },
  };
  const w: IamWorld = {
    pipeline: { iam },
    account: {
      account: ACCOUNT,
      region: 'us-east-1',
      ecs: sender,
      ecr: sender,
      cloudwatch: sender,
      kms: sender,
      signer: sender,
      elbv2: sender,
    },
    ledgerTable: { documentClient: sender as never, tableName: 'ledger-1' },
  };
  return { world: w, calls, sender };
}
const command = (name: string, input: unknown) => ({ constructor: { name }, input });

describe('decide', () => {
  it('allows what an identity policy allows, and implicitly denies anything else', async () => {
    const iam = policies([allow('ecs:DescribeServices', SERVICE)]);
    expect(await decide(iam, 'check-health', request('ecs:DescribeServices', SERVICE))).toEqual({ verdict: 'Allowed' });
    expect(await firstDenial(iam, 'check-health', [request('ecs:UpdateService', SERVICE)])).toMatchObject({
      message: `User: ${SESSION} is not authorized to perform: ecs:UpdateService on resource: ${SERVICE} because no identity-based policy allows the ecs:UpdateService action`,
    });
  });

  it('denies explicitly what a Deny statement names, even when another statement allows it', async () => {
    const iam = policies([allow('ecs:*', '*'), { Effect: 'Deny', Action: 'ecs:UpdateService', Resource: SERVICE }]);
    const denial = await firstDenial(iam, 'check-health', [request('ecs:UpdateService', SERVICE)]);
    expect(denial?.message).toBe(
      `User: ${SESSION} is not authorized to perform: ecs:UpdateService on resource: ${SERVICE} with an explicit deny in an identity-based policy`,
    );
    expect((await decide(iam, 'check-health', request('ecs:UpdateService', SERVICE))).verdict).toBe('ExplicitlyDenied');
  });

  it('allows a conditional statement only when the request carries the value it names', async () => {
    const iam = policies([allow('iam:PassRole', ROLE, { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } })]);
    expect(
      (await decide(iam, 'check-health', request('iam:PassRole', ROLE, { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' }))).verdict,
    ).toBe('Allowed');
    expect(
      (await decide(iam, 'check-health', request('iam:PassRole', ROLE, { 'iam:PassedToService': 'lambda.amazonaws.com' }))).verdict,
    ).toBe('ImplicitlyDenied');
    expect((await decide(iam, 'check-health', request('iam:PassRole', ROLE))).verdict).toBe('ImplicitlyDenied');
  });

  it("needs the key policy as well as the caller's policy for a KMS key", async () => {
    const decrypt = request('kms:Decrypt', KEY, { 'kms:ViaService': 'dynamodb.us-east-1.amazonaws.com' });
    const viaDynamoDb = allow('kms:Decrypt', KEY, { StringEquals: { 'kms:ViaService': 'dynamodb.us-east-1.amazonaws.com' } });
    expect((await decide(policies([viaDynamoDb]), 'check-health', decrypt)).verdict).toBe('Allowed');
    expect(
      (await decide(policies([viaDynamoDb]), 'check-health', { ...decrypt, context: { 'kms:ViaService': 'sqs.us-east-1.amazonaws.com' } }))
        .verdict,
    ).toBe('ImplicitlyDenied');
    const otherAccountOnly: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::210987654321:root' }, Action: 'kms:*', Resource: '*' }],
    };
    expect((await firstDenial(policies([viaDynamoDb], otherAccountOnly), 'check-health', [decrypt]))?.message).toBe(
      `User: ${SESSION} is not authorized to perform: kms:Decrypt on resource: ${KEY} because no resource-based policy allows the kms:Decrypt action`,
    );
  });

  it('lets EventBridge invoke a function only for the rule its resource policy names', async () => {
    const invoke = (rule: string) => request('lambda:InvokeFunction', FINALISER, { 'aws:SourceArn': rule, 'aws:SourceAccount': ACCOUNT });
    expect((await decide(policies([]), 'events', invoke(RULE))).verdict).toBe('Allowed');
    expect((await firstDenial(policies([]), 'events', [invoke(`${RULE}-other`)]))?.message).toBe(
      `User: events.amazonaws.com is not authorized to perform: lambda:InvokeFunction on resource: ${FINALISER} because no resource-based policy allows the lambda:InvokeFunction action`,
    );
  });

  it('evaluates a request once, however often it is asked', async () => {
    const iam = policies([allow('ecs:DescribeServices', SERVICE)]);
    const before = iamStatistics.evaluations;
    for (let i = 0; i < 5; i++) await decide(iam, 'check-health', request('ecs:DescribeServices', SERVICE, { 'ecs:cluster': 'c' }));
    expect(iamStatistics.evaluations - before).toBe(1);
  });
});

describe('an authorizing client', () => {
  it('refuses a two-resource action when one of the resources is not allowed, before the account answers', async () => {
    const { world: w, calls, sender } = world(policies([allow('ecs:DescribeServiceDeployments', DEPLOYMENTS)]));
    const ecs = authorizing(w, 'check-health', sender);
    const error = await ecs
      .send(command('DescribeServiceDeploymentsCommand', { serviceDeploymentArns: [DEPLOYMENT] }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
      message: `User: ${SESSION} is not authorized to perform: ecs:DescribeServiceDeployments on resource: ${SERVICE} because no identity-based policy allows the ecs:DescribeServiceDeployments action`,
    });
    expect(calls).toEqual([]);
  });

  it('passes the call on when every resource is allowed', async () => {
    const { world: w, calls, sender } = world(policies([allow('ecs:DescribeServiceDeployments', [SERVICE, DEPLOYMENTS])]));
    const ecs = authorizing(w, 'check-health', sender);
    expect(await ecs.send(command('DescribeServiceDeploymentsCommand', { serviceDeploymentArns: [DEPLOYMENT] }))).toEqual({
      answered: 'DescribeServiceDeploymentsCommand',
    });
    expect(calls).toEqual(['DescribeServiceDeploymentsCommand']);
  });

  it('answers as DynamoDB does when the ledger key refuses the caller', async () => {
    const { world: w, calls, sender } = world(policies([allow('dynamodb:GetItem', TABLE)]));
    const error = await authorizing(w, 'check-health', sender)
      .send(command('GetCommand', { TableName: 'ledger-1', Key: {} }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
      message: expect.stringMatching(
        /^KMS key access denied error: .*kms:Decrypt on resource: arn:aws:kms:us-east-1:123456789012:key\/LedgerKey/,
      ),
    });
    expect(calls).toEqual([]);
  });

  it('answers as CloudWatch does: AccessDenied, HTTP 403', async () => {
    const { world: w, sender } = world(policies([]));
    const error = await authorizing(w, 'check-health', sender)
      .send(command('DescribeAlarmsCommand', { AlarmNames: ['a'] }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
  });
});
