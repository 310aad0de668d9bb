/** The demo scenarios `npm start` plays must keep going as they say they do. */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { playScenario } from '../../local/play';
import { isPush, loadScenario, scenarioSchema } from '../../local/scenario';

const ROOT = path.resolve(__dirname, '..', '..');
const DIRECTORY = path.join(ROOT, 'examples', 'scenarios');
const FILES = readdirSync(DIRECTORY)
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('examples/scenarios', () => {
  it('holds exactly the demo scenarios the README lists', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const listed = [...readme.matchAll(/^\| `(\d\d-[a-z0-9-]+)` \|/gm)].map((m) => `${m[1]}.json`).sort();
    expect(listed.length).toBeGreaterThan(0);
    expect(FILES).toEqual(listed);
  });

  it.each(FILES)('%s goes as it expects', async (file) => {
    const result = await playScenario(loadScenario(path.join(DIRECTORY, file)), ROOT);
    expect(result.executions.length).toBeGreaterThan(0);
    for (const execution of result.executions)
      expect({ execution: execution.label, mismatches: execution.mismatches }).toEqual({ execution: execution.label, mismatches: [] });
    for (const operation of result.operations)
      expect({ command: operation.command, mismatches: operation.mismatches }).toEqual({ command: operation.command, mismatches: [] });
    expect(result.endMismatches).toEqual([]);
  });

  it('reports what differs when a scenario expects something else', async () => {
    const scenario = loadScenario(path.join(DIRECTORY, FILES[0]));
    const [first] = scenario.steps;
    if (!isPush(first) || first.expect === undefined || Array.isArray(first.expect))
      throw new Error(`${FILES[0]} must start with a push expecting one outcome`);
    first.expect = { ...first.expect, status: 'rolled-back', running: 'v1.2.0' };
    const [execution] = (await playScenario(scenario, ROOT)).executions;
    expect(execution.mismatches).toEqual(['status: expected rolled-back, got succeeded', 'running: expected v1.2.0, got v1.3.0']);
  });

  it('reports what differs in the calls, the ledger and the alert an execution was expected to leave', async () => {
    const scenario = loadScenario(path.join(DIRECTORY, '02-development-tag-rejected-in-production.json'));
    const [push] = scenario.steps;
    if (!isPush(push) || push.expect === undefined || Array.isArray(push.expect))
      throw new Error('02 must push once, expecting one outcome');
    push.expect = {
      ...push.expect,
      calls: { DescribeServices: 1, UpdateService: 1 },
      ledger: { status: 'succeeded', quarantined: true },
      alert: { status: 'succeeded', reason: { contains: 'is healthy' }, 'signature.code': 'verified' },
    };
    const [execution] = (await playScenario(scenario, ROOT)).executions;
    expect(execution!.mismatches).toEqual([
      'calls.UpdateService: expected 1, got 0',
      'ledger.status: expected succeeded, got rejected',
      'ledger.quarantined: expected true, got false',
      'alert.status: expected "succeeded", got "rejected"',
      expect.stringMatching(/^alert\.reason: expected \{"contains":"is healthy"\}, got "Tag \\"v1\.3\.0-dev\.4\\" is a development tag/),
      'alert.signature.code: expected "verified", got undefined',
    ]);
  });

  it("injects a push's AWS failures into its own execution, never into one running beside it", async () => {
    // v1.3.0 takes the service first and updates it while v1.4.0 waits: the failure planned for v1.4.0 is v1.4.0's.
    const result = await playScenario(
      scenarioSchema.parse({
        name: 'failures stay with their push',
        service: 'sentiment',
        running: { tag: 'v1.2.0' },
        steps: [
          { tag: 'v1.3.0', expect: { status: 'succeeded', error: null, alerts: ['info'], calls: { UpdateService: 1 } } },
          {
            tag: 'v1.4.0',
            arrivesAfterSeconds: 5,
            awsFailures: { UpdateService: 'InvalidParameterException' },
            expect: {
              status: 'deployment-failed',
              error: 'DeploymentFailed',
              alerts: ['warning'],
              calls: { UpdateService: 1 },
              ledger: { quarantined: false },
            },
          },
        ],
      }),
      ROOT,
    );
    expect(result.executions.map((e) => [e.label, e.mismatches])).toEqual([
      ['push v1.3.0', []],
      ['push v1.4.0', []],
    ]);
    expect(result.executions.map((e) => e.report.unusedFailures)).toEqual([{}, {}]);
  });

  it('reports a failure injected into an execution that never reached the call: the knob had no effect', async () => {
    const result = await playScenario(
      scenarioSchema.parse({
        name: 'a failure never reached',
        service: 'sentiment',
        running: { tag: 'v1.2.0' },
        steps: [
          {
            tag: 'v1.3.0-dev.4',
            awsFailures: { UpdateService: [null, 'AccessDeniedException'] },
            expect: { status: 'rejected', error: 'ReleaseRejectedByPolicy', alerts: ['warning'] },
          },
        ],
      }),
      ROOT,
    );
    expect(result.executions[0]!.mismatches).toEqual(['awsFailures.UpdateService: 1 injected failure(s) never reached by this execution']);
  });

  it.each([
    [
      'a Lambda failure for an invocation that never came',
      {
        tag: 'v1.3.0-dev.4',
        lambdaFailures: { 'Check service health': 'Sandbox.Timedout' },
        expect: { status: 'rejected', error: 'ReleaseRejectedByPolicy', alerts: ['warning'] },
      },
      'lambdaFailures.Check service health: 1 injected failure(s) for invocations that never came',
    ],
    [
      'a crash after a state the execution never ran',
      {
        tag: 'v1.3.0-dev.4',
        crashAfter: 'Update service to new revision',
        expect: { status: 'rejected', error: 'ReleaseRejectedByPolicy', alerts: ['warning'] },
      },
      'crashAfter: the execution never ran "Update service to new revision", so it did not crash there',
    ],
  ])('reports %s: the knob had no effect', async (_case, push, mismatch) => {
    const result = await playScenario(
      scenarioSchema.parse({ name: 'a knob with no effect', service: 'sentiment', running: { tag: 'v1.2.0' }, steps: [push] }),
      ROOT,
    );
    expect(result.executions[0]!.mismatches).toEqual([mismatch]);
  });

  it('reports failures planned for a push the trigger rule starts nothing for', async () => {
    const result = await playScenario(
      scenarioSchema.parse({
        name: 'failures for nothing',
        service: 'sentiment',
        running: { tag: 'v1.2.0' },
        steps: [
          {
            tag: 'v1.3.0',
            event: 'untagged',
            awsFailures: { UpdateService: 'AccessDeniedException' },
            expect: { status: 'not-started', error: null, alerts: [] },
          },
        ],
      }),
      ROOT,
    );
    const [entry] = result.timeline;
    expect(entry!.kind).toBe('not-started');
    expect(entry!.result.mismatches).toEqual([
      'awsFailures, lambdaFailures, crashAfter: the trigger rule starts no execution for this event, so nothing can fail in it',
    ]);
  });

  it('publishes the outcome when PutEvents took effect but its response was lost, and again when the state retries it', async () => {
    const result = await playScenario(
      scenarioSchema.parse({
        name: 'outcome published twice',
        service: 'sentiment',
        running: { tag: 'v1.2.0' },
        steps: [
          {
            tag: 'v1.3.0',
            awsFailures: { PutEvents: { error: 'InternalException', applied: true } },
            expect: { status: 'succeeded', error: null, alerts: ['info'] },
          },
        ],
      }),
      ROOT,
    );
    const [execution] = result.executions;
    expect(execution!.mismatches).toEqual([]);
    const outcomes = execution!.report.alerts.filter((a) => a.event.source === 'model-rollout');
    expect(outcomes.map((a) => a.event.detail.status)).toEqual(['succeeded', 'succeeded']);
  });

  it('names the bad field of an invalid step, though a step may be a push or a command', () => {
    expect(() => loadScenario(path.join(ROOT, 'test', 'fixtures', 'scenarios', 'invalid.json'))).toThrow(/\n {2}steps\.0\.signature: /);
  });
});
