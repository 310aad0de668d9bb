/** "Check release against policy": which service the pushed image is for, what it runs now, and whether the tag may replace it. */
import type { CatalogEntry, ServiceCatalog } from '../contract/catalog';
import { ecrPushEventSchema, type EcrPushEvent } from '../contract/start-events';
import type { Release, ReleaseCheckResult, Subject } from '../contract/steps';
import type { DeploymentTarget } from './ports/deployment-target';
import { evaluateTagPolicy, refuseUnsupportedController } from '../decisions/tag-policy';
import { logger } from '../shared/logger';
import { parseTriggerEvent, triggerOf } from './step-input';

export interface CheckReleaseDependencies {
  catalog: ServiceCatalog;
  target: Pick<DeploymentTarget, 'describeRunning'>;
}

export function createCheckReleaseHandler({ catalog, target }: CheckReleaseDependencies) {
  return async (event: unknown): Promise<ReleaseCheckResult> => {
    const push = parseTriggerEvent(ecrPushEventSchema, event, 'ECR push event');
    const release = releaseOf(push);
    const service = catalog.find((entry) => entry.repository === release.repositoryName) ?? null;
    logger.resetKeys();
    logger.appendKeys({ targetService: service?.name ?? null, version: release.tag, digest: release.digest });
    const subject = subjectOf(release, service);
    const trigger = triggerOf(push);

    if (!service) {
      const reason = `Repository "${release.repositoryName}" is not configured for any service, so nothing is deployed.`;
      logger.warn('Release rejected', { reason });
      return {
        subject,
        trigger,
        release,
        service,
        running: null,
        policy: { verdict: 'rejected', code: 'repository-not-configured', reason },
      };
    }

    const running = await target.describeRunning(service);
    const unsupported = refuseUnsupportedController({ service: service.name, deploymentController: running.deploymentController });
    if (unsupported) {
      logger.info('Release rejected', { reason: unsupported.reason });
      return { subject, trigger, release, service, running, policy: unsupported };
    }
    const policy = evaluateTagPolicy({
      tag: release.tag,
      environment: service.environment,
      runningVersion: running.version,
      allowDowngrade: trigger.kind === 'rollback',
    });
    logger.info('Release checked against policy', { policy, running, trigger });
    return { subject, trigger, release, service, running, policy };
  };
}

function releaseOf({ account, region, detail }: EcrPushEvent): Release {
  // China regions live in their own partition with its own domain.
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  const repositoryUri = `${account}.dkr.ecr.${region}.${domain}/${detail['repository-name']}`;
  return {
    repositoryName: detail['repository-name'],
    repositoryUri,
    tag: detail['image-tag'],
    digest: detail['image-digest'],
    imageUri: `${repositoryUri}@${detail['image-digest']}`,
  };
}

function subjectOf(release: Release, service: CatalogEntry | null): Subject {
  return {
    service: service?.name ?? null,
    environment: service?.environment ?? null,
    repository: release.repositoryName,
    tag: release.tag,
    digest: release.digest,
  };
}
