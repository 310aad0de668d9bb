/** One analysis of a gray release's step, with scripted observations (the adapters are tested on the simulated account). */
import { beforeAll, describe, expect, it } from 'vitest';
import type { TargetGroupWindow } from '../../lambdas/decisions/step-analysis';
import { logger } from '../../lambdas/shared/logger';
import { type AnalyseStepInput, analysisWindow, createAnalyseStepHandler } from '../../lambdas/steps/analyse-step';
import type { WindowQuery } from '../../lambdas/steps/ports/target-group-metrics';
import { analyseStepInput } from '../fixtures/analyse-step-input';
import { targetGroupWindow } from '../fixtures/target-group-window';
import { grayRelease, sentimentService } from '../fixtures/catalog';

beforeAll(() => logger.setLogLevel('SILENT'));

const RELEASE = 'arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment-task:8';
const service = sentimentService({
  release: { ...grayRelease(), analysis: { ...grayRelease().analysis, alarms: ['sentiment-canary-5xx'] } },
});
const window = targetGroupWindow;

/** Step 3 (30 %) started at 10:00; its bake ends at 10:30; the canary runs the release on 2 tasks. */
const INPUT: AnalyseStepInput = analyseStepInput(service, RELEASE);

function world(
  now: string,
  seen: {
    canary?: Partial<TargetGroupWindow>;
    weights?: { stable: number; canary: number };
    desired?: number;
    inAlarm?: string;
    /** Other releases of the service in the ledger. */
    others?: { tag: string; status: string }[];
    ledgerFails?: boolean;
  } = {},
) {
  const queries: WindowQuery[] = [];
  const alarmsRead: string[] = [];
  const notes: unknown[] = [];
  const handler = createAnalyseStepHandler({
    metrics: {
      observeWindow: async (query) => {
        queries.push(query);
        return { stable: window({ requests: 2400 }), canary: window(seen.canary) };
      },
    },
    alarms: {
      states: async (names) => {
        alarmsRead.push(...names);
        return names.map((name) => ({ name, state: name === seen.inAlarm ? 'ALARM' : 'OK', since: null }));
      },
    },
    router: { readWeights: async () => ({ ...(seen.weights ?? { stable: 70, canary: 30 }), otherTargetGroups: [] }) },
    target: {
      observeDeployment: async (entry, taskDefinitionArn) => ({
        targetTaskDefinitionArn: taskDefinitionArn,
        primary: {
          taskDefinitionArn: entry.service === 'sentiment-canary' ? RELEASE : 'other',
          rolloutState: 'COMPLETED',
          rolloutStateReason: null,
          runningCount: 2,
          desiredCount: seen.desired ?? 2,
          failedTasks: 0,
        },
        deploymentCount: 1,
        serviceDeployment: null,
      }),
    },
    ledger: {
      noteGrayProgress: async (key, progress) => {
        notes.push({ key, progress });
        return true;
      },
      listDeployments: async () => {
        if (seen.ledgerFails) throw new Error('ProvisionedThroughputExceededException');
        return (seen.others ?? []).map(
          (o, i) =>
            ({
              executionArn: `arn:other:${i}`,
              tag: o.tag,
              status: o.status,
              receivedAt: '2026-12-06T10:10:00.000Z',
              finishedAt: null,
            }) as never,
        );
      },
    },
    clock: () => new Date(now),
  });
  return { handler, queries, alarmsRead, notes };
}

describe('analysisWindow', () => {
  const criteria = { windowSeconds: 300, metricLagSeconds: 180 };
  it.each([
    [
      'the window ending the lag before now, in whole minutes',
      '2026-12-06T10:20:30Z',
      { start: '2026-12-06T10:12:00.000Z', end: '2026-12-06T10:17:00.000Z' },
    ],
    [
      'cut at the step start (the earlier minutes are the previous step)',
      '2026-12-06T10:06:10Z',
      { start: '2026-12-06T10:00:00.000Z', end: '2026-12-06T10:03:00.000Z' },
    ],
    ['none before a whole minute of the step is past the lag', '2026-12-06T10:03:59Z', null],
  ])('%s', (_, now, expected) => {
    const w = analysisWindow(new Date(now), new Date('2026-12-06T10:00:00Z'), criteria);
    expect(w && { start: w.start.toISOString(), end: w.end.toISOString() }).toEqual(expected);
  });
});

describe('analyse the canary against the stable version', () => {
  it('reads the two target groups over the window on the route, and keeps baking on a passing analysis', async () => {
    const { handler, queries } = world('2026-12-06T10:20:30.000Z');
    const result = await handler(INPUT);
    expect(queries).toEqual([
      {
        routeArn: grayRelease().traffic.route.arn,
        targetGroups: { stable: grayRelease().traffic.stableTargetGroupArn, canary: grayRelease().traffic.canaryTargetGroupArn },
        start: new Date('2026-12-06T10:12:00.000Z'),
        end: new Date('2026-12-06T10:17:00.000Z'),
      },
    ]);
    expect(result).toMatchObject({ decision: 'keep-baking', analysis: { verdict: 'passed' }, failures: 0, inconclusive: 0 });
  });

  it('notes the step and the analysis on the release record, for model-rollout status', async () => {
    const { handler, notes } = world('2026-12-06T10:20:30.000Z');
    await handler(INPUT);
    expect(notes).toEqual([
      {
        key: INPUT.ledgerKey,
        progress: {
          step: 3,
          of: 5,
          weight: 30,
          stepStartedAt: '2026-12-06T10:00:00.000Z',
          bakeEndsAt: '2026-12-06T10:30:00.000Z',
          analysis: {
            verdict: 'passed',
            decision: 'keep-baking',
            reason: expect.stringContaining('canary: '),
            at: '2026-12-06T10:20:30.000Z',
          },
        },
      },
    ]);
  });

  it('passes the step on a passing analysis once its bake is over', async () => {
    const result = await world('2026-12-06T10:30:00.000Z').handler(INPUT);
    expect(result).toMatchObject({ decision: 'step-passed' });
  });

  it('asks for approval once a step that wants one passed, then keeps analysing while it waits, and aborts on a failure', async () => {
    const stepWithApproval = { ...INPUT, step: { ...INPUT.step, approval: true } };
    const asked = await world('2026-12-06T10:30:00.000Z').handler(stepWithApproval);
    // The fixture's approval waits up to a day; each wait lasts until the next analysis.
    expect(asked).toMatchObject({
      decision: 'ask-approval',
      approval: { requestedAt: '2026-12-06T10:30:00.000Z', deadline: '2026-12-07T10:30:00.000Z', waitSeconds: 300 },
    });
    const record = { failures: asked.failures, inconclusive: asked.inconclusive, approval: asked.approval };
    const waiting = await world('2026-12-06T10:35:00.000Z').handler({ ...stepWithApproval, record });
    expect(waiting).toMatchObject({ decision: 'await-approval', approval: asked.approval });
    const failing = await world('2026-12-06T10:35:00.000Z', { canary: { targetErrors: 30 } }).handler({ ...stepWithApproval, record });
    expect(failing).toMatchObject({ decision: 'abort', approval: null });
    // A higher release waiting takes the service from a release waiting for approval too.
    const newer = await world('2026-12-06T10:35:00.000Z', { others: [{ tag: 'v1.4.0', status: 'waiting' }] }).handler({
      ...stepWithApproval,
      record,
    });
    expect(newer).toMatchObject({ decision: 'superseded', approval: null });
  });

  it('aborts on a failed analysis (failureLimit 0), saying why', async () => {
    const result = await world('2026-12-06T10:20:30.000Z', { canary: { targetErrors: 30 } }).handler(INPUT);
    expect(result).toMatchObject({ decision: 'abort', failures: 1, analysis: { verdict: 'failed' } });
    expect(result.reason).toContain("canary's error rate 3 %");
  });

  it.each([
    ['the rule reset to its template by a cdk deploy', { weights: { stable: 100, canary: 0 } }, 'the rule routes stable 100 / canary 0'],
    ['the canary rescaled by hand', { desired: 1 }, 'the canary service wants 1 tasks, the pipeline set 2'],
  ])('aborts on drift: %s', async (_, seen, part) => {
    const result = await world('2026-12-06T10:20:30.000Z', seen).handler(INPUT);
    expect(result.decision).toBe('abort');
    expect(result.analysis.reasons[0]).toMatch(/^Traffic changed outside the pipeline/);
    expect(result.reason).toContain(part);
  });

  it('aborts on drift at once, however many failed analyses the step tolerates', async () => {
    const tolerant = { ...service.release, analysis: { ...grayRelease().analysis, failureLimit: 3 } } as typeof service.release;
    const result = await world('2026-12-06T10:20:30.000Z', { weights: { stable: 100, canary: 0 } }).handler({
      ...INPUT,
      service: { ...service, release: tolerant },
    });
    expect(result).toMatchObject({ decision: 'abort', failures: 1 });
    expect(result.reason).toMatch(/^Traffic changed outside the pipeline/);
  });

  it('reads the service health alarms with the analysis alarms, and fails the step when one is in ALARM', async () => {
    const { handler, alarmsRead } = world('2026-12-06T10:20:30.000Z', { inAlarm: 'sentiment-5xx-rate' });
    const result = await handler(INPUT);
    expect(alarmsRead).toEqual([...service.health.alarms, 'sentiment-canary-5xx']);
    expect(result).toMatchObject({ decision: 'abort', analysis: { verdict: 'failed' } });
    expect(result.reason).toContain('alarm sentiment-5xx-rate is in ALARM');
  });

  it('stops, superseded, when a higher release waits for the service; a lower one, or a rollback, waits its turn', async () => {
    const waiting = await world('2026-12-06T10:20:30.000Z', { others: [{ tag: 'v1.4.0', status: 'waiting' }] }).handler(INPUT);
    expect(waiting).toMatchObject({ decision: 'superseded', analysis: { verdict: 'passed' } });
    expect(waiting.reason).toBe('v1.4.0 is waiting for the service (execution arn:other:0) and ranks above v1.3.0, which stops here');
    const lower = await world('2026-12-06T10:20:30.000Z', { others: [{ tag: 'v1.2.9', status: 'waiting' }] }).handler(INPUT);
    expect(lower.decision).toBe('keep-baking');
    const rollback = await world('2026-12-06T10:20:30.000Z', { others: [{ tag: 'v1.4.0', status: 'waiting' }] }).handler({
      ...INPUT,
      trigger: 'rollback',
    });
    expect(rollback.decision).toBe('keep-baking');
  });

  it('never hides a failing analysis as superseded: it aborts, and is recorded so', async () => {
    const result = await world('2026-12-06T10:20:30.000Z', {
      canary: { targetErrors: 30 },
      others: [{ tag: 'v1.4.0', status: 'waiting' }],
    }).handler(INPUT);
    expect(result).toMatchObject({ decision: 'abort', analysis: { verdict: 'failed' } });
  });

  it('goes on when the ledger cannot be read: the check for a higher release is lost, not the release', async () => {
    const { handler } = world('2026-12-06T10:20:30.000Z', { ledgerFails: true });
    await expect(handler(INPUT)).resolves.toMatchObject({ decision: 'keep-baking' });
  });

  it('judges no traffic before a whole minute of the step is published: inconclusive, the metrics not read', async () => {
    const { handler, queries } = world('2026-12-06T10:03:59.000Z');
    const result = await handler(INPUT);
    expect(queries).toEqual([]);
    expect(result).toMatchObject({ window: null, decision: 'keep-baking', inconclusive: 1, analysis: { verdict: 'inconclusive' } });
    expect(result.analysis.reasons).toContain("no whole minute of the step's own traffic has been published yet");
  });

  it('refuses a service that is not released gray', async () => {
    await expect(world('2026-12-06T10:20:30.000Z').handler({ ...INPUT, service: sentimentService() })).rejects.toThrow(
      /is not released gray/,
    );
  });
});
