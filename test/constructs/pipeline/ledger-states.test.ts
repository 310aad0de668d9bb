import { describe, expect, it } from 'vitest';
import { LOCK_RECHECK_SECONDS } from '../../../lambdas/contract/steps';
import { STATES } from '../../../lib/state-names';
import { synth } from './fixture';

describe('ledger states', () => {
  it('has exactly the states named in STATES, every one reachable from the start', () => {
    const { definition } = synth();
    expect(Object.keys(definition.States).sort()).toEqual(Object.values(STATES).sort());
    // The ledger's states, by the names operators read in the console (and the runbook quotes).
    expect(Object.keys(definition.States)).toEqual(
      expect.arrayContaining([
        'Record the release in the ledger',
        'Is the release new?',
        'Take the service lock',
        'Does this release hold the service lock?',
        'Wait for the service to be free',
        'Record outcome in the ledger',
        'Outcome could not be recorded in the ledger',
        'Release already handled',
        'Release superseded by a higher version',
        'Release refused by the ledger',
      ]),
    );
    const reachable = new Set<string>();
    const visit = (name: string) => {
      if (reachable.has(name)) return;
      reachable.add(name);
      const state = definition.States[name];
      const targets = [
        state.Next,
        state.Default,
        ...(state.Choices ?? []).map((c: any) => c.Next),
        ...(state.Catch ?? []).map((c: any) => c.Next),
      ];
      for (const target of targets) if (target !== undefined) visit(target);
    };
    visit(definition.StartAt);
    expect([...reachable].sort()).toEqual(Object.values(STATES).sort());
  });

  it('records every release before any decision, with the execution as its key', () => {
    const { definition } = synth();
    const record = definition.States[STATES.recordRelease];
    expect(record.Resource).toContain('PipelineRecordRelease');
    expect(record.ResultPath).toBe('$.ledger');
    expect(record.Parameters).toEqual({
      'subject.$': '$.subject',
      'trigger.$': '$.trigger',
      'release.$': '$.release',
      'service.$': '$.service',
      'running.$': '$.running',
      'policy.$': '$.policy',
      'executionArn.$': '$$.Execution.Id',
      'startedAt.$': '$$.Execution.StartTime',
    });
  });

  it('stops a release superseded on arrival, a duplicate, a refused one and a reused release tag before the signature is checked', () => {
    const { definition } = synth();
    expect(definition.States[STATES.isReleaseAllowed]).toMatchObject({
      Choices: [
        { Variable: '$.ledger.verdict', StringEquals: 'superseded', Next: STATES.recordSupersededOnArrival },
        { Variable: '$.policy.verdict', StringEquals: 'accepted', Next: STATES.isReleaseNew },
      ],
      Default: STATES.recordRejectedByPolicy,
    });
    expect(definition.States[STATES.isReleaseNew]).toMatchObject({
      Choices: [
        { Variable: '$.ledger.verdict', StringEquals: 'duplicate', Next: STATES.recordDuplicate },
        { Variable: '$.ledger.verdict', StringEquals: 'refused', Next: STATES.recordRefused },
        { Variable: '$.ledger.verdict', StringEquals: 'rejected', Next: STATES.recordTagReused },
      ],
      Default: STATES.verifySignature,
    });
    for (const state of [STATES.recordDuplicate, STATES.recordRefused, STATES.recordSupersededOnArrival, STATES.recordTagReused]) {
      expect(definition.States[state].Parameters['reason.$']).toBe('$.ledger.reason');
    }
    // A tag that already names another image is a policy rejection, decided once the ledger is read.
    expect(definition.States[STATES.recordTagReused].Parameters).toMatchObject({
      status: 'rejected',
      severity: 'warning',
      error: 'ReleaseRejectedByPolicy',
    });
    // Or once the release holds the lock, when another verified image bound the tag while it waited.
    expect(definition.States[STATES.holdsLock].Choices).toContainEqual({
      Variable: '$.lock.verdict',
      StringEquals: 'rejected',
      Next: STATES.noteTagBoundMeanwhile,
    });
    expect(definition.States[STATES.noteTagBoundMeanwhile]).toEqual({
      Type: 'Pass',
      Parameters: { 'key.$': '$.ledger.key', verdict: 'rejected', code: 'release-tag-reused', 'reason.$': '$.lock.reason' },
      ResultPath: '$.ledger',
      Next: STATES.recordTagReused,
    });
  });

  it('waits for the service lock until woken or LOCK_RECHECK_SECONDS; a release superseded meanwhile is recorded as such', () => {
    const { definition } = synth();
    expect(definition.States[STATES.takeLock]).toMatchObject({
      Resource: expect.stringContaining('PipelineTakeLock'),
      ResultPath: '$.lock',
      Parameters: { 'service.$': '$.service', 'trigger.$': '$.trigger', 'key.$': '$.ledger.key', 'executionArn.$': '$$.Execution.Id' },
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: STATES.recordDeploymentFailed }],
    });
    expect(definition.States[STATES.holdsLock].Choices[1]).toEqual({
      Variable: '$.lock.verdict',
      StringEquals: 'wait',
      Next: STATES.waitForLock,
    });
    expect(definition.States[STATES.holdsLock].Default).toBe(STATES.recordSuperseded);
    // A task token the holder's end answers; after an hour without a wake-up it tries again itself.
    expect(LOCK_RECHECK_SECONDS).toBe(3600);
    expect(definition.States[STATES.waitForLock]).toMatchObject({
      Resource: expect.stringContaining(':states:::lambda:invoke.waitForTaskToken'),
      TimeoutSeconds: 3600,
      ResultPath: null,
      Next: STATES.takeLock,
      Catch: [
        { ErrorEquals: ['States.Timeout'], ResultPath: null, Next: STATES.takeLock },
        { ErrorEquals: ['States.ALL'], ResultPath: null, Next: STATES.takeLock },
      ],
    });
    expect(definition.States[STATES.waitForLock].Parameters.Payload).toMatchObject({
      waitsFor: 'lock',
      timeoutSeconds: 3600,
      'tag.$': '$.release.tag',
    });
    // Every outcome wakes the releases waiting for its service once the ledger (and so the lock) is written.
    expect(definition.States[STATES.recordInLedger].Next).toBe(STATES.wakeLockWaiters);
    expect(definition.States[STATES.wakeLockWaiters]).toMatchObject({
      Parameters: { wake: 'lock-waiters', 'service.$': '$.subject.service' },
      ResultPath: null,
      Next: STATES.publishOutcome,
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: null, Next: STATES.publishOutcome }],
    });
    expect(definition.States[STATES.recordSuperseded].Parameters['reason.$']).toBe('$.lock.reason');
  });

  it('records every outcome in the ledger before publishing it; a ledger that cannot be written fails the execution', () => {
    const { definition } = synth();
    const outcomes = Object.entries<any>(definition.States).filter(([name]) => name.startsWith('Record outcome: '));
    // 13 of the runbook and the rolling strategy, 7 of the gray release.
    expect(outcomes).toHaveLength(20);
    for (const [, state] of outcomes) {
      expect(state).toMatchObject({ Type: 'Pass', ResultPath: '$.outcome', Next: STATES.recordInLedger });
      expect(state.Parameters).toMatchObject({ 'ledger.$': '$.ledger.key', 'trigger.$': '$.trigger', 'execution.$': '$$.Execution.Id' });
    }
    expect(definition.States[STATES.recordInLedger]).toMatchObject({
      Resource: expect.stringContaining('PipelineRecordOutcome'),
      Parameters: { 'outcome.$': '$.outcome' },
      // The outcome told in words replaces the one the Record state wrote: the alert and the Fail cause say what the ledger says.
      ResultPath: '$.outcome',
      Next: STATES.wakeLockWaiters,
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.ledgerFailure', Next: STATES.ledgerNotUpdated }],
    });
    expect(definition.States[STATES.publishOutcome].Next).toBe(STATES.routeByOutcome);
  });

  it('says in each outcome what ECS runs afterwards', () => {
    const { definition } = synth();
    const serviceState = (state: string) => {
      const { serviceState: status, 'taskDefinitionAfter.$': after } = definition.States[state].Parameters;
      return after === undefined ? status : `${status} ${after}`;
    };
    expect(serviceState(STATES.recordDeployed)).toBe('changed $.deployment.newTaskDefinitionArn');
    expect(serviceState(STATES.recordRolledBack)).toBe('changed $.deployment.rollbackTaskDefinitionArn');
    expect(serviceState(STATES.recordRollbackFailed)).toBe('unknown');
    for (const state of [
      STATES.recordRejectedByPolicy,
      STATES.recordSignatureRejected,
      STATES.recordDeploymentFailed,
      STATES.recordSuperseded,
      STATES.recordDuplicate,
    ]) {
      expect(serviceState(state)).toBe('unchanged');
    }
  });
});
