/** The deployment ledger through the real state machine: an execution that crashes after UpdateService (12), a push whose event never arrived (13), and a reconciled release that crashed before it was recorded (21). */
import { beforeAll, describe, expect, it } from 'vitest';
import { playScenario, type ScenarioResult } from '../../local/play';
import { STATES } from '../../lib/state-names';
import { ROOT, REPOSITORY_URI, example, only, execution, recordOf, calls, modelImage, visited, expectNoMismatches } from './ledger-fixture';

describe('an execution that crashes after UpdateService (12)', () => {
  let result: ScenarioResult;
  beforeAll(async () => {
    result = await playScenario(example('12-crash-after-update-service'), ROOT);
  });

  it('is finalised by the crash finaliser and alerted critically by the execution-status rule', () => {
    expectNoMismatches(result);
    const crashed = execution(result, 'push v1.4.0');
    expect(crashed.report.status).toBe('ABORTED');
    expect(crashed.report.finalised).toBe('finalised');
    expect(
      crashed.report.alerts.map((a) => ({
        severity: a.severity,
        source: a.event.source,
        detailType: a.event['detail-type'],
        status: a.event.detail.status,
      })),
    ).toEqual([{ severity: 'critical', source: 'aws.states', detailType: 'Step Functions Execution Status Change', status: 'ABORTED' }]);

    const record = recordOf(result, crashed);
    expect(record).toMatchObject({ status: 'execution-aborted', final: true, error: 'ABORTED', taskDefinitionAfter: null });
    expect(record.reason).toMatch(/ended ABORTED before it recorded an outcome/);
    expect(record.lockedAt).not.toBeNull();
    expect(record.finishedAt).not.toBeNull();
    expect(result.ledger.digests.find((d) => d.digest === crashed.digest)).toMatchObject({ claim: null, succeeded: null });
  });

  it('frees the lock for the next push, whose rollback goes to the last known good v1.3.0, not the crashed v1.4.0', () => {
    const v130 = recordOf(result, execution(result, 'push v1.3.0'));
    const next = execution(result, 'push v1.5.0');
    const record = recordOf(result, next);

    // A lease left behind by the crash would have kept v1.5.0 waiting for 46 minutes.
    expect(record.lockedAt).toBe(record.receivedAt);
    expect(visited(next)).not.toContain(STATES.waitForLock);
    expect(visited(next)).toContain(STATES.updateService);
    expect(record).toMatchObject({ status: 'rolled-back', error: 'ReleaseRolledBack' });

    // What ran before v1.5.0 was v1.4.0's revision; the rollback skipped it.
    const updates = calls(result, 'UpdateService').map((u) => u.taskDefinition);
    expect(record.taskDefinitionBefore).toBe(updates[1]);
    expect(record.taskDefinitionAfter).toBe(v130.taskDefinitionAfter);
    expect(record.taskDefinitionAfter).not.toBe(record.taskDefinitionBefore);
    expect(updates.at(-1)).toBe(v130.taskDefinitionAfter);
  });
});

describe('a push whose event never arrived (13)', () => {
  let result: ScenarioResult;
  beforeAll(async () => {
    result = await playScenario(example('13-missed-event-reconciled'), ROOT);
  });

  it('starts nothing until the reconciliation, which starts an execution recorded as a reconciliation', () => {
    expectNoMismatches(result);
    const first = result.operations[0];
    // The push step started no execution; the only one is the first reconciliation's.
    const started = only(result.executions, 'execution');
    expect(started.step).toBe(first!.step);
    // 15 minutes pass before each reconciliation (its schedule), with nothing pushed.
    expect(result.timeline.map((t) => t.kind)).toEqual(['wait', 'execution', 'operation', 'wait', 'operation']);
    expect(first!.output).toEqual(['sentiment: started v1.3.0']);

    const record = recordOf(result, started);
    expect(record).toMatchObject({
      tag: 'v1.3.0',
      status: 'succeeded',
      final: true,
      trigger: { kind: 'reconciliation', requestedBy: null, reason: null },
    });
    expect(result.ledger.deployments).toHaveLength(1);
  });

  it('starts nothing at the next reconciliation: the digest is already decided', () => {
    const second = result.operations[1]!;
    expect(second.exitCode).toBe(0);
    expect(second.output).toEqual(['sentiment: already-decided v1.3.0']);
    expect(result.executions.filter((e) => e.step === second.step)).toEqual([]);
    expect(calls(result, 'UpdateService')).toHaveLength(1);
  });
});

describe('a reconciled release whose execution crashed before the ledger recorded it (21)', () => {
  let result: ScenarioResult;
  beforeAll(async () => {
    result = await playScenario(example('21-crashed-reconciliation-started-again'), ROOT);
  });

  it('starts the release again at the next reconciliation, under a new name, and deploys it', () => {
    expectNoMismatches(result);
    const [crashed, again] = result.executions;
    expect(result.executions).toHaveLength(2);
    const hex = crashed!.digest.slice(7, 31);
    // Step Functions would refuse the first name again for 90 days: the second execution has the next attempt's.
    expect(crashed!.report.executionArn).toMatch(new RegExp(`:reconcile-sentiment-${hex}$`));
    expect(again!.report.executionArn).toMatch(new RegExp(`:reconcile-sentiment-${hex}-2$`));
    expect(crashed!.report).toMatchObject({ status: 'ABORTED', finalised: 'finalised' });
    expect(result.operations.map((o) => o.output)).toEqual([
      ['sentiment: started v1.3.0'],
      ['sentiment: started v1.3.0'],
      ['sentiment: already-decided v1.3.0'],
    ]);

    expect(recordOf(result, crashed!)).toMatchObject({ tag: 'v1.3.0', status: 'execution-aborted', trigger: { kind: 'reconciliation' } });
    expect(recordOf(result, again!)).toMatchObject({ tag: 'v1.3.0', status: 'succeeded', trigger: { kind: 'reconciliation' } });
    expect(calls(result, 'UpdateService')).toHaveLength(1);
    expect(calls(result, 'RegisterTaskDefinition').map(modelImage)).toEqual([`${REPOSITORY_URI}@${crashed!.digest}`]);
  });
});
