/** What the Lambda entries read from their environment, once per cold start, failing loudly with the variable's name. */
import { serviceCatalogSchema, type ServiceCatalog } from '../contract';

export function requiredVariable(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the stack sets it on every function that needs it.`);
  return value;
}

export function readServiceCatalog(json: string | undefined): ServiceCatalog {
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
