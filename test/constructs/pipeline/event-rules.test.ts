import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { grayRelease } from '../../fixtures/catalog';
import { SENTIMENT, synth, logicalId, prefixOf, getAtt, policyStatementsOf } from './fixture';

describe('trigger', () => {
  it("spreads a hundred repositories over as few rules as EventBridge's 2,048-character pattern quota allows, missing none", () => {
    const many = Array.from({ length: 100 }, (_, i) => ({
      ...SENTIMENT,
      name: `s${i}`,
      repository: `models/sentiment-variant-${i}`,
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
    expect(rules.flatMap((rule) => rule.EventPattern.detail['repository-name'])).toEqual(many.map((s) => s.repository));
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
    expect(every5.template.toJSON().Resources[logicalId(every5.stack, every5.pipeline.reconciliation)].Properties.ScheduleExpression).toBe(
      'rate(5 minutes)',
    );
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
    // The health wait only answers task tokens, which Step Functions cannot scope to a resource.
    expect(statesStatements(prefixOf('await-health'))).toEqual([{ Action: 'states:SendTaskSuccess', Effect: 'Allow', Resource: '*' }]);
    for (const name of Object.keys(pipeline.functions).filter((n) => !['reconcile', 'finalise-execution', 'await-health'].includes(n))) {
      expect(statesStatements(prefixOf(name))).toEqual([]);
    }
  });
});

describe('wait events', () => {
  it("sends the configured services' ECS deployment events, their health alarms' events and their repositories' signature pushes to the waits", () => {
    const { stack, pipeline, template } = synth();
    const resources = template.toJSON().Resources;
    const patterns = pipeline.waitEvents.map((rule) => resources[logicalId(stack, rule)].Properties.EventPattern);
    expect(patterns).toEqual([
      {
        source: ['aws.ecs'],
        'detail-type': ['ECS Deployment State Change'],
        // Both ARN formats of each service (long, with its cluster; short, from before it), by their ends.
        resources: [
          { suffix: ':service/models-prod/sentiment' },
          { suffix: ':service/sentiment' },
          { suffix: ':service/models-staging/summarizer' },
          { suffix: ':service/summarizer' },
        ],
      },
      { source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'], detail: { alarmName: ['sentiment-5xx-rate'] } },
      {
        source: ['aws.ecr'],
        'detail-type': ['ECR Image Action'],
        detail: {
          'action-type': ['PUSH'],
          result: ['SUCCESS'],
          'repository-name': ['models/sentiment', 'models/summarizer'],
          // A cosign signature tag, or an untagged push (an OCI 1.1 referrer): never a release tag.
          $or: [{ 'image-tag': [{ suffix: '.sig' }] }, { 'image-tag': [{ exists: false }] }, { 'image-tag': [''] }],
        },
      },
    ]);
    for (const rule of pipeline.waitEvents) {
      expect(resources[logicalId(stack, rule)].Properties.Targets).toEqual([
        {
          Id: expect.any(String),
          Arn: { 'Fn::GetAtt': [logicalId(stack, pipeline.functions['await-health']), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(stack, pipeline.eventDeadLetterQueue), 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 6 * 3600 },
        },
      ]);
    }
  });

  it("sends a gray release's canary service's deployment and steady-state events too: its canary's waits are woken by them", () => {
    const gray = grayRelease();
    const release = {
      ...gray,
      approval: { ...gray.approval, beforeFirstStep: false },
      analysis: { ...gray.analysis, onInconclusive: 'rollback' as const },
    };
    const { stack, pipeline, template } = synth([{ ...SENTIMENT, release }]);
    const patterns = pipeline.waitEvents.map((rule) => template.toJSON().Resources[logicalId(stack, rule)].Properties.EventPattern);
    expect(patterns[0].resources).toEqual([
      { suffix: ':service/models-prod/sentiment' },
      { suffix: ':service/sentiment' },
      { suffix: ':service/models-prod/sentiment-canary' },
      { suffix: ':service/sentiment-canary' },
    ]);
    // A canary scaled for a later step starts no deployment: its steady state tells its wait the tasks run.
    expect(patterns.find((p) => p['detail-type'][0] === 'ECS Service Action')).toEqual({
      source: ['aws.ecs'],
      'detail-type': ['ECS Service Action'],
      detail: { eventName: ['SERVICE_STEADY_STATE'] },
      resources: [{ suffix: ':service/models-prod/sentiment-canary' }, { suffix: ':service/sentiment-canary' }],
    });
  });

  it('has no alarm rule when no service watches an alarm, and spreads a hundred services over rules within the quota', () => {
    const many = Array.from({ length: 100 }, (_, i) => ({
      ...SENTIMENT,
      name: `s${i}`,
      repository: `models/team-${i}/sentiment-variant-${i}`,
      service: `sentiment-variant-${i}`,
      health: { ...SENTIMENT.health, alarms: [] },
    }));
    const { stack, pipeline, template } = synth(many);
    const resources = template.toJSON().Resources;
    const patterns = pipeline.waitEvents.map((rule) => resources[logicalId(stack, rule)].Properties.EventPattern);
    const deployments = patterns.filter((p) => p.source[0] === 'aws.ecs');
    const pushes = patterns.filter((p) => p.source[0] === 'aws.ecr');
    expect(deployments.length).toBeGreaterThan(1);
    expect(pushes.length).toBeGreaterThan(1);
    expect(deployments.length + pushes.length).toBe(patterns.length);
    expect(patterns.every((p) => JSON.stringify(p).length <= 2048)).toBe(true);
    expect(deployments.flatMap((p) => p.resources).length).toBe(200);
    expect(pushes.flatMap((p) => p.detail['repository-name']).length).toBe(100);
  });
});
