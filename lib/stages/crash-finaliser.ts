/**
 * Stage "Crash finaliser", beside the runbook: an execution that ended FAILED, TIMED_OUT or ABORTED never reached its
 * outcome states, so a rule on its status change runs function finalise-execution, which finalises its ledger record and
 * frees its service lock once Step Functions confirms the execution ended.
 */
import * as events from 'aws-cdk-lib/aws-events';
import type * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { CRASH_STATUS_OF } from '../../lambdas/contract/ledger-records';
import { executionArns } from './execution-arns';
import type { PipelineFunctionSpec } from './stage';

export const FINALISE_EXECUTION: PipelineFunctionSpec = {
  name: 'finalise-execution',
  readsCatalog: true,
  readsStateMachineArn: true,
  ledger: {
    actions: ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
    writes: true,
    queriesIndex: true,
  },
  calls: () => ['dynamodb', 'states'],
  // It frees a lock only once Step Functions confirms the execution ended (an event can be replayed, or the execution
  // redriven since): any execution of this state machine.
  permissions: ({ stateMachine }) => [
    {
      actions: ['states:DescribeExecution'],
      resources: executionArns(stateMachine, '*'),
      whyWildcard: "executions are named when they start; limited to this state machine's executions, any of which may end.",
    },
  ],
};

/** The rule that sends every failed, timed-out or aborted execution of `stateMachine` to the finaliser. */
export function crashFinaliserRule(scope: Construct, stateMachine: sfn.StateMachine, target: targets.LambdaFunction): events.Rule {
  return new events.Rule(scope, 'ExecutionEnded', {
    description:
      'Finalises the ledger record of every rollout execution that ended FAILED, TIMED_OUT or ABORTED, and frees its service lock',
    eventPattern: {
      source: ['aws.states'],
      detailType: ['Step Functions Execution Status Change'],
      // All failures, not only the unexpected ones: a record already final is left alone, so this costs one lookup.
      detail: { stateMachineArn: [stateMachine.stateMachineArn], status: Object.keys(CRASH_STATUS_OF) },
    },
    targets: [target],
  });
}
