import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { ALERT_EVENT, SEVERITIES, TERMINAL_ERRORS } from '../../lambdas/contract/outcomes';
import { matchesEventPattern } from '../../local/event-pattern';
import { AlertRouting, type AlertSubscriptions } from '../../lib/alert-routing';

const SUBSCRIPTIONS: AlertSubscriptions = {
  critical: ['oncall@example.com', 'lead@example.com'],
  warning: ['ml-platform@example.com'],
  info: [],
};

/** `queues`: what each dead-letter queue to watch holds; a queue is created for each. */
function synth(subscriptions: AlertSubscriptions = SUBSCRIPTIONS, queues: string[] = []) {
  const stack = new Stack(new App(), 'Test');
  const stateMachine = new sfn.StateMachine(stack, 'StateMachine', {
    definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Pass')),
  });
  const deadLetterQueues = Object.fromEntries(queues.map((holds, index) => [holds, new sqs.Queue(stack, `Queue${index}`)]));
  const outcomeBus = new events.EventBus(stack, 'OutcomeBus');
  const alerts = new AlertRouting(stack, 'Alerts', {
    stateMachine,
    outcomeBus,
    subscriptions,
    deadLetterQueues: queues.length > 0 ? deadLetterQueues : undefined,
  });
  const template = Template.fromStack(stack);
  /** Logical ID of the CloudFormation resource behind an L2 construct. */
  const id = (construct: IConstruct) => stack.getLogicalId(construct.node.defaultChild as CfnElement);
  /** Properties of that resource, as synthesized. */
  const properties = (construct: IConstruct) => template.toJSON().Resources[id(construct)].Properties;
  return { stack, stateMachine, outcomeBus, alerts, deadLetterQueues, template, id, properties };
}

describe('AlertRouting', () => {
  describe('encryption', () => {
    it('creates one customer-managed key, with rotation on', () => {
      const { template } = synth();

      template.resourceCountIs('AWS::KMS::Key', 1);
      template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    });

    it('lets EventBridge use the key for the topics, and nothing more', () => {
      const { alerts, properties } = synth();

      const statements = properties(alerts.key).KeyPolicy.Statement as { Principal: unknown }[];
      const forEventBridge = statements.filter((s) => JSON.stringify(s.Principal).includes('events.amazonaws.com'));
      expect(forEventBridge).toEqual([
        {
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          Resource: '*',
        },
      ]);
    });

    it('lets CloudWatch use the key, so that alarms can publish to the critical topic', () => {
      const { alerts, properties } = synth();

      const statements = properties(alerts.key).KeyPolicy.Statement as { Principal: unknown }[];
      const forCloudWatch = statements.filter((s) => JSON.stringify(s.Principal).includes('cloudwatch.amazonaws.com'));
      expect(forCloudWatch).toEqual([
        {
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          Resource: '*',
        },
      ]);
      // The account root, EventBridge, CloudWatch and SNS (for the undelivered-alerts queue): no other principal.
      expect(
        statements
          .map((s) => JSON.stringify(s.Principal))
          .filter((p) => !p.includes(':root'))
          .sort(),
      ).toEqual([
        JSON.stringify({ Service: 'cloudwatch.amazonaws.com' }),
        JSON.stringify({ Service: 'events.amazonaws.com' }),
        JSON.stringify({ Service: 'sns.amazonaws.com' }),
      ]);
    });

    it("lets SNS use the key for this account's topics only, to keep what it could not deliver in the encrypted queue", () => {
      const { alerts, properties } = synth();

      const statements = properties(alerts.key).KeyPolicy.Statement as { Principal: unknown }[];
      expect(statements.filter((s) => JSON.stringify(s.Principal).includes('sns.amazonaws.com'))).toEqual([
        {
          Effect: 'Allow',
          Principal: { Service: 'sns.amazonaws.com' },
          Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          Resource: '*',
          Condition: {
            ArnLike: {
              'aws:SourceArn': {
                'Fn::Join': [
                  '',
                  ['arn:', { Ref: 'AWS::Partition' }, ':sns:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':*'],
                ],
              },
            },
          },
        },
      ]);
    });

    it('encrypts each topic with that key and refuses publishing without TLS', () => {
      const { alerts, template, id, properties } = synth();

      template.resourceCountIs('AWS::SNS::Topic', 3);
      for (const severity of SEVERITIES) {
        const topic = alerts.topics[severity];
        expect(properties(topic).KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [id(alerts.key), 'Arn'] });
        template.hasResourceProperties('AWS::SNS::TopicPolicy', {
          Topics: [{ Ref: id(topic) }],
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({
                Effect: 'Deny',
                Action: 'sns:Publish',
                Principal: '*',
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              }),
              Match.objectLike({ Effect: 'Allow', Action: 'sns:Publish', Principal: { Service: 'events.amazonaws.com' } }),
            ]),
          },
        });
      }
    });

    it('gives each topic a display name that says its severity (the e-mail sender name)', () => {
      const { alerts, properties } = synth();

      expect(SEVERITIES.map((severity) => properties(alerts.topics[severity]).DisplayName)).toEqual([
        'Model rollout critical',
        'Model rollout warning',
        'Model rollout info',
      ]);
    });
  });

  describe('subscriptions', () => {
    it('subscribes exactly the configured addresses, each to its own severity', () => {
      const { alerts, template, id } = synth();

      const subscriptions = Object.values(template.findResources('AWS::SNS::Subscription')).map((r) => r.Properties);
      const topicOf = (ref: { Ref: string }) => SEVERITIES.find((severity) => id(alerts.topics[severity]) === ref.Ref);
      expect(subscriptions.map((s) => [topicOf(s.TopicArn), s.Protocol, s.Endpoint]).sort()).toEqual([
        ['critical', 'email', 'lead@example.com'],
        ['critical', 'email', 'oncall@example.com'],
        ['warning', 'email', 'ml-platform@example.com'],
      ]);
    });

    it('refuses an address listed twice for one severity, naming it', () => {
      expect(() => synth({ ...SUBSCRIPTIONS, warning: ['a@example.com', 'a@example.com'] })).toThrow(
        'AlertRouting: subscriptions.warning[1] "a@example.com" is listed twice',
      );
    });

    it('refuses something that is not an e-mail address, naming it', () => {
      expect(() => synth({ ...SUBSCRIPTIONS, info: ['#ml-alerts'] })).toThrow(
        'AlertRouting: subscriptions.info[0] "#ml-alerts" is not an e-mail address',
      );
    });
  });

  describe('outcome rules', () => {
    it.each(SEVERITIES)(
      'routes %s outcome events of this state machine on the outcome bus, unchanged, to the %s topic only',
      (severity) => {
        const { alerts, stateMachine, outcomeBus, id, properties } = synth();

        const rule = properties(alerts.outcomeRules[severity]);
        expect(rule.EventBusName).toEqual({ Ref: id(outcomeBus) });
        expect(rule.EventPattern).toEqual({
          source: ['model-rollout'],
          // Outcomes, and a gray release's requests for approval (each carries its severity).
          'detail-type': ['Model Rollout Outcome', 'Model Rollout Approval Requested'],
          detail: { severity: [severity], stateMachine: [{ Ref: id(stateMachine) }] },
        });
        // Retried for a day (EventBridge's most), then kept in the undelivered-alerts queue.
        expect(rule.Targets).toEqual([
          {
            Id: 'Target0',
            Arn: { Ref: id(alerts.topics[severity]) },
            RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [id(alerts.undeliveredAlerts), 'Arn'] } },
          },
        ]);
        expect(rule.State).toBe('ENABLED');
      },
    );

    it('matches the source and detail-type the contract names', () => {
      expect(ALERT_EVENT).toEqual({ source: 'model-rollout', detailType: 'Model Rollout Outcome' });
    });
  });

  describe('dead-letter queue alarms', () => {
    const HOLDS = ['push events that could not start an execution', 'events the clean-up could not handle'];

    it('raises one alarm per dead-letter queue, the undelivered alerts included, on the critical topic as soon as it holds one visible message', () => {
      const { alerts, deadLetterQueues, template, id } = synth(SUBSCRIPTIONS, HOLDS);

      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
      // One per queue, and one per topic on its failed notifications.
      expect(alarms).toHaveLength(HOLDS.length + 1 + SEVERITIES.length);
      expect(alerts.deadLetterAlarms).toHaveLength(HOLDS.length + 1);
      const queues = { ...deadLetterQueues, 'alerts EventBridge or SNS could not deliver': alerts.undeliveredAlerts };
      for (const [holds, queue] of Object.entries(queues)) {
        const queueName = { 'Fn::GetAtt': [id(queue), 'QueueName'] };
        const watching = alarms.filter((a) => JSON.stringify(a.Dimensions) === JSON.stringify([{ Name: 'QueueName', Value: queueName }]));
        expect({ holds, alarms: watching }).toEqual({
          holds,
          alarms: [
            expect.objectContaining({
              Namespace: 'AWS/SQS',
              MetricName: 'ApproximateNumberOfMessagesVisible',
              Statistic: 'Maximum',
              Threshold: 1,
              ComparisonOperator: 'GreaterThanOrEqualToThreshold',
              EvaluationPeriods: 1,
              AlarmActions: [{ Ref: id(alerts.topics.critical) }],
              AlarmDescription: expect.stringContaining(holds),
            }),
          ],
        });
      }
    });

    it('lets CloudWatch publish to the critical topic for its alarms only, to the warning topic for the critical delivery alarm only, and not to the info topic', () => {
      const { alerts, template, id } = synth(SUBSCRIPTIONS, HOLDS);
      const arnOf = (alarm: IConstruct) => ({ 'Fn::GetAtt': [id(alarm), 'Arn'] });

      const forCloudWatch = (severity: 'critical' | 'warning' | 'info') =>
        Object.values(template.findResources('AWS::SNS::TopicPolicy'))
          .filter((p) => JSON.stringify(p.Properties.Topics) === JSON.stringify([{ Ref: id(alerts.topics[severity]) }]))
          .flatMap((p) => p.Properties.PolicyDocument.Statement)
          .filter((s: any) => JSON.stringify(s.Principal).includes('cloudwatch.amazonaws.com'));
      expect(forCloudWatch('critical')).toEqual([
        expect.objectContaining({
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: 'sns:Publish',
          Resource: { Ref: id(alerts.topics.critical) },
          Condition: {
            ArnEquals: { 'aws:SourceArn': [...alerts.deadLetterAlarms, ...Object.values(alerts.deliveryFailureAlarms)].map(arnOf) },
          },
        }),
      ]);
      expect(forCloudWatch('warning')).toEqual([
        expect.objectContaining({ Condition: { ArnEquals: { 'aws:SourceArn': [arnOf(alerts.deliveryFailureAlarms.critical)] } } }),
      ]);
      expect(forCloudWatch('info')).toEqual([]);
    });

    it('watches only the undelivered-alerts queue when no other dead-letter queue is given', () => {
      const { alerts } = synth();

      expect(alerts.deadLetterAlarms).toHaveLength(1);
    });
  });

  describe('alerts that cannot be delivered', () => {
    it('keeps them in an encrypted queue for 14 days, reachable over TLS only, which the rules and the e-mail subscriptions use', () => {
      const { alerts, template, id, properties } = synth();

      expect(properties(alerts.undeliveredAlerts)).toMatchObject({
        KmsMasterKeyId: { 'Fn::GetAtt': [id(alerts.key), 'Arn'] },
        MessageRetentionPeriod: 1209600,
      });
      const subscriptions = Object.values(template.findResources('AWS::SNS::Subscription')).map((s) => s.Properties);
      expect(subscriptions).toHaveLength(SUBSCRIPTIONS.critical.length + SUBSCRIPTIONS.warning.length);
      for (const subscription of subscriptions) {
        expect(subscription).toMatchObject({
          Protocol: 'email',
          RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [id(alerts.undeliveredAlerts), 'Arn'] } },
        });
      }
      for (const rule of [...Object.values(alerts.outcomeRules), alerts.executionEndedRule]) {
        expect(properties(rule).Targets[0].DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': [id(alerts.undeliveredAlerts), 'Arn'] } });
      }
    });

    it.each(SEVERITIES)(
      'alarms when SNS fails to deliver a %s notification; the critical topic’s failures reach the warning topic too',
      (severity) => {
        const { alerts, id, properties } = synth();

        const alarm = properties(alerts.deliveryFailureAlarms[severity]);
        expect(alarm).toMatchObject({
          Namespace: 'AWS/SNS',
          MetricName: 'NumberOfNotificationsFailed',
          Dimensions: [{ Name: 'TopicName', Value: { 'Fn::GetAtt': [id(alerts.topics[severity]), 'TopicName'] } }],
          Statistic: 'Sum',
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        });
        const expected = severity === 'critical' ? [alerts.topics.critical, alerts.topics.warning] : [alerts.topics.critical];
        expect(alarm.AlarmActions).toEqual(expected.map((topic) => ({ Ref: id(topic) })));
      },
    );
  });

  describe('execution-ended rule', () => {
    it('listens on the default bus, the only one AWS puts Step Functions status changes on', () => {
      const { alerts, properties } = synth();

      expect(properties(alerts.executionEndedRule).EventBusName).toBeUndefined();
    });

    it('matches this state machine ending TIMED_OUT or ABORTED, or FAILED other than at a terminal Fail state', () => {
      const { alerts, stateMachine, id, properties } = synth();

      expect(properties(alerts.executionEndedRule).EventPattern).toEqual({
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: {
          stateMachineArn: [{ Ref: id(stateMachine) }],
          $or: [
            { status: ['TIMED_OUT', 'ABORTED'] },
            {
              status: ['FAILED'],
              error: [
                {
                  'anything-but': [
                    'ReleaseRejectedByPolicy',
                    'SignatureRejected',
                    'DeploymentFailed',
                    'ReleaseRolledBack',
                    'RollbackFailed',
                    'ReleaseRefused',
                  ],
                },
              ],
            },
          ],
        },
      });
    });

    it('skips every terminal error the contract names (so a new one cannot be forgotten)', () => {
      const { alerts, properties } = synth();

      const failed = properties(alerts.executionEndedRule).EventPattern.detail.$or[1];
      expect(failed.error[0]['anything-but']).toEqual(Object.values(TERMINAL_ERRORS));
    });

    it('sends a short text with the execution and a console link to the critical topic', () => {
      const { alerts, id, properties } = synth();

      const [target] = properties(alerts.executionEndedRule).Targets;
      expect(target.Arn).toEqual({ Ref: id(alerts.topics.critical) });
      expect(target.InputTransformer.InputPathsMap).toEqual({
        'detail-status': '$.detail.status',
        'detail-executionArn': '$.detail.executionArn',
        'detail-error': '$.detail.error',
        region: '$.region',
      });
      const text = JSON.parse(target.InputTransformer.InputTemplate) as string;
      expect(text).toContain('Model rollout execution ended <detail-status> without publishing its outcome.');
      expect(text).toContain('Execution: <detail-executionArn>\nError: <detail-error>');
      expect(text).toContain(
        'https://<region>.console.aws.amazon.com/states/home?region=<region>#/v2/executions/details/<detail-executionArn>',
      );
    });

    describe('which endings alert', () => {
      const ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:ModelRollout';
      const ending = (status: string, error: string | null, stateMachineArn = ARN) => ({
        source: 'aws.states',
        'detail-type': 'Step Functions Execution Status Change',
        detail: { stateMachineArn, status, error },
      });
      /** The synthesized pattern, with this state machine's `Ref` standing for the ARN it resolves to. */
      function pattern() {
        const { alerts, properties } = synth();
        const synthesized = properties(alerts.executionEndedRule).EventPattern;
        return { ...synthesized, detail: { ...synthesized.detail, stateMachineArn: [ARN] } };
      }

      it.each([
        ['TIMED_OUT', null],
        ['ABORTED', null],
        ['FAILED', 'States.Runtime'],
        ['FAILED', 'TransientAwsError'],
      ])('alerts when the execution ends %s (%s)', (status, error) => {
        expect(matchesEventPattern(ending(status, error), pattern())).toBe(true);
      });

      it.each(Object.values(TERMINAL_ERRORS))('does not alert twice for FAILED at the %s Fail state', (error) => {
        expect(matchesEventPattern(ending('FAILED', error), pattern())).toBe(false);
      });

      it.each([
        ['SUCCEEDED', null],
        ['RUNNING', null],
      ])('does not alert when the execution is %s', (status, error) => {
        expect(matchesEventPattern(ending(status, error), pattern())).toBe(false);
      });

      it('does not alert for another state machine', () => {
        const other = 'arn:aws:states:us-east-1:123456789012:stateMachine:Other';
        expect(matchesEventPattern(ending('TIMED_OUT', null, other), pattern())).toBe(false);
      });
    });
  });
});
