/** The deployment ledger through the real state machine: quarantine of a rolled-back digest (10), an operator's rollback (11), and a failed release with no known good version (20). */
import { beforeAll, describe, expect, it } from 'vitest';
import { playScenario, type ScenarioResult } from '../../local/play';
import { STATES } from '../../lib/state-names';
import {
  ROOT,
  REPOSITORY_URI,
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
