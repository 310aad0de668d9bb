/**
 * A scenario's gray-release world (local/scenario-gray.ts), driven through the real adapters as the pipeline will drive
 * it: the canary scaled onto a release with UpdateService, the rule's weights written by the traffic router, the
 * target groups' metrics read by the analysis's GetMetricData. Built from examples/gray-release.config.json without
 * synthesizing it (synth refuses gray releases until their states are built).
 */
import * as path from 'node:path';
import { DescribeRulesCommand, DescribeListenersCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { beforeEach, describe, expect, it } from 'vitest';
import { DeploymentTarget } from '../../lambdas/adapters/deployment-target';
import { TargetGroupMetrics } from '../../lambdas/adapters/target-group-metrics';
import { TrafficRouter } from '../../lambdas/adapters/traffic-router';
import type { CatalogEntry } from '../../lambdas/contract/catalog';
import type { GrayRelease } from '../../lambdas/contract/release-strategy';
import { loadConfig, toServiceCatalog } from '../../lib/config';
import { scenarioSchema, type Scenario } from '../../local/scenario';
import { scenarioAccount, type ScenarioImages } from '../../local/scenario-account';
import type { ScenarioGray } from '../../local/scenario-gray';
import type { SimulatedAccount } from '../../local/simulated-account';

const ROOT = path.resolve(__dirname, '..', '..');
const ENV = { env: { account: '123456789012', region: 'us-east-1', partition: 'aws' } };
const MINUTE = 60_000;

function catalogOf(config: string): CatalogEntry {
  const file = path.join(ROOT, config);
  return toServiceCatalog(loadConfig(file), path.dirname(file)).find((s) => s.name === 'sentiment')!;
}
const GRAY_ENTRY = catalogOf('examples/gray-release.config.json');
const GRAY = GRAY_ENTRY.release as GrayRelease;
const groups = { stableTargetGroupArn: GRAY.traffic.stableTargetGroupArn, canaryTargetGroupArn: GRAY.traffic.canaryTargetGroupArn };

function scenario(fields: Record<string, unknown> = {}, config = 'examples/gray-release.config.json'): Scenario {
  return scenarioSchema.parse({
    name: 'gray world',
    config,
    service: 'sentiment',
    running: { tag: 'v1.2.0', traffic: { latencyMs: { p50: 40, p99: 120 } }, requestsPerMinute: 1000 },
    steps: [{ tag: 'v1.3.0', traffic: { errorRate: 0.02, latencyMs: { p50: 80, p99: 300 } } }],
    ...fields,
  });
}

let account: SimulatedAccount;
let images: ScenarioImages;
let gray: ScenarioGray;
let router: TrafficRouter;

function build(s: Scenario = scenario()) {
  ({ account, images, gray } = scenarioAccount(s, GRAY_ENTRY, ENV, ROOT) as {
    account: SimulatedAccount;
    images: ScenarioImages;
    gray: ScenarioGray;
  });
  router = new TrafficRouter(account.elbv2 as never);
}

/** Moves the clock to the start of the next minute; that minute's start. */
function nextMinute(): Date {
  account.advance((MINUTE - (account.clock().getTime() % MINUTE)) / 1000);
  return account.clock();
}

/** The pipeline's canary scale-out: a revision of the stable one with the release's image, `tasks` of it on the canary. */
async function scaleCanaryTo(tag: string, tasks: number): Promise<void> {
  const digest = images.push(scenario().steps.find((s) => 'tag' in s && s.tag === tag) as never);
  const target = new DeploymentTarget(account.ecs as never);
  const canary = { ...GRAY_ENTRY, service: GRAY.traffic.canaryService };
  const repositoryUri = account.repositoryUri(GRAY_ENTRY.repository);
  const release = { repositoryName: GRAY_ENTRY.repository, repositoryUri, tag, digest, imageUri: `${repositoryUri}@${digest}` };
  const { newTaskDefinitionArn } = await target.registerRevision(canary, release, await target.revisionInUse(canary));
  await account.ecs.send(
    new UpdateServiceCommand({
      cluster: GRAY_ENTRY.cluster,
      service: GRAY.traffic.canaryService,
      taskDefinition: newTaskDefinitionArn,
      desiredCount: tasks,
    }),
  );
}

/** The two target groups' metrics over [start, start + minutes), as the step analysis reads them. */
function observe(start: Date, minutes: number) {
  return new TargetGroupMetrics(account.cloudwatch as never).observeWindow({
    routeArn: GRAY.traffic.route.arn,
    targetGroups: { stable: groups.stableTargetGroupArn, canary: groups.canaryTargetGroupArn },
    start,
    end: new Date(start.getTime() + minutes * MINUTE),
  });
}

describe("a gray-released service's world", () => {
  beforeEach(() => build());

  it('has the weighted rule at rest, at the configured ARN, under its listener’s 404 default', async () => {
    const { Rules } = await account.elbv2.send(new DescribeRulesCommand({ RuleArns: [GRAY.traffic.route.arn] }));
    expect(Rules[0].Actions).toEqual([
      {
        Type: 'forward',
        ForwardConfig: {
          TargetGroups: [
            { TargetGroupArn: groups.stableTargetGroupArn, Weight: 100 },
            { TargetGroupArn: groups.canaryTargetGroupArn, Weight: 0 },
          ],
        },
      },
    ]);
    const { Listeners } = await account.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: gray.loadBalancerArn }));
    expect(Listeners).toEqual([expect.objectContaining({ ListenerArn: gray.listenerArn, Port: 443, Protocol: 'HTTPS' })]);
    expect(Listeners[0].DefaultActions[0].Type).toBe('fixed-response');
    await expect(router.readWeights(GRAY.traffic.route, groups)).resolves.toEqual({ stable: 100, canary: 0, otherTargetGroups: [] });
  });

  it('has the canary service beside the stable one: same cluster and revision, no task', () => {
    const ecs = account.services.ecs;
    const [stable, canary] = ecs.describeServices({
      cluster: GRAY_ENTRY.cluster,
      services: [GRAY_ENTRY.service, GRAY.traffic.canaryService],
    }).services;
    expect(canary).toMatchObject({ desiredCount: 0, runningCount: 0, taskDefinition: stable.taskDefinition });
    expect(canary.deploymentConfiguration.deploymentCircuitBreaker).toEqual({ enable: true, rollback: false });
  });

  it("has the stable service's tasks in the stable target group, healthy, and none in the canary's", async () => {
    await expect(router.canaryTargets(groups.stableTargetGroupArn)).resolves.toEqual([
      { id: '10.0.1.1', port: GRAY.probe.port, state: 'healthy' },
      { id: '10.0.1.2', port: GRAY.probe.port, state: 'healthy' },
    ]);
    await expect(router.canaryTargets(groups.canaryTargetGroupArn)).resolves.toEqual([]);
  });

  it('sends all requests to the stable service while the rule is at rest', async () => {
    const start = nextMinute();
    account.advance(5 * 60);
    const { stable, canary } = await observe(start, 4);
    expect(stable).toMatchObject({ requests: expect.closeTo(4000, -1), p99Ms: 120, targetErrors: 0 });
    expect(canary).toMatchObject({ requests: 0, p99Ms: null });
  });
});

describe('a step of 30 % on a canary running the release', () => {
  beforeEach(() => build());

  it("has the canary's tasks in its target group, healthy, once its deployment completes (ECS waited for their health check)", async () => {
    await scaleCanaryTo('v1.3.0', 2);
    account.advance(89);
    await expect(router.canaryTargets(groups.canaryTargetGroupArn)).resolves.toEqual([]);
    account.advance(1);
    await expect(router.canaryTargets(groups.canaryTargetGroupArn)).resolves.toEqual([
      { id: '10.0.2.1', port: GRAY.probe.port, state: 'healthy' },
      { id: '10.0.2.2', port: GRAY.probe.port, state: 'healthy' },
    ]);
  });

  it('routes about 30 % of the requests to the canary once the written weights propagated, answered as its image does', async () => {
    await scaleCanaryTo('v1.3.0', 2);
    account.advance(120); // the canary's deployment completes after the push's 90 s
    const written = nextMinute();
    await router.writeWeights(GRAY.traffic.route, groups, { stable: 70, canary: 30 });
    account.advance(8 * 60);

    // The written minute is still routed by the old weights: ELB applies a rule change after a short delay.
    const before = await observe(written, 1);
    expect(before.canary.requests).toBe(0);
    expect(before.stable.requests).toBeGreaterThan(990);

    const { stable, canary } = await observe(new Date(written.getTime() + MINUTE), 5);
    expect(canary.requests / (canary.requests + stable.requests)).toBeCloseTo(0.3, 2);
    expect(canary).toMatchObject({ p99Ms: 300, targetErrors: expect.closeTo(30, -1) });
    expect(stable).toMatchObject({ p99Ms: 120, targetErrors: 0 });
    expect(gray.routedWeights()).toEqual({ stable: 70, canary: 30 });

    // The pipeline scales the canary in afterwards: those past minutes keep what was served in them.
    await account.ecs.send(new UpdateServiceCommand({ cluster: GRAY_ENTRY.cluster, service: GRAY.traffic.canaryService, desiredCount: 0 }));
    account.advance(5 * 60);
    await expect(observe(new Date(written.getTime() + MINUTE), 5)).resolves.toEqual({ stable, canary });
    expect((await observe(new Date(written.getTime() + 9 * MINUTE), 3)).canary.requests).toBe(0);
  });

  it('gets the canary’s share of the requests answered by no one while the canary runs no task', async () => {
    const written = nextMinute();
    await router.writeWeights(GRAY.traffic.route, groups, { stable: 70, canary: 30 });
    account.advance(5 * 60);
    const { stable, canary } = await observe(new Date(written.getTime() + MINUTE), 3);
    expect(canary).toMatchObject({ requests: 0, p99Ms: null });
    expect(stable.requests).toBeCloseTo(2100, -1);
  });
});

describe("a user's cdk deploy resetting the rule (an `external: rule-reset` step)", () => {
  beforeEach(() => build());

  it('writes the template back at once, routes by it after the propagation delay, and the canary gets nothing from then', async () => {
    await scaleCanaryTo('v1.3.0', 2);
    account.advance(120);
    await router.writeWeights(GRAY.traffic.route, groups, { stable: 70, canary: 30 });
    account.advance(300);
    const reset = nextMinute();
    gray.resetRoute();

    await expect(router.readWeights(GRAY.traffic.route, groups)).resolves.toMatchObject({ stable: 100, canary: 0 });
    expect(gray.routedWeights()).toEqual({ stable: 70, canary: 30 });
    account.advance(10);
    expect(gray.routedWeights()).toEqual({ stable: 100, canary: 0 });

    account.advance(5 * 60);
    const { canary } = await observe(new Date(reset.getTime() + MINUTE), 3);
    expect(canary.requests).toBe(0);
  });
});

describe('the gray knobs', () => {
  it('are refused for a service released rolling, each named', () => {
    const rolling = scenario(
      {
        running: { tag: 'v1.2.0', traffic: { errorRate: 0 }, probe: {}, requestsPerMinute: 10 },
        steps: [
          { tag: 'v1.3.0', traffic: { errorRate: 0.5 }, probe: { status: 503 } },
          { external: 'rule-reset', afterSeconds: 60 },
        ],
      },
      'model-rollout.config.json',
    );
    expect(() => scenarioAccount(rolling, catalogOf('model-rollout.config.json'), ENV, ROOT)).toThrow(
      'Scenario "gray world": running.traffic, running.probe, running.requestsPerMinute, steps.0.traffic, steps.0.probe, steps.1.external only apply to a gray ' +
        'release, and service sentiment is released rolling (no load balancer route is weighed): remove them, or release the ' +
        'service gray in model-rollout.config.json',
    );
  });

  it('set the requests per minute, 600 when left out', async () => {
    build(scenario({ running: { tag: 'v1.2.0' } }));
    const start = nextMinute();
    account.advance(3 * 60);
    expect((await observe(start, 2)).stable.requests).toBeCloseTo(1200, -1);
  });

  it('refuse one tag described twice', () => {
    const twice = scenario({ steps: [{ tag: 'v1.2.0', traffic: { errorRate: 0.1 } }] });
    expect(() => build(twice)).toThrow(
      'Scenario "gray world": steps.0.traffic describes how v1.2.0 answers traffic, which running.traffic already does',
    );
    const probedTwice = scenario({
      running: { tag: 'v1.2.0', probe: { latencyMs: 30 } },
      steps: [{ tag: 'v1.3.0' }, { tag: 'v1.3.0', probe: { status: 500 } }, { tag: 'v1.4.0', probe: {} }, { tag: 'v1.4.0', probe: {} }],
    });
    expect(() => build(probedTwice)).toThrow(
      'Scenario "gray world": steps.3.probe describes how v1.4.0 answers the health probe, which steps.2.probe already does',
    );
  });

  it("answer the probe of each task as its image's tag says, 200 in 20 ms when left out", async () => {
    build(
      scenario({
        running: { tag: 'v1.2.0', probe: { latencyMs: 45 } },
        steps: [{ tag: 'v1.3.0', probe: { status: 200, latencyMs: 350 } }],
      }),
    );
    const endpoints = account.services.healthEndpoints;
    const timed = async (url: string) => {
      const started = endpoints.now();
      const { status } = await endpoints.get(url, 1000);
      return { status, latencyMs: endpoints.now() - started };
    };
    await expect(timed('http://10.0.1.1:8080/health')).resolves.toEqual({ status: 200, latencyMs: 45 });
    await scaleCanaryTo('v1.3.0', 1);
    account.advance(90);
    await expect(timed('http://10.0.2.1:8080/health')).resolves.toEqual({ status: 200, latencyMs: 350 });
  });

  it('answer the probe of an image the scenario says nothing of with 200 in 20 ms', async () => {
    build();
    const started = account.services.healthEndpoints.now();
    await expect(account.services.healthEndpoints.get('http://10.0.1.2:8080/health', 1000)).resolves.toEqual({ status: 200 });
    expect(account.services.healthEndpoints.now() - started).toBe(20);
  });
});
