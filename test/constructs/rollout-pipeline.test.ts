import { App, type CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import type { IConstruct } from 'constructs';
import { type CatalogEntry, LOCK_POLL_SECONDS } from '../../lambdas/contract';
import { leaseSeconds } from '../../lambdas/decisions/turn';
import { ERROR_NAMES } from '../../lambdas/errors';
import { DeploymentLedgerTable } from '../../lib/deployment-ledger';
import { RolloutPipeline } from '../../lib/rollout-pipeline';
import { STATES } from '../../lib/state-names';
import { sentimentService } from '../fixtures/catalog';

// The IAM tests name its alarm; the timeout test needs its deadline below the summarizer's.
const SENTIMENT = sentimentService({ health: { deadlineSeconds: 900, alarms: ['sentiment-5xx-rate'] } });
const SUMMARIZER: CatalogEntry = {
  ...SENTIMENT,
  name: 'summarizer',
  environment: 'staging',
  repositoryName: 'models/summarizer',
  cluster: 'models-staging',
  service: 'summarizer',
  health: { deadlineSeconds: 1200, pollSeconds: 20, alarms: [] },
};

function synth(catalog: CatalogEntry[] = [SENTIMENT, SUMMARIZER], executionTimeout?: Duration, signerRootCertificates?: string, reconcileEvery?: Duration) {
  // Bundling skipped: these tests read the template; test/constructs/bundling.test.ts bundles for real.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const ledger = new DeploymentLedgerTable(stack, 'Ledger');
  const pipeline = new RolloutPipeline(stack, 'Pipeline', { catalog, executionTimeout, signerRootCertificates, ledger, reconcileEvery });
  const template = Template.fromStack(stack);
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  const definition = JSON.parse(resolveJoin(machine.Properties.DefinitionString));
  return { stack, ledger, pipeline, template, definition };
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

function policyStatementsOf(template: Template, functionLogicalIdPrefix: string): any[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((p: any) => p.Properties.Roles.some((r: any) => r.Ref.startsWith(functionLogicalIdPrefix)))
    .flatMap((p: any) => p.Properties.PolicyDocument.Statement)
    // X-Ray's statement comes with tracing and has no resource type; the wildcard test below covers it.
    .filter((s: any) => ![s.Action].flat().every((a: string) => a.startsWith('xray:')));
}

describe('RolloutPipeline', () => {
  describe('trigger', () => {
    it('starts an execution for successful tagged pushes to the configured repositories, not for signature tags', () => {
      const { template } = synth();
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.ecr'],
          'detail-type': ['ECR Image Action'],
          detail: {
            'action-type': ['PUSH'],
            result: ['SUCCESS'],
            'repository-name': ['models/sentiment', 'models/summarizer'],
            'image-tag': [{ 'anything-but': { prefix: 'sha256-' } }],
          },
        },
      });
    });

    it('targets the state machine with a retry policy and an encrypted dead-letter queue', () => {
      const { template } = synth();
      template.hasResourceProperties('AWS::Events::Rule', {
        Targets: [
          Match.objectLike({
            Arn: { Ref: Match.stringLikeRegexp('PipelineStateMachine') },
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('PipelineTriggerDeadLetterQueue'), 'Arn'] } },
            RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 },
          }),
        ],
      });
      template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
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
      // the longest service lease (the summarizer's: 2 × (1200 + 20) + 900 = 3340 s, waiting for the service lock), twice
      // the longest deadline (1200 s) plus 30 minutes
      expect(leaseSeconds(SUMMARIZER.health)).toBe(3340);
      expect(definition.TimeoutSeconds).toBe(3340 + 2 * 1200 + 1800);
      expect(synth([SENTIMENT], Duration.hours(3)).definition.TimeoutSeconds).toBe(10800);
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
      expect(definition.States[STATES.isReleaseAllowed].Choices[1]).toEqual({ Variable: '$.policy.verdict', StringEquals: 'accepted', Next: STATES.isReleaseNew });
      expect(definition.States[STATES.isReleaseNew].Default).toBe(STATES.verifySignature);
      expect(next(STATES.verifySignature)).toBe(STATES.isSignatureTrusted);
      expect(definition.States[STATES.isSignatureTrusted].Choices[0]).toEqual({ Variable: '$.signature.verdict', StringEquals: 'verified', Next: STATES.takeTurn });
      expect(next(STATES.takeTurn)).toBe(STATES.isItsTurn);
      expect(definition.States[STATES.isItsTurn].Choices[0]).toEqual({ Variable: '$.turn.verdict', StringEquals: 'acquired', Next: STATES.registerRevision });
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
      expect(definition.States[STATES.waitForSignature]).toMatchObject({ Type: 'Wait', SecondsPath: '$.service.trust.signaturePollSeconds', Next: STATES.verifySignature });
      expect(definition.States[STATES.verifySignature].Parameters).toEqual({
        'release.$': '$.release',
        'trust.$': '$.service.trust',
        'waitingSince.$': '$$.Execution.StartTime',
      });
    });

    it('puts the signature evidence in every outcome recorded after the signature was checked', () => {
      const { definition } = synth();
      for (const state of [STATES.recordDeployed, STATES.recordSignatureRejected, STATES.recordRolledBack, STATES.recordRollbackFailed, STATES.recordDeploymentFailed, STATES.recordSuperseded]) {
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

    it('rolls back on any failure from UpdateService on, to the last known good revision chosen at registration', () => {
      const { definition } = synth();
      for (const state of [STATES.updateService, STATES.checkHealth]) {
        expect(definition.States[state].Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: STATES.rollBack }]);
      }
      expect(definition.States[STATES.registerRevision].Parameters).toEqual({
        'service.$': '$.service',
        'release.$': '$.release',
        'lastKnownGood.$': '$.turn.lastKnownGood',
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
            ErrorEquals: expect.arrayContaining(['Lambda.ServiceException', 'Lambda.TooManyRequestsException', 'Lambda.SdkClientException', ERROR_NAMES.transientAws]),
            IntervalSeconds: 2,
            MaxAttempts: 6,
            BackoffRate: 2,
            MaxDelaySeconds: 60,
            JitterStrategy: 'FULL',
          },
        ]);
      }
    });

    it('publishes the outcome as an EventBridge event of the project source', () => {
      const { definition } = synth();
      const publish = definition.States[STATES.publishOutcome];
      expect(publish.Resource).toContain(':states:::events:putEvents');
      expect(publish.Parameters.Entries).toEqual([{ 'Detail.$': '$.outcome', DetailType: 'Model Rollout Outcome', Source: 'model-rollout' }]);
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
        const targets = [state.Next, state.Default, ...(state.Choices ?? []).map((c: any) => c.Next), ...(state.Catch ?? []).map((c: any) => c.Next)];
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

    it('stops a release superseded on arrival, a duplicate and a refused one before the signature is checked', () => {
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
        ],
        Default: STATES.verifySignature,
      });
      for (const state of [STATES.recordDuplicate, STATES.recordRefused, STATES.recordSupersededOnArrival]) {
        expect(definition.States[state].Parameters['reason.$']).toBe('$.ledger.reason');
      }
    });

    it('waits for the service lock every LOCK_POLL_SECONDS; a release superseded meanwhile is recorded as such', () => {
      const { definition } = synth();
      expect(definition.States[STATES.takeTurn]).toMatchObject({
        Resource: expect.stringContaining('PipelineTakeTurn'),
        ResultPath: '$.turn',
        Parameters: { 'service.$': '$.service', 'trigger.$': '$.trigger', 'key.$': '$.ledger.key', 'executionArn.$': '$$.Execution.Id' },
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: STATES.recordDeploymentFailed }],
      });
      expect(definition.States[STATES.isItsTurn].Choices[1]).toEqual({ Variable: '$.turn.verdict', StringEquals: 'wait', Next: STATES.waitForTurn });
      expect(definition.States[STATES.isItsTurn].Default).toBe(STATES.recordSuperseded);
      expect(LOCK_POLL_SECONDS).toBe(30);
      expect(definition.States[STATES.waitForTurn]).toEqual({ Type: 'Wait', Seconds: 30, Next: STATES.takeTurn });
      expect(definition.States[STATES.recordSuperseded].Parameters['reason.$']).toBe('$.turn.reason');
    });

    it('records every outcome in the ledger before publishing it; a ledger that cannot be written fails the execution', () => {
      const { definition } = synth();
      const outcomes = Object.entries<any>(definition.States).filter(([name]) => name.startsWith('Record outcome: '));
      expect(outcomes).toHaveLength(10);
      for (const [, state] of outcomes) {
        expect(state).toMatchObject({ Type: 'Pass', ResultPath: '$.outcome', Next: STATES.recordInLedger });
        expect(state.Parameters).toMatchObject({ 'ledger.$': '$.ledger.key', 'trigger.$': '$.trigger', 'execution.$': '$$.Execution.Id' });
      }
      expect(definition.States[STATES.recordInLedger]).toMatchObject({
        Resource: expect.stringContaining('PipelineRecordOutcome'),
        Parameters: { 'outcome.$': '$.outcome' },
        ResultPath: null,
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
      for (const state of [STATES.recordRejectedByPolicy, STATES.recordSignatureRejected, STATES.recordDeploymentFailed, STATES.recordSuperseded, STATES.recordDuplicate]) {
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
        SqsManagedSseEnabled: true,
      });
    });
  });

  describe('reconciliation', () => {
    it('runs every 15 minutes by default, and as often as configured', () => {
      const { stack, pipeline, template } = synth();
      expect(template.toJSON().Resources[logicalId(stack, pipeline.reconciliation)].Properties.ScheduleExpression).toBe('rate(15 minutes)');
      const every5 = synth(undefined, undefined, undefined, Duration.minutes(5));
      expect(every5.template.toJSON().Resources[logicalId(every5.stack, every5.pipeline.reconciliation)].Properties.ScheduleExpression).toBe('rate(5 minutes)');
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

    it('gives the reconcile function the state machine ARN, and lets it start executions of that state machine only', () => {
      const { stack, pipeline, template } = synth();
      const machine = { Ref: logicalId(stack, pipeline.stateMachine) };
      const reconcile = template.toJSON().Resources[logicalId(stack, pipeline.functions.reconcile)].Properties;
      expect(reconcile.Environment.Variables.STATE_MACHINE_ARN).toEqual(machine);
      const statesStatements = (prefix: string) => policyStatementsOf(template, prefix).filter((s) => [s.Action].flat().some((a: string) => a.startsWith('states:')));
      expect(statesStatements('PipelineReconcile')).toEqual([{ Action: 'states:StartExecution', Effect: 'Allow', Resource: machine }]);
      for (const name of Object.keys(pipeline.functions).filter((n) => n !== 'reconcile')) {
        expect(statesStatements(prefixOf(name))).toEqual([]);
      }
    });
  });

  describe('Lambda steps', () => {
    it('runs ten Node.js 24 functions with tracing, a timeout, and the catalog and the table name only where they are read', () => {
      const { stack, pipeline, ledger, template } = synth();
      const functions = Object.entries(template.findResources('AWS::Lambda::Function'));
      expect(functions).toHaveLength(10);
      const idOf = (name: keyof typeof pipeline.functions) => logicalId(stack, pipeline.functions[name]);
      const readsCatalog = (['check-release', 'finalise-execution', 'reconcile'] as const).map(idOf);
      const readsLedger = LEDGER_FUNCTIONS.map(idOf);
      const tableRef = { Ref: logicalId(stack, ledger.table) };
      for (const [id, fn] of functions) {
        expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Timeout: 30, TracingConfig: { Mode: 'Active' } });
        const variables = fn.Properties.Environment.Variables;
        expect('SERVICE_CATALOG' in variables).toBe(readsCatalog.includes(id));
        expect(variables.LEDGER_TABLE_NAME).toEqual(readsLedger.includes(id) ? tableRef : undefined);
        expect('STATE_MACHINE_ARN' in variables).toBe(id === idOf('reconcile'));
      }
    });

    it('refuses an empty catalog and one too large for the Lambda environment, saying how big it is', () => {
      expect(() => synth([])).toThrow(/names no service/);
      const many = Array.from({ length: 20 }, (_, i) => ({ ...SENTIMENT, name: `s${i}`, repositoryName: `models/s${i}`, service: `s${i}` }));
      expect(() => synth(many)).toThrow(/service catalog is \d+ bytes, above the 3500 bytes/);
    });
  });

  describe('IAM', () => {
    const serviceArn = (cluster: string, service: string) => ({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ecs:eu-west-1:123456789012:service/${cluster}/${service}`]],
    });

    it('scopes ECS service actions to the configured services', () => {
      const { template } = synth();
      const update = policyStatementsOf(template, 'PipelineUpdateService');
      expect(update).toEqual([
        { Action: 'ecs:UpdateService', Effect: 'Allow', Resource: [serviceArn('models-prod', 'sentiment'), serviceArn('models-staging', 'summarizer')] },
      ]);
    });

    const repositoryArn = (r: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ecr:eu-west-1:123456789012:repository/${r}`]] });

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
      const withKms = sentimentService({ trust: { kmsKeys: [keyArn, 'alias/release-signing', 'arn:aws:kms:eu-west-1:123456789012:alias/backup-signing'] } });
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

      const { template } = synth([withProfile], undefined, '-----BEGIN CERTIFICATE-----\nroot\n-----END CERTIFICATE-----\n');
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

    it('allows a wildcard only for task definition actions that have no resource type, and PassRole only to ECS tasks', () => {
      const { template } = synth();
      const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
      const wildcard = statements.filter((s) => s.Resource === '*').flatMap((s) => [s.Action].flat());
      expect(new Set(wildcard)).toEqual(new Set(['ecs:DescribeTaskDefinition', 'ecs:RegisterTaskDefinition', 'xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets', 'logs:CreateLogDelivery', 'logs:GetLogDelivery', 'logs:UpdateLogDelivery', 'logs:DeleteLogDelivery', 'logs:ListLogDeliveries', 'logs:PutResourcePolicy', 'logs:DescribeResourcePolicies', 'logs:DescribeLogGroups']));
      const passRole = statements.find((s) => s.Action === 'iam:PassRole');
      expect(passRole.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
    });

    it('lets each ledger function perform exactly its item operations, on the ledger table and its index only', () => {
      const { stack, ledger, template } = synth();
      const tableArn = { 'Fn::GetAtt': [logicalId(stack, ledger.table), 'Arn'] };
      for (const name of LEDGER_FUNCTIONS) {
        const dynamo = policyStatementsOf(template, prefixOf(name)).filter((s) => [s.Action].flat().some((a: string) => a.startsWith('dynamodb:')));
        expect({ name, dynamo }).toEqual({
          name,
          dynamo: [{ Action: LEDGER_ACCESS[name].length === 1 ? LEDGER_ACCESS[name][0] : [...LEDGER_ACCESS[name]], Effect: 'Allow', Resource: [tableArn, { 'Fn::Join': ['', [tableArn, '/index/*']] }] }],
        });
      }
    });

    it('grants no DynamoDB wildcard, no Scan and no table-level action, and none to functions that do not use the ledger', () => {
      const { pipeline, template } = synth();
      const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
      const dynamoActions = new Set(statements.flatMap((s) => [s.Action].flat()).filter((a: string) => a.startsWith('dynamodb:')));
      expect(dynamoActions).toEqual(new Set(['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:DeleteItem']));
      for (const name of Object.keys(pipeline.functions).filter((n) => !(LEDGER_FUNCTIONS as string[]).includes(n))) {
        const touchesLedger = policyStatementsOf(template, prefixOf(name)).filter((s) => [s.Action].flat().some((a: string) => /^(dynamodb|kms):/.test(a)));
        expect({ name, touchesLedger }).toEqual({ name, touchesLedger: [] });
      }
    });

    it("lets the ledger functions use the ledger's key: to encrypt where they write, to decrypt only where they read", () => {
      const { stack, ledger, template } = synth();
      const keyArn = { 'Fn::GetAtt': [logicalId(stack, ledger.key), 'Arn'] };
      const kmsOf = (name: string) => policyStatementsOf(template, prefixOf(name)).filter((s) => [s.Action].flat().some((a: string) => a.startsWith('kms:')));
      for (const name of LEDGER_FUNCTIONS.filter((n) => n !== 'reconcile')) {
        expect({ name, kms: kmsOf(name) }).toEqual({
          name,
          kms: [{ Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'], Effect: 'Allow', Resource: keyArn }],
        });
      }
      expect(kmsOf('reconcile')).toEqual([{ Action: 'kms:Decrypt', Effect: 'Allow', Resource: keyArn }]);
    });

    it('lets record-release read image manifests and labels, and reconcile list images, in the configured repositories only', () => {
      const { template } = synth();
      const ecrOf = (name: string) => policyStatementsOf(template, prefixOf(name)).filter((s) => [s.Action].flat().some((a: string) => a.startsWith('ecr:')));
      const repositories = ['models/sentiment', 'models/summarizer'].map(repositoryArn);
      expect(ecrOf('record-release')).toEqual([{ Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], Effect: 'Allow', Resource: repositories }]);
      expect(ecrOf('reconcile')).toEqual([{ Action: 'ecr:DescribeImages', Effect: 'Allow', Resource: repositories }]);
      for (const name of ['take-turn', 'record-outcome', 'finalise-execution']) expect({ name, ecr: ecrOf(name) }).toEqual({ name, ecr: [] });
    });

    it('reads only the configured alarms', () => {
      const { template } = synth();
      const health = policyStatementsOf(template, 'PipelineCheckHealth');
      const alarms = health.find((s) => s.Action === 'cloudwatch:DescribeAlarms');
      expect(alarms.Resource).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:eu-west-1:123456789012:alarm:sentiment-5xx-rate']] });
    });
  });
});
