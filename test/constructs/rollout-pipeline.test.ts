import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import type { CatalogEntry } from '../../lambdas/contract';
import { ERROR_NAMES } from '../../lambdas/errors';
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

function synth(catalog: CatalogEntry[] = [SENTIMENT, SUMMARIZER], executionTimeout?: Duration, signerRootCertificates?: string) {
  // Bundling skipped: these tests read the template; test/constructs/bundling.test.ts bundles for real.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const pipeline = new RolloutPipeline(stack, 'Pipeline', { catalog, executionTimeout, signerRootCertificates });
  const template = Template.fromStack(stack);
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  const definition = JSON.parse(resolveJoin(machine.Properties.DefinitionString));
  return { stack, pipeline, template, definition };
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
      // twice the longest deadline (1200 s) plus 30 minutes
      expect(definition.TimeoutSeconds).toBe(2 * 1200 + 1800);
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

    it('orders the story: policy, signature, register, update, wait, health', () => {
      const { definition } = synth();
      expect(definition.StartAt).toBe(STATES.checkRelease);
      const next = (state: string) => definition.States[state].Next;
      expect(next(STATES.checkRelease)).toBe(STATES.isReleaseAllowed);
      expect(definition.States[STATES.isReleaseAllowed].Choices[0]).toEqual({ Variable: '$.policy.verdict', StringEquals: 'accepted', Next: STATES.verifySignature });
      expect(next(STATES.verifySignature)).toBe(STATES.isSignatureTrusted);
      expect(definition.States[STATES.isSignatureTrusted].Choices[0].Next).toBe(STATES.registerRevision);
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
      for (const state of [STATES.recordDeployed, STATES.recordSignatureRejected, STATES.recordRolledBack, STATES.recordRollbackFailed, STATES.recordDeploymentFailed]) {
        expect(definition.States[state].Parameters['signature.$']).toBe('$.signature');
      }
      expect(definition.States[STATES.recordRejectedByPolicy].Parameters).not.toHaveProperty('signature.$');
    });

    it('adds the longest late-signature wait to the overall timeout', () => {
      const waiting = sentimentService({ trust: { lateSignatureSeconds: 600 } });
      expect(synth([waiting]).definition.TimeoutSeconds).toBe(600 + 2 * 900 + 1800);
    });

    it('rolls back on any failure from UpdateService on, to the revision recorded before the update', () => {
      const { definition } = synth();
      for (const state of [STATES.updateService, STATES.checkHealth]) {
        expect(definition.States[state].Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: STATES.rollBack }]);
      }
      expect(definition.States[STATES.rollBack].Parameters['taskDefinitionArn.$']).toBe('$.deployment.previousTaskDefinitionArn');
      expect(definition.States[STATES.registerRevision].Catch[0].Next).toBe(STATES.recordDeploymentFailed);
      expect(definition.States[STATES.checkRollback].Parameters.checkAlarms).toBe(false);
      expect(definition.States[STATES.checkHealth].Parameters.checkAlarms).toBe(true);
    });

    it('ends every path in a Fail state whose error names the outcome and whose cause is the recorded sentence', () => {
      const { definition } = synth();
      const fails = Object.entries<any>(definition.States).filter(([, s]) => s.Type === 'Fail');
      expect(Object.fromEntries(fails.map(([name, s]) => [name, s.Error]))).toEqual({
        [STATES.releaseRejectedByPolicy]: 'ReleaseRejectedByPolicy',
        [STATES.signatureRejected]: 'SignatureRejected',
        [STATES.deploymentFailed]: 'DeploymentFailed',
        [STATES.releaseRolledBack]: 'ReleaseRolledBack',
        [STATES.rollbackFailed]: 'RollbackFailed',
        [STATES.alertNotPublished]: 'AlertPublishFailed',
        [STATES.unknownOutcome]: 'UnknownOutcome',
      });
      for (const [, state] of fails) expect(state.CausePath).toBe('$.outcome.cause');
      expect(definition.States[STATES.releaseDeployed]).toEqual({ Type: 'Succeed', OutputPath: '$.outcome' });
    });

    it('retries Lambda service errors, throttling and transient AWS errors with backoff and full jitter, with a timeout', () => {
      const { definition } = synth();
      const lambdaTasks = Object.entries<any>(definition.States).filter(([, s]) => s.Type === 'Task' && s.Resource.includes('Fn::GetAtt'));
      expect(lambdaTasks.map(([name]) => name).sort()).toEqual(
        [STATES.checkRelease, STATES.verifySignature, STATES.registerRevision, STATES.updateService, STATES.checkHealth, STATES.rollBack, STATES.checkRollback].sort(),
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

  describe('Lambda steps', () => {
    it('runs five Node.js 24 functions with tracing, a timeout, and the catalog only where it is read', () => {
      const { template } = synth();
      const functions = Object.entries(template.findResources('AWS::Lambda::Function'));
      expect(functions).toHaveLength(5);
      for (const [id, fn] of functions) {
        expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Timeout: 30, TracingConfig: { Mode: 'Active' } });
        expect('SERVICE_CATALOG' in fn.Properties.Environment.Variables).toBe(id.startsWith('PipelineCheckRelease'));
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

    it('reads only the configured alarms', () => {
      const { template } = synth();
      const health = policyStatementsOf(template, 'PipelineCheckHealth');
      const alarms = health.find((s) => s.Action === 'cloudwatch:DescribeAlarms');
      expect(alarms.Resource).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:eu-west-1:123456789012:alarm:sentiment-5xx-rate']] });
    });
  });
});
