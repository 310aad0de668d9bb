/** The pipeline's customer-managed keys and dead-letter queues. */
import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { acknowledge } from '../nag';

/** The log groups' key: CloudWatch Logs may use it for this account's log groups in this Region only. */
export function logsEncryptionKey(scope: Construct): kms.Key {
  const stack = Stack.of(scope);
  const key = new kms.Key(scope, 'LogsKey', {
    description: 'Encrypts the model-rollout log groups (functions and executions)',
    enableKeyRotation: true,
  });
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*` },
      },
    }),
  );
  return key;
}

/**
 * The functions' environment key. Lambda decrypts the variables through a grant to each function's role, which it
 * creates when the function is deployed: the roles need no KMS permission of their own.
 */
export function environmentEncryptionKey(scope: Construct): kms.Key {
  return new kms.Key(scope, 'EnvironmentKey', {
    description: "Encrypts the model-rollout functions' environment variables (the pinned AWS Signer root among them)",
    enableKeyRotation: true,
  });
}

/**
 * The dead-letter queues' key. EventBridge writes events it could not deliver to the queues, encrypted. Rules of this
 * account only; not this stack's rules by ARN, which would make the key depend on the rules that depend on the queues
 * through the key.
 */
export function queueEncryptionKey(scope: Construct): kms.Key {
  const stack = Stack.of(scope);
  const key = new kms.Key(scope, 'QueueKey', { description: 'Encrypts the model-rollout dead-letter queues', enableKeyRotation: true });
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: ['*'],
      conditions: { ArnLike: { 'aws:SourceArn': `arn:${stack.partition}:events:${stack.region}:${stack.account}:rule/*` } },
    }),
  );
  return key;
}

/** An SQS dead-letter queue: 14 days, encrypted with `key`, TLS only. */
export function deadLetterQueue(scope: Construct, id: string, key: kms.IKey, holds: string): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    retentionPeriod: Duration.days(14),
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: key,
    enforceSSL: true,
  });
  acknowledge(
    queue,
    'AwsSolutions-SQS3',
    `This queue is itself a dead-letter queue (${holds}); a dead-letter queue of a dead-letter queue would only move the same messages.`,
  );
  acknowledge(
    queue,
    'Serverless-SQSRedrivePolicy',
    `This queue is itself a dead-letter queue (${holds}); a redrive policy would only move the same messages to another queue.`,
  );
  return queue;
}
