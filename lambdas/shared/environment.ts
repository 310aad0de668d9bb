/** What the Lambda entries read from their environment, once per cold start, failing loudly with the variable's name. */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { serviceCatalogSchema, type ServiceCatalog } from '../contract/catalog';
import { FunctionMisconfiguredError } from '../errors';

export function requiredVariable(name: string): string {
  const value = process.env[name];
  if (!value) throw new FunctionMisconfiguredError(`${name} is not set: the stack sets it on every function that needs it.`);
  return value;
}

/** The service catalog's file in the code package of the functions that read it (beside index.js). */
export const SERVICE_CATALOG_FILE = 'service-catalog.json';

/**
 * The service catalog the function was deployed with: `cdk synth` copies it into the code package of the functions
 * that read it, where no environment size limit applies. Read once, at cold start.
 */
export function bundledServiceCatalog(): ServiceCatalog {
  const file = path.join(__dirname, SERVICE_CATALOG_FILE);
  return readServiceCatalog(existsSync(file) ? readFileSync(file, 'utf8') : undefined);
}

export function readServiceCatalog(json: string | undefined): ServiceCatalog {
  if (!json)
    throw new FunctionMisconfiguredError(
      `This code package carries no ${SERVICE_CATALOG_FILE}: \`cdk synth\` copies it into the functions that read it.`,
    );
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new FunctionMisconfiguredError(`The bundled service catalog is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = serviceCatalogSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new FunctionMisconfiguredError(`The bundled service catalog is not valid: ${problems.join('; ')}`);
  }
  return parsed.data;
}
