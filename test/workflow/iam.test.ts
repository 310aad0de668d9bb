/**
 * IAM is enforced on every call of the local run: the synthesized policies let a release through without a single
 * denial, and narrowing any one of them (a resource removed, a condition that no longer matches) makes the run end the
 * way AWS's AccessDenied would make it end.
 */
import { errorMessageOf } from '../../lambdas/shared/failure-message';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { iamLogOf } from '../../local/iam/authorize';
import { firstDenial } from '../../local/iam/evaluate';
import { authorizationFor } from '../../local/iam/requests';
import type { PrincipalName } from '../../local/iam/policies';
import { pipelineFor, playScenario, type ScenarioResult } from '../../local/play';
import { scenarioSchema } from '../../local/scenario';
import { STATES } from '../../lib/state-names';

const ROOT = path.resolve(__dirname, '..', '..');
const CONFIG = path.join(ROOT, 'model-rollout.config.json');
const SERVICE = 'arn:aws:ecs:us-east-1:123456789012:service/models-prod/sentiment';

type Statement = { Action: string | string[]; Resource: string | string[]; Condition?: Record<string, Record<string, unknown>> };

function play(): Promise<ScenarioResult> {
  const scenario = scenarioSchema.parse({
    name: 'IAM workflow test',
    service: 'sentiment',
    running: { tag: 'v1.2.0' },
    steps: [{ tag: 'v1.3.0', expect: { status: 'succeeded', error: null, running: 'v1.3.0', alerts: ['info'] } }],
  });
  return playScenario(scenario, ROOT);
}

/** Plays the release with `principal`'s statement allowing `action` changed by `narrow` (the synthesized policies are restored after). */
async function playNarrowed(principal: PrincipalName, action: string, narrow: (statement: Statement) => void): Promise<ScenarioResult> {
  const pipeline = pipelineFor(CONFIG);
  const original = pipeline.iam;
  const narrowed = structuredClone(original);
  const statements = narrowed.principals[principal].identityPolicies.flatMap((p) => p.policy.Statement as Statement[]);
  const statement = statements.find((s) => [s.Action].flat().includes(action));
  if (!statement) throw new Error(`${principal} has no statement allowing ${action}`);
  narrow(statement);
  pipeline.iam = narrowed;
  try {
    return await play();
  } finally {
    pipeline.iam = original;
  }
}

const outcomeOf = (result: ScenarioResult) => {
  const [execution] = result.executions;
  return {
    status: execution.observed.status,
    error: execution.observed.error,
    running: execution.observed.running,
    alerts: execution.observed.alerts,
  };
};
const ecsWrites = (result: ScenarioResult) =>
  result.account.calls.filter((c) => ['RegisterTaskDefinition', 'UpdateService'].includes(c.command)).map((c) => c.command);
const denied = (result: ScenarioResult) => [
  ...new Set(iamLogOf(result.account).denials.map((d) => `${d.principal}: ${d.request.action} on ${d.request.resource}`)),
];

describe('IAM in the local run', () => {
  it('lets a signed, healthy release through with every call authorized and none denied', async () => {
    const result = await play();
    expect(result.executions[0].mismatches).toEqual([]);
    const log = iamLogOf(result.account);
    expect(log.denials).toEqual([]);
    // Every call the account answered was authorized first (a ledger call and the invocations come on top).
    expect(log.allowed).toBeGreaterThan(result.account.calls.length);
  });

  it('without the service ARN, every health wait is denied: the release rolls back, and the rollback is reported failed', async () => {
    const result = await playNarrowed('await-health', 'ecs:DescribeServiceDeployments', (s) => {
      s.Resource = [s.Resource].flat().filter((r) => !r.includes(':service/'));
    });
    expect(outcomeOf(result)).toEqual({ status: 'rollback-failed', error: 'RollbackFailed', running: 'v1.2.0', alerts: ['critical'] });
    expect(denied(result)).toEqual([`await-health: ecs:DescribeServiceDeployments on ${SERVICE}`]);
    expect(result.executions[0].report.cause).toContain('is not authorized to perform: ecs:DescribeServiceDeployments');
  });

  it("when the ECS endpoint's policy leaves out the health wait's role, its calls are refused there and the release rolls back", async () => {
    const pipeline = pipelineFor(CONFIG);
    const original = pipeline.iam;
    const narrowed = structuredClone(original);
    const [statement] = narrowed.endpointPolicies.get('ecs')!.Statement as { Condition: { ArnEquals: Record<string, string[]> } }[];
    const healthRole = narrowed.principals['await-health'].roleArn;
    expect(statement.Condition.ArnEquals['aws:PrincipalArn']).toContain(healthRole);
    statement.Condition.ArnEquals['aws:PrincipalArn'] = statement.Condition.ArnEquals['aws:PrincipalArn'].filter(
      (role) => role !== healthRole,
    );
    pipeline.iam = narrowed;
    try {
      const result = await play();
      expect(outcomeOf(result)).toEqual({ status: 'rollback-failed', error: 'RollbackFailed', running: 'v1.2.0', alerts: ['critical'] });
      expect(result.executions[0].report.cause).toContain('because no VPC endpoint policy allows the ecs:DescribeServices action');
      expect(denied(result).every((line) => line.startsWith('await-health: ecs:'))).toBe(true);
    } finally {
      pipeline.iam = original;
    }
  });

  it('when the task role may only be passed to another service, the revision is not registered and ECS is untouched', async () => {
    const result = await playNarrowed('register-revision', 'iam:PassRole', (s) => {
      s.Condition = { StringEquals: { 'iam:PassedToService': 'ecs.amazonaws.com' } };
    });
    expect(outcomeOf(result)).toMatchObject({ status: 'deployment-failed', error: 'DeploymentFailed', running: 'v1.2.0' });
    expect(ecsWrites(result)).toEqual([]);
    expect(denied(result)).toEqual(['register-revision: iam:PassRole on arn:aws:iam::123456789012:role/sentiment-task']);
  });

  it('when the ledger key may only be used through SQS, the release cannot be recorded and the execution fails', async () => {
    const result = await playNarrowed('record-release', 'kms:Decrypt', (s) => {
      s.Condition = { StringEquals: { 'kms:ViaService': 'sqs.us-east-1.amazonaws.com' } };
    });
    const [execution] = result.executions;
    expect(execution.report.status).toBe('FAILED');
    expect(execution.report.error).toBe('AccessDeniedException');
    // An unexpected failure: the execution's cause is the Lambda runtime's JSON, as in AWS.
    expect(errorMessageOf(execution.report.cause ?? '')).toMatch(/^KMS key access denied error: /);
    expect(ecsWrites(result)).toEqual([]);
    expect(denied(result)).toEqual([
      expect.stringMatching(/^record-release: kms:Decrypt on arn:aws:kms:us-east-1:123456789012:key\/LedgerKey/),
    ]);
  });

  it('when the state machine may not invoke the first step, the execution fails as Step Functions reports it', async () => {
    const result = await playNarrowed('state-machine', 'lambda:InvokeFunction', (s) => {
      s.Resource = [s.Resource].flat().filter((r) => !r.includes(':function:PipelineCheckRelease'));
    });
    const [execution] = result.executions;
    expect(execution.report.status).toBe('FAILED');
    expect(execution.report.error).toBe('Lambda.AWSLambdaException');
    expect(execution.report.cause).toMatch(
      /is not authorized to perform: lambda:InvokeFunction .*\(Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException/,
    );
    // Retried as a Lambda service error (MaxAttempts 6), then nothing else ran.
    expect(execution.report.history.filter((h) => h.type === 'StateRetried')).toHaveLength(6);
    expect(result.account.calls).toEqual([]);
  });

  it('when the trigger rule may not start this state machine, no execution starts', async () => {
    await expect(
      playNarrowed('trigger', 'states:StartExecution', (s) => {
        s.Resource = 'arn:aws:states:us-east-1:123456789012:stateMachine:another';
      }),
    ).rejects.toThrow(
      /trigger rule could not start an execution .*states:StartExecution on resource: arn:aws:states:us-east-1:123456789012:stateMachine:Pipeline/,
    );
  });

  it('when the state machine may not put events on the outcome bus, the outcome alert is not published', async () => {
    const [outcomeBus] = pipelineFor(CONFIG).iam.busPolicies.keys();
    const result = await playNarrowed('state-machine', 'events:PutEvents', (s) => {
      s.Resource = 'arn:aws:events:us-east-1:123456789012:event-bus/another-bus';
    });
    const [execution] = result.executions;
    expect(execution.report.status).toBe('FAILED');
    expect(execution.report.error).toBe('AlertPublishFailed');
    expect(execution.report.history.filter((h) => h.type === 'StateRetried' && h.state === STATES.publishOutcome)).toHaveLength(5);
    expect(denied(result)).toEqual([`state-machine: events:PutEvents on ${outcomeBus}`]);
    // The release itself went out: only the alert was refused.
    expect(execution.observed.running).toBe('v1.3.0');
  });

  describe('the outcome bus (forged outcome events)', () => {
    const { iam } = pipelineFor(CONFIG);
    const [outcomeBus] = iam.busPolicies.keys();
    const scope = { ...iam.env, ledger: { tableName: 'ledger', ...iam.ledger } };
    const defaultBus = 'arn:aws:events:us-east-1:123456789012:event-bus/default';
    const putEvents = (policies: typeof iam, principal: PrincipalName, source: string, bus = outcomeBus) =>
      firstDenial(
        policies,
        principal,
        authorizationFor(
          {
            constructor: { name: 'PutEventsCommand' },
            input: { Entries: [{ EventBusName: bus, Source: source, DetailType: 'Model Rollout Outcome', Detail: '{}' }] },
          },
          scope,
        ).before,
      );

    it("lets the state machine put only the pipeline's own source there, and nothing on the default bus", async () => {
      expect(iam.busPolicies.size).toBe(1);
      await expect(putEvents(iam, 'state-machine', 'model-rollout')).resolves.toBeUndefined();
      await expect(putEvents(iam, 'state-machine', 'aws.ecr')).resolves.toMatchObject({
        message: expect.stringContaining('explicit deny'),
      });
      await expect(putEvents(iam, 'state-machine', 'model-rollout', defaultBus)).resolves.toMatchObject({
        message: expect.stringContaining('event-bus/default because no identity-based policy allows'),
      });
    });

    it('refuses anyone else, even a principal whose own policy allows every PutEvents: the bus policy denies it', async () => {
      // A principal (here: the check-health role) whose own policy allows PutEvents on every bus.
      const generous = structuredClone(iam);
      generous.principals['check-health'].identityPolicies.push({
        name: 'PutEventsAnywhere',
        policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'events:PutEvents', Resource: '*' }] },
      });
      await expect(putEvents(generous, 'check-health', 'model-rollout', defaultBus)).resolves.toBeUndefined();
      await expect(putEvents(generous, 'check-health', 'model-rollout')).resolves.toMatchObject({
        message: expect.stringContaining(`events:PutEvents on resource: ${outcomeBus} with an explicit deny in a resource-based policy`),
      });
    });
  });
});

describe("the health wait's rules", () => {
  it('invokes the function only as the rule that matched allows: refused, the event is lost, and the wait looks itself', async () => {
    const pipeline = pipelineFor(CONFIG);
    const original = pipeline.iam;
    const narrowed = structuredClone(original);
    const awaitHealth = narrowed.functionArns['await-health'];
    const deploymentRule = narrowed.ruleArns[pipeline.waitEventRules[0]!.id]!;
    expect(pipeline.waitEventRules[0]!.pattern.source).toEqual(['aws.ecs']);
    // The function's resource policy without the permission of the ECS deployment events' rule (the alarm rule's stays).
    const policy = narrowed.functionPolicies.get(awaitHealth)!;
    policy.Statement = (policy.Statement as Statement[]).filter((s) => !JSON.stringify(s.Condition ?? {}).includes(deploymentRule));
    pipeline.iam = narrowed;
    try {
      const result = await play();
      expect(outcomeOf(result)).toEqual({ status: 'succeeded', error: null, running: 'v1.3.0', alerts: ['info'] });
      // Only the signature's push reached the function (through its own rule; nobody was waiting for it).
      expect(result.account.deliveredEvents.map((e) => e.source)).toEqual(['aws.ecr']);
      expect(result.account.failedDeliveries.map((f) => f.error)).toEqual([
        expect.stringContaining('EventBridge could not invoke the await-health function'),
        expect.stringContaining('EventBridge could not invoke the await-health function'),
      ]);
      // Known healthy by the wait's own look, a quarter of the 15-minute deadline after it started.
      const history = result.executions[0]!.report.history;
      expect(history.some((h) => h.type === 'StateExited' && h.state === 'Check service health' && /^healthy/.test(h.detail ?? ''))).toBe(
        true,
      );
    } finally {
      pipeline.iam = original;
    }
  });
});

describe("the approvers' policies, as an operator's role with one of them attached", () => {
  const { iam } = pipelineFor(path.join(ROOT, 'examples', 'gray-release.config.json'));
  const scope = { ...iam.env, ledger: { tableName: 'ledger', ...iam.ledger } };
  /** A Query of a partition's waiters (marshalled, as the plain client sends it; the CLI's document client's are not: both are read). */
  const queryWaiters = (principal: PrincipalName, partition: string) =>
    firstDenial(
      iam,
      principal,
      authorizationFor(
        {
          constructor: { name: 'QueryCommand' },
          input: {
            TableName: 'ledger',
            KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :waiter)',
            ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
            ExpressionAttributeValues: { ':pk': { S: partition }, ':waiter': { S: 'WAITER#' } },
          },
        },
        scope,
      ).before,
    );
  const answer = (principal: PrincipalName) =>
    firstDenial(iam, principal, authorizationFor({ constructor: { name: 'SendTaskSuccessCommand' }, input: {} }, scope).before);

  it("reads the waits an operator answers — every service's, or the one service's — and answers their tokens", async () => {
    expect(Object.keys(iam.principals).filter((p) => p.startsWith('operator'))).toEqual(['operator', 'operator:sentiment']);
    for (const principal of ['operator', 'operator:sentiment'] as const) {
      await expect(queryWaiters(principal, 'OPERATOR-WAITS#sentiment')).resolves.toBeUndefined();
      await expect(answer(principal)).resolves.toBeUndefined();
    }
    await expect(queryWaiters('operator', 'OPERATOR-WAITS#summarizer')).resolves.toBeUndefined();
  });

  it("refuses another service's waits to the one service's policy, and the health waits' partitions to both", async () => {
    await expect(queryWaiters('operator:sentiment', 'OPERATOR-WAITS#summarizer')).resolves.toMatchObject({
      message: expect.stringContaining('dynamodb:Query'),
    });
    for (const principal of ['operator', 'operator:sentiment'] as const) {
      await expect(queryWaiters(principal, 'SERVICE#sentiment')).resolves.toMatchObject({
        message: expect.stringContaining('dynamodb:Query'),
      });
    }
  });
});
