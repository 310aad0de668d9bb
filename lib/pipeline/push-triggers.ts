/** The rules that start an execution for every image pushed to a configured repository. */
import { Duration } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { ServiceCatalog } from '../../lambdas/contract/catalog';
import { chunkedRules } from '../event-patterns';
import { acknowledge } from '../nag';

/**
 * ECR's "ECR Image Action" for a completed push to one of `repositories`, `tags` saying which
 * (https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html).
 */
export function completedPushesTo<Tags extends object>(repositories: readonly string[], tags: Tags) {
  return {
    source: ['aws.ecr'],
    'detail-type': ['ECR Image Action'],
    detail: { 'action-type': ['PUSH'], result: ['SUCCESS'], 'repository-name': [...repositories], ...tags },
  };
}

/** The trigger's pattern for `repositories`, as CloudFormation receives it. */
export function pushesTo(repositories: readonly string[]) {
  return completedPushesTo(repositories, {
    // Only tags the release policy can accept, which all start with "v" (lambdas/decisions/tag-policy.ts): cosign
    // `sha256-….sig` signatures, attestations, `latest` and untagged pushes (a multi-arch image's child manifests;
    // a missing image-tag never matches a prefix) start nothing. One short prefix: the pattern stays small.
    'image-tag': [{ prefix: 'v' }],
  });
}

/** One rule per group of repositories whose pattern fits EventBridge's pattern size quota: ImagePushed, ImagePushed2, … */
export function pushTriggers(
  scope: Construct,
  catalog: ServiceCatalog,
  stateMachine: sfn.StateMachine,
  deadLetterQueue: sqs.IQueue,
): events.Rule[] {
  const rules = chunkedRules(
    scope,
    {
      baseId: 'ImagePushed',
      description:
        'Starts a rollout for every image pushed to a configured repository under a tag the release policy can accept (vX.Y.Z…).',
      targets: [new targets.SfnStateMachine(stateMachine, { deadLetterQueue, retryAttempts: 8, maxEventAge: Duration.hours(2) })],
    },
    [...new Set(catalog.map((s) => s.repository))],
    pushesTo,
  );
  acknowledge(
    stateMachine.node.findChild('EventsRole'),
    'NIST.800.53.R5-IAMNoInlinePolicy',
    "The role EventBridge assumes to start an execution for a push; CDK writes its one statement (states:StartExecution on this state machine) into the role's own default policy.",
  );
  return rules;
}
