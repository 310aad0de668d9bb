/**
 * A scenario cannot silently lie: a knob that would have no effect, a command the simulated account does not answer,
 * or an alarm the service does not configure makes it invalid, with a message naming the field.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { playScenario } from '../../local/play';
import { loadScenario, scenarioSchema } from '../../local/scenario';

const ROOT = path.resolve(__dirname, '..', '..');
const directory = mkdtempSync(path.join(tmpdir(), 'scenario-test-'));

function load(steps: unknown[], running: Record<string, unknown> = { tag: 'v1.2.0' }) {
  const file = path.join(directory, `s-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({ name: 'validation', service: 'sentiment', running, steps }));
  return () => loadScenario(file);
}

const expectation = { status: 'succeeded', error: null, alerts: ['info'] };

describe('scenario validation', () => {
  it.each([
    [
      'an expectation on a lost event',
      [{ tag: 'v1.3.0', deliveries: 0, expect: expectation }],
      /steps\.0\.expect: a push whose event is lost/,
    ],
    ['a crash of a lost event', [{ tag: 'v1.3.0', deliveries: 0, crashAfter: 'Update service to new revision' }], /steps\.0\.crashAfter: /],
    [
      'AWS failures for a lost event',
      [{ tag: 'v1.3.0', deliveries: 0, awsFailures: { UpdateService: 'AccessDeniedException' } }],
      /steps\.0\.awsFailures: /,
    ],
    [
      'fewer expectations than deliveries',
      [{ tag: 'v1.3.0', deliveries: 3, expect: [expectation, expectation] }],
      /steps\.0\.expect: 2 expectations for 3 deliveries/,
    ],
    [
      'a late arrival of no signature',
      [{ tag: 'v1.3.0', signature: 'none', signatureArrivesAfterSeconds: 30 }],
      /steps\.0\.signatureArrivesAfterSeconds: /,
    ],
    [
      'a command the simulated account does not answer',
      [{ tag: 'v1.3.0', awsFailures: { UpdateServices: 'AccessDeniedException' } }],
      /steps\.0\.awsFailures\.UpdateServices: not a command the simulated account answers/,
    ],
    [
      'a second tag that sets a rollout',
      [{ tag: 'v1.3.0' }, { tag: 'v1.3.1', sameImageAs: 'v1.3.0', rollout: { result: 'fails' } }],
      /steps\.1\.rollout: a push with sameImageAs/,
    ],
    [
      'a second tag that sets a signature',
      [{ tag: 'v1.3.0' }, { tag: 'v1.3.1', sameImageAs: 'v1.3.0', signature: 'none' }],
      /steps\.1\.signature: a push with sameImageAs/,
    ],
    [
      'calls of a command the simulated account does not answer',
      [{ tag: 'v1.3.0', expect: { ...expectation, calls: { UpdateServices: 0 } } }],
      /steps\.0\.expect\.calls\.UpdateServices: not a command the simulated account answers/,
    ],
    [
      'a ledger status no record can have',
      [{ tag: 'v1.3.0', expect: { ...expectation, ledger: { status: 'deployed' } } }],
      /steps\.0\.expect\.ledger\.status: "deployed" is not a ledger status \(one of received, /,
    ],
    [
      'an alert field matched against an object other than { contains }',
      [{ tag: 'v1.3.0', expect: { ...expectation, alert: { reason: { startsWith: 'x' } } } }],
      /steps\.0\.expect\.alert\.reason: /,
    ],
    ['a wait of no time', [{ tag: 'v1.3.0' }, { wait: 0 }], /steps\.1\.wait: /],
    [
      'a refused call that takes effect',
      [{ tag: 'v1.3.0', awsFailures: { UpdateService: { error: 'AccessDeniedException', applied: true } } }],
      /steps\.0\.awsFailures\.UpdateService\.applied: AccessDeniedException is a call AWS refused, which never takes effect/,
    ],
    [
      'a late alarm with no alarm',
      [{ tag: 'v1.3.0', rollout: { result: 'completes', tripsAlarmAfterSeconds: 30 } }],
      /steps\.0\.rollout\.tripsAlarmAfterSeconds: no tripsAlarm/,
    ],
    [
      'an alarm tripped by a rollout that never serves',
      [{ tag: 'v1.3.0', rollout: { result: 'fails', tripsAlarm: 'sentiment-p99-latency' } }],
      /steps\.0\.rollout\.tripsAlarm: a rollout that fails never serves/,
    ],
    [
      'an error expected of an event that starts nothing',
      [{ tag: 'sha256-ab.sig', expect: { status: 'not-started', error: 'Bogus', alerts: [] } }],
      /steps\.0\.expect\.error: expected null: a not-started event starts no execution/,
    ],
    [
      'calls expected of an event that starts nothing',
      [{ tag: 'sha256-ab.sig', expect: { status: 'not-started', error: null, alerts: [], calls: { UpdateService: 0 } } }],
      /steps\.0\.expect\.calls: nothing to compare/,
    ],
    ['a crash after a state that invokes no function', [{ tag: 'v1.3.0', crashAfter: 'Publish outcome alert' }], /steps\.0\.crashAfter: /],
    [
      'a first step arriving after nothing',
      [{ tag: 'v1.3.0', arrivesAfterSeconds: 5 }],
      /steps\.0\.arrivesAfterSeconds: the first step has no step before it/,
    ],
    ['a reconciliation given a version', [{ run: 'reconcile', to: 'v1.3.0' }], /steps\.0\.to: reconcile does not use to/],
    [
      'a rollback timed beside the step before it (only status looks at a rollout under way)',
      [{ tag: 'v1.3.0' }, { run: 'rollback', afterSeconds: 60 }],
      /steps\.1\.afterSeconds: rollback does not use afterSeconds/,
    ],
    [
      'a quarantine release expecting an execution',
      [{ tag: 'v1.3.0' }, { run: 'release-quarantine', tag: 'v1.3.0', expect: expectation }],
      /steps\.1\.expect: release-quarantine does not use expect/,
    ],
    [
      'a decision expecting an execution (it answers one that waits, it starts none)',
      [{ tag: 'v1.3.0' }, { run: 'approve', afterSeconds: 60, expect: expectation }],
      /steps\.1\.expect: approve does not use expect/,
    ],
    ['an operator action the CLI has not', [{ tag: 'v1.3.0' }, { run: 'pause', afterSeconds: 60 }], /steps\.1\.run: /],
    ['a wait with an unknown field', [{ tag: 'v1.3.0' }, { wait: 60, seconds: 60 }], /steps\.1: Unrecognized key: "seconds"/],
    [
      'a second tag that sets how it answers traffic',
      [{ tag: 'v1.3.0' }, { tag: 'v1.3.1', sameImageAs: 'v1.3.0', traffic: { errorRate: 0.1 } }],
      /steps\.1\.traffic: a push with sameImageAs/,
    ],
    [
      'a second tag that sets how it answers the health probe',
      [{ tag: 'v1.3.0' }, { tag: 'v1.3.1', sameImageAs: 'v1.3.0', probe: { status: 503 } }],
      /steps\.1\.probe: a push with sameImageAs/,
    ],
    ['a health probe status that is not HTTP', [{ tag: 'v1.3.0', probe: { status: 42 } }], /steps\.0\.probe\.status: /],
    ['a health probe knob it does not know', [{ tag: 'v1.3.0', probe: { delayMs: 300 } }], /steps\.0\.probe: Unrecognized key: "delayMs"/],
    [
      'a p99 latency below the p50',
      [{ tag: 'v1.3.0', traffic: { latencyMs: { p50: 100, p99: 50 } } }],
      /steps\.0\.traffic\.latencyMs\.p99: 50 is below p50 100/,
    ],
    ['an error rate given in percent', [{ tag: 'v1.3.0', traffic: { errorRate: 5 } }], /steps\.0\.traffic\.errorRate: /],
    [
      'a first step changing the rule after nothing',
      [{ external: 'rule-reset', afterSeconds: 10 }, { tag: 'v1.3.0' }],
      /steps\.0\.afterSeconds: the first step has no step before it/,
    ],
    ['a change outside the pipeline the run cannot make', [{ tag: 'v1.3.0' }, { external: 'rule-delete' }], /steps\.1\.external: /],
  ])('refuses %s, naming the field', (_case, steps, message) => {
    expect(load(steps)).toThrow(message);
  });

  it("reads an operator's decisions, each timed beside the step before it or after everything ended", () => {
    const scenario = load([
      { tag: 'v1.3.0' },
      { run: 'approve', afterSeconds: 120 },
      { run: 'promote-full', afterSeconds: 600 },
      { run: 'abort', expectExit: 1 },
    ])();
    expect(scenario.steps.slice(1)).toEqual([
      { run: 'approve', afterSeconds: 120, expectExit: 0 },
      { run: 'promote-full', afterSeconds: 600, expectExit: 0 },
      { run: 'abort', expectExit: 1 },
    ]);
  });

  it('accepts a failure that takes effect before its response is lost', () => {
    const scenario = load([{ tag: 'v1.3.0', awsFailures: { UpdateService: { error: 'TimeoutError', applied: true } } }])();
    expect(scenario.steps[0]).toMatchObject({ awsFailures: { UpdateService: { error: 'TimeoutError', applied: true } } });
  });

  it("reads a gray release's traffic and a rule reset while a push runs", () => {
    const scenario = load(
      [
        { tag: 'v1.3.0', traffic: { errorRate: 0.02 } },
        { external: 'rule-reset', afterSeconds: 900 },
      ],
      {
        tag: 'v1.2.0',
        traffic: { latencyMs: { p50: 40, p99: 120 } },
        requestsPerMinute: 2000,
      },
    )();
    expect(scenario.steps[1]).toEqual({ external: 'rule-reset', afterSeconds: 900, why: '' });
    expect(scenario.running).toMatchObject({ traffic: { latencyMs: { p50: 40, p99: 120 } }, requestsPerMinute: 2000 });
  });

  it('reads time passing, a drifted service and one mid-deployment', () => {
    const scenario = load([{ tag: 'v1.3.0' }, { wait: 900, why: 'the reconciliation' }], {
      tag: 'v1.2.0',
      drifted: true,
      deploying: { tag: 'v1.2.1' },
    })();
    expect(scenario.steps[1]).toEqual({ wait: 900, why: 'the reconciliation' });
    expect(scenario.running).toMatchObject({ drifted: true, deploying: { tag: 'v1.2.1', result: 'completes', settlesAfterSeconds: 90 } });
  });

  it('refuses, when played, a rule reset for a service that is not released gray', async () => {
    const scenario = scenarioSchema.parse({
      name: 'rolling',
      service: 'sentiment',
      running: { tag: 'v1.2.0' },
      steps: [{ tag: 'v1.3.0' }, { external: 'rule-reset', afterSeconds: 60 }],
    });
    await expect(playScenario(scenario, ROOT)).rejects.toThrow(
      /steps\.1\.external only apply to a gray release, and service sentiment is released rolling/,
    );
  });

  it.each([
    ['alarmsInAlarm', { tag: 'v1.2.0', alarmsInAlarm: ['no-such-alarm'] }, [{ tag: 'v1.3.0' }]],
    ['tripsAlarm', { tag: 'v1.2.0' }, [{ tag: 'v1.3.0', rollout: { result: 'completes', tripsAlarm: 'no-such-alarm' } }]],
  ])('refuses an alarm in %s that the service does not configure', async (field, running, steps) => {
    const scenario = scenarioSchema.parse({ name: 'alarms', service: 'sentiment', running, steps });
    await expect(playScenario(scenario, ROOT)).rejects.toThrow(
      new RegExp(`${field} names alarm "no-such-alarm", which service sentiment does not configure`),
    );
  });
});
