/** What the Lambda entries read from their environment, once per cold start, failing loudly with the variable's name. */
import { serviceCatalogSchema, type ServiceCatalog } from '../contract';
import { FunctionMisconfiguredError } from '../errors';

export function requiredVariable(name: string): string {
  const value = process.env[name];
  if (!value) throw new FunctionMisconfiguredError(`${name} is not set: the stack sets it on every function that needs it.`);
  return value;
}

/**
 * The service catalog the function was bundled with: `cdk synth` writes it into the code of the functions that read it
 * (esbuild replaces SERVICE_CATALOG_JSON with the catalog's JSON), where no environment size limit applies. Unbundled
 * (the local run builds its handlers from the synthesized catalog instead), it is absent.
 */
declare const SERVICE_CATALOG_JSON: string | undefined;

export function bundledServiceCatalog(): ServiceCatalog {
  return readServiceCatalog(typeof SERVICE_CATALOG_JSON === 'string' ? SERVICE_CATALOG_JSON : undefined);
}

export function readServiceCatalog(json: string | undefined): ServiceCatalog {
  if (!json)
    throw new FunctionMisconfiguredError('This bundle carries no service catalog: `cdk synth` writes it into the functions that read it.');
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
