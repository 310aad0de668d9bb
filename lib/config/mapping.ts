/** The configuration mapped to the service catalog the Lambda steps receive (lambdas/contract/catalog.ts). */
import * as path from 'node:path';
import { type ServiceCatalog, serviceCatalogSchema } from '../../lambdas/contract/catalog';
import type { ReleaseStrategy } from '../../lambdas/contract/release-strategy';
import { readPublicKey } from './key-files';
import type { ReleaseConfig, RolloutConfig } from './types';

/**
 * Builds the service catalog the Lambda steps receive: configuration names mapped to the contract's, key files read
 * into PEM text, deadlines and a gray release's durations in seconds.
 * @param baseDir folder that relative key file paths are resolved against (the configuration file's folder)
 * @throws ConfigError naming the service and the file when a key file is unreadable or not a supported public key
 */
export function toServiceCatalog(config: RolloutConfig, baseDir: string): ServiceCatalog {
  const catalog: ServiceCatalog = config.services.map((service, s) => {
    const publicKeys = service.signing.publicKeys.map((keyPath, k) => {
      const where = `services[${s}].signing.publicKeys[${k}] (service "${service.name}", file ${keyPath})`;
      return readPublicKey(path.resolve(baseDir, keyPath), where);
    });
    const { signing } = service;
    return {
      name: service.name,
      environment: service.environment,
      repository: service.repository,
      cluster: service.cluster,
      service: service.service,
      container: service.container,
      taskDefinitionFamily: service.taskDefinitionFamily,
      taskRoleArn: service.taskRoleArn ?? null,
      executionRoleArn: service.executionRoleArn ?? null,
      signing: {
        // The same key listed twice (e.g. under two spellings of its path) is trusted once.
        publicKeys: [...new Set(publicKeys)],
        kmsKeys: [...signing.kmsKeys],
        signingProfiles: [...signing.signingProfiles],
        threshold: signing.threshold,
        lateSignatureSeconds: signing.lateSignatureSeconds,
        pollSeconds: signing.pollSeconds,
      },
      health: {
        deadlineSeconds: service.health.deadlineMinutes * 60,
        pollSeconds: service.health.pollSeconds,
        alarms: [...service.health.alarms],
      },
      release: toReleaseStrategy(service.release),
    };
  });
  // The contract's own schema is what the Lambda steps parse at run time: fail at synth instead if they drift apart.
  return serviceCatalogSchema.parse(catalog);
}

/**
 * A service's `release` in the contract's terms: minutes become seconds, and the listener rule or listener becomes the
 * route of the weighted forward action.
 */
export function toReleaseStrategy(release: ReleaseConfig): ReleaseStrategy {
  if (release.strategy === 'rolling') return { strategy: 'rolling' };
  const { traffic, approval, analysis } = release;
  return {
    strategy: 'gray',
    traffic: {
      route:
        traffic.listenerRuleArn !== undefined
          ? { kind: 'listener-rule', arn: traffic.listenerRuleArn }
          : { kind: 'listener-default-action', arn: traffic.listenerArn },
      stableTargetGroupArn: traffic.stableTargetGroupArn,
      canaryTargetGroupArn: traffic.canaryTargetGroupArn,
      canaryService: traffic.canaryService,
      taskSecurityGroupId: traffic.taskSecurityGroupId,
    },
    steps: release.steps.map((step) => ({ weight: step.weight, bakeSeconds: step.bakeMinutes * 60, approval: step.approval })),
    approval: {
      beforeFirstStep: approval.beforeFirstStep,
      timeoutSeconds: approval.timeoutMinutes * 60,
      onTimeout: approval.onTimeout,
    },
    keepPreviousSeconds: release.keepPreviousMinutes * 60,
    canary: { minTasks: release.canary.minTasks },
    analysis: {
      intervalSeconds: analysis.intervalMinutes * 60,
      windowSeconds: analysis.windowMinutes * 60,
      metricLagSeconds: analysis.metricLagSeconds,
      minRequests: analysis.minRequests,
      maxErrorRatePercent: analysis.maxErrorRatePercent,
      maxErrorRateIncrease: analysis.maxErrorRateIncrease,
      maxP99Ms: analysis.maxP99Ms,
      maxP99Ratio: analysis.maxP99Ratio,
      failureLimit: analysis.failureLimit,
      inconclusiveLimit: analysis.inconclusiveLimit,
      onInconclusive: analysis.onInconclusive,
      alarms: [...analysis.alarms],
    },
    probe: { ...release.probe },
  };
}
