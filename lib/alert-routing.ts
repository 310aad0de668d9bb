import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as snsSubscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ALERT_EVENT, APPROVAL_REQUEST_EVENT, SEVERITIES, type Severity, TERMINAL_ERRORS } from '../lambdas/contract/outcomes';
import { acknowledge } from './nag';

/** E-mail addresses per alert severity. */
export interface AlertSubscriptions {
  /** Subscribed to the critical topic: failed rollbacks and executions that ended without publishing an outcome. */
  readonly critical: readonly string[];
  /** Subscribed to the warning topic: rejected releases, failed deployments, rollbacks. */
  readonly warning: readonly string[];
  /** Subscribed to the info topic: successful releases. */
  readonly info: readonly string[];
}

export interface AlertRoutingProps {
  /**
   * The rollout state machine. Its executions that end FAILED for an unexpected reason, TIMED_OUT or ABORTED are alerted
   * as critical, because they never reached the step that publishes the outcome.
   */
  readonly stateMachine: sfn.IStateMachine;
  /** The bus the state machine publishes its outcome events on (the pipeline's own). */
  readonly outcomeBus: events.IEventBus;
  /**
   * E-mail addresses to subscribe to each severity's topic. SNS sends each address a confirmation e-mail first; nothing
   * is delivered to it until the link in that e-mail is followed. An empty list leaves the topic without subscribers
   * (other subscribers can still be added to `topics`).
   */
  readonly subscriptions: AlertSubscriptions;
  /**
   * Dead-letter queues, keyed by what they hold: a message in any of them raises an alarm on the critical topic, since
   * it is a release or a clean-up that did not happen.
   * @default - none
   */
  readonly deadLetterQueues?: Readonly<Record<string, sqs.IQueue>>;
}

/**
 * Routes every rollout outcome to people: one encrypted SNS topic per severity, fed by EventBridge rules on the
 * pipeline's outcome bus (outcomes) and on the default bus (Step Functions' own status changes, which AWS puts there
 * only).
 *
 * - Each `ALERT_EVENT` the pipeline publishes goes to the topic of its `detail.severity`, unchanged.
 * - An execution of the state machine that ends FAILED, TIMED_OUT or ABORTED without having published its own outcome
 *   goes to the critical topic: a release may be half done and nobody else will say so.
 * - No alert is lost silently: EventBridge retries each delivery to a topic for a day and then keeps the event in the
 *   undelivered-alerts queue; each e-mail subscription keeps what SNS could not deliver there too; a message in that
 *   queue, or a topic whose notifications fail, raises an alarm — on the critical topic, and for the critical topic's
 *   own failures on the warning topic as well (another route and other people: the one that failed cannot page).
 */
export class AlertRouting extends Construct {
  /** Customer-managed key (rotated yearly) that encrypts the three topics. */
  public readonly key: kms.Key;
  /** One topic per severity. */
  public readonly topics: Readonly<Record<Severity, sns.Topic>>;
  /** Routes the pipeline's outcome events of each severity to that severity's topic. */
  public readonly outcomeRules: Readonly<Record<Severity, events.Rule>>;
  /** Routes executions that ended FAILED (unexpectedly), TIMED_OUT or ABORTED to the critical topic. */
  public readonly executionEndedRule: events.Rule;
  /** One alarm per dead-letter queue, on the critical topic, while the queue holds a message. */
  public readonly deadLetterAlarms: readonly cloudwatch.Alarm[];
  /** Alerts EventBridge or SNS could not deliver (after their retries): the rules' and the subscriptions' dead-letter queue. */
  public readonly undeliveredAlerts: sqs.Queue;
  /** Per topic: an alarm while SNS fails to deliver its notifications (NumberOfNotificationsFailed). */
  public readonly deliveryFailureAlarms: Readonly<Record<Severity, cloudwatch.Alarm>>;

  constructor(scope: Construct, id: string, props: AlertRoutingProps) {
    super(scope, id);
    for (const severity of SEVERITIES) validateAddresses(props.subscriptions[severity], severity);
    this.key = this.alertsKey();
    this.undeliveredAlerts = this.undeliveredAlertsQueue();
    const topic = (severity: Severity) => this.topic(severity, props.subscriptions[severity]);
    this.topics = { critical: topic('critical'), warning: topic('warning'), info: topic('info') };
    const outcomeRule = (severity: Severity) => this.outcomeRule(severity, props);
    this.outcomeRules = { critical: outcomeRule('critical'), warning: outcomeRule('warning'), info: outcomeRule('info') };
    this.executionEndedRule = this.executionEnded(props.stateMachine);
    const queues = { ...props.deadLetterQueues, 'alerts EventBridge or SNS could not deliver': this.undeliveredAlerts };
    this.deadLetterAlarms = Object.entries(queues).map(([holds, queue], index) => this.deadLetterAlarm(index, holds, queue));
    this.deliveryFailureAlarms = {
      critical: this.deliveryFailureAlarm('critical'),
      warning: this.deliveryFailureAlarm('warning'),
      info: this.deliveryFailureAlarm('info'),
    };
    this.allowAlarmsToPublish();
  }

  /** The topics' key, which EventBridge, CloudWatch and SNS itself (for the undelivered-alerts queue) may use. */
  private alertsKey(): kms.Key {
    const key = new kms.Key(this, 'Key', {
      description: 'Encrypts the model-rollout alert topics',
      enableKeyRotation: true,
    });
    // EventBridge can publish to an encrypted topic only if it may use the key. The SnsTopic targets grant the same
    // actions today; stating them here keeps the key policy independent of that implementation detail. No
    // aws:SourceArn / aws:SourceAccount condition, as in AWS's SNS guide for encrypted topics: if EventBridge's request
    // did not carry the condition key, every alert would be dropped without an error anyone sees.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    // CloudWatch alarms (the dead-letter queue alarms below) publish to the critical topic the same way.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    // SNS writes what it could not deliver to the encrypted undelivered-alerts queue: "To use an encrypted Amazon SQS
    // queue as a dead-letter queue, you must use a custom KMS with a key policy that grants the Amazon SNS service
    // principal access" (SNS developer guide, dead-letter queues). This account's topics only (naming the topics by
    // ARN would make the key depend on the topics it encrypts).
    const stack = Stack.of(this);
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('sns.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { ArnLike: { 'aws:SourceArn': `arn:${stack.partition}:sns:${stack.region}:${stack.account}:*` } },
      }),
    );
    return key;
  }

  private undeliveredAlertsQueue(): sqs.Queue {
    const queue = new sqs.Queue(this, 'UndeliveredAlertsQueue', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.key,
      enforceSSL: true,
    });
    acknowledge(
      queue,
      'AwsSolutions-SQS3',
      'This queue is itself the dead-letter queue of the alert rules and the e-mail subscriptions; a dead-letter queue of it would only move the same messages.',
    );
    acknowledge(
      queue,
      'Serverless-SQSRedrivePolicy',
      'This queue is itself the dead-letter queue of the alert rules and the e-mail subscriptions; a redrive policy would only move the same messages to another queue.',
    );
    return queue;
  }

  /** A severity's topic and its e-mail subscriptions, whose undeliverable alerts go to the undelivered-alerts queue. */
  private topic(severity: Severity, addresses: readonly string[]): sns.Topic {
    const created = new sns.Topic(this, `${TITLES[severity]}Topic`, {
      displayName: `Model rollout ${severity}`, // the sender name in the e-mails
      masterKey: this.key,
      enforceSSL: true,
    });
    for (const address of addresses) {
      created.addSubscription(new snsSubscriptions.EmailSubscription(address, { deadLetterQueue: this.undeliveredAlerts }));
    }
    return created;
  }

  /** A rule target on a severity's topic, with EventBridge's default retry policy stated: 185 attempts over 24 hours, then the queue. */
  private toTopic(severity: Severity, options: Pick<targets.SnsTopicProps, 'message'> = {}): targets.SnsTopic {
    return new targets.SnsTopic(this.topics[severity], {
      ...options,
      deadLetterQueue: this.undeliveredAlerts,
      retryAttempts: 185,
      maxEventAge: Duration.hours(24),
    });
  }

  private outcomeRule(severity: Severity, props: AlertRoutingProps): events.Rule {
    return new events.Rule(this, `${TITLES[severity]}OutcomeRule`, {
      description: `Sends ${severity} model-rollout outcomes to the ${severity} alert topic`,
      eventBus: props.outcomeBus,
      eventPattern: {
        source: [ALERT_EVENT.source],
        // Outcomes, and a gray release's requests for approval.
        detailType: [ALERT_EVENT.detailType, APPROVAL_REQUEST_EVENT.detailType],
        // This stack's outcomes: the bus is this stack's alone, and the state machine is named all the same.
        detail: { severity: [severity], stateMachine: [props.stateMachine.stateMachineArn] },
      },
      // The pipeline writes the outcome event for people to read: pass it on unchanged.
      targets: [this.toTopic(severity)],
    });
  }

  private executionEnded(stateMachine: AlertRoutingProps['stateMachine']): events.Rule {
    return new events.Rule(this, 'ExecutionEndedRule', {
      description: 'Sends model-rollout executions that ended FAILED (unexpectedly), TIMED_OUT or ABORTED to the critical alert topic',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          stateMachineArn: [stateMachine.stateMachineArn],
          $or: [
            // Timed out or stopped by hand: the outcome step never ran.
            { status: ['TIMED_OUT', 'ABORTED'] },
            // Failed at one of the definition's own Fail states: that path already published its outcome alert.
            { status: ['FAILED'], error: [{ 'anything-but': Object.values(TERMINAL_ERRORS) }] },
          ],
        },
      },
      // The raw status-change event carries the whole push event as an escaped string; a few lines and a console link
      // serve the person on call better. `cause` is left out: it can be long, and the console shows it.
      targets: [this.toTopic('critical', { message: executionEndedMessage() })],
    });
  }

  private deadLetterAlarm(index: number, holds: string, queue: sqs.IQueue): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, `DeadLetterAlarm${index}`, {
      alarmDescription: `The model-rollout dead-letter queue holds ${holds}: read the message, act on it, then delete it.`,
      metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new cloudwatchActions.SnsAction(this.topics.critical));
    return alarm;
  }

  private deliveryFailureAlarm(severity: Severity): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, `${TITLES[severity]}DeliveryFailureAlarm`, {
      alarmDescription: `SNS failed to deliver model-rollout ${severity} alerts: check the topic's subscriptions and the undelivered-alerts queue.`,
      metric: this.topics[severity].metricNumberOfNotificationsFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new cloudwatchActions.SnsAction(this.topics.critical));
    // The critical topic cannot report its own failures alone: the warning topic's people hear of them too.
    if (severity === 'critical') alarm.addAlarmAction(new cloudwatchActions.SnsAction(this.topics.warning));
    return alarm;
  }

  /**
   * Each topic's policy (written for EventBridge) replaces SNS's default one: CloudWatch must be allowed by name, for
   * the alarms that publish to that topic only.
   */
  private allowAlarmsToPublish(): void {
    const alarmsOf: Record<Severity, cloudwatch.Alarm[]> = {
      critical: [...this.deadLetterAlarms, ...Object.values(this.deliveryFailureAlarms)],
      warning: [this.deliveryFailureAlarms.critical],
      info: [],
    };
    for (const severity of SEVERITIES) {
      const alarms = alarmsOf[severity];
      if (alarms.length === 0) continue;
      this.topics[severity].addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['sns:Publish'],
          resources: [this.topics[severity].topicArn],
          conditions: { ArnEquals: { 'aws:SourceArn': alarms.map((alarm) => alarm.alarmArn) } },
        }),
      );
    }
  }
}

const TITLES: Readonly<Record<Severity, string>> = { critical: 'Critical', warning: 'Warning', info: 'Info' };

function executionEndedMessage(): events.RuleTargetInput {
  const region = events.EventField.fromPath('$.region');
  const executionArn = events.EventField.fromPath('$.detail.executionArn');
  return events.RuleTargetInput.fromText(
    [
      `Model rollout execution ended ${events.EventField.fromPath('$.detail.status')} without publishing its outcome.`,
      'The release may be half done: check the service.',
      '',
      `Execution: ${executionArn}`,
      `Error: ${events.EventField.fromPath('$.detail.error')}`,
      `Console: https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`,
    ].join('\n'),
  );
}

/** Fails at synth, naming the address, where CloudFormation would fail at deploy (or CDK with an unrelated message). */
function validateAddresses(addresses: readonly string[], severity: Severity): void {
  const seen = new Set<string>();
  addresses.forEach((address, index) => {
    if (Token.isUnresolved(address)) return;
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address)) {
      throw new Error(`AlertRouting: subscriptions.${severity}[${index}] ${JSON.stringify(address)} is not an e-mail address`);
    }
    if (seen.has(address)) {
      throw new Error(`AlertRouting: subscriptions.${severity}[${index}] ${JSON.stringify(address)} is listed twice`);
    }
    seen.add(address);
  });
}
