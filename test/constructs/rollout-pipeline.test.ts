import { App, type CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import type { IConstruct } from 'constructs';
import type { CatalogEntry } from '../../lambdas/contract/catalog';
import { LOCK_POLL_SECONDS } from '../../lambdas/contract/steps';
import { leaseSeconds } from '../../lambdas/decisions/turn';
import { ERROR_NAMES } from '../../lambdas/errors';
import type { NetworkConfig } from '../../lib/config';
import { DeploymentLedgerTable } from '../../lib/deployment-ledger';
import { PrivateNetwork } from '../../lib/private-network';
import { ConfigError } from '../../lib/config';
import { RolloutPipeline } from '../../lib/rollout-pipeline';
import { EVENT_FUNCTIONS, STATES, STEP_FUNCTIONS } from '../../lib/state-names';
import { sentimentService } from '../fixtures/catalog';
import { TEST_NETWORK } from '../fixtures/network';

// The IAM tests name its alarm; the timeout test needs its deadline below the summarizer's.
const SENTIMENT = sentimentService({ health: { deadlineSeconds: 900, alarms: ['sentiment-5xx-rate'] } });
const SUMMARIZER: CatalogEntry = {
  ...SENTIMENT,
  name: 'summarizer',
  environment: 'staging',
  repositoryName: 'models/summarizer',
  cluster: 'models-staging',
  service: 'summarizer',
  // Its own task role, the sentiment service's execution role: PassRole names each configured role once.
  taskRoleArn: 'arn:aws:iam::123456789012:role/summarizer-task',
  health: { deadlineSeconds: 1200, pollSeconds: 20, alarms: [] },
};

/** TEST_NETWORK with the configuration's defaults filled in (endpoints created, none existing, no extra groups). */
const NETWORK: NetworkConfig = { ...TEST_NETWORK, endpoints: 'create', existingEndpoints: [], endpointSecurityGroupIds: [] };

interface SynthOptions {
  executionTimeout?: Duration;
  signerRootCertificates?: string;
  reconcileEvery?: Duration;
  concurrencyPerFunction?: number | 'none';
}

function synth(catalog: CatalogEntry[] = [SENTIMENT, SUMMARIZER], options: SynthOptions = {}) {
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
const LEDGER_ACCESS = {
  'record-release': ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
  'take-turn': ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  'record-outcome': ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
  'finalise-execution': ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
  reconcile: ['dynamodb:GetItem'],
} as const;
const LEDGER_FUNCTIONS = Object.keys(LEDGER_ACCESS) as (keyof typeof LEDGER_ACCESS)[];

/** Logical ID of the CloudFormation resource behind an L2 construct. */
function logicalId(stack: Stack, construct: IConstruct): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
}

/** The role-policy prefix of a function's logical IDs: `record-release` → `PipelineRecordRelease`. */
function prefixOf(name: string): string {
  return `Pipeline${name.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase())}`;
}

/** The definition string is an Fn::Join of literal text and ARN tokens; tokens become placeholders. */
function resolveJoin(value: any): string {
  if (typeof value === 'string') return value;
  const [separator, parts] = value['Fn::Join'];
  return parts.map((p: any) => (typeof p === 'string' ? p : `<${JSON.stringify(p).replace(/"/g, "'")}>`)).join(separator);
}

/** `{ Fn::GetAtt: [<logical ID of construct>, attribute] }`. */
function getAtt(stack: Stack, construct: IConstruct, attribute = 'Arn') {
  return { 'Fn::GetAtt': [logicalId(stack, construct), attribute] };
}

/**
 * What every function is allowed whatever its step (writing its own log group, managing its network interfaces in the
 * VPC, sending traces): checked on their own by the "in common" test, left out here so each step's test lists its own.
 */
function isCommonToEveryFunction(statement: any): boolean {
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
function policyStatementsOf(template: Template, functionLogicalIdPrefix: string): any[] {
  const onRole = (p: any) => p.Properties.Roles.some((r: any) => r.Ref.startsWith(functionLogicalIdPrefix));
  expect(Object.values(template.findResources('AWS::IAM::Policy')).filter(onRole)).toEqual([]);
  const managed = Object.values(template.findResources('AWS::IAM::ManagedPolicy')).filter(onRole);
  expect(managed).toHaveLength(1);
  return managed.flatMap((p: any) => p.Properties.PolicyDocument.Statement).filter((s: any) => !isCommonToEveryFunction(s));
}

/** Every statement of every IAM policy in the template, inline or customer-managed. */
function allStatements(template: Template): any[] {
  return [
    ...Object.values(template.findResources('AWS::IAM::Policy')),
    ...Object.values(template.findResources('AWS::IAM::ManagedPolicy')),
  ].flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

const ALL_FUNCTIONS = [...STEP_FUNCTIONS, ...EVENT_FUNCTIONS];

/** Every variable a function may be given: none holds a credential, and none may be added unnoticed. */
const ALLOWED_ENVIRONMENT = [
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
function looksLikeSecret(value: string): boolean {
  const withoutPublicPem = value.replace(/-----BEGIN (PUBLIC KEY|CERTIFICATE)-----[\s\S]*?-----END \1-----/g, '');
  return (
    /PRIVATE KEY/.test(value) ||
    /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/.test(value) ||
    /(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/.test(withoutPublicPem)
  );
}

/** `[logical ID, variable]` of every environment value of every function that looks like a secret. */
function secretLookingVariables(template: Template): [string, string][] {
  return Object.entries(template.findResources('AWS::Lambda::Function')).flatMap(([id, fn]) =>
    Object.entries<unknown>(fn.Properties.Environment?.Variables ?? {})
      .filter(([, value]) => looksLikeSecret(typeof value === 'string' ? value : JSON.stringify(value)))
      .map(([name]): [string, string] => [id, name]),
  );
}

describe('RolloutPipeline', () => {
  describe('trigger', () => {
    it("spreads a hundred repositories over as few rules as EventBridge's 2,048-character pattern quota allows, missing none", () => {
      const many = Array.from({ length: 100 }, (_, i) => ({
        ...SENTIMENT,
        name: `s${i}`,
        repositoryName: `models/sentiment-variant-${i}`,
        service: `s${i}`,
      }));
      const { stack, pipeline, template } = synth(many);
      expect(pipeline.triggers.length).toBeGreaterThan(1);
      expect(pipeline.trigger).toBe(pipeline.triggers[0]);
      const resources = template.toJSON().Resources;
      const rules = pipeline.triggers.map((rule) => resources[logicalId(stack, rule)].Properties);
      for (const rule of rules) {
        expect(JSON.stringify(rule.EventPattern).length).toBeLessThanOrEqual(2048);
        expect(rule.EventPattern).toMatchObject({
          source: ['aws.ecr'],
          'detail-type': ['ECR Image Action'],
          detail: { 'image-tag': [{ prefix: 'v' }] },
        });
        expect(rule.Targets).toEqual([expect.objectContaining({ Arn: { Ref: logicalId(stack, pipeline.stateMachine) } })]);
      }
      expect(rules.flatMap((rule) => rule.EventPattern.detail['repository-name'])).toEqual(many.map((s) => s.repositoryName));
      // Fewer rules would not do: a group and the next one's first repository together would pass the quota.
      for (let i = 0; i + 1 < rules.length; i++) {
        const [next] = rules[i + 1].EventPattern.detail['repository-name'];
        const grown = {
          ...rules[i].EventPattern,
          detail: { ...rules[i].EventPattern.detail, 'repository-name': [...rules[i].EventPattern.detail['repository-name'], next] },
        };
        expect(JSON.stringify(grown).length).toBeGreaterThan(2048);
      }
    });

    it('starts an execution for successful pushes to the configured repositories under a tag the policy can accept (v…)', () => {
      const { template } = synth();
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.ecr'],
          'detail-type': ['ECR Image Action'],
          detail: {
            'action-type': ['PUSH'],
            result: ['SUCCESS'],
            'repository-name': ['models/sentiment', 'models/summarizer'],
            'image-tag': [{ prefix: 'v' }],
          },
        },
      });
    });

    it('targets the state machine with a retry policy and an encrypted dead-letter queue', () => {
      const { stack, pipeline, template } = synth();
      template.hasResourceProperties('AWS::Events::Rule', {
        Targets: [
          Match.objectLike({
            Arn: { Ref: Match.stringLikeRegexp('PipelineStateMachine') },
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('PipelineTriggerDeadLetterQueue'), 'Arn'] } },
            RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 },
          }),
        ],
      });
      expect(template.toJSON().Resources[logicalId(stack, pipeline.triggerDeadLetterQueue)].Properties.KmsMasterKeyId).toEqual(
        getAtt(stack, pipeline.queueKey),
      );
    });
  });

  describe('state machine', () => {
    it('is a Standard state machine with tracing, logging ALL with execution data, and an overall timeout', () => {
      const { template, definition } = synth();
      template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        StateMachineType: 'STANDARD',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
      });
      // Under /aws/vendedlogs/states, as Step Functions advises (the account's logs resource policy stays small).
      template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/aws/vendedlogs/states/Test-executions' });
      // the longest service lease (the summarizer's: 2 × (1200 + 20) + 900 = 3340 s, waiting for the service lock), twice
      // the longest deadline (1200 s) plus 30 minutes
      expect(leaseSeconds(SUMMARIZER.health)).toBe(3340);
      expect(definition.TimeoutSeconds).toBe(3340 + 2 * 1200 + 1800);
      expect(synth([SENTIMENT], { executionTimeout: Duration.hours(3) }).definition.TimeoutSeconds).toBe(10800);
    });

    it('uses JSONPath only: no JSONata, no Assign variables (the local run could not execute them)', () => {
      const { definition } = synth();
      expect(definition.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
      for (const state of Object.values<any>(definition.States)) {
        expect(state.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
        expect(state).not.toHaveProperty('Assign');
        expect(state).not.toHaveProperty('Arguments');
        expect(state).not.toHaveProperty('Output');
      }
    });

    it('orders the story: policy, record, signature, service lock, register, update, wait, health', () => {
      const { definition } = synth();
      expect(definition.StartAt).toBe(STATES.checkRelease);
      const next = (state: string) => definition.States[state].Next;
      expect(next(STATES.checkRelease)).toBe(STATES.recordRelease);
      expect(next(STATES.recordRelease)).toBe(STATES.isReleaseAllowed);
      expect(definition.States[STATES.isReleaseAllowed].Choices[1]).toEqual({
        Variable: '$.policy.verdict',
        StringEquals: 'accepted',
        Next: STATES.isReleaseNew,
      });
      expect(definition.States[STATES.isReleaseNew].Default).toBe(STATES.verifySignature);
      expect(next(STATES.verifySignature)).toBe(STATES.isSignatureTrusted);
      expect(definition.States[STATES.isSignatureTrusted].Choices[0]).toEqual({
        Variable: '$.signature.verdict',
        StringEquals: 'verified',
        Next: STATES.takeTurn,
      });
      expect(next(STATES.takeTurn)).toBe(STATES.isItsTurn);
      expect(definition.States[STATES.isItsTurn].Choices[0]).toEqual({
        Variable: '$.turn.verdict',
        StringEquals: 'acquired',
        Next: STATES.registerRevision,
      });
      expect(definition.States[STATES.isSignatureTrusted].Default).toBe(STATES.recordSignatureRejected);
      expect(next(STATES.registerRevision)).toBe(STATES.updateService);
      expect(next(STATES.updateService)).toBe(STATES.waitForHealth);
      expect(definition.States[STATES.waitForHealth].SecondsPath).toBe('$.service.health.pollSeconds');
      expect(next(STATES.waitForHealth)).toBe(STATES.checkHealth);
      expect(definition.States[STATES.isHealthy].Choices.map((c: any) => c.Next)).toEqual([STATES.recordDeployed, STATES.waitForHealth]);
      expect(definition.States[STATES.isHealthy].Default).toBe(STATES.noteUnhealthy);
    });

    it('waits for a late signature: pending goes through a Wait back to the verify step, counted from the execution start', () => {
      const { definition } = synth();
      expect(definition.States[STATES.isSignatureTrusted].Choices[1]).toEqual({
        Variable: '$.signature.verdict',
        StringEquals: 'pending',
        Next: STATES.waitForSignature,
      });
      expect(definition.States[STATES.waitForSignature]).toMatchObject({
        Type: 'Wait',
        SecondsPath: '$.service.trust.signaturePollSeconds',
        Next: STATES.verifySignature,
      });
      expect(definition.States[STATES.verifySignature].Parameters).toEqual({
        'release.$': '$.release',
        'trust.$': '$.service.trust',
        'waitingSince.$': '$$.Execution.StartTime',
      });
    });

    it('puts the signature evidence in every outcome recorded after the signature was checked', () => {
      const { definition } = synth();
      for (const state of [
        STATES.recordDeployed,
        STATES.recordSignatureRejected,
        STATES.recordRolledBack,
        STATES.recordRollbackFailed,
        STATES.recordDeploymentFailed,
        STATES.recordSuperseded,
      ]) {
        expect(definition.States[state].Parameters['signature.$']).toBe('$.signature');
      }
      for (const state of [STATES.recordRejectedByPolicy, STATES.recordDuplicate, STATES.recordRefused, STATES.recordSupersededOnArrival]) {
        expect(definition.States[state].Parameters).not.toHaveProperty('signature.$');
      }
    });

    it('adds the longest late-signature wait and the longest service lease to the overall timeout', () => {
      const waiting = sentimentService({ trust: { lateSignatureSeconds: 600 } });
      // lease: 2 × (900 + 30) + 900 = 2760 s
      expect(synth([waiting]).definition.TimeoutSeconds).toBe(600 + 2760 + 2 * 900 + 1800);
    });

    it('takes the longest lease and the longest deadline each on its own, even from different services', () => {
      // The lease grows with the poll interval too: the first has the longest lease, the second the longest deadline.
      const slowPolls = sentimentService({ health: { deadlineSeconds: 900, pollSeconds: 300 } });
      const longDeadline = { ...SUMMARIZER, health: { deadlineSeconds: 1000, pollSeconds: 5, alarms: [] } };
      expect([leaseSeconds(slowPolls.health), leaseSeconds(longDeadline.health)]).toEqual([3300, 2910]);
      expect(synth([slowPolls, longDeadline]).definition.TimeoutSeconds).toBe(3300 + 2 * 1000 + 1800);
    });

    it('rolls back on any failure from UpdateService on, except a refused update, to the last known good revision chosen at registration', () => {
      const { definition } = synth();
      expect(definition.States[STATES.updateService].Catch).toEqual([
        { ErrorEquals: ['UpdateRefusedError', 'ServiceNotFoundError'], ResultPath: '$.failure', Next: STATES.recordDeploymentFailed },
        { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: STATES.noteUpdateUncertain },
      ]);
      expect(definition.States[STATES.noteUpdateUncertain]).toMatchObject({
        Type: 'Pass',
        Parameters: { 'Error.$': '$.failure.Error', 'Cause.$': '$.failure.Cause', updateUncertain: true },
        ResultPath: '$.failure',
        Next: STATES.rollBack,
      });
      expect(definition.States[STATES.checkHealth].Catch).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: STATES.rollBack },
      ]);
      expect(definition.States[STATES.rollBack].Parameters['releasedTaskDefinitionArn.$']).toBe('$.deployment.newTaskDefinitionArn');
      expect(definition.States[STATES.rollBack].Next).toBe(STATES.didUpdateReachService);
      expect(definition.States[STATES.didUpdateReachService]).toMatchObject({
        Choices: [{ Variable: '$.rollback.action', StringEquals: 'unchanged', Next: STATES.recordUpdateNotApplied }],
        Default: STATES.hasRollbackTarget,
      });
      expect(definition.States[STATES.checkHealth].Parameters['updateStartedAt.$']).toBe('$.rollout.startedAt');
      expect(definition.States[STATES.checkRollback].Parameters['updateStartedAt.$']).toBe('$.rollback.startedAt');
      expect(definition.States[STATES.noteUnhealthy].Next).toBe(STATES.rollBack);
      expect(definition.States[STATES.registerRevision].Parameters).toEqual({
        'service.$': '$.service',
        'release.$': '$.release',
        'lastKnownGood.$': '$.turn.lastKnownGood',
        'knownBad.$': '$.turn.knownBad',
      });
      // No good version to return to: the rollback step only looked at the service (a failed update that never reached
      // it is still "deployment failed"); no rollback onto a known-bad version, a critical rollback-failed that says so.
      expect(definition.States[STATES.hasRollbackTarget]).toEqual({
        Type: 'Choice',
        Choices: [{ Variable: '$.rollback.action', StringEquals: 'no-target', Next: STATES.recordNoKnownGoodVersion }],
        Default: STATES.waitForRollback,
      });
      expect(definition.States[STATES.recordNoKnownGoodVersion].Parameters).toMatchObject({
        status: 'rollback-failed',
        severity: 'critical',
        error: 'RollbackFailed',
        serviceState: 'unknown',
        'reason.$': expect.stringContaining('$.deployment.rollbackTarget.reason, $.rollback.reason, $.subject.tag, $.failure.Cause'),
      });
      expect(definition.States[STATES.rollBack].Parameters['taskDefinitionArn.$']).toBe('$.deployment.rollbackTaskDefinitionArn');
      expect(definition.States[STATES.checkRollback].Parameters['taskDefinitionArn.$']).toBe('$.deployment.rollbackTaskDefinitionArn');
      expect(definition.States[STATES.recordRolledBack].Parameters['taskDefinitionAfter.$']).toBe('$.deployment.rollbackTaskDefinitionArn');
      expect(definition.States[STATES.registerRevision].Catch[0].Next).toBe(STATES.recordDeploymentFailed);
      expect(definition.States[STATES.checkRollback].Parameters.checkAlarms).toBe(false);
      expect(definition.States[STATES.checkHealth].Parameters.checkAlarms).toBe(true);
    });

    it('ends every path in a Fail state whose error names the outcome and whose cause is the recorded sentence', () => {
      const { definition } = synth();
      const fails = Object.entries<any>(definition.States).filter(([, s]) => s.Type === 'Fail');
      expect(Object.fromEntries(fails.map(([name, s]) => [name, s.Error]))).toEqual({
        [STATES.releaseRejectedByPolicy]: 'ReleaseRejectedByPolicy',
        [STATES.releaseRefused]: 'ReleaseRefused',
        [STATES.signatureRejected]: 'SignatureRejected',
        [STATES.deploymentFailed]: 'DeploymentFailed',
        [STATES.releaseRolledBack]: 'ReleaseRolledBack',
        [STATES.rollbackFailed]: 'RollbackFailed',
        [STATES.alertNotPublished]: 'AlertPublishFailed',
        [STATES.ledgerNotUpdated]: 'LedgerNotUpdated',
        [STATES.unknownOutcome]: 'UnknownOutcome',
      });
      for (const [name, state] of fails) {
        // The ledger could not be written: its own error says why (the outcome sentence is what could not be recorded).
        expect(state.CausePath).toBe(name === STATES.ledgerNotUpdated ? '$.ledgerFailure.Cause' : '$.outcome.cause');
      }
      const succeeds = Object.entries<any>(definition.States).filter(([, s]) => s.Type === 'Succeed');
      expect(Object.fromEntries(succeeds)).toEqual({
        [STATES.releaseDeployed]: { Type: 'Succeed', OutputPath: '$.outcome' },
        [STATES.releaseDuplicate]: { Type: 'Succeed', OutputPath: '$.outcome' },
        [STATES.releaseSuperseded]: { Type: 'Succeed', OutputPath: '$.outcome' },
      });
    });

    it('retries Lambda service errors, throttling and transient AWS errors with backoff and full jitter, with a timeout', () => {
      const { definition } = synth();
      const lambdaTasks = Object.entries<any>(definition.States).filter(([, s]) => s.Type === 'Task' && s.Resource.includes('Fn::GetAtt'));
      expect(lambdaTasks.map(([name]) => name).sort()).toEqual(
        [
          STATES.checkRelease,
          STATES.recordRelease,
          STATES.verifySignature,
          STATES.takeTurn,
          STATES.registerRevision,
          STATES.updateService,
          STATES.checkHealth,
          STATES.rollBack,
          STATES.checkRollback,
          STATES.recordInLedger,
        ].sort(),
      );
      for (const [, task] of lambdaTasks) {
        expect(task.TimeoutSeconds).toBe(60);
        expect(task.Retry).toEqual([
          {
            ErrorEquals: expect.arrayContaining([
              'Lambda.ServiceException',
              'Lambda.TooManyRequestsException',
              'Lambda.SdkClientException',
              ERROR_NAMES.transientAws,
            ]),
            IntervalSeconds: 2,
            MaxAttempts: 6,
            BackoffRate: 2,
            MaxDelaySeconds: 60,
            JitterStrategy: 'FULL',
          },
        ]);
      }
    });

    it('names the outcome bus after the stack and keeps its policy on the bus itself: a second stack in the account collides with nothing', () => {
      const { template, stack, pipeline } = synth();
      const bus = template.toJSON().Resources[logicalId(stack, pipeline.outcomeBus)].Properties;
      expect(bus.Name).toBe('Test-outcomes');
      expect(bus.Policy.Statement.map((s: { Sid: string; Effect: string }) => `${s.Effect} ${s.Sid}`)).toEqual([
        'Deny OnlyTheRolloutStateMachinePublishes',
        'Deny OnlyOutcomeEvents',
      ]);
      // AWS::Events::EventBusPolicy resources are identified by their statement ID account-wide.
      template.resourceCountIs('AWS::Events::EventBusPolicy', 0);
    });

    it("publishes the outcome as an EventBridge event of the project source, on the pipeline's own bus", () => {
      const { definition, stack, pipeline } = synth();
      const publish = definition.States[STATES.publishOutcome];
      expect(publish.Resource).toContain(':states:::events:putEvents');
      expect(publish.Parameters.Entries).toEqual([
        {
          'Detail.$': '$.outcome',
          DetailType: 'Model Rollout Outcome',
          Source: 'model-rollout',
          EventBusName: `<{'Fn::GetAtt':['${logicalId(stack, pipeline.outcomeBus)}','Arn']}>`,
        },
      ]);
      expect(publish.Catch[0].Next).toBe(STATES.alertNotPublished);
    });
  });

  describe('ledger states', () => {
    it('has exactly the states named in STATES, every one reachable from the start', () => {
      const { definition } = synth();
      expect(Object.keys(definition.States).sort()).toEqual(Object.values(STATES).sort());
      // The ledger's states, by the names operators read in the console (and the runbook quotes).
      expect(Object.keys(definition.States)).toEqual(
        expect.arrayContaining([
          'Record the release in the ledger',
          'Is the release new?',
          'Take the service lock',
          "Is it this release's turn?",
          'Wait for the service to be free',
          'Record outcome in the ledger',
          'Outcome could not be recorded in the ledger',
          'Release already handled',
          'Release superseded by a higher version',
          'Release refused by the ledger',
        ]),
      );
      const reachable = new Set<string>();
      const visit = (name: string) => {
        if (reachable.has(name)) return;
        reachable.add(name);
        const state = definition.States[name];
        const targets = [
          state.Next,
          state.Default,
          ...(state.Choices ?? []).map((c: any) => c.Next),
          ...(state.Catch ?? []).map((c: any) => c.Next),
        ];
        for (const target of targets) if (target !== undefined) visit(target);
      };
      visit(definition.StartAt);
      expect([...reachable].sort()).toEqual(Object.values(STATES).sort());
    });

    it('records every release before any decision, with the execution as its key', () => {
      const { definition } = synth();
      const record = definition.States[STATES.recordRelease];
      expect(record.Resource).toContain('PipelineRecordRelease');
      expect(record.ResultPath).toBe('$.ledger');
      expect(record.Parameters).toEqual({
        'subject.$': '$.subject',
        'trigger.$': '$.trigger',
        'release.$': '$.release',
        'service.$': '$.service',
        'running.$': '$.running',
        'policy.$': '$.policy',
        'executionArn.$': '$$.Execution.Id',
        'startedAt.$': '$$.Execution.StartTime',
      });
    });

    it('stops a release superseded on arrival, a duplicate, a refused one and a reused release tag before the signature is checked', () => {
      const { definition } = synth();
      expect(definition.States[STATES.isReleaseAllowed]).toMatchObject({
        Choices: [
          { Variable: '$.ledger.verdict', StringEquals: 'superseded', Next: STATES.recordSupersededOnArrival },
          { Variable: '$.policy.verdict', StringEquals: 'accepted', Next: STATES.isReleaseNew },
        ],
        Default: STATES.recordRejectedByPolicy,
      });
      expect(definition.States[STATES.isReleaseNew]).toMatchObject({
        Choices: [
          { Variable: '$.ledger.verdict', StringEquals: 'duplicate', Next: STATES.recordDuplicate },
          { Variable: '$.ledger.verdict', StringEquals: 'refused', Next: STATES.recordRefused },
          { Variable: '$.ledger.verdict', StringEquals: 'rejected', Next: STATES.recordTagReused },
        ],
        Default: STATES.verifySignature,
      });
      for (const state of [STATES.recordDuplicate, STATES.recordRefused, STATES.recordSupersededOnArrival, STATES.recordTagReused]) {
        expect(definition.States[state].Parameters['reason.$']).toBe('$.ledger.reason');
      }
      // A tag that already names another image is a policy rejection, decided once the ledger is read.
      expect(definition.States[STATES.recordTagReused].Parameters).toMatchObject({
        status: 'rejected',
        severity: 'warning',
        error: 'ReleaseRejectedByPolicy',
      });
      // Or once the release holds the lock, when another verified image bound the tag while it waited.
      expect(definition.States[STATES.isItsTurn].Choices).toContainEqual({
        Variable: '$.turn.verdict',
        StringEquals: 'rejected',
        Next: STATES.noteTagBoundMeanwhile,
      });
      expect(definition.States[STATES.noteTagBoundMeanwhile]).toEqual({
        Type: 'Pass',
        Parameters: { 'key.$': '$.ledger.key', verdict: 'rejected', code: 'release-tag-reused', 'reason.$': '$.turn.reason' },
        ResultPath: '$.ledger',
        Next: STATES.recordTagReused,
      });
    });

    it('waits for the service lock every LOCK_POLL_SECONDS; a release superseded meanwhile is recorded as such', () => {
      const { definition } = synth();
      expect(definition.States[STATES.takeTurn]).toMatchObject({
        Resource: expect.stringContaining('PipelineTakeTurn'),
        ResultPath: '$.turn',
        Parameters: { 'service.$': '$.service', 'trigger.$': '$.trigger', 'key.$': '$.ledger.key', 'executionArn.$': '$$.Execution.Id' },
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: STATES.recordDeploymentFailed }],
      });
      expect(definition.States[STATES.isItsTurn].Choices[1]).toEqual({
        Variable: '$.turn.verdict',
        StringEquals: 'wait',
        Next: STATES.waitForTurn,
      });
      expect(definition.States[STATES.isItsTurn].Default).toBe(STATES.recordSuperseded);
      expect(LOCK_POLL_SECONDS).toBe(30);
      expect(definition.States[STATES.waitForTurn]).toEqual({ Type: 'Wait', Seconds: 30, Next: STATES.takeTurn });
      expect(definition.States[STATES.recordSuperseded].Parameters['reason.$']).toBe('$.turn.reason');
    });

    it('records every outcome in the ledger before publishing it; a ledger that cannot be written fails the execution', () => {
      const { definition } = synth();
      const outcomes = Object.entries<any>(definition.States).filter(([name]) => name.startsWith('Record outcome: '));
      expect(outcomes).toHaveLength(13);
      for (const [, state] of outcomes) {
        expect(state).toMatchObject({ Type: 'Pass', ResultPath: '$.outcome', Next: STATES.recordInLedger });
        expect(state.Parameters).toMatchObject({ 'ledger.$': '$.ledger.key', 'trigger.$': '$.trigger', 'execution.$': '$$.Execution.Id' });
      }
      expect(definition.States[STATES.recordInLedger]).toMatchObject({
        Resource: expect.stringContaining('PipelineRecordOutcome'),
        Parameters: { 'outcome.$': '$.outcome' },
        // The outcome told in words replaces the one the Record state wrote: the alert and the Fail cause say what the ledger says.
        ResultPath: '$.outcome',
        Next: STATES.publishOutcome,
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.ledgerFailure', Next: STATES.ledgerNotUpdated }],
      });
      expect(definition.States[STATES.publishOutcome].Next).toBe(STATES.routeByOutcome);
    });

    it('says in each outcome what ECS runs afterwards', () => {
      const { definition } = synth();
      const serviceState = (state: string) => {
        const { serviceState: status, 'taskDefinitionAfter.$': after } = definition.States[state].Parameters;
        return after === undefined ? status : `${status} ${after}`;
      };
      expect(serviceState(STATES.recordDeployed)).toBe('changed $.deployment.newTaskDefinitionArn');
      expect(serviceState(STATES.recordRolledBack)).toBe('changed $.deployment.rollbackTaskDefinitionArn');
      expect(serviceState(STATES.recordRollbackFailed)).toBe('unknown');
      for (const state of [
        STATES.recordRejectedByPolicy,
        STATES.recordSignatureRejected,
        STATES.recordDeploymentFailed,
        STATES.recordSuperseded,
        STATES.recordDuplicate,
      ]) {
        expect(serviceState(state)).toBe('unchanged');
      }
    });
  });

  describe('crash finaliser', () => {
    it('finalises executions of this state machine that ended FAILED, TIMED_OUT or ABORTED', () => {
      const { stack, pipeline, template } = synth();
      const rule = template.toJSON().Resources[logicalId(stack, pipeline.crashFinaliser)].Properties;
      expect(rule.EventPattern).toEqual({
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: { stateMachineArn: [{ Ref: logicalId(stack, pipeline.stateMachine) }], status: ['FAILED', 'TIMED_OUT', 'ABORTED'] },
      });
    });

    it('invokes the finalise-execution function, with retries and a dead-letter queue', () => {
      const { stack, pipeline, template } = synth();
      const rule = template.toJSON().Resources[logicalId(stack, pipeline.crashFinaliser)].Properties;
      expect(rule.Targets).toEqual([
        {
          Id: expect.any(String),
          Arn: { 'Fn::GetAtt': [logicalId(stack, pipeline.functions['finalise-execution']), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(stack, pipeline.eventDeadLetterQueue), 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 6 * 3600 },
        },
      ]);
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [logicalId(stack, pipeline.functions['finalise-execution']), 'Arn'] },
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [logicalId(stack, pipeline.crashFinaliser), 'Arn'] },
      });
      expect(template.toJSON().Resources[logicalId(stack, pipeline.eventDeadLetterQueue)].Properties).toMatchObject({
        MessageRetentionPeriod: 14 * 24 * 3600,
        KmsMasterKeyId: getAtt(stack, pipeline.queueKey),
      });
    });
  });

  describe('reconciliation', () => {
    it('runs every 15 minutes by default, and as often as configured', () => {
      const { stack, pipeline, template } = synth();
      expect(template.toJSON().Resources[logicalId(stack, pipeline.reconciliation)].Properties.ScheduleExpression).toBe('rate(15 minutes)');
      const every5 = synth(undefined, { reconcileEvery: Duration.minutes(5) });
      expect(
        every5.template.toJSON().Resources[logicalId(every5.stack, every5.pipeline.reconciliation)].Properties.ScheduleExpression,
      ).toBe('rate(5 minutes)');
    });

    it('invokes the reconcile function, with retries and a dead-letter queue', () => {
      const { stack, pipeline, template } = synth();
      const rule = template.toJSON().Resources[logicalId(stack, pipeline.reconciliation)].Properties;
      expect(rule).not.toHaveProperty('EventPattern');
      expect(rule.Targets).toEqual([
        {
          Id: expect.any(String),
          Arn: { 'Fn::GetAtt': [logicalId(stack, pipeline.functions.reconcile), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(stack, pipeline.eventDeadLetterQueue), 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 6 * 3600 },
        },
      ]);
    });

    it("gives the reconcile function and the crash finaliser the state machine ARN; the reconciliation may start executions and describe its own, the finaliser describe this state machine's", () => {
      const { stack, pipeline, template } = synth();
      const machine = { Ref: logicalId(stack, pipeline.stateMachine) };
      const reconcile = template.toJSON().Resources[logicalId(stack, pipeline.functions.reconcile)].Properties;
      expect(reconcile.Environment.Variables.STATE_MACHINE_ARN).toEqual(machine);
      const statesStatements = (prefix: string) =>
        policyStatementsOf(template, prefix).filter((s) => [s.Action].flat().some((a: string) => a.startsWith('states:')));
      // Both resource types the reference marks required for DescribeExecution: execution* and express*.
      const ownExecutions = (type: string, names: string) => ({
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            `:states:${stack.region}:${stack.account}:${type}:`,
            { 'Fn::GetAtt': [logicalId(stack, pipeline.stateMachine), 'Name'] },
            `:${names}`,
          ],
        ],
      });
      expect(statesStatements('PipelineReconcile')).toEqual([
        { Action: 'states:StartExecution', Effect: 'Allow', Resource: machine },
        {
          Action: 'states:DescribeExecution',
          Effect: 'Allow',
          Resource: [ownExecutions('execution', 'reconcile-*'), ownExecutions('express', 'reconcile-*')],
        },
      ]);
      // The crash finaliser only asks whether an execution of this state machine really ended.
      const finaliser = template.toJSON().Resources[logicalId(stack, pipeline.functions['finalise-execution'])].Properties;
      expect(finaliser.Environment.Variables.STATE_MACHINE_ARN).toEqual(machine);
      expect(statesStatements(prefixOf('finalise-execution'))).toEqual([
        { Action: 'states:DescribeExecution', Effect: 'Allow', Resource: [ownExecutions('execution', '*'), ownExecutions('express', '*')] },
      ]);
      for (const name of Object.keys(pipeline.functions).filter((n) => n !== 'reconcile' && n !== 'finalise-execution')) {
        expect(statesStatements(prefixOf(name))).toEqual([]);
      }
    });
  });

  describe('Lambda steps', () => {
    it('runs ten Node.js 24 functions with tracing, a timeout, the table name only where it is read, and the catalog in no environment', () => {
      const { stack, pipeline, ledger, template } = synth();
      const functions = Object.entries(template.findResources('AWS::Lambda::Function'));
      expect(functions).toHaveLength(10);
      const idOf = (name: keyof typeof pipeline.functions) => logicalId(stack, pipeline.functions[name]);
      const readsLedger = LEDGER_FUNCTIONS.map(idOf);
      const tableRef = { Ref: logicalId(stack, ledger.table) };
      for (const [id, fn] of functions) {
        expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Timeout: 30, TracingConfig: { Mode: 'Active' } });
        const variables = fn.Properties.Environment.Variables;
        // The catalog is written into the code of the functions that read it (test/constructs/bundling.test.ts).
        expect(JSON.stringify(variables)).not.toContain('repositoryName');
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
        trust: { kmsKeys: [keyArn, 'alias/release-signing', 'arn:aws:kms:eu-west-1:123456789012:alias/backup-signing'] },
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
      const withProfile = sentimentService({ trust: { signingProfiles: [profile, versionOfOther] } });
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
      // The functions: reading task definitions (no resource type), their network interfaces in the VPC, X-Ray.
      // RegisterTaskDefinition is scoped to the configured families.
      expect(wildcardActions(template.findResources('AWS::IAM::ManagedPolicy'))).toEqual(
        new Set([
          'ecs:DescribeTaskDefinition',
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
          kms: [
            { Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], Effect: 'Allow', Resource: keyArn, Condition: viaDynamoDb },
          ],
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
      for (const name of ['take-turn', 'record-outcome', 'finalise-execution'])
        expect({ name, ecr: ecrOf(name) }).toEqual({ name, ecr: [] });
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
          ALL_FUNCTIONS.map((name) => [
            name,
            resources[logicalId(stack, pipeline.functions[name])].Properties.ReservedConcurrentExecutions,
          ]),
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

    it('has no function URL, and lets only EventBridge invoke a function directly', () => {
      const { template } = synth();
      template.resourceCountIs('AWS::Lambda::Url', 0);
      const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).map((p) => p.Properties);
      expect(permissions).toHaveLength(EVENT_FUNCTIONS.length);
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
        trust: { signingProfiles: ['arn:aws:signer:eu-west-1:123456789012:/signing-profiles/ModelRelease'] },
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
        trust: { signingProfiles: ['arn:aws:signer:eu-west-1:123456789012:/signing-profiles/ModelRelease'] },
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
        trust: { signingProfiles: ['arn:aws:signer:eu-west-1:123456789012:/signing-profiles/ModelRelease'] },
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

  describe('dead letters of the event handlers', () => {
    it('sends the events the crash finaliser and the reconciliation failed on to the event dead-letter queue', () => {
      const { stack, pipeline, template } = synth();
      const resources = template.toJSON().Resources;
      for (const name of ALL_FUNCTIONS) {
        const config = resources[logicalId(stack, pipeline.functions[name])].Properties.DeadLetterConfig;
        // The steps are invoked synchronously by the state machine, which catches and records their failures.
        expect({ name, config }).toEqual({
          name,
          config: (EVENT_FUNCTIONS as readonly string[]).includes(name)
            ? { TargetArn: getAtt(stack, pipeline.eventDeadLetterQueue) }
            : undefined,
        });
      }
    });

    it('lets only the event handlers send to that queue, using the queue key only through SQS', () => {
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
          statements: (EVENT_FUNCTIONS as readonly string[]).includes(name)
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
});
