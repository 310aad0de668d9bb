/**
 * The deployment ledger, through the real synthesized state machine: the example scenarios 08–13 (and variants of
 * them) played against the simulated account and a dynalite ledger, asserting on what the ledger recorded, the ECS
 * calls made, and the executions: redelivered events, a burst of pushes, quarantine, an operator's rollback, a crash
 * after UpdateService, and a push whose event never arrived.
 */
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentRecord } from '../../lambdas/contract/ledger-records';
import { playScenario, type ExecutionResult, type ScenarioResult } from '../../local/play';
import { isPush, loadScenario, scenarioSchema, type Scenario } from '../../local/scenario';
import { STATES } from '../../lib/state-names';

const ROOT = path.resolve(__dirname, '..', '..');
const SCENARIOS = path.join(ROOT, 'examples', 'scenarios');
const REPOSITORY_URI = '123456789012.dkr.ecr.us-east-1.amazonaws.com/models/sentiment';
const SHA256 = /^sha256:[0-9a-f]{64}$/;

function example(name: string): Scenario {
  return loadScenario(path.join(SCENARIOS, `${name}.json`));
}

/** A copy of `scenario` with its steps (and other fields) changed, validated like a scenario file. */
function variant(scenario: Scenario, steps: (steps: unknown[]) => unknown[], changes: Record<string, unknown> = {}): Scenario {
  const copy = JSON.parse(JSON.stringify(scenario)) as Scenario;
  return scenarioSchema.parse({ ...copy, name: `${copy.name} (variant)`, steps: steps(copy.steps), ...changes });
}

function only<T>(items: T[], what: string): T {
  if (items.length !== 1) throw new Error(`expected exactly one ${what}, found ${items.length}`);
  return items[0]!;
}

/** The execution started by the delivery labelled so, e.g. `push v1.3.0 (delivery 2 of 3)`. */
function execution(result: ScenarioResult, label: string): ExecutionResult {
  return only(
    result.executions.filter((e) => e.label === label),
    `execution "${label}"`,
  );
}

/** The one deployment record the execution made. */
function recordOf(result: ScenarioResult, of: ExecutionResult): DeploymentRecord {
  return only(
    result.ledger.deployments.filter((r) => r.executionArn === of.report.executionArn),
    `record of ${of.label}`,
  );
}

function calls(result: ScenarioResult, command: string): any[] {
  return result.account.calls.filter((c) => c.command === command).map((c) => c.input as any);
}

function modelImage(registerInput: any): string {
  return registerInput.containerDefinitions.find((c: any) => c.name === 'model').image;
}

function visited(of: ExecutionResult): string[] {
  return of.report.history.filter((h) => h.type === 'StateEntered').map((h) => h.state!);
}

function expectNoMismatches(result: ScenarioResult): void {
  expect(result.executions.flatMap((e) => e.mismatches.map((m) => `${e.label}: ${m}`))).toEqual([]);
  expect(result.operations.flatMap((o) => o.mismatches.map((m) => `${o.command}: ${m}`))).toEqual([]);
  expect(result.endMismatches).toEqual([]);
}

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

describe('a rolled-back digest is quarantined until an operator releases it (10)', () => {
  const scenario = example('10-quarantined-digest-pushed-again');

  it('quarantines the digest when its rollout is rolled back, and refuses it under another tag', async () => {
    const result = await playScenario(
      variant(scenario, (steps) => steps.slice(0, 2)),
      ROOT,
    );
    expectNoMismatches(result);
    const rolledBack = execution(result, 'push v1.3.0');
    const refused = execution(result, 'push v1.3.0-hotfix');
    const digest = only(result.ledger.digests, 'digest record');
    expect(digest.quarantine).toEqual({
      at: recordOf(result, rolledBack).finishedAt,
      tag: 'v1.3.0',
      executionArn: rolledBack.report.executionArn,
      reason: expect.stringContaining('sentiment-p99-latency'),
    });
    expect(digest.released).toBeNull();
    expect(digest.succeeded).toBeNull();

    expect(refused.report.error).toBe('ReleaseRefused');
    const record = recordOf(result, refused);
    expect(record).toMatchObject({ status: 'rejected', error: 'ReleaseRefused', final: true, lockedAt: null, digest: rolledBack.digest });
    expect(record.reason).toContain(`model-rollout quarantine release --service sentiment --digest ${rolledBack.digest}`);
    expect(visited(refused)).not.toContain(STATES.verifySignature);
    // Only the first push registered a revision.
    expect(calls(result, 'RegisterTaskDefinition')).toHaveLength(1);
  });

  it('deploys the digest again once released, and quarantines it again when it is rolled back again', async () => {
    const result = await playScenario(scenario, ROOT);
    expectNoMismatches(result);
    const refused = recordOf(result, execution(result, 'push v1.3.0-hotfix'));
    const again = execution(result, 'push v1.3.0-hotfix.1');
    const record = recordOf(result, again);

    const release = only(result.operations, 'operation');
    expect(release.exitCode).toBe(0);
    const digest = only(result.ledger.digests, 'digest record');
    expect(digest.released).toEqual({ at: expect.any(String), by: 'local-operator', reason: 'scenario: fixed and re-verified' });
    expect(digest.released!.at > refused.finishedAt! && digest.released!.at < record.receivedAt).toBe(true);

    expect(record).toMatchObject({ status: 'rolled-back', error: 'ReleaseRolledBack', final: true, digest: again.digest });
    expect(record.lockedAt).not.toBeNull();
    expect(calls(result, 'RegisterTaskDefinition').map(modelImage)).toEqual([
      `${REPOSITORY_URI}@${again.digest}`,
      `${REPOSITORY_URI}@${again.digest}`,
    ]);
    expect(calls(result, 'UpdateService').map((u) => u.taskDefinition.split('/').pop())).toEqual([
      'sentiment-task:2',
      'sentiment-task:1',
      'sentiment-task:3',
      'sentiment-task:1',
    ]);
    expect(digest.quarantine).toMatchObject({ tag: 'v1.3.0-hotfix.1', executionArn: again.report.executionArn, at: record.finishedAt });
  });
});

describe('an operator rolls back two releases (11)', () => {
  let result: ScenarioResult;
  beforeAll(async () => {
    result = await playScenario(example('11-rollback-two-releases-back'), ROOT);
  });

  it('records the rollback execution with its trigger, and deploys a new revision pinned to the chosen digest', () => {
    expectNoMismatches(result);
    const rollback = result.operations[0];
    const started = only(
      result.executions.filter((e) => e.step === rollback!.step),
      'execution started by the rollback',
    );
    const record = recordOf(result, started);
    const v130 = recordOf(result, execution(result, 'push v1.3.0'));

    expect(rollback!.exitCode).toBe(0);
    expect(rollback!.output.join('\n')).toContain(`started execution ${started.report.executionArn}`);
    expect(record).toMatchObject({
      tag: 'v1.3.0',
      digest: v130.digest,
      status: 'succeeded',
      final: true,
      trigger: { kind: 'rollback', requestedBy: 'local-operator', reason: 'scenario: operator rollback' },
    });
    expect(record.taskDefinitionBefore).toBe(recordOf(result, execution(result, 'push v1.5.0')).taskDefinitionAfter);

    const registered = calls(result, 'RegisterTaskDefinition');
    expect(registered).toHaveLength(4);
    expect(modelImage(registered.at(-1))).toBe(`${REPOSITORY_URI}@${v130.digest}`);
    expect(calls(result, 'UpdateService').at(-1).taskDefinition).toBe(record.taskDefinitionAfter);
    expect(record.taskDefinitionAfter).not.toBe(v130.taskDefinitionAfter);
    expect(result.ledger.digests.find((d) => d.digest === v130.digest)?.succeeded?.executionArn).toBe(started.report.executionArn);
  });

  it('refuses `--to` a version that never succeeded (exit 1), naming those that did, and starts nothing', () => {
    const refused = result.operations[1]!;
    expect(refused.command).toContain('--to v1.1.0');
    expect(refused.exitCode).toBe(1);
    expect(refused.output.join('\n')).toMatch(/v1\.1\.0 never succeeded .*versions that once succeeded: v1\.3\.0, v1\.5\.0, v1\.4\.0\)/);
    expect(result.executions.filter((e) => e.step === refused.step)).toEqual([]);
    expect(result.ledger.deployments).toHaveLength(4);
  });
});

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

describe('a release tag pushed again with another image (19)', () => {
  let result: ScenarioResult;
  beforeAll(async () => {
    result = await playScenario(example('19-release-tag-pushed-again-with-another-image'), ROOT);
  });

  it('rejects the second image by policy, naming the tag and both images, without touching ECS', () => {
    expectNoMismatches(result);
    const [first, again, next] = result.executions;
    expect(again!.digest).not.toBe(first!.digest);
    expect(again!.report).toMatchObject({ status: 'FAILED', error: 'ReleaseRejectedByPolicy' });
    expect(again!.report.cause).toContain('models/sentiment v1.3.0');
    for (const text of [
      'Tag "v1.3.0"',
      first!.digest,
      again!.digest,
      'Release tags are immutable releases',
      'push the new image as a new version',
    ]) {
      expect(again!.report.cause).toContain(text);
    }
    expect(visited(again!)).toContain(STATES.recordTagReused);
    expect(visited(again!)).not.toContain(STATES.verifySignature);
    expect(recordOf(result, again!)).toMatchObject({
      tag: 'v1.3.0',
      digest: again!.digest,
      status: 'rejected',
      error: 'ReleaseRejectedByPolicy',
      final: true,
      lockedAt: null,
    });

    // Only v1.3.0's first image and v1.3.1 were rolled out.
    expect(calls(result, 'RegisterTaskDefinition').map(modelImage)).toEqual([
      `${REPOSITORY_URI}@${first!.digest}`,
      `${REPOSITORY_URI}@${next!.digest}`,
    ]);
    expect(calls(result, 'UpdateService')).toHaveLength(2);
    // The ledger holds one image under v1.3.0 that ran.
    const ran = result.ledger.deployments.filter((r) => r.tag === 'v1.3.0' && r.status === 'succeeded').map((r) => r.digest);
    expect(ran).toEqual([first!.digest]);
  });

  it('lets an image nobody signed claim no tag: the signed build pushed under the same tag deploys', async () => {
    const unsignedFirst = await playScenario(
      scenarioSchema.parse({
        name: 'unsigned image under a release tag',
        service: 'sentiment',
        running: { tag: 'v1.2.0' },
        steps: [
          {
            tag: 'v1.3.0',
            signature: 'none',
            expect: { status: 'rejected', error: 'SignatureRejected', running: 'v1.2.0', alerts: ['warning'] },
          },
          { tag: 'v1.3.0', labels: { build: 'signed' }, expect: { status: 'succeeded', error: null, running: 'v1.3.0', alerts: ['info'] } },
        ],
      }),
      ROOT,
    );
    expectNoMismatches(unsignedFirst);
    const [unsigned, signed] = unsignedFirst.executions;
    expect(signed!.digest).not.toBe(unsigned!.digest);
  });

  it('lets a development tag name a new image with every build: CI re-pushes it', async () => {
    const dev = await playScenario(
      scenarioSchema.parse({
        name: 'development tag re-pushed',
        service: 'summarizer-staging',
        running: { tag: 'v2.0.0' },
        steps: [
          {
            tag: 'v2.1.0-dev.3',
            labels: { build: '1' },
            expect: { status: 'succeeded', error: null, running: 'v2.1.0-dev.3', alerts: ['info'] },
          },
          {
            tag: 'v2.1.0-dev.3',
            labels: { build: '2' },
            expect: { status: 'succeeded', error: null, running: 'v2.1.0-dev.3', alerts: ['info'] },
          },
        ],
      }),
      ROOT,
    );
    expectNoMismatches(dev);
    const [build1, build2] = dev.executions;
    expect(build2!.digest).not.toBe(build1!.digest);
    expect(calls(dev, 'RegisterTaskDefinition').map((r) => r.containerDefinitions[0].image.split('@')[1])).toEqual([
      build1!.digest,
      build2!.digest,
    ]);
  });
});

describe('a failed release when no known good version exists (20)', () => {
  let result: ScenarioResult;
  beforeAll(async () => {
    result = await playScenario(example('20-no-known-good-version-to-roll-back-to'), ROOT);
  });

  it('does not roll back onto the revision whose own release just ended rollback-failed, and says so in a critical alert', () => {
    expectNoMismatches(result);
    const [broken, fix] = result.executions;
    const brokenRevision = calls(result, 'UpdateService')[0].taskDefinition;
    expect(recordOf(result, broken!)).toMatchObject({ status: 'rollback-failed' });

    // v1.3.1 is rolled out; nothing goes back to v1.3.0's revision afterwards.
    const fixRevision = recordOf(result, fix!).taskDefinitionBefore;
    expect(fixRevision).toBe(brokenRevision);
    const updates = calls(result, 'UpdateService').map((u) => u.taskDefinition);
    expect(updates.at(-1)).not.toBe(brokenRevision);
    expect(updates.filter((arn) => arn === brokenRevision)).toHaveLength(1);
    expect(visited(fix!)).toContain(STATES.recordNoKnownGoodVersion);
    // The rollback step only looked at the service: it made no update.
    expect(fix!.report.calls.filter((c) => c.command === 'UpdateService')).toHaveLength(1);

    expect(fix!.report).toMatchObject({ status: 'FAILED', error: 'RollbackFailed' });
    const alert = only(
      fix!.report.alerts.filter((a) => a.event.source === 'model-rollout'),
      'outcome alert',
    );
    expect(alert.severity).toBe('critical');
    expect(alert.event.detail).toMatchObject({ status: 'rollback-failed', severity: 'critical', tag: 'v1.3.1', serviceState: 'unknown' });
    const newRevision = updates.at(-1);
    for (const text of [
      'No known good version exists',
      brokenRevision,
      'v1.3.0',
      'ended rollback-failed',
      `the service runs the new revision ${newRevision}`,
      'The release v1.3.1 failed because',
    ]) {
      expect(alert.event.detail.reason).toContain(text);
    }
    expect(recordOf(result, fix!)).toMatchObject({
      status: 'rollback-failed',
      error: 'RollbackFailed',
      final: true,
      taskDefinitionAfter: null,
    });
    expect(result.ledger.digests.find((d) => d.digest === fix!.digest)?.quarantine).toMatchObject({ tag: 'v1.3.1' });
  });

  it('is still deployment-failed, with nothing quarantined, when the fix’s update never reached the service', async () => {
    // Every attempt of the fix's UpdateService fails: 7 invocations (1 and 6 retries) of 3 SDK attempts each.
    const neverReached = await playScenario(
      variant(
        example('20-no-known-good-version-to-roll-back-to'),
        ([broken]) => [
          broken,
          {
            tag: 'v1.3.1',
            awsFailures: { UpdateService: Array(21).fill('ServerException') },
            expect: {
              status: 'deployment-failed',
              error: 'DeploymentFailed',
              running: 'v1.3.0',
              alerts: ['warning'],
              ledger: { quarantined: false },
            },
          },
        ],
        { expectAtEnd: { running: 'v1.3.0' } },
      ),
      ROOT,
    );
    expectNoMismatches(neverReached);
    expect(visited(neverReached.executions[1]!)).toContain(STATES.recordUpdateNotApplied);
  });

  it('says ECS rolled the release back itself when it did, and makes no competing update', async () => {
    const ecsRolledBack = await playScenario(
      variant(
        example('20-no-known-good-version-to-roll-back-to'),
        ([broken]) => [
          broken,
          {
            tag: 'v1.3.1',
            rollout: { result: 'fails', settlesAfterSeconds: 60 },
            expect: {
              status: 'rollback-failed',
              error: 'RollbackFailed',
              running: 'v1.3.0',
              alerts: ['critical'],
              calls: { UpdateService: 1 },
            },
          },
        ],
        { running: { tag: 'v1.2.0', circuitBreakerRollback: true }, expectAtEnd: { running: 'v1.3.0' } },
      ),
      ROOT,
    );
    expectNoMismatches(ecsRolledBack);
    const reason = ecsRolledBack.executions[1]!.report.alerts.find((a) => a.event.source === 'model-rollout')!.event.detail.reason;
    expect(reason).toContain('No known good version exists');
    expect(reason).toContain('ECS rolled the release back itself');
  });
});
