/** The gray release's traffic and canary changes, with a scripted route and ECS (the adapters are tested on their own). */
import { beforeAll, describe, expect, it } from 'vitest';
import type { GrayProgress } from '../../lambdas/contract/gray-progress';
import type { TrafficWeights } from '../../lambdas/decisions/traffic-steps';
import { NoForwardActionError } from '../../lambdas/errors';
import { logger } from '../../lambdas/shared/logger';
import type { ServiceSetup } from '../../lambdas/steps/ports/deployment-target';
import { createSteerTrafficHandler } from '../../lambdas/steps/steer-traffic';
import { grayRelease, sentimentService } from '../fixtures/catalog';

beforeAll(() => logger.setLogLevel('SILENT'));

const RELEASE = 'arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment-task:8';
const RUNNING = 'arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment-task:7';
const NOW = '2026-12-06T10:00:00.000Z';
const service = sentimentService({ release: grayRelease() });
/** The stable service as the set-up check reads it: ACTIVE on ECS's controller, its tasks in the stable target group. */
const STABLE_SETUP: ServiceSetup = {
  status: 'ACTIVE',
  taskDefinitionArn: RUNNING,
  deploymentController: 'ECS',
  desiredCount: 6,
  targetGroupArns: [grayRelease().traffic.stableTargetGroupArn],
};

interface World {
  /** What the route reads as, after each write (by default: what was written). */
  readsAs?: (written: TrafficWeights) => TrafficWeights;
  initial?: TrafficWeights | 'no-forward-action';
  services?: Record<string, ServiceSetup>;
  /** The forward action's target group stickiness, when enabled. */
  stickinessSeconds?: number;
}

function world({ readsAs = (w) => w, initial = { stable: 100, canary: 0 }, services = {}, stickinessSeconds }: World = {}) {
  let route: TrafficWeights | 'no-forward-action' = initial;
  const writes: TrafficWeights[] = [];
  const scaled: { service: string; desiredCount: number; taskDefinitionArn?: string }[] = [];
  /** Writes and scalings, in the order they happened. */
  const log: string[] = [];
  const setups: Record<string, ServiceSetup> = {
    sentiment: { ...STABLE_SETUP, desiredCount: 6 },
    'sentiment-canary': { ...STABLE_SETUP, desiredCount: 0, targetGroupArns: [grayRelease().traffic.canaryTargetGroupArn] },
    ...services,
  };
  const handler = createSteerTrafficHandler({
    router: {
      readWeights: async () => {
        if (route === 'no-forward-action') throw new NoForwardActionError('no forward action');
        return { ...route, otherTargetGroups: [], ...(stickinessSeconds ? { stickinessSeconds } : {}) };
      },
      writeWeights: async (_route, _groups, weights) => {
        writes.push(weights);
        log.push(`write ${weights.stable}/${weights.canary}`);
        route = readsAs(weights);
      },
    },
    target: {
      serviceSetup: async (entry) => setups[entry.service]!,
      scaleService: async (entry, desiredCount, taskDefinitionArn) => {
        scaled.push({ service: entry.service, desiredCount, ...(taskDefinitionArn ? { taskDefinitionArn } : {}) });
        log.push(`scale ${entry.service} to ${desiredCount}`);
      },
    },
    clock: () => new Date(NOW),
  });
  return { handler, writes, scaled, log };
}

/** The plan's step at `index` (0-based), as the progress holds it. */
function stepAt(index: number) {
  const weight = [5, 10, 30, 60, 100][index]!;
  return {
    weight,
    bakeSeconds: 1800,
    approval: false,
    index,
    number: index + 1,
    of: 5,
    last: index === 4,
    weights: { stable: 100 - weight, canary: weight },
    canaryTasks: 1,
  };
}

const atRest = async () => (await world().handler({ operation: 'check-setup', service })) as GrayProgress;
/** The progress once `handler` scaled the canary for the step after `gray`'s. */
const scaledFor = async (handler: ReturnType<typeof world>['handler'], gray: GrayProgress) =>
  (await handler({ operation: 'scale-canary', service, gray, canaryTaskDefinitionArn: RELEASE })) as GrayProgress;

describe('steer traffic', () => {
  it('finds a set-up at rest ready, and starts the progress before the first step', async () => {
    const result = await world().handler({ operation: 'check-setup', service });
    expect(result).toMatchObject({ ready: true, problems: [], step: null, next: null, weights: { stable: 100, canary: 0 } });
  });

  it('opens the approval before the first step when the release asks for one, and none otherwise', async () => {
    const asked = (await world().handler({ operation: 'check-setup', service })) as GrayProgress;
    expect(asked.analysis).toMatchObject({
      decision: 'ask-approval',
      approval: { requestedAt: NOW, deadline: '2026-12-07T10:00:00.000Z', waitSeconds: 86400 },
    });
    const gray = grayRelease();
    const unasked = sentimentService({ release: { ...gray, approval: { ...gray.approval, beforeFirstStep: false } } });
    const plain = (await world().handler({ operation: 'check-setup', service: unasked })) as GrayProgress;
    expect(plain.analysis).toMatchObject({ decision: 'keep-baking', approval: null });
    // A set-up that is not ready asks nobody: the release ends before anything changed.
    const notReady = (await world({ initial: { stable: 70, canary: 30 } }).handler({ operation: 'check-setup', service })) as GrayProgress;
    expect(notReady.analysis.approval).toBeNull();
  });

  it("scales the canary for the last step on an operator's promote --full, skipping the steps between", async () => {
    const { handler, scaled } = world();
    const gray = await atRest();
    const last = (await handler({
      operation: 'scale-canary',
      service,
      gray,
      canaryTaskDefinitionArn: RELEASE,
      toLastStep: true,
    })) as GrayProgress;
    expect(last.next).toMatchObject({ number: 5, last: true, weights: { stable: 0, canary: 100 }, canaryTasks: 6 });
    expect(scaled).toEqual([{ service: 'sentiment-canary', desiredCount: 6, taskDefinitionArn: RELEASE }]);
  });

  it('finds a route that forwards nowhere, or not at rest, not ready, naming what it found', async () => {
    const noForward = await world({ initial: 'no-forward-action' }).handler({ operation: 'check-setup', service });
    expect(noForward).toMatchObject({ ready: false, reason: expect.stringContaining('forwards to neither') });
    const moved = await world({ initial: { stable: 70, canary: 30 } }).handler({ operation: 'check-setup', service });
    expect(moved).toMatchObject({ ready: false, reason: expect.stringContaining('stable 70 / canary 30') });
  });

  it('scales the canary onto the release for the first step, in proportion to the stable service', async () => {
    const { handler, scaled } = world();
    const result = await scaledFor(handler, await atRest());
    // 5 % of 6 tasks, rounded up.
    expect(scaled).toEqual([{ service: 'sentiment-canary', desiredCount: 1, taskDefinitionArn: RELEASE }]);
    expect(result.next).toMatchObject({ number: 1, of: 5, weights: { stable: 95, canary: 5 }, canaryTasks: 1 });
    expect(result.canaryUpdate).toEqual({ startedAt: NOW, deadline: '2026-12-06T10:15:00.000Z', recheckSeconds: 225 });
    expect(result.step).toBeNull();
  });

  it('shifts traffic to the planned step once the route reads back as written, and starts its bake', async () => {
    const { handler, writes } = world();
    const result = (await handler({ operation: 'shift', service, gray: await scaledFor(handler, await atRest()) })) as GrayProgress;
    expect(writes).toEqual([{ stable: 95, canary: 5 }]);
    expect(result).toMatchObject({
      step: { number: 1, startedAt: NOW, bakeEndsAt: '2026-12-06T10:30:00.000Z' },
      next: null,
      weights: { stable: 95, canary: 5 },
      analysis: { failures: 0, inconclusive: 0 },
    });
  });

  it('retries a shift the route does not show yet (a TransientAwsError)', async () => {
    const { handler } = world({ readsAs: () => ({ stable: 100, canary: 0 }) });
    await expect(handler({ operation: 'shift', service, gray: await scaledFor(handler, await atRest()) })).rejects.toMatchObject({
      name: 'TransientAwsError',
      message: expect.stringContaining('reads stable 100 / canary 0 after stable 95 / canary 5 was written'),
    });
  });

  it('never writes over a route someone else changed since the last step (a cdk deploy): TrafficDriftError', async () => {
    const { handler, writes } = world();
    const gray = await scaledFor(handler, { ...(await atRest()), weights: { stable: 90, canary: 10 } });
    await expect(handler({ operation: 'shift', service, gray })).rejects.toMatchObject({
      name: 'TrafficDriftError',
      message: expect.stringContaining('the rule routes stable 100 / canary 0, the pipeline set stable 90 / canary 10'),
    });
    expect(writes).toEqual([]);
  });

  it('takes a retried shift that finds its own earlier write for what it is: no drift', async () => {
    const { handler, writes } = world();
    const gray = await scaledFor(handler, await atRest());
    await handler({ operation: 'shift', service, gray }); // took effect, its answer lost: the state machine retries
    const retried = (await handler({ operation: 'shift', service, gray })) as GrayProgress;
    expect(writes).toEqual([
      { stable: 95, canary: 5 },
      { stable: 95, canary: 5 },
    ]);
    expect(retried.step).toMatchObject({ number: 1 });
  });

  it('sizes every step from the stable count read at the set-up, not from one autoscaling lowered since', async () => {
    const { handler, scaled } = world({
      services: { sentiment: { ...STABLE_SETUP, desiredCount: 2 } },
    });
    await scaledFor(handler, { ...(await atRest()), stableDesiredCount: 10 });
    expect(scaled).toEqual([{ service: 'sentiment-canary', desiredCount: 1, taskDefinitionArn: RELEASE }]);
    const at30 = await scaledFor(handler, {
      ...(await atRest()),
      stableDesiredCount: 10,
      step: { ...stepAt(1), startedAt: NOW, bakeEndsAt: NOW },
    });
    expect(at30.next).toMatchObject({ weight: 30, canaryTasks: 3 });
  });

  it('is not ready when the stable service wants no task: traffic could never return to it', async () => {
    const result = await world({
      services: { sentiment: { ...STABLE_SETUP, desiredCount: 0 } },
    }).handler({ operation: 'check-setup', service });
    expect(result).toMatchObject({ ready: false, reason: expect.stringContaining('the stable service sentiment wants 0 tasks') });
  });

  it('bakes the last step through the standby too: the previous version stays ready while analyses go on', async () => {
    const { handler } = world();
    let gray = await atRest();
    for (let step = 1; step <= 5; step++)
      gray = (await handler({ operation: 'shift', service, gray: await scaledFor(handler, gray) })) as GrayProgress;
    // 30 minutes of bake and the fixture's hour of standby.
    expect(gray.step).toMatchObject({ last: true, startedAt: NOW, bakeEndsAt: '2026-12-06T11:30:00.000Z' });
    expect(gray.reason).toContain("baking 90 min, 60 min of it the previous version's standby");
  });

  it('plans the step after the one under way, and refuses to go past the last', async () => {
    const { handler } = world();
    let gray = await atRest();
    for (let step = 1; step <= 5; step++) {
      gray = await scaledFor(handler, gray);
      gray = (await handler({ operation: 'shift', service, gray })) as GrayProgress;
    }
    expect(gray.step).toMatchObject({ number: 5, last: true, weights: { stable: 0, canary: 100 }, canaryTasks: 6 });
    await expect(handler({ operation: 'scale-canary', service, gray, canaryTaskDefinitionArn: RELEASE })).rejects.toThrow(/was the last/);
  });

  it('returns all traffic to the stable service, and gives the canary the time its sticky clients need before it retires', async () => {
    const { handler, scaled, log } = world({ stickinessSeconds: 300 });
    const gray = { ...(await atRest()), weights: { stable: 70, canary: 30 } };
    const returned = (await handler({ operation: 'return-to-stable', service, gray, returnedFor: 'abort' })) as GrayProgress;
    expect(log).toEqual(['write 100/0']);
    // The rule's propagation margin and the forward action's 300 s of target group stickiness.
    expect(returned).toMatchObject({ weights: { stable: 100, canary: 0 }, returnedFor: 'abort', drainSeconds: 330 });
    expect(returned.reason).toContain('it was stable 70 / canary 30');
    const retired = (await handler({ operation: 'retire-canary', service, gray: returned })) as GrayProgress;
    // The canary keeps its revision: only its count changes.
    expect(scaled).toEqual([{ service: 'sentiment-canary', desiredCount: 0 }]);
    expect(retired.reason).toBe(
      'All traffic is on the stable service (it was stable 70 / canary 30); the canary is scaled to 0 after 330 s of drain',
    );
    // Before the canary is scaled, the reason (an outcome's, should the scaling fail) claims nothing about its tasks.
    expect(returned.reason).toBe('All traffic is on the stable service (it was stable 70 / canary 30)');
  });

  it('does not count the traffic back on stable while the route does not confirm it', async () => {
    const { handler } = world({ readsAs: () => ({ stable: 70, canary: 30 }) });
    await expect(handler({ operation: 'return-to-stable', service, gray: await atRest(), returnedFor: 'abort' })).rejects.toMatchObject({
      name: 'TransientAwsError',
    });
  });

  it('refuses a service released rolling, naming it', async () => {
    await expect(world().handler({ operation: 'check-setup', service: sentimentService() })).rejects.toThrow(
      /sentiment is not released gray/,
    );
  });
});
