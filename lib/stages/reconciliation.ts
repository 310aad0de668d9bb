/**
 * Stage "Reconciliation", beside the runbook: on a schedule, function reconcile compares each repository's newest allowed
 * tag with the ledger and starts the pipeline for a release no push event announced.
 */
import type { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type * as targets from 'aws-cdk-lib/aws-events-targets';
import type { Construct } from 'constructs';
import { executionArns } from './execution-arns';
import { repositoryArns } from './resources';
import type { PipelineFunctionSpec } from './stage';

export const RECONCILE: PipelineFunctionSpec = {
  name: 'reconcile',
  readsCatalog: true,
  readsStateMachineArn: true,
  ledger: { actions: ['dynamodb:GetItem'], writes: false },
  calls: () => ['ecr.api', 'dynamodb', 'states'],
  permissions: (context) => [
    { actions: ['ecr:DescribeImages'], resources: repositoryArns(context) },
    { actions: ['states:StartExecution'], resources: [context.stateMachine.stateMachineArn] },
    // Whether the execution of a taken name still runs (a closed one's name stays taken for 90 days): its own
    // executions only.
    {
      actions: ['states:DescribeExecution'],
      resources: executionArns(context.stateMachine, 'reconcile-*'),
      whyWildcard: "executions are named when they start; limited to this state machine's executions named reconcile-*.",
    },
  ],
};

/** The schedule that runs the reconciliation. */
export function reconciliationRule(scope: Construct, every: Duration, target: targets.LambdaFunction): events.Rule {
  return new events.Rule(scope, 'Reconciliation', {
    description: 'Releases the newest allowed tag of each configured repository when no push event announced it',
    schedule: events.Schedule.rate(every),
    targets: [target],
  });
}
