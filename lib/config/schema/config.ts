/** The whole configuration file: its top-level fields, the `alerts` section, and the rules that span sections. */
import * as z from 'zod';
import { SEVERITIES } from '../../../lambdas/contract/outcomes';
import { show } from '../messages';
import {
  CONCURRENCY,
  DEFAULT_CONCURRENCY_PER_FUNCTION,
  DEFAULT_RECONCILE_EVERY_MINUTES,
  needsSignerRoot,
  RECONCILE_MINUTES,
} from '../rules';
import { clusterNameOf } from '../../stages/resources';
import type { GrayReleaseConfig, RolloutConfig, ServiceConfig } from '../types';
import { existingFile, reportDuplicates, strictObject, wholeNumberBetween } from './fields';
import { networkSchema } from './network';
import { serviceSchema } from './service';

const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;
const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;

const emails = z.array(z.email()).default([]);

/** `alerts`: every list may be left out, and so may the whole block (prefault: parsed as `{}`). */
export const alertsSchema = strictObject({ critical: emails, warning: emails, info: emails }).prefault({});

/** The configuration file; key and certificate paths are checked relative to `baseDir` (the file's folder). */
export function configSchema(baseDir: string) {
  const config = strictObject({
    stackName: z.string().regex(STACK_NAME, {
      error: (iss) => `${show(iss.input)} is not a valid stack name (a letter, then letters, digits and hyphens, at most 128)`,
    }),
    account: z
      .string()
      .regex(ACCOUNT, { error: (iss) => `${show(iss.input)} is not a 12-digit AWS account ID` })
      .optional(),
    region: z
      .string()
      .regex(REGION, { error: (iss) => `${show(iss.input)} is not an AWS Region name like us-east-1` })
      .optional(),
    alerts: alertsSchema,
    signerRootCertificate: existingFile(baseDir).optional(),
    reconcileEveryMinutes: wholeNumberBetween(RECONCILE_MINUTES).default(DEFAULT_RECONCILE_EVERY_MINUTES),
    concurrencyPerFunction: z
      .union([z.literal('none'), wholeNumberBetween(CONCURRENCY, ', nor "none"')], {
        error: (iss) => `${show(iss.input)} is not a whole number from ${CONCURRENCY.min} to ${CONCURRENCY.max}, nor "none"`,
      })
      .default(DEFAULT_CONCURRENCY_PER_FUNCTION),
    network: networkSchema,
    services: z.array(serviceSchema(baseDir)).min(1, { error: 'must list at least one service' }),
  }).superRefine((config, ctx) => {
    checkEnvironment(config, ctx);
    checkSignerRoot(config, ctx);
    checkDuplicates(config, ctx);
    checkGrayReleases(config, ctx);
  });
  // Ties the schema to the documented interfaces: a field added to one and not the other fails to compile.
  return config satisfies z.ZodType<RolloutConfig>;
}

/** A lone account or region would silently leave the stack environment-agnostic. */
function checkEnvironment(config: Pick<RolloutConfig, 'account' | 'region'>, ctx: z.RefinementCtx): void {
  if ((config.account === undefined) !== (config.region === undefined)) {
    const [set, missing] = config.account === undefined ? (['region', 'account'] as const) : (['account', 'region'] as const);
    ctx.addIssue({
      code: 'custom',
      path: [set],
      input: config[set],
      message: `${show(config[set])} is set but ${missing} is not: set both to pin the stack's environment, or neither`,
    });
  }
}

/** The rule `requireSignerRoots` checks on the catalog, worded here per service with its field path. */
function checkSignerRoot(config: Pick<RolloutConfig, 'services' | 'signerRootCertificate'>, ctx: z.RefinementCtx): void {
  config.services.forEach((service, index) => {
    if (needsSignerRoot(service.signing.signingProfiles) && config.signerRootCertificate === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['services', index, 'signing', 'signingProfiles'],
        input: service.signing.signingProfiles,
        message: 'trusts AWS Signer signing profiles, so signerRootCertificate must name the pinned AWS Signer root certificate file',
      });
    }
  });
}

/** Alert addresses, service names and repositories are each listed once. */
function checkDuplicates(config: Pick<RolloutConfig, 'alerts' | 'services'>, ctx: z.RefinementCtx): void {
  for (const severity of SEVERITIES) {
    reportDuplicates(
      ctx,
      config.alerts[severity],
      ['alerts', severity],
      (address, first) => `${show(address)} is already listed at alerts.${severity}[${first}]`,
    );
  }
  reportDuplicates(
    ctx,
    config.services.map((s) => s.name),
    ['services'],
    (name, first) => `${show(name)} is already the name of services[${first}]; service names must be unique`,
    'name',
  );
  reportDuplicates(
    ctx,
    config.services.map((s) => s.repository),
    ['services'],
    (repository, first) =>
      `${show(repository)} is already configured for service ${show(config.services[first]!.name)} (services[${first}]); ` +
      'this version starts one execution per push, so a repository can feed at most one service',
    'repository',
  );
}

/** What a gray release moves: reported at the later service, naming the earlier one. */
interface Claim {
  readonly index: number;
  /** e.g. `the canary target group`. */
  readonly role: string;
}

/**
 * Gray releases of different services share nothing they move: no canary service (cluster and name), no listener rule
 * or listener whose weights they write, no target group. And no canary is another service's ECS service: a canary is
 * scaled to 0 after each release. (A canary that is its own service's `service` is reported by the service's schema.)
 */
function checkGrayReleases(config: Pick<RolloutConfig, 'services'>, ctx: z.RefinementCtx): void {
  const { services } = config;
  const ecsService = (service: ServiceConfig, name: string) => `${clusterNameOf(service.cluster)}/${name}`;
  const stableServices = services.map((service) => ecsService(service, service.service));
  const claims = new Map<string, Claim>();
  const describe = (value: string, first: Claim) =>
    `${show(value)} is already ${first.role} of service ${show(services[first.index]!.name)} (services[${first.index}])`;
  /** Claims `key` for service `index`; when an earlier service holds it, reports the issue at `field` of the traffic block. */
  const claim = (key: string, index: number, role: string, field: keyof GrayReleaseConfig['traffic'], value: string, why: string) => {
    const first = claims.get(key);
    if (first === undefined) {
      claims.set(key, { index, role });
      return;
    }
    if (first.index === index) return; // within one service: the release schema's own check (e.g. the same target group twice)
    ctx.addIssue({
      code: 'custom',
      path: ['services', index, 'release', 'traffic', field],
      input: value,
      message: `${describe(value, first)}; ${why}`,
    });
  };

  services.forEach((service, index) => {
    const { release } = service;
    if (release.strategy !== 'gray') return;
    const { traffic } = release;
    const canary = ecsService(service, traffic.canaryService);
    const stableOwner = stableServices.findIndex((stable, other) => other !== index && stable === canary);
    if (stableOwner >= 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['services', index, 'release', 'traffic', 'canaryService'],
        input: traffic.canaryService,
        message:
          `${show(traffic.canaryService)} is the ECS service of service ${show(services[stableOwner]!.name)} ` +
          `(services[${stableOwner}]) in the same cluster: a canary is scaled to 0 after each release, so it cannot serve another service`,
      });
    } else {
      claim(
        `canary:${canary}`,
        index,
        'the canary service',
        'canaryService',
        traffic.canaryService,
        "two gray releases would scale and replace each other's canary",
      );
    }
    const [routeField, routeRole, routeArn] =
      traffic.listenerRuleArn !== undefined
        ? (['listenerRuleArn', 'the listener rule', traffic.listenerRuleArn] as const)
        : (['listenerArn', 'the listener', traffic.listenerArn] as const);
    claim(`route:${routeArn}`, index, routeRole, routeField, routeArn, "two gray releases would overwrite each other's weights");
    for (const [field, role] of [
      ['stableTargetGroupArn', 'the stable target group'],
      ['canaryTargetGroupArn', 'the canary target group'],
    ] as const) {
      const why = "a target group serves one service: two would share its weight and mix their metrics in each other's analysis";
      claim(`target-group:${traffic[field]}`, index, role, field, traffic[field], why);
    }
  });
}
