/**
 * Stage "Admission": is this push a release the policy accepts, and is it new? "Check release against policy" (function
 * check-release) reads the tag, the catalog and what the service runs; "Record the release in the ledger" (function
 * record-release) records it before any decision can end the execution, so every release is in the ledger; then two
 * Choices route it on the policy's verdict and the ledger's.
 */
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { at, EXECUTION_CONTEXT } from '../../lambdas/contract/execution-state';
import type { RecordReleaseInput } from '../../lambdas/steps/record-release';
import { STATES } from '../state-names';
import { DESCRIBE_TASK_DEFINITION, repositoryArns, serviceArns } from './resources';
import { verdictIs } from './routing';
import type { Outcomes, PipelineFunctionSpec, Stage, StageContext } from './stage';

export const CHECK_RELEASE: PipelineFunctionSpec = {
  name: 'check-release',
  readsCatalog: true,
  retriedOnTimeout: true,
  calls: () => ['ecs'],
  permissions: (context) => [{ actions: ['ecs:DescribeServices'], resources: serviceArns(context) }, DESCRIBE_TASK_DEFINITION],
};

export const RECORD_RELEASE: PipelineFunctionSpec = {
  name: 'record-release',
  ledger: { actions: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'], writes: true },
  // A conditional write that an execution repeating itself passes.
  retriedOnTimeout: true,
  // The model metadata: the image manifest and its config blob's labels (a pre-signed S3 URL).
  calls: () => ['ecr.api', 's3', 'dynamodb'],
  permissions: (context) => [{ actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], resources: repositoryArns(context) }],
};

/** "Check release against policy" … "Is the release new?"; a new, allowed release goes on to `next`. */
export const ADMISSION: Stage = { functions: [CHECK_RELEASE, RECORD_RELEASE], states: admission };

function admission(context: StageContext, outcomes: Outcomes, next: sfn.IChainable): sfn.IChainable {
  const { scope } = context;
  // No payload and no ResultPath: the step receives the start event as it is, and its result becomes the state.
  const checkRelease = context.invoke(STATES.checkRelease, 'check-release', undefined, undefined);
  const recordRelease = context.invoke<RecordReleaseInput>(
    STATES.recordRelease,
    'record-release',
    {
      subject: at('subject'),
      trigger: at('trigger'),
      release: at('release'),
      service: at('service'),
      running: at('running'),
      policy: at('policy'),
      executionArn: EXECUTION_CONTEXT.executionArn,
      startedAt: EXECUTION_CONTEXT.startTime,
    },
    at('ledger'),
  );
  const isReleaseAllowed = new sfn.Choice(scope, STATES.isReleaseAllowed, { stateName: STATES.isReleaseAllowed });
  const isReleaseNew = new sfn.Choice(scope, STATES.isReleaseNew, { stateName: STATES.isReleaseNew });

  checkRelease.next(recordRelease).next(isReleaseAllowed);
  isReleaseAllowed
    // A lower version arriving while a higher one is being deployed lost a race: superseded, not a policy rejection.
    .when(verdictIs('ledger', 'superseded'), outcomes.supersededOnArrival)
    .when(verdictIs('policy', 'accepted'), isReleaseNew)
    .otherwise(outcomes.rejectedByPolicy);
  isReleaseNew
    .when(verdictIs('ledger', 'duplicate'), outcomes.duplicate)
    .when(verdictIs('ledger', 'refused'), outcomes.refused)
    .when(verdictIs('ledger', 'rejected'), outcomes.tagReused)
    .otherwise(next);
  return checkRelease;
}
