/**
 * The reconciliation (target of a schedule, not a state): ECR events are best-effort, so for each configured service
 * the newest tag the release policy allows is compared with the ledger, and a digest the ledger never saw is released
 * as if its push event had arrived. A digest the ledger has seen — whatever was decided for it — is left alone.
 */
import { startEvent, type CatalogEntry, type ServiceCatalog } from '../contract';
import type { PipelineExecutions } from '../adapters/executions';
import { executionName } from '../adapters/executions';
import type { DeploymentLedger } from '../adapters/ledger';
import type { ImageRegistry } from '../adapters/image-registry';
import { newestAllowedRelease } from '../decisions/reconciliation';
import type { Clock } from '../shared/clock';
import { logger } from '../shared/logger';

export interface ReconcileDependencies {
  catalog: ServiceCatalog;
  registry: Pick<ImageRegistry, 'listTaggedImages'>;
  ledger: Pick<DeploymentLedger, 'getDigest'>;
  executions: Pick<PipelineExecutions, 'start'>;
  account: string;
  region: string;
  clock: Clock;
}

export interface ServiceReconciliation {
  service: string;
  action: 'nothing-tagged' | 'already-decided' | 'started' | 'already-started';
  tag: string | null;
  digest: string | null;
  executionArn: string | null;
}

export function createReconcileHandler(deps: ReconcileDependencies) {
  return async (): Promise<{ services: ServiceReconciliation[] }> => {
    logger.resetKeys();
    const services: ServiceReconciliation[] = [];
    // One service at a time: a failing repository must not hide the others, so its error is logged and rethrown at the end.
    const failures: { service: string; error: Error }[] = [];
    for (const service of deps.catalog) {
      try {
        services.push(await reconcileService(deps, service));
      } catch (error) {
        logger.error('Service could not be reconciled', { service: service.name, error: error as Error });
        failures.push({ service: service.name, error: error as Error });
      }
    }
    logger.info('Reconciliation done', { services });
    if (failures.length > 0) {
      const each = failures.map((f) => `${f.service}: ${f.error.message}`).join('; ');
      throw new AggregateError(failures.map((f) => f.error), `Reconciliation failed for ${failures.length} service(s): ${each}`);
    }
    return { services };
  };
}

async function reconcileService(deps: ReconcileDependencies, service: CatalogEntry): Promise<ServiceReconciliation> {
  const newest = newestAllowedRelease(await deps.registry.listTaggedImages(service.repositoryName), service.environment);
  if (!newest) return { service: service.name, action: 'nothing-tagged', tag: null, digest: null, executionArn: null };
  const base = { service: service.name, tag: newest.tag, digest: newest.digest };
  if (await deps.ledger.getDigest(service.name, newest.digest)) return { ...base, action: 'already-decided', executionArn: null };

  const now = deps.clock();
  const event = startEvent(
    'reconciliation',
    { id: `reconciliation-${newest.digest.slice(7, 19)}-${now.getTime()}`, account: deps.account, region: deps.region, time: now.toISOString() },
    { result: 'SUCCESS', 'repository-name': service.repositoryName, 'image-digest': newest.digest, 'action-type': 'PUSH', 'image-tag': newest.tag },
  );
  // Named after the digest: a second reconciliation before the first execution recorded it starts nothing.
  const started = await deps.executions.start(executionName('reconcile', service.name, newest.digest.slice(7, 31)), event);
  logger.info('Missed release started', { service: service.name, tag: newest.tag, digest: newest.digest, started });
  return { ...base, action: started.alreadyStarted ? 'already-started' : 'started', executionArn: started.executionArn };
}
