/** The deployment ledger through the real state machine: the same push event delivered again and again (08), and a burst of pushes (09). */
import { beforeAll, describe, expect, it } from 'vitest';
import { playScenario, type ScenarioResult } from '../../local/play';
import { isPush } from '../../local/scenario';
import { STATES } from '../../lib/state-names';
import {
  ROOT,
  REPOSITORY_URI,
  SHA256,
  example,
  variant,
  only,
  execution,
  recordOf,
  calls,
  modelImage,
  visited,
  expectNoMismatches,
} from './ledger-fixture';

describe('the same push event delivered three times, then a second tag for the running image (08)', () => {
  let result: ScenarioResult;
  beforeAll(async () => {
    result = await playScenario(example('08-same-event-three-times'), ROOT);
  });

  it('rolls out once: one RegisterTaskDefinition and one UpdateService, pinned to the digest', () => {
    expectNoMismatches(result);
    const first = execution(result, 'push v1.3.0 (delivery 1 of 3)');
    const [register] = calls(result, 'RegisterTaskDefinition');
    expect(calls(result, 'RegisterTaskDefinition')).toHaveLength(1);
    expect(modelImage(register)).toBe(`${REPOSITORY_URI}@${first.digest}`);
    expect(calls(result, 'UpdateService')).toHaveLength(1);
  });

  it('keeps three records of the event: one succeeded with the model labels and the signature evidence, two duplicates', () => {
    const deliveries = [1, 2, 3].map((n) => execution(result, `push v1.3.0 (delivery ${n} of 3)`));
    const [first, second, third] = deliveries.map((d) => recordOf(result, d));
    expect(result.ledger.deployments.filter((r) => r.tag === 'v1.3.0')).toHaveLength(3);

    expect(first).toMatchObject({
      status: 'succeeded',
      final: true,
      error: null,
      digest: deliveries[0]!.digest,
      trigger: { kind: 'push' },
    });
    expect(first.model).toEqual({
      'org.opencontainers.image.version': 'v1.3.0',
      model_id: 'sentiment-distilbert',
      training_data_version: '2026-11-01',
      accuracy: '0.931',
      created_at: '2026-11-19T22:10:00Z',
    });
    expect(first.signature).toEqual({
      code: 'verified',
      evidence: [
        {
          format: 'cosign-simple-signing',
          signer: { kind: 'public-key', id: expect.stringMatching(SHA256) },
          signatureDigest: expect.stringMatching(SHA256),
          signedAt: null,
        },
      ],
    });
    expect(first.taskDefinitionBefore).toMatch(/task-definition\/sentiment-task:1$/);
    expect(first.taskDefinitionAfter).toBe(calls(result, 'UpdateService')[0].taskDefinition);
    expect(first.history.map((h) => h.status)).toEqual(['received', 'waiting', 'deploying', 'succeeded']);

    for (const duplicate of [second, third]) {
      expect(duplicate).toMatchObject({
        status: 'duplicate',
        final: true,
        error: null,
        lockedAt: null,
        signature: null,
        digest: deliveries[0]!.digest,
      });
      expect(duplicate.reason).toContain(deliveries[0]!.digest);
    }
    // No alert for a duplicate.
    expect(deliveries.map((d) => d.report.alerts.map((a) => a.severity))).toEqual([['info'], [], []]);
  });

  it('records the second tag of the running image as duplicate (already running) without writing to ECS', () => {
    const retag = execution(result, 'push v1.3.1');
    const record = recordOf(result, retag);
    expect(retag.digest).toBe(execution(result, 'push v1.3.0 (delivery 1 of 3)').digest);
    expect(record).toMatchObject({ tag: 'v1.3.1', status: 'duplicate', final: true, error: null, lockedAt: null });
    expect(record.reason).toBe(`The service already runs ${retag.digest}; nothing to do.`);
    expect(visited(retag)).not.toContain(STATES.registerRevision);
    expect(only(result.ledger.digests, 'digest record').tags).toEqual(['v1.3.0', 'v1.3.1']);
  });

  // A redelivery that arrives after the first execution's UpdateService sees the digest "running" already; the claim
  // is checked first, so the record names the execution releasing it.
  it('names the first execution in the duplicates of a redelivered event (as it does before UpdateService)', () => {
    const first = execution(result, 'push v1.3.0 (delivery 1 of 3)');
    for (const n of [2, 3]) {
      expect(recordOf(result, execution(result, `push v1.3.0 (delivery ${n} of 3)`)).reason).toContain(first.report.executionArn);
    }
  });

  it('names the first execution in the duplicates of an event redelivered while it waits for a late signature', async () => {
    const late = await playScenario(
      variant(example('08-same-event-three-times'), (steps) => [{ ...(steps[0] as object), signatureArrivesAfterSeconds: 20 }]),
      ROOT,
    );
    expectNoMismatches(late);
    const first = execution(late, 'push v1.3.0 (delivery 1 of 3)');
    expect(recordOf(late, first).status).toBe('succeeded');
    for (const n of [2, 3]) {
      const record = recordOf(late, execution(late, `push v1.3.0 (delivery ${n} of 3)`));
      expect(record).toMatchObject({ status: 'duplicate', final: true, lockedAt: null });
      expect(record.reason).toContain(`already being released by execution ${first.report.executionArn}`);
    }
    expect(calls(late, 'UpdateService')).toHaveLength(1);
  });
});

describe('twenty pushes in a minute (09)', () => {
  const scenario = example('09-twenty-pushes-in-a-minute');
  const tags = scenario.steps.filter(isPush).map((p) => p.tag);
  let result: ScenarioResult;
  beforeAll(async () => {
    result = await playScenario(scenario, ROOT);
  });

  it('gives every push exactly one record, all of them final', () => {
    expectNoMismatches(result);
    expect(tags).toHaveLength(20);
    expect(result.executions).toHaveLength(20);
    expect(result.ledger.deployments).toHaveLength(20);
    for (const tag of tags) {
      const record = recordOf(result, execution(result, `push ${tag}`));
      expect(record.tag).toBe(tag);
      expect(record.final).toBe(true);
      expect(['received', 'waiting', 'deploying']).not.toContain(record.status);
      expect(record.finishedAt).not.toBeNull();
    }
  });

  it('deploys only the first arrival and the highest version; every other push is superseded', () => {
    const byStatus = (status: string) => result.ledger.deployments.filter((r) => r.status === status).map((r) => r.tag);
    expect(byStatus('succeeded')).toEqual(['v1.4.3', 'v1.4.20']);
    expect(byStatus('superseded').sort()).toEqual(tags.filter((t) => t !== 'v1.4.3' && t !== 'v1.4.20').sort());
    for (const record of result.ledger.deployments.filter((r) => r.status === 'superseded')) {
      expect(record).toMatchObject({ error: null, lockedAt: null });
      expect(record.reason).toMatch(/ranks above/);
    }
    expect(calls(result, 'UpdateService')).toHaveLength(2);
    expect(calls(result, 'RegisterTaskDefinition').map(modelImage)).toEqual([
      `${REPOSITORY_URI}@${execution(result, 'push v1.4.3').digest}`,
      `${REPOSITORY_URI}@${execution(result, 'push v1.4.20').digest}`,
    ]);
  });

  it('changes the service one rollout at a time: the deploying intervals never overlap', () => {
    const locked = result.ledger.deployments.filter((r) => r.lockedAt !== null).sort((a, b) => a.lockedAt!.localeCompare(b.lockedAt!));
    expect(locked.map((r) => r.tag)).toEqual(['v1.4.3', 'v1.4.20']);
    for (const [i, record] of locked.entries()) {
      expect(record.finishedAt! >= record.lockedAt!).toBe(true);
      if (i > 0) expect(record.lockedAt! >= locked[i - 1]!.finishedAt!).toBe(true);
    }
  });

  it('alerts only the two successes, as info', () => {
    const alerts = result.executions.flatMap((e) => e.report.alerts.map((a) => `${e.label}: ${a.severity}`));
    expect(alerts.sort()).toEqual(['push v1.4.20: info', 'push v1.4.3: info']);
  });

  it('lists all twenty records in `model-rollout history`', () => {
    const [header, ...rows] = result.history;
    expect(header).toMatch(/^WHEN\s+VERSION\s+DIGEST\s+TRIGGER\s+OUTCOME\s+REASON/);
    expect(rows).toHaveLength(20);
    expect(rows.map((row) => row.split(/\s+/)[1]).sort()).toEqual([...tags].sort());
  });

  it('leaves the service lock free: a push after the burst takes it at once', async () => {
    // The lock is not part of the result; a held (or never released) lease of 46 minutes would make v1.4.21 wait.
    const after = await playScenario(
      variant(
        scenario,
        (steps) => [...steps, { tag: 'v1.4.21', expect: { status: 'succeeded', error: null, running: 'v1.4.21', alerts: ['info'] } }],
        { expectAtEnd: { running: 'v1.4.21' } },
      ),
      ROOT,
    );
    expectNoMismatches(after);
    const last = execution(after, 'push v1.4.21');
    const record = recordOf(after, last);
    expect(record.status).toBe('succeeded');
    expect(record.lockedAt).toBe(record.receivedAt);
    expect(visited(last)).not.toContain(STATES.waitForLock);
  });
});
