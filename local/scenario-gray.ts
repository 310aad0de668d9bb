/**
 * The gray-release part of a scenario's account, for a service whose catalog entry says `release.strategy: "gray"`:
 * what the user's own stack declares beside the stable service (GrayReleaseTarget, lib/gray-release-target.ts), at the
 * configured ARNs, and the requests that reach it.
 *
 * - The internal ALB: its HTTPS listener, and the weighted forward action at rest (stable 100 / canary 0) in a listener
 *   rule (priority 10, path `/<service name>/*`, with a 404 as the listener's default action) or in the listener's
 *   default action, whichever the configuration's route names; the two target groups (port 8080, `ip` targets, as the
 *   simulated task definition maps its container).
 * - The canary ECS service: the stable service's cluster, task definition revision and container, desired count 0 (the
 *   construct declares none; ECS starts such a service with one task, which the README tells users to stop before the
 *   first gray release), circuit breaker without rollback.
 * - The traffic (local/simulated/alb-traffic.ts): `running.requestsPerMinute` (default 600) requests a minute, split
 *   between the target groups by the weights the load balancer routes by at the start of each minute (after a written
 *   rule has propagated: local/simulated/elbv2.ts); each group's requests answered as the image served in that minute
 *   by the ECS service behind it (stable group ↔ stable service, canary group ↔ canary service; ecs-served.ts) behaves,
 *   nothing when that service ran no task. Behaviours by image tag: `running.traffic` and each push's `traffic`.
 *   Requests a group with no task would get are not modelled (no 503s: its minute has no datapoints at all).
 * - The health endpoints (local/simulated/health-endpoints.ts): each task answers the probe as its image's tag says,
 *   `running.probe` and each push's `probe` (default 200 in 20 ms).
 * - The targets: ECS registers each service's tasks with its target group (the stable service's, attached here, healthy
 *   already; the canary's as they start: local/simulated/ecs-tasks.ts), and their health endpoints answer the probe
 *   (local/simulated/health-endpoints.ts).
 */
import type { Action } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { CatalogEntry } from '../lambdas/contract/catalog';
import type { GrayRelease, TrafficRoute } from '../lambdas/contract/release-strategy';
import type { ScenarioImages } from './scenario-account';
import { isExternal, isPush, type Scenario } from './scenario';
import type { SimulatedAccount } from './simulated-account';
import { parseElbArn } from './simulated/elbv2-arns';

/** Requests a minute on the gray release's route when the scenario does not say (`running.requestsPerMinute`). */
export const DEFAULT_REQUESTS_PER_MINUTE = 600;
/** The port the simulated task definition maps its container to (local/simulated/ecs-task-definitions.ts). */
const TASK_PORT = 8080;

/** The gray-release world of a scenario: where it is, and what a scenario step may do to it from outside the pipeline. */
export interface ScenarioGray {
  route: TrafficRoute;
  loadBalancerArn: string;
  listenerArn: string;
  stableTargetGroupArn: string;
  canaryTargetGroupArn: string;
  /** The canary ECS service, in the stable service's cluster. */
  canaryService: string;
  /**
   * A user's `cdk deploy` of the stack that declares the route: CloudFormation writes the template's actions (stable 100
   * / canary 0) back, with ModifyRule (or ModifyListener), routed after the same propagation delay as any write
   * (aws/aws-cdk#36649). [unverified: that CloudFormation updates the rule in place rather than replacing it.]
   */
  resetRoute(): void;
  /** The percent of requests each target group gets at `at` (default now): the weights the load balancer routes by. */
  routedWeights(at?: Date): { stable: number; canary: number };
}

/**
 * Sets up the gray-release world of `entry`, whose release is gray, in `account` (after the stable service exists).
 * @throws Error naming the scenario field when two pushes of one tag each say how it answers traffic, or the probe
 */
export function grayWorld(account: SimulatedAccount, scenario: Scenario, entry: CatalogEntry, images: ScenarioImages): ScenarioGray {
  const gray = entry.release as GrayRelease;
  const { route, stableTargetGroupArn, canaryTargetGroupArn, canaryService } = gray.traffic;
  const elb = account.services.elbv2;
  const kind = route.kind === 'listener-rule' ? 'listener-rule' : 'listener';
  const parsed = parseElbArn(route.arn, kind, account);
  const listenerArn = parsed.listenerArn ?? route.arn;
  const loadBalancerArn = parsed.loadBalancerArn!;
  const atRest = (): Action[] => [
    {
      Type: 'forward',
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: stableTargetGroupArn, Weight: 100 },
          { TargetGroupArn: canaryTargetGroupArn, Weight: 0 },
        ],
      },
    },
  ];
  elb.addLoadBalancerAt(loadBalancerArn);
  elb.addTargetGroupAt(stableTargetGroupArn, { port: TASK_PORT, targetType: 'ip' });
  elb.addTargetGroupAt(canaryTargetGroupArn, { port: TASK_PORT, targetType: 'ip' });
  const notFound: Action = { Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain' } };
  elb.addListenerAt(listenerArn, { port: 443, protocol: 'HTTPS', defaultActions: route.kind === 'listener-rule' ? [notFound] : atRest() });
  if (route.kind === 'listener-rule') {
    elb.addRuleAt(route.arn, {
      priority: 10,
      conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: [`/${entry.name}/*`] } }],
      actions: atRest(),
    });
  }
  createCanaryService(account, entry, gray);
  connectTraffic(account, scenario, entry, images, { loadBalancerArn, route, stableTargetGroupArn, canaryTargetGroupArn, canaryService });
  const answers = new Map(imageBehaviours(scenario, 'probe').map(({ tag, behaviour }) => [tag, behaviour]));
  account.services.healthEndpoints.answerAs((image) => answers.get(images.tagOfImage(image)));

  const routedWeights = (at: Date = account.clock()) => {
    const weights = elb.routingWeights(route.arn, at);
    const total = weights.reduce((sum, w) => sum + w.weight, 0);
    const percent = (arn: string) => (total === 0 ? 0 : (100 * (weights.find((w) => w.targetGroupArn === arn)?.weight ?? 0)) / total);
    return { stable: percent(stableTargetGroupArn), canary: percent(canaryTargetGroupArn) };
  };
  return {
    route,
    loadBalancerArn,
    listenerArn,
    stableTargetGroupArn,
    canaryTargetGroupArn,
    canaryService,
    resetRoute: () => {
      if (route.kind === 'listener-rule') elb.modifyRule({ RuleArn: route.arn, Actions: atRest() });
      else elb.modifyListener({ ListenerArn: route.arn, DefaultActions: atRest() });
    },
    routedWeights,
  };
}

/**
 * The canary service as GrayReleaseTarget declares it, running the revision the stable service has completed (not one
 * it is still deploying). The analysis's alarms exist, OK; those the stable service configures are its own already.
 */
function createCanaryService(account: SimulatedAccount, entry: CatalogEntry, gray: GrayRelease): void {
  const { deployments } = account.services.ecs.describeServices({ cluster: entry.cluster, services: [entry.service] }).services[0]!;
  const completed = deployments.find((d) => d.rolloutState === 'COMPLETED') ?? deployments.find((d) => d.status === 'PRIMARY')!;
  account.createService(
    {
      cluster: entry.cluster,
      service: gray.traffic.canaryService,
      container: entry.container,
      family: entry.taskDefinitionFamily,
      desiredCount: 0,
      repositoryName: entry.repository,
      alarms: gray.analysis.alarms.filter((alarm) => !entry.health.alarms.includes(alarm)),
      circuitBreakerRollback: false,
      loadBalancers: [
        { targetGroupArn: gray.traffic.canaryTargetGroupArn, containerName: entry.container, containerPort: gray.probe.port },
      ],
    },
    { taskDefinitionArn: completed.taskDefinition },
  );
  // The stable service's tasks are in the stable target group (the user's own service, behind the rule at rest).
  account.services.ecs.attachTargetGroup(entry.cluster, entry.service, {
    targetGroupArn: gray.traffic.stableTargetGroupArn,
    containerName: entry.container,
    containerPort: gray.probe.port,
  });
}

function connectTraffic(
  account: SimulatedAccount,
  scenario: Scenario,
  entry: CatalogEntry,
  images: ScenarioImages,
  where: Pick<ScenarioGray, 'loadBalancerArn' | 'route' | 'stableTargetGroupArn' | 'canaryTargetGroupArn' | 'canaryService'>,
): void {
  const traffic = account.services.albMetrics.traffic;
  const serviceBehind = new Map([
    [where.stableTargetGroupArn, entry.service],
    [where.canaryTargetGroupArn, where.canaryService],
  ]);
  for (const targetGroupArn of serviceBehind.keys()) traffic.addTargetGroup(targetGroupArn, where.loadBalancerArn);
  traffic.setRequestsPerMinute(scenario.running.requestsPerMinute ?? DEFAULT_REQUESTS_PER_MINUTE);
  traffic.connect({
    shareAt: (targetGroupArn, minuteStart) => {
      const weights = account.services.elbv2.routingWeights(where.route.arn, minuteStart);
      const total = weights.reduce((sum, w) => sum + w.weight, 0);
      return total === 0 ? 0 : (weights.find((w) => w.targetGroupArn === targetGroupArn)?.weight ?? 0) / total;
    },
    imageOf: (targetGroupArn, minuteStart) => {
      const service = serviceBehind.get(targetGroupArn);
      const image = service && account.services.ecs.servedAt(entry.cluster, service, minuteStart)?.image;
      return image ? images.tagOfImage(image) : undefined;
    },
  });
  for (const { tag, behaviour } of imageBehaviours(scenario, 'traffic')) {
    const { underLoad, ...own } = behaviour;
    if (!underLoad) {
      traffic.setImageBehaviour(tag, own);
      continue;
    }
    const { fromWeight, ...loaded } = underLoad;
    traffic.setImageBehaviour(tag, { ...own, underLoad: { ...loaded, fromShare: fromWeight / 100 } });
  }
}

/** What each knob describes of an image, as its refusal says. */
const DESCRIBES = { traffic: 'answers traffic', probe: 'answers the health probe' } as const;

/** The `knob` behaviour of each image tag the scenario describes; one tag described twice would make one of them lie. */
function imageBehaviours<K extends keyof typeof DESCRIBES>(scenario: Scenario, knob: K) {
  const described = new Map<string, string>();
  const behaviours = [
    ...(scenario.running[knob] ? [{ tag: scenario.running.tag, behaviour: scenario.running[knob], field: `running.${knob}` }] : []),
    ...scenario.steps.flatMap((step, index) =>
      isPush(step) && step[knob] ? [{ tag: step.tag, behaviour: step[knob], field: `steps.${index}.${knob}` }] : [],
    ),
  ];
  for (const { tag, field } of behaviours) {
    const before = described.get(tag);
    if (before) {
      throw new Error(`Scenario "${scenario.name}": ${field} describes how ${tag} ${DESCRIBES[knob]}, which ${before} already does`);
    }
    described.set(tag, field);
  }
  return behaviours as { tag: string; behaviour: NonNullable<Scenario['running'][K]>; field: string }[];
}

/**
 * The scenario fields that only a gray release reads, set for a service that is not released gray: each would be a
 * knob with no effect, so the scenario is refused, naming them.
 * @throws Error naming each such field and the service's strategy
 */
export function refuseGrayKnobs(scenario: Scenario, entry: CatalogEntry): void {
  if (entry.release.strategy === 'gray') return;
  const fields = [
    ...(scenario.running.traffic ? ['running.traffic'] : []),
    ...(scenario.running.probe ? ['running.probe'] : []),
    ...(scenario.running.requestsPerMinute !== undefined ? ['running.requestsPerMinute'] : []),
    ...scenario.steps.flatMap((step, index) => [
      ...(isPush(step) && step.traffic ? [`steps.${index}.traffic`] : []),
      ...(isPush(step) && step.probe ? [`steps.${index}.probe`] : []),
      ...(isExternal(step) ? [`steps.${index}.external`] : []),
    ]),
  ];
  if (fields.length > 0) {
    throw new Error(
      `Scenario "${scenario.name}": ${fields.join(', ')} only apply to a gray release, and service ${entry.name} is released ` +
        `${entry.release.strategy} (no load balancer route is weighed): remove them, or release the service gray in ${scenario.config}`,
    );
  }
}
