/**
 * Every permission the synthesized stack grants — IAM policies (customer-managed and CDK's inline default ones), role
 * trust policies, KMS key policies, SNS topic and SQS queue policies, Lambda permissions — read from the template and
 * compared with the allow-list below, which a security reviewer reads instead of the template. A grant not on the list
 * fails, and so does an entry of the list nothing grants any more, so the list cannot rot.
 *
 * How to read an entry: `<who>: <Allow|Deny> [<principal>] <action> on <resource>[ if <condition>]`, where `who` is the
 * construct path of the policy (or key, topic policy, queue policy, role trust policy) holding the statement and
 * `<Ledger/Table.Arn>` is a reference to a resource of the stack. An entry starting with `[example]` or `[variant]` is
 * granted with that configuration only (see CONFIGURATIONS); every other entry with both.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/build-app';
import { loadConfig, readSignerRootCertificate, toServiceCatalog } from '../../lib/config';
import { ModelRolloutStack } from '../../lib/model-rollout-stack';
import { EXAMPLE_CONFIG, readExampleConfig, temporaryFolder, writeConfig } from '../fixtures/example-config';
import { type Grant, grantsOf } from '../fixtures/policy-grants';

// ---------------------------------------------------------------------------------------------------------------------
// The allow-list
// ---------------------------------------------------------------------------------------------------------------------

const ARN = 'arn:<AWS::Partition>';
/** The stack's own Region and account: the example is environment-agnostic. */
const HERE = '<AWS::Region>:<AWS::AccountId>';
const SENTIMENT_SERVICE = `${ARN}:ecs:${HERE}:service/models-prod/sentiment`;
const SUMMARIZER_SERVICE = `${ARN}:ecs:${HERE}:service/models-staging/summarizer`;
const SENTIMENT_REPOSITORY = `${ARN}:ecr:${HERE}:repository/models/sentiment`;
const SUMMARIZER_REPOSITORY = `${ARN}:ecr:${HERE}:repository/models/summarizer`;
const VIA_DYNAMODB = ' if StringEquals kms:ViaService=dynamodb.<AWS::Region>.amazonaws.com';
const VIA_SQS = ' if StringEquals kms:ViaService=sqs.<AWS::Region>.amazonaws.com';
const TO_ECS_TASKS = ' if StringEquals iam:PassedToService=ecs-tasks.amazonaws.com';
const ACCOUNT_ROOT = `AWS:${ARN}:iam::<AWS::AccountId>:root`;
const ONLY_TLS = ' if Bool aws:SecureTransport=false';

/** What every function's role and policy hold, whatever the function does. */
function everyFunction(id: string): string[] {
  const policy = `Pipeline/${id}Policy`;
  return [
    // Lambda runs the function with its own role, which takes its own policy only.
    `Pipeline/${id}Role (trust): Allow Service:lambda.amazonaws.com sts:AssumeRole on this role`,
    `${policy}: attached to <Pipeline/${id}Role>`,
    // Writes its own log group, no other.
    `${policy}: Allow logs:CreateLogStream on <Pipeline/${id}Logs.Arn>`,
    `${policy}: Allow logs:PutLogEvents on <Pipeline/${id}Logs.Arn>`,
    // Lambda manages the function's network interfaces in the private subnets with this role (AWSLambdaVPCAccessExecutionRole).
    `${policy}: Allow ec2:CreateNetworkInterface on *`,
    `${policy}: Allow ec2:DescribeNetworkInterfaces on *`,
    `${policy}: Allow ec2:DeleteNetworkInterface on *`,
    `${policy}: Allow ec2:AssignPrivateIpAddresses on *`,
    `${policy}: Allow ec2:UnassignPrivateIpAddresses on *`,
    // Active tracing.
    `${policy}: Allow xray:PutTraceSegments on *`,
    `${policy}: Allow xray:PutTelemetryRecords on *`,
  ];
}

/** The ledger key, only through DynamoDB: the functions never see the key outside a table request. */
function ledgerKey(id: string, access: 'read' | 'read-write'): string[] {
  const policy = `Pipeline/${id}Policy`;
  return [
    `${policy}: Allow kms:Decrypt on <Ledger/Key.Arn>${VIA_DYNAMODB}`,
    ...(access === 'read-write'
      ? [
          `${policy}: Allow kms:Encrypt on <Ledger/Key.Arn>${VIA_DYNAMODB}`,
          `${policy}: Allow kms:GenerateDataKey on <Ledger/Key.Arn>${VIA_DYNAMODB}`,
        ]
      : []),
  ];
}

/** Lambda's asynchronous invocations that failed go to the event dead-letter queue, sent with the function's role. */
function eventDeadLetterQueue(id: string): string[] {
  const policy = `Pipeline/${id}Policy`;
  return [
    `${policy}: Allow sqs:SendMessage on <Pipeline/EventDeadLetterQueue.Arn>`,
    `${policy}: Allow kms:Decrypt on <Pipeline/QueueKey.Arn>${VIA_SQS}`,
    `${policy}: Allow kms:GenerateDataKey on <Pipeline/QueueKey.Arn>${VIA_SQS}`,
  ];
}

/** The roles of these functions, as an ArnEquals list reads. */
const roles = (...functions: string[]) => functions.map((fn) => `<Pipeline/${fn}Role.Arn>`).join('|');

const ALLOW_LIST: readonly string[] = [
  // ---- check-release: compares the pushed tag with what the configured service runs now.
  ...everyFunction('CheckRelease'),
  `Pipeline/CheckReleasePolicy: Allow ecs:DescribeServices on ${SENTIMENT_SERVICE}`,
  `Pipeline/CheckReleasePolicy: Allow ecs:DescribeServices on ${SUMMARIZER_SERVICE}`,
  // The running revision's image (no resource-level permissions).
  'Pipeline/CheckReleasePolicy: Allow ecs:DescribeTaskDefinition on *',

  // ---- record-release: reads the model metadata from the image and records the release in the ledger.
  ...everyFunction('RecordRelease'),
  `Pipeline/RecordReleasePolicy: Allow ecr:BatchGetImage on ${SENTIMENT_REPOSITORY}`,
  `Pipeline/RecordReleasePolicy: Allow ecr:BatchGetImage on ${SUMMARIZER_REPOSITORY}`,
  `Pipeline/RecordReleasePolicy: Allow ecr:GetDownloadUrlForLayer on ${SENTIMENT_REPOSITORY}`,
  `Pipeline/RecordReleasePolicy: Allow ecr:GetDownloadUrlForLayer on ${SUMMARIZER_REPOSITORY}`,
  'Pipeline/RecordReleasePolicy: Allow dynamodb:GetItem on <Ledger/Table.Arn>',
  'Pipeline/RecordReleasePolicy: Allow dynamodb:PutItem on <Ledger/Table.Arn>',
  'Pipeline/RecordReleasePolicy: Allow dynamodb:UpdateItem on <Ledger/Table.Arn>',
  ...ledgerKey('RecordRelease', 'read-write'),

  // ---- verify-signature: reads signatures from the configured repositories, the configured KMS public keys, and
  // revocation from AWS Signer for the trusted profiles.
  ...everyFunction('VerifySignature'),
  `Pipeline/VerifySignaturePolicy: Allow ecr:BatchGetImage on ${SENTIMENT_REPOSITORY}`,
  `Pipeline/VerifySignaturePolicy: Allow ecr:BatchGetImage on ${SUMMARIZER_REPOSITORY}`,
  `Pipeline/VerifySignaturePolicy: Allow ecr:GetDownloadUrlForLayer on ${SENTIMENT_REPOSITORY}`,
  `Pipeline/VerifySignaturePolicy: Allow ecr:GetDownloadUrlForLayer on ${SUMMARIZER_REPOSITORY}`,
  `Pipeline/VerifySignaturePolicy: Allow ecr:DescribeImageSigningStatus on ${SENTIMENT_REPOSITORY}`,
  `Pipeline/VerifySignaturePolicy: Allow ecr:DescribeImageSigningStatus on ${SUMMARIZER_REPOSITORY}`,
  // A key given by ARN: that key only.
  '[variant] Pipeline/VerifySignaturePolicy: Allow kms:GetPublicKey on arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  // Keys given by alias (name or ARN): any key of the stack's account and Region, asked for by one of those aliases only.
  `[variant] Pipeline/VerifySignaturePolicy: Allow kms:GetPublicKey on ${ARN}:kms:${HERE}:key/* if StringEquals kms:RequestAlias=alias/model-signing|alias/release-signing`,
  // The trusted profiles (a profile version counts as its profile), and the signing jobs of their account and Region.
  '[variant] Pipeline/VerifySignaturePolicy: Allow signer:GetRevocationStatus on arn:aws:signer:us-east-1:123456789012:/signing-profiles/ModelRelease',
  '[variant] Pipeline/VerifySignaturePolicy: Allow signer:GetRevocationStatus on arn:aws:signer:us-east-1:123456789012:/signing-jobs/*',
  '[variant] Pipeline/VerifySignaturePolicy: Allow signer:GetRevocationStatus on arn:aws:signer:us-west-2:210987654321:/signing-profiles/Vendor',
  '[variant] Pipeline/VerifySignaturePolicy: Allow signer:GetRevocationStatus on arn:aws:signer:us-west-2:210987654321:/signing-jobs/*',

  // ---- take-lock: the service lock and the versions waiting for it, in the ledger.
  ...everyFunction('TakeLock'),
  'Pipeline/TakeLockPolicy: Allow dynamodb:GetItem on <Ledger/Table.Arn>',
  'Pipeline/TakeLockPolicy: Allow dynamodb:PutItem on <Ledger/Table.Arn>',
  'Pipeline/TakeLockPolicy: Allow dynamodb:Query on <Ledger/Table.Arn>',
  'Pipeline/TakeLockPolicy: Allow dynamodb:UpdateItem on <Ledger/Table.Arn>',
  ...ledgerKey('TakeLock', 'read-write'),

  // ---- register-revision: copies the running revision with the new digest pinned.
  ...everyFunction('RegisterRevision'),
  `Pipeline/RegisterRevisionPolicy: Allow ecs:DescribeServices on ${SENTIMENT_SERVICE}`,
  `Pipeline/RegisterRevisionPolicy: Allow ecs:DescribeServices on ${SUMMARIZER_SERVICE}`,
  // No resource-level permissions.
  'Pipeline/RegisterRevisionPolicy: Allow ecs:DescribeTaskDefinition on *',
  // Any new revision of the configured families only.
  `Pipeline/RegisterRevisionPolicy: Allow ecs:RegisterTaskDefinition on ${ARN}:ecs:${HERE}:task-definition/sentiment-task:*`,
  `Pipeline/RegisterRevisionPolicy: Allow ecs:RegisterTaskDefinition on ${ARN}:ecs:${HERE}:task-definition/summarizer-task:*`,
  // Tags the revision it registers, in the same call only.
  `Pipeline/RegisterRevisionPolicy: Allow ecs:TagResource on ${ARN}:ecs:${HERE}:task-definition/sentiment-task:* if StringEquals ecs:CreateAction=RegisterTaskDefinition`,
  `Pipeline/RegisterRevisionPolicy: Allow ecs:TagResource on ${ARN}:ecs:${HERE}:task-definition/summarizer-task:* if StringEquals ecs:CreateAction=RegisterTaskDefinition`,
  // The revision keeps the service's task and execution roles: the configured ones, to ECS tasks only.
  `Pipeline/RegisterRevisionPolicy: Allow iam:PassRole on arn:aws:iam::123456789012:role/sentiment-task${TO_ECS_TASKS}`,
  `Pipeline/RegisterRevisionPolicy: Allow iam:PassRole on arn:aws:iam::123456789012:role/sentiment-execution${TO_ECS_TASKS}`,
  `[example] Pipeline/RegisterRevisionPolicy: Allow iam:PassRole on arn:aws:iam::123456789012:role/summarizer-task${TO_ECS_TASKS}`,
  `[example] Pipeline/RegisterRevisionPolicy: Allow iam:PassRole on arn:aws:iam::123456789012:role/summarizer-execution${TO_ECS_TASKS}`,

  // ---- update-service: points the configured service at the new revision (and back, when rolling back).
  ...everyFunction('UpdateService'),
  `Pipeline/UpdateServicePolicy: Allow ecs:UpdateService on ${SENTIMENT_SERVICE}`,
  `Pipeline/UpdateServicePolicy: Allow ecs:UpdateService on ${SUMMARIZER_SERVICE}`,
  // A rollback first reads what the service runs.
  `Pipeline/UpdateServicePolicy: Allow ecs:DescribeServices on ${SENTIMENT_SERVICE}`,
  `Pipeline/UpdateServicePolicy: Allow ecs:DescribeServices on ${SUMMARIZER_SERVICE}`,

  // ---- check-health: the service's deployment and the configured alarms.
  ...everyFunction('CheckHealth'),
  `Pipeline/CheckHealthPolicy: Allow ecs:DescribeServices on ${SENTIMENT_SERVICE}`,
  `Pipeline/CheckHealthPolicy: Allow ecs:DescribeServices on ${SUMMARIZER_SERVICE}`,
  // ECS names each deployment when the service is updated: any deployment of the configured service. The action has two
  // required resource types (service and service-deployment): AWS checks the call against both.
  `Pipeline/CheckHealthPolicy: Allow ecs:DescribeServiceDeployments on ${SENTIMENT_SERVICE}`,
  `Pipeline/CheckHealthPolicy: Allow ecs:DescribeServiceDeployments on ${SUMMARIZER_SERVICE}`,
  `Pipeline/CheckHealthPolicy: Allow ecs:DescribeServiceDeployments on ${ARN}:ecs:${HERE}:service-deployment/models-prod/sentiment/*`,
  `Pipeline/CheckHealthPolicy: Allow ecs:DescribeServiceDeployments on ${ARN}:ecs:${HERE}:service-deployment/models-staging/summarizer/*`,
  `Pipeline/CheckHealthPolicy: Allow cloudwatch:DescribeAlarms on ${ARN}:cloudwatch:${HERE}:alarm:sentiment-5xx-rate`,
  `Pipeline/CheckHealthPolicy: Allow cloudwatch:DescribeAlarms on ${ARN}:cloudwatch:${HERE}:alarm:sentiment-p99-latency`,
  `[example] Pipeline/CheckHealthPolicy: Allow cloudwatch:DescribeAlarms on ${ARN}:cloudwatch:${HERE}:alarm:summarizer-staging-5xx-rate`,

  // ---- record-outcome: finalises the release's ledger record and frees the service lock.
  ...everyFunction('RecordOutcome'),
  'Pipeline/RecordOutcomePolicy: Allow dynamodb:GetItem on <Ledger/Table.Arn>',
  'Pipeline/RecordOutcomePolicy: Allow dynamodb:UpdateItem on <Ledger/Table.Arn>',
  'Pipeline/RecordOutcomePolicy: Allow dynamodb:DeleteItem on <Ledger/Table.Arn>',
  ...ledgerKey('RecordOutcome', 'read-write'),

  // ---- finalise-execution: EventBridge invokes it for executions that crashed; it finds their record by execution.
  ...everyFunction('FinaliseExecution'),
  'Pipeline/FinaliseExecution (permission): Allow Service:events.amazonaws.com lambda:InvokeFunction on <Pipeline/FinaliseExecution.Arn> if SourceArn=<Pipeline/ExecutionEnded.Arn>',
  ...eventDeadLetterQueue('FinaliseExecution'),
  'Pipeline/FinaliseExecutionPolicy: Allow dynamodb:Query on <Ledger/Table.Arn>',
  'Pipeline/FinaliseExecutionPolicy: Allow dynamodb:GetItem on <Ledger/Table.Arn>',
  'Pipeline/FinaliseExecutionPolicy: Allow dynamodb:PutItem on <Ledger/Table.Arn>',
  'Pipeline/FinaliseExecutionPolicy: Allow dynamodb:UpdateItem on <Ledger/Table.Arn>',
  'Pipeline/FinaliseExecutionPolicy: Allow dynamodb:DeleteItem on <Ledger/Table.Arn>',
  // The execution index: the finaliser knows only the execution. Only Query applies to an index.
  'Pipeline/FinaliseExecutionPolicy: Allow dynamodb:Query on <Ledger/Table.Arn>/index/byExecution',
  ...ledgerKey('FinaliseExecution', 'read-write'),
  // Whether the execution really ended as the event says, before anything is freed (both required resource types).
  `Pipeline/FinaliseExecutionPolicy: Allow states:DescribeExecution on ${ARN}:states:${HERE}:execution:<Pipeline/StateMachine.Name>:*`,
  `Pipeline/FinaliseExecutionPolicy: Allow states:DescribeExecution on ${ARN}:states:${HERE}:express:<Pipeline/StateMachine.Name>:*`,

  // ---- reconcile: on a schedule, compares each repository's newest allowed tag with the ledger and starts the pipeline.
  ...everyFunction('Reconcile'),
  'Pipeline/Reconcile (permission): Allow Service:events.amazonaws.com lambda:InvokeFunction on <Pipeline/Reconcile.Arn> if SourceArn=<Pipeline/Reconciliation.Arn>',
  ...eventDeadLetterQueue('Reconcile'),
  `Pipeline/ReconcilePolicy: Allow ecr:DescribeImages on ${SENTIMENT_REPOSITORY}`,
  `Pipeline/ReconcilePolicy: Allow ecr:DescribeImages on ${SUMMARIZER_REPOSITORY}`,
  'Pipeline/ReconcilePolicy: Allow dynamodb:GetItem on <Ledger/Table.Arn>',
  ...ledgerKey('Reconcile', 'read'),
  'Pipeline/ReconcilePolicy: Allow states:StartExecution on <Pipeline/StateMachine>',
  // Whether an execution it named still runs (a closed execution's name stays taken for 90 days): its own executions only.
  `Pipeline/ReconcilePolicy: Allow states:DescribeExecution on ${ARN}:states:${HERE}:execution:<Pipeline/StateMachine.Name>:reconcile-*`,
  `Pipeline/ReconcilePolicy: Allow states:DescribeExecution on ${ARN}:states:${HERE}:express:<Pipeline/StateMachine.Name>:reconcile-*`,

  // ---- The state machine's role (CDK's default policy): invokes the step functions, publishes the outcome event,
  // delivers its logs and traces. Only Step Functions of this account may assume it.
  `Pipeline/StateMachine/Role (trust): Allow Service:states.amazonaws.com sts:AssumeRole on this role if ArnLike aws:SourceArn=${ARN}:states:${HERE}:stateMachine:* and StringEquals aws:SourceAccount=<AWS::AccountId>`,
  'Pipeline/StateMachine/Role/DefaultPolicy: attached to <Pipeline/StateMachine/Role>',
  ...[
    'CheckRelease',
    'RecordRelease',
    'VerifySignature',
    'TakeLock',
    'RegisterRevision',
    'UpdateService',
    'CheckHealth',
    'RecordOutcome',
  ].flatMap((id) => [
    `Pipeline/StateMachine/Role/DefaultPolicy: Allow lambda:InvokeFunction on <Pipeline/${id}.Arn>`,
    // CDK's LambdaInvoke grant names the function's versions too; the pipeline publishes none.
    `Pipeline/StateMachine/Role/DefaultPolicy: Allow lambda:InvokeFunction on <Pipeline/${id}.Arn>:*`,
  ]),
  // The outcome event goes to the pipeline's own bus, nowhere else...
  'Pipeline/StateMachine/Role/DefaultPolicy: Allow events:PutEvents on <Pipeline/OutcomeBus.Arn>',
  // ... and only events of the pipeline's own source there.
  'Pipeline/StateMachine/Role/DefaultPolicy: Deny events:PutEvents on <Pipeline/OutcomeBus.Arn> if ForAnyValue:StringNotEquals events:source=model-rollout',
  // The bus itself refuses everyone else, whatever their own policies allow, and any other source.
  `Pipeline/OutcomeBus: Deny AWS:* events:PutEvents on ${ARN}:events:${HERE}:event-bus/ModelRollout-outcomes if ArnNotEquals aws:PrincipalArn=<Pipeline/StateMachine/Role.Arn>`,
  `Pipeline/OutcomeBus: Deny AWS:* events:PutEvents on ${ARN}:events:${HERE}:event-bus/ModelRollout-outcomes if ForAnyValue:StringNotEquals events:source=model-rollout`,
  // Execution logs to CloudWatch Logs: log delivery supports no resource-level permissions.
  'Pipeline/StateMachine/Role/DefaultPolicy: Allow logs:CreateLogDelivery on *',
  'Pipeline/StateMachine/Role/DefaultPolicy: Allow logs:GetLogDelivery on *',
  'Pipeline/StateMachine/Role/DefaultPolicy: Allow logs:UpdateLogDelivery on *',
  'Pipeline/StateMachine/Role/DefaultPolicy: Allow logs:DeleteLogDelivery on *',
  'Pipeline/StateMachine/Role/DefaultPolicy: Allow logs:ListLogDeliveries on *',
  'Pipeline/StateMachine/Role/DefaultPolicy: Allow logs:PutResourcePolicy on *',
  'Pipeline/StateMachine/Role/DefaultPolicy: Allow logs:DescribeResourcePolicies on *',
  'Pipeline/StateMachine/Role/DefaultPolicy: Allow logs:DescribeLogGroups on *',
  'Pipeline/StateMachine/Role/DefaultPolicy: Allow xray:PutTraceSegments on *',
  'Pipeline/StateMachine/Role/DefaultPolicy: Allow xray:PutTelemetryRecords on *',
  'Pipeline/StateMachine/Role/DefaultPolicy: Allow xray:GetSamplingRules on *',
  'Pipeline/StateMachine/Role/DefaultPolicy: Allow xray:GetSamplingTargets on *',

  // ---- The role EventBridge assumes to start an execution for a push (CDK's default policy): that state machine only.
  'Pipeline/StateMachine/EventsRole (trust): Allow Service:events.amazonaws.com sts:AssumeRole on this role',
  'Pipeline/StateMachine/EventsRole/DefaultPolicy: attached to <Pipeline/StateMachine/EventsRole>',
  'Pipeline/StateMachine/EventsRole/DefaultPolicy: Allow states:StartExecution on <Pipeline/StateMachine>',

  // ---- Key policies. The account's IAM policies decide who uses each key (CDK's default, the AWS-documented one).
  `Ledger/Key: Allow ${ACCOUNT_ROOT} kms:* on *`,
  `Pipeline/QueueKey: Allow ${ACCOUNT_ROOT} kms:* on *`,
  `Pipeline/LogsKey: Allow ${ACCOUNT_ROOT} kms:* on *`,
  // The functions' environment: Lambda decrypts it through grants it makes at deployment; no other statement.
  `Pipeline/EnvironmentKey: Allow ${ACCOUNT_ROOT} kms:* on *`,
  `Alerts/Key: Allow ${ACCOUNT_ROOT} kms:* on *`,
  // CloudWatch Logs encrypts this account's log groups in this Region (the statement of the CloudWatch Logs guide).
  ...['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'].map(
    (action) =>
      `Pipeline/LogsKey: Allow Service:logs.<AWS::Region>.amazonaws.com ${action} on * if ArnLike kms:EncryptionContext:aws:logs:arn=${ARN}:logs:${HERE}:log-group:*`,
  ),
  // EventBridge writes undeliverable events to the dead-letter queues, for this account's rules only.
  `Pipeline/QueueKey: Allow Service:events.amazonaws.com kms:Decrypt on * if ArnLike aws:SourceArn=${ARN}:events:${HERE}:rule/*`,
  `Pipeline/QueueKey: Allow Service:events.amazonaws.com kms:GenerateDataKey on * if ArnLike aws:SourceArn=${ARN}:events:${HERE}:rule/*`,
  // EventBridge (outcome rules) and CloudWatch (dead-letter alarms) publish to the encrypted alert topics.
  'Alerts/Key: Allow Service:events.amazonaws.com kms:Decrypt on *',
  'Alerts/Key: Allow Service:events.amazonaws.com kms:GenerateDataKey* on *',
  'Alerts/Key: Allow Service:cloudwatch.amazonaws.com kms:Decrypt on *',
  'Alerts/Key: Allow Service:cloudwatch.amazonaws.com kms:GenerateDataKey* on *',
  // SNS keeps what it could not deliver in the encrypted undelivered-alerts queue: this account's topics only.
  `Alerts/Key: Allow Service:sns.amazonaws.com kms:Decrypt on * if ArnLike aws:SourceArn=${ARN}:sns:${HERE}:*`,
  `Alerts/Key: Allow Service:sns.amazonaws.com kms:GenerateDataKey* on * if ArnLike aws:SourceArn=${ARN}:sns:${HERE}:*`,

  // ---- Dead-letter queues: TLS only; EventBridge sends what the named rule could not deliver.
  `Pipeline/TriggerDeadLetterQueue/Policy: Deny AWS:* sqs:* on <Pipeline/TriggerDeadLetterQueue.Arn>${ONLY_TLS}`,
  'Pipeline/TriggerDeadLetterQueue/Policy: Allow Service:events.amazonaws.com sqs:SendMessage on <Pipeline/TriggerDeadLetterQueue.Arn> if ArnEquals aws:SourceArn=<Pipeline/ImagePushed.Arn>',
  `Pipeline/EventDeadLetterQueue/Policy: Deny AWS:* sqs:* on <Pipeline/EventDeadLetterQueue.Arn>${ONLY_TLS}`,
  'Pipeline/EventDeadLetterQueue/Policy: Allow Service:events.amazonaws.com sqs:SendMessage on <Pipeline/EventDeadLetterQueue.Arn> if ArnEquals aws:SourceArn=<Pipeline/ExecutionEnded.Arn>',
  'Pipeline/EventDeadLetterQueue/Policy: Allow Service:events.amazonaws.com sqs:SendMessage on <Pipeline/EventDeadLetterQueue.Arn> if ArnEquals aws:SourceArn=<Pipeline/Reconciliation.Arn>',

  // ---- Alert topics: TLS only; EventBridge publishes the outcome events (CDK's SnsTopic target statement).
  ...['Critical', 'Warning', 'Info'].flatMap((severity) => [
    `Alerts/${severity}Topic/Policy: Deny * sns:Publish on <Alerts/${severity}Topic>${ONLY_TLS}`,
    `Alerts/${severity}Topic/Policy: Allow Service:events.amazonaws.com sns:Publish on <Alerts/${severity}Topic>`,
  ]),
  // CloudWatch publishes the alarms on the dead-letter queues and on the topics' failed deliveries, those alarms only;
  // the critical topic's delivery alarm goes to the warning topic too.
  'Alerts/CriticalTopic/Policy: Allow Service:cloudwatch.amazonaws.com sns:Publish on <Alerts/CriticalTopic> if ArnEquals aws:SourceArn=' +
    '<Alerts/DeadLetterAlarm0.Arn>|<Alerts/DeadLetterAlarm1.Arn>|<Alerts/DeadLetterAlarm2.Arn>|<Alerts/CriticalDeliveryFailureAlarm.Arn>|<Alerts/WarningDeliveryFailureAlarm.Arn>|<Alerts/InfoDeliveryFailureAlarm.Arn>',
  'Alerts/WarningTopic/Policy: Allow Service:cloudwatch.amazonaws.com sns:Publish on <Alerts/WarningTopic> if ArnEquals aws:SourceArn=<Alerts/CriticalDeliveryFailureAlarm.Arn>',

  // ---- Undelivered alerts: TLS only; each alert rule and each topic's e-mail subscriptions keep there what they could
  // not deliver.
  `Alerts/UndeliveredAlertsQueue/Policy: Deny AWS:* sqs:* on <Alerts/UndeliveredAlertsQueue.Arn>${ONLY_TLS}`,
  ...['CriticalOutcomeRule', 'WarningOutcomeRule', 'InfoOutcomeRule', 'ExecutionEndedRule'].map(
    (rule) =>
      `Alerts/UndeliveredAlertsQueue/Policy: Allow Service:events.amazonaws.com sqs:SendMessage on <Alerts/UndeliveredAlertsQueue.Arn> if ArnEquals aws:SourceArn=<Alerts/${rule}.Arn>`,
  ),
  ...['CriticalTopic', 'WarningTopic', 'InfoTopic'].map(
    (topic) =>
      `Alerts/UndeliveredAlertsQueue/Policy: Allow Service:sns.amazonaws.com sqs:SendMessage on <Alerts/UndeliveredAlertsQueue.Arn> if ArnEquals aws:SourceArn=<Alerts/${topic}>`,
  ),

  // ---- The interface endpoints the stack creates: only the roles of the functions that call the service, for its
  // actions (each role's own policy says which). The gateway endpoints keep AWS's default policy.
  `Network/EcsEndpoint: Allow * ecs:* on * if ArnEquals aws:PrincipalArn=${roles('CheckRelease', 'RegisterRevision', 'UpdateService', 'CheckHealth')}`,
  `Network/MonitoringEndpoint: Allow * cloudwatch:* on * if ArnEquals aws:PrincipalArn=${roles('CheckHealth')}`,
  `Network/StatesEndpoint: Allow * states:* on * if ArnEquals aws:PrincipalArn=${roles('FinaliseExecution', 'Reconcile')}`,
  `[variant] Network/KmsEndpoint: Allow * kms:* on * if ArnEquals aws:PrincipalArn=${roles('VerifySignature')}`,
  `[variant] Network/SignerEndpoint: Allow * signer:* on * if ArnEquals aws:PrincipalArn=${roles('VerifySignature')}`,
];

/** The only grants whose action holds a wildcard (`who: effect principal action`). */
const WILDCARD_ACTIONS: readonly string[] = [
  // Endpoint policies limit who may use an endpoint; what each may do there is its own role's policy.
  'Network/EcsEndpoint: Allow * ecs:*',
  'Network/MonitoringEndpoint: Allow * cloudwatch:*',
  'Network/StatesEndpoint: Allow * states:*',
  'Network/KmsEndpoint: Allow * kms:*',
  'Network/SignerEndpoint: Allow * signer:*',
  // The account's administrators manage each key through IAM (CDK's and AWS's default key policy).
  `Ledger/Key: Allow ${ACCOUNT_ROOT} kms:*`,
  `Pipeline/QueueKey: Allow ${ACCOUNT_ROOT} kms:*`,
  `Pipeline/LogsKey: Allow ${ACCOUNT_ROOT} kms:*`,
  `Pipeline/EnvironmentKey: Allow ${ACCOUNT_ROOT} kms:*`,
  `Alerts/Key: Allow ${ACCOUNT_ROOT} kms:*`,
  // The CloudWatch Logs guide's statement for encrypted log groups, limited to this account's log groups.
  'Pipeline/LogsKey: Allow Service:logs.<AWS::Region>.amazonaws.com kms:Encrypt*',
  'Pipeline/LogsKey: Allow Service:logs.<AWS::Region>.amazonaws.com kms:Decrypt*',
  'Pipeline/LogsKey: Allow Service:logs.<AWS::Region>.amazonaws.com kms:ReEncrypt*',
  'Pipeline/LogsKey: Allow Service:logs.<AWS::Region>.amazonaws.com kms:GenerateDataKey*',
  'Pipeline/LogsKey: Allow Service:logs.<AWS::Region>.amazonaws.com kms:Describe*',
  // The SNS guide's statement for encrypted topics (GenerateDataKey and GenerateDataKeyWithoutPlaintext).
  'Alerts/Key: Allow Service:events.amazonaws.com kms:GenerateDataKey*',
  'Alerts/Key: Allow Service:cloudwatch.amazonaws.com kms:GenerateDataKey*',
  // The same for SNS writing to the encrypted undelivered-alerts queue (the SNS guide's dead-letter queue statement).
  'Alerts/Key: Allow Service:sns.amazonaws.com kms:GenerateDataKey*',
  // Denies every queue action without TLS: a wildcard in a Deny narrows, it never widens.
  'Pipeline/TriggerDeadLetterQueue/Policy: Deny AWS:* sqs:*',
  'Pipeline/EventDeadLetterQueue/Policy: Deny AWS:* sqs:*',
  'Alerts/UndeliveredAlertsQueue/Policy: Deny AWS:* sqs:*',
];

/**
 * The only actions an identity policy may allow on `*`, each with why (IAM Service Authorization Reference): the action
 * has no resource type, or its resource exists only at run time.
 */
const ACTIONS_WITHOUT_RESOURCE: Readonly<Record<string, string>> = {
  'ec2:DescribeNetworkInterfaces': 'a Describe action: no resource types',
  'ec2:CreateNetworkInterface': 'Lambda creates the interfaces at run time, with names unknown at synth (AWSLambdaVPCAccessExecutionRole)',
  'ec2:DeleteNetworkInterface': 'the same interfaces, deleted by Lambda',
  'ec2:AssignPrivateIpAddresses': 'the same interfaces',
  'ec2:UnassignPrivateIpAddresses': 'the same interfaces',
  'xray:PutTraceSegments': 'X-Ray: no resource types',
  'xray:PutTelemetryRecords': 'X-Ray: no resource types',
  'xray:GetSamplingRules': 'X-Ray: no resource types',
  'xray:GetSamplingTargets': 'X-Ray: no resource types',
  'ecs:DescribeTaskDefinition': 'no resource-level permissions',
  'ecs:RegisterTaskDefinition': 'no resource-level permissions',
  'logs:CreateLogDelivery': 'vended log delivery: no resource types',
  'logs:GetLogDelivery': 'vended log delivery: no resource types',
  'logs:UpdateLogDelivery': 'vended log delivery: no resource types',
  'logs:DeleteLogDelivery': 'vended log delivery: no resource types',
  'logs:ListLogDeliveries': 'vended log delivery: no resource types',
  'logs:PutResourcePolicy': 'account-level resource policies: no resource types',
  'logs:DescribeResourcePolicies': 'a Describe action: no resource types',
  'logs:DescribeLogGroups': 'lists the log groups Step Functions may deliver to',
};

// ---------------------------------------------------------------------------------------------------------------------
// The configurations synthesized
// ---------------------------------------------------------------------------------------------------------------------

type ConfigurationName = 'example' | 'variant';

const folder = temporaryFolder('iam-allow-list');
afterAll(() => folder.remove());

/**
 * `example`: model-rollout.config.json as shipped. `variant`: the same with every conditional grant switched on or
 * off — the production service's cluster given as an ARN, KMS keys by alias name, alias ARN and key ARN, a signing
 * profile and a profile version of another account and Region (with the Notation test root pinned); the staging
 * service with no roles to pass and no alarms.
 */
const CONFIGURATIONS: Readonly<Record<ConfigurationName, () => string>> = {
  example: () => EXAMPLE_CONFIG,
  variant: () => {
    const example = readExampleConfig();
    const [sentiment, summarizer] = example.services;
    return writeConfig(folder.path, 'variant', {
      ...example,
      signerRootCertificate: 'test/fixtures/notation/test-only-root-ca.cert.pem',
      services: [
        {
          ...sentiment,
          cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/models-prod',
          signing: {
            ...sentiment.signing,
            kmsKeys: [
              'alias/model-signing',
              'arn:aws:kms:us-east-1:123456789012:alias/release-signing',
              'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
            ],
            signingProfiles: [
              'arn:aws:signer:us-east-1:123456789012:/signing-profiles/ModelRelease',
              'arn:aws:signer:us-west-2:210987654321:/signing-profiles/Vendor/abcdEFGH12',
            ],
          },
        },
        { ...summarizer, taskRoleArn: undefined, executionRoleArn: undefined, health: { ...summarizer.health, alarms: [] } },
      ],
    });
  },
};

interface Synthesized {
  configFile: string;
  grants: Grant[];
}

const synthesized = new Map<ConfigurationName, Synthesized>();

/** The configuration synthesized through buildApp (cdk-nag included), once per file. */
function synth(name: ConfigurationName): Synthesized {
  let result = synthesized.get(name);
  if (result === undefined) {
    const configFile = CONFIGURATIONS[name]();
    const { app, stack } = buildApp(configFile, {
      outdir: path.join(folder.path, `${name}.out`),
      context: { 'aws:cdk:bundling-stacks': [] },
    });
    app.synth();
    result = { configFile, grants: grantsOf(stack, Template.fromStack(stack).toJSON()) };
    synthesized.set(name, result);
  }
  return result;
}

/** The allow-list entries that apply to `name`, without their `[example]` / `[variant]` tag. */
function allowListOf(name: ConfigurationName): string[] {
  return ALLOW_LIST.flatMap((entry) => {
    const tagged = /^\[(example|variant)\] (.*)$/.exec(entry);
    return tagged === null ? [entry] : tagged[1] === name ? [tagged[2]!] : [];
  });
}

/** Grants not on the list, and entries of the list nothing granted. */
function compareWithAllowList(allowList: readonly string[], grants: readonly Grant[]): { unexpected: string[]; unseen: string[] } {
  const granted = new Set(grants.map((g) => g.line));
  const allowed = new Set(allowList);
  return { unexpected: [...granted].filter((line) => !allowed.has(line)), unseen: [...allowed].filter((line) => !granted.has(line)) };
}

function listed(title: string, lines: readonly string[]): string {
  return lines.length === 0 ? '' : `\n${title} (${lines.length}):\n${lines.map((line) => `  ${line}`).join('\n')}`;
}

/** `iam:Pass*` matches `iam:PassRole`; IAM action names are case-insensitive. */
function actionMatches(pattern: string, action: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.?+^$(){}[\]|\\]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  );
  return regex.test(action);
}

const NAMES: readonly ConfigurationName[] = ['example', 'variant'];

// ---------------------------------------------------------------------------------------------------------------------

describe('IAM allow-list', () => {
  it('has no entry twice', () => {
    for (const name of NAMES) {
      const entries = allowListOf(name);
      expect(entries.filter((entry, index) => entries.indexOf(entry) !== index)).toEqual([]);
    }
  });

  it.each(NAMES)('%s configuration: grants exactly what the allow-list names', (name) => {
    const { unexpected, unseen } = compareWithAllowList(allowListOf(name), synth(name).grants);
    const message =
      listed('Granted but not on the allow-list (review, then add to ALLOW_LIST)', unexpected) +
      listed('On the allow-list but not granted (remove from ALLOW_LIST)', unseen);
    expect({ unexpected, unseen }, message).toEqual({ unexpected: [], unseen: [] });
  });

  it('allows a wildcard action only where WILDCARD_ACTIONS says why', () => {
    const wildcards = NAMES.flatMap((name) => synth(name).grants)
      .filter((g) => g.action.includes('*') || g.action.startsWith('not ') || g.principal.startsWith('not '))
      .map((g) => `${g.who}: ${g.effect} ${g.principal} ${g.action}`);
    const unexplained = [...new Set(wildcards)].filter((grant) => !WILDCARD_ACTIONS.includes(grant));
    expect(unexplained, listed('Wildcard actions not in WILDCARD_ACTIONS', unexplained)).toEqual([]);
    expect(WILDCARD_ACTIONS.filter((grant) => !wildcards.includes(grant))).toEqual([]);
  });

  it('passes roles only to ECS tasks, and only the task and execution roles the configuration names', () => {
    for (const name of NAMES) {
      const { configFile, grants } = synth(name);
      // The file as written, not as lib/config/ reads it.
      const { services } = JSON.parse(readFileSync(configFile, 'utf8')) as {
        services: { taskRoleArn?: string; executionRoleArn?: string }[];
      };
      const configured = services.flatMap((s) => [s.taskRoleArn, s.executionRoleArn].filter((arn) => arn !== undefined));
      const passRole = grants.filter((g) => g.effect === 'Allow' && actionMatches(g.action, 'iam:PassRole'));
      expect(
        passRole.filter(
          (g) => g.action !== 'iam:PassRole' || g.condition !== ' if StringEquals iam:PassedToService=ecs-tasks.amazonaws.com',
        ),
      ).toEqual([]);
      expect(passRole.map((g) => g.resource).sort()).toEqual([...new Set(configured)].sort());
    }
  });

  it('allows an action on * only when AWS offers no resource to name for it', () => {
    for (const name of NAMES) {
      // Identity policies only: in a key policy, `*` is the key itself.
      const onAnything = synth(name).grants.filter((g) => g.principal === '' && g.effect === 'Allow' && g.resource === '*');
      const scopable = onAnything.filter((g) => ACTIONS_WITHOUT_RESOURCE[g.action] === undefined).map((g) => g.line);
      expect(scopable, listed(`${name}: actions on * that AWS lets a policy scope`, scopable)).toEqual([]);
      expect(onAnything.length).toBeGreaterThan(0);
    }
  });

  it('reports a statement added to a function policy as the one grant not on the list', () => {
    // Without cdk-nag: the check under test must find the statement on its own.
    const config = loadConfig(EXAMPLE_CONFIG);
    const baseDir = path.dirname(EXAMPLE_CONFIG);
    const app = new App({ outdir: path.join(folder.path, 'extra.out'), context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new ModelRolloutStack(app, config.stackName, {
      config,
      catalog: toServiceCatalog(config, baseDir),
      signerRootCertificates: readSignerRootCertificate(config, baseDir),
    });
    stack.pipeline.policies['update-service'].addStatements(new iam.PolicyStatement({ actions: ['ecs:DeleteService'], resources: ['*'] }));

    const grants = grantsOf(stack, Template.fromStack(stack).toJSON());
    expect(compareWithAllowList(allowListOf('example'), grants)).toEqual({
      unexpected: ['Pipeline/UpdateServicePolicy: Allow ecs:DeleteService on *'],
      unseen: [],
    });
    expect(
      grants.filter((g) => g.principal === '' && g.resource === '*' && ACTIONS_WITHOUT_RESOURCE[g.action] === undefined).map((g) => g.line),
    ).toEqual(['Pipeline/UpdateServicePolicy: Allow ecs:DeleteService on *']);
  });
});
