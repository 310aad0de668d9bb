/** Lambda entry of "Check release against policy": reads the catalog once per cold start; all logic lives in the step. */
import { ECSClient } from '@aws-sdk/client-ecs';
import { DeploymentTarget } from '../adapters/deployment-target';
import { bundledServiceCatalog } from '../shared/environment';
import { createCheckReleaseHandler } from '../steps/check-release';
import { logSdkVersions } from '../shared/aws-sdk';

logSdkVersions(['@aws-sdk/client-ecs']);

export const handler = createCheckReleaseHandler({
  catalog: bundledServiceCatalog(),
  target: new DeploymentTarget(new ECSClient({})),
});
