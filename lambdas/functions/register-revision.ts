/** Lambda entry of "Register new task definition revision": wires the real ECS client; all logic lives in the step. */
import { ECSClient } from '@aws-sdk/client-ecs';
import { DeploymentTarget } from '../adapters/deployment-target';
import { createRegisterRevisionHandler } from '../steps/register-revision';
import { logSdkVersions } from '../shared/aws-sdk';

logSdkVersions(['@aws-sdk/client-ecs']);

export const handler = createRegisterRevisionHandler({ target: new DeploymentTarget(new ECSClient({})) });
