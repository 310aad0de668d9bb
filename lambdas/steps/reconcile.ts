/**
 * The reconciliation (target of a schedule, not a state): ECR events are best-effort, so for each configured service
 * the newest tag the release policy allows is compared with the ledger, and a digest the ledger never saw is released
 * as if its push event had arrived. A digest the ledger has seen — whatever was decided for it — is left alone.
 *
 * Each start is named after the digest, so a second reconciliation while the first execution runs starts nothing. Step
 * Functions keeps a closed execution's name for 90 days (StartExecution API reference, "name":
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html): when the execution of that
 * name has closed and the ledger still does not know the digest (it failed before "Record the release in the ledger"),
 * the release is started again under the next attempt's name, up to MAX_RECONCILE_ATTEMPTS.
 */
import type { CatalogEntry, ServiceCatalog } from '../contract/catalog';
import { startEvent } from '../contract/start-events';
import type { DeploymentLedger } from './ports/deployment-ledger';
import type { ImageRegistry } from './ports/image-registry';
import { executionName, OPEN_EXECUTION_STATUSES, type PipelineExecutions } from './ports/pipeline-executions';
import { newestAllowedRelease } from '../decisions/reconciliation';
import type { Clock } from '../shared/clock';
import { logger } from '../shared/logger';
import { ReconciliationFailedError } from '../errors';

export interface ReconcileDependencies {
  catalog: ServiceCatalog;
  registry: Pick<ImageRegistry, 'listTaggedImages'>;
  ledger: Pick<DeploymentLedger, 'getDigest'>;
  executions: Pick<PipelineExecutions, 'start' | 'describe'>;
  account: string;
  region: string;
  clock: Clock;
}

export interface ServiceReconciliation {
  service: string;
  /** gave-up: every attempt's execution closed without the ledger recording the digest (each one alerted as it ended). */
  action: 'nothing-tagged' | 'already-decided' | 'started' | 'already-started' | 'gave-up';
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
      throw new ReconciliationFailedError(
        `Reconciliation failed for ${failures.length} service(s): ${each}`,
        failures.map((f) => f.error),
      );
    }
    return { services };
  };
}

async function reconcileService(deps: ReconcileDependencies, service: CatalogEntry): Promise<ServiceReconciliation> {
  const newest = newestAllowedRelease(await deps.registry.listTaggedImages(service.repository), service.environment);
  if (!newest) return { service: service.name, action: 'nothing-tagged', tag: null, digest: null, executionArn: null };
  const base = { service: service.name, tag: newest.tag, digest: newest.digest };
  if (await deps.ledger.getDigest(service.name, newest.digest)) return { ...base, action: 'already-decided', executionArn: null };

  const now = deps.clock();
  const event = startEvent(
    'reconciliation',
    {
      id: `reconciliation-${newest.digest.slice(7, 19)}-${now.getTime()}`,
      account: deps.account,
      region: deps.region,
      time: now.toISOString(),
    },
    {
      result: 'SUCCESS',
      'repository-name': service.repository,
      'image-digest': newest.digest,
      'action-type': 'PUSH',
      'image-tag': newest.tag,
    },
  );
  for (let attempt = 1; attempt <= MAX_RECONCILE_ATTEMPTS; attempt++) {
    const name = reconcileExecutionName(service.name, newest.digest, attempt);
    const started = await deps.executions.start(name, event);
    if (!started.alreadyStarted) {
      logger.info('Missed release started', { targetService: service.name, tag: newest.tag, digest: newest.digest, name, started });
      return { ...base, action: 'started', executionArn: started.executionArn };
    }
    const existing = await deps.executions.describe(name);
    // Missing right after "already exists": DescribeExecution is eventually consistent; it was just started.
    if (existing.status === 'missing' || OPEN_EXECUTION_STATUSES.includes(existing.status)) {
      return { ...base, action: 'already-started', executionArn: existing.executionArn };
    }
    // A closed execution may have recorded the digest after this reconciliation first looked (a Fail state ends most
    // outcomes): then the release was decided, and starting it again would only end duplicate or refused.
    if (await deps.ledger.getDigest(service.name, newest.digest)) return { ...base, action: 'already-decided', executionArn: null };
    // Its crash alerted already; this is the retry the 90-day name rule would otherwise prevent.
    logger.info('The execution for the missed release closed before the ledger recorded it; starting it again', {
      targetService: service.name,
      tag: newest.tag,
      digest: newest.digest,
      closed: existing,
    });
  }
  logger.error('Missed release not started: every attempt closed before the ledger recorded it', {
    targetService: service.name,
    tag: newest.tag,
    digest: newest.digest,
    attempts: MAX_RECONCILE_ATTEMPTS,
  });
  return { ...base, action: 'gave-up', executionArn: null };
}

/** How many executions the reconciliation starts for one missed digest (each closed before recording it) before giving up. */
export const MAX_RECONCILE_ATTEMPTS = 5;

/**
 * `reconcile-<service>-<24 hex of the digest>` for the first attempt, `…-<attempt>` after: the same names for the same
 * digest in every reconciliation, so two reconciliations at once start the same one. The digest part and the attempt
 * are kept whole; only the service name is shortened to fit the 80 characters Step Functions allows.
 */
export function reconcileExecutionName(service: string, digest: string, attempt: number): string {
  const hex = digest.slice(7, 31);
  const suffix = attempt === 1 ? '' : `-${attempt}`;
  return `${executionName('reconcile', service).slice(0, 80 - 1 - hex.length - suffix.length)}-${hex}${suffix}`;
}
