/** Lambda entry of "Update service to new revision" and "Roll back to previous revision"; all logic lives in the step. */
import { ECSClient } from '@aws-sdk/client-ecs';
import { DeploymentTarget } from '../adapters/deployment-target';
import { systemClock } from '../shared/clock';
import { createUpdateServiceHandler } from '../steps/update-service';
import { logSdkVersions } from '../shared/aws-sdk';

logSdkVersions(['@aws-sdk/client-ecs']);

export const handler = createUpdateServiceHandler({ target: new DeploymentTarget(new ECSClient({})), clock: systemClock });
