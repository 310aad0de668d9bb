/** Lambda entry of "Check release against policy": reads the catalog once per cold start; all logic lives in the step. */
import { ECSClient } from '@aws-sdk/client-ecs';
import { serviceCatalogSchema, type ServiceCatalog } from '../contract';
import { DeploymentTarget } from '../adapters/deployment-target';
import { createCheckReleaseHandler } from '../steps/check-release';

function readServiceCatalog(json: string | undefined): ServiceCatalog {
  if (!json) throw new Error('SERVICE_CATALOG is not set: it must hold the JSON array of configured services.');
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new Error(`SERVICE_CATALOG is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = serviceCatalogSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new Error(`SERVICE_CATALOG is not a valid service catalog: ${problems.join('; ')}`);
  }
  return parsed.data;
}

export const handler = createCheckReleaseHandler({
  catalog: readServiceCatalog(process.env.SERVICE_CATALOG),
  target: new DeploymentTarget(new ECSClient({})),
});
