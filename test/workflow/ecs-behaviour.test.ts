/**
 * The pipeline against ECS as ECS documents it (local/simulated/ecs.ts): ECS rolling a failed deployment back itself,
 * UpdateService refused or ambiguous, services under another deployment controller, and alarms already firing when a
 * release starts. Each runs the real synthesized definition through the scenario player.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { playScenario, type ScenarioResult } from '../../local/play';
import { scenarioSchema } from '../../local/scenario';
import { STATES } from '../../lib/state-names';

const ROOT = path.resolve(__dirname, '..', '..');

type PushSpec = Record<string, unknown> & { tag: string; expect: Record<string, unknown> };

async function play(push: PushSpec, running: Record<string, unknown> = { tag: 'v1.2.0' }): Promise<ScenarioResult> {
  return playScenario(scenarioSchema.parse({ name: 'ECS behaviour', service: 'sentiment', running, steps: [push] }), ROOT);
}

function only(result: ScenarioResult) {
  const [push] = result.executions;
  return { ...push, visited: push.report.history.filter((h) => h.type === 'StateEntered').map((h) => h.state) };
}

const updatesOf = (result: ScenarioResult) =>
  result.account.calls.filter((c) => c.command === 'UpdateService').map((c) => (c.input as { taskDefinition: string }).taskDefinition);

describe('ECS rolls a failed deployment back itself (circuit breaker with rollback)', () => {
  const running = { tag: 'v1.2.0', circuitBreakerRollback: true };

  it('is recorded as rolled back, naming the circuit breaker, with no competing update', async () => {
    const result = await play(
      {
        tag: 'v1.3.0',
        rollout: { result: 'fails', settlesAfterSeconds: 60 },
        expect: { status: 'rolled-back', error: 'ReleaseRolledBack', running: 'v1.2.0', alerts: ['warning'] },
      },
      running,
    );
    const push = only(result);

    expect(push.mismatches).toEqual([]);
    expect(push.report.cause).toMatch(/ECS rolled the new revision back itself.*circuit breaker/);
    // Only the rollout's own UpdateService: ECS was already back on revision 1.
    expect(updatesOf(result)).toEqual([expect.stringMatching(/sentiment-task:2$/)]);
    const rollback = push.report.history.find((h) => h.type === 'StateExited' && h.state === STATES.rollBack);
    expect(rollback?.detail).toMatch(/no competing update/);
    expect(result.ledger.digests.find((d) => d.digest === push.digest)?.quarantine).not.toBeNull();
  });

  it("waits for ECS's rollback to settle before judging it", async () => {
    const result = await play(
      {
        tag: 'v1.3.0',
        rollout: { result: 'fails', settlesAfterSeconds: 60 },
        expect: { status: 'rolled-back', error: 'ReleaseRolledBack', running: 'v1.2.0', alerts: ['warning'] },
      },
      { ...running, onRedeploy: { result: 'completes', settlesAfterSeconds: 120 } },
    );
    const history = only(result).report.history;
    // The rollback's wait found ECS still rolling back, and was woken healthy by the event of its rollback completing:
    // 60 s (the failure) + 120 s (ECS's rollback settling) after the update, with no check of its own in between.
    const update = history.find((h) => h.type === 'StateExited' && h.state === STATES.updateService)!;
    const [waited] = history.filter((h) => h.type === 'StateExited' && h.state === STATES.waitForRollback);
    expect(waited?.detail).toMatch(/^healthy/);
    expect(waited!.at).toBeGreaterThanOrEqual(update.at + 180);
    expect(history.filter((h) => h.state === STATES.checkRollback)).toEqual([]);
  });

  it("is a failed rollback, with a critical alert, when ECS's own rollback fails", async () => {
    const result = await play(
      {
        tag: 'v1.3.0',
        rollout: { result: 'fails', settlesAfterSeconds: 60 },
        expect: { status: 'rollback-failed', error: 'RollbackFailed', alerts: ['critical'] },
      },
      { ...running, onRedeploy: { result: 'fails', settlesAfterSeconds: 60 } },
    );
    expect(only(result).mismatches).toEqual([]);
  });
});

describe('an UpdateService AWS refused changed nothing', () => {
  it.each(['AccessDeniedException', 'InvalidParameterException', 'ClientException'])(
    '%s → deployment failed, no rollback, no quarantine',
    async (error) => {
      const result = await play({
        tag: 'v1.3.0',
        awsFailures: { UpdateService: error },
        expect: { status: 'deployment-failed', error: 'DeploymentFailed', running: 'v1.2.0', alerts: ['warning'] },
      });
      const push = only(result);

      expect(push.mismatches).toEqual([]);
      expect(push.report.cause).toMatch(new RegExp(`${error}.*the service did not change`));
      expect(push.visited).not.toContain(STATES.rollBack);
      expect(updatesOf(result)).toHaveLength(1);
      expect(result.ledger.digests.find((d) => d.digest === push.digest)?.quarantine).toBeNull();
    },
  );
});

describe('an UpdateService of a service that is no longer ACTIVE', () => {
  it('is deployment-failed before the service changed: nothing to roll back, nothing quarantined', async () => {
    const result = await play({
      tag: 'v1.3.0',
      awsFailures: { UpdateService: 'ServiceNotActiveException' },
      expect: {
        status: 'deployment-failed',
        error: 'DeploymentFailed',
        alerts: ['warning'],
        calls: { UpdateService: 1 },
        ledger: { quarantined: false },
      },
    });
    const push = only(result);
    expect(push.mismatches).toEqual([]);
    expect(push.report.cause).toMatch(/ServiceNotActiveException/);
    expect(push.visited).not.toContain(STATES.rollBack);
  });
});

describe('an ambiguous UpdateService first looks at what the service runs', () => {
  it("deploys when the update took effect and only its response was lost: the SDK's retry finds it done", async () => {
    const result = await play({
      tag: 'v1.3.0',
      awsFailures: { UpdateService: { error: 'TimeoutError', applied: true } },
      expect: { status: 'succeeded', error: null, running: 'v1.3.0', alerts: ['info'], calls: { UpdateService: 2 } },
    });
    const push = only(result);
    expect(push.mismatches).toEqual([]);
    // The SDK's second attempt names the revision the service already runs: ECS starts no second deployment.
    expect(new Set(updatesOf(result)).size).toBe(1);
    expect(push.report.history.filter((h) => h.type === 'StateRetried')).toEqual([]);
  });

  it('deploys when every attempt of the SDK timed out after the first took effect: the step asks ECS what the service runs', async () => {
    const timeout = { error: 'TimeoutError', applied: false };
    const result = await play({
      tag: 'v1.3.0',
      awsFailures: { UpdateService: [{ error: 'TimeoutError', applied: true }, timeout, timeout] },
      expect: { status: 'succeeded', error: null, running: 'v1.3.0', alerts: ['info'], calls: { UpdateService: 3 } },
    });
    const push = only(result);
    expect(push.mismatches).toEqual([]);
    // The service already moves to the new revision: the update is done, nothing is retried or rolled back.
    expect(push.report.history.filter((h) => h.type === 'StateRetried')).toEqual([]);
    expect(push.visited).not.toContain(STATES.rollBack);
  });

  it.each([
    ['absorbed by the SDK, which retries it', 1, 0],
    ['retried by the state once the SDK gave up after 3 attempts', 3, 1],
  ])('a server fault (5xx, transient) is %s, and the release deploys', async (_case, faults, stateRetries) => {
    const result = await play({
      tag: 'v1.3.0',
      awsFailures: { UpdateService: Array(faults).fill('ServerException') },
      expect: { status: 'succeeded', error: null, running: 'v1.3.0', alerts: ['info'], calls: { UpdateService: faults + 1 } },
    });
    const push = only(result);
    expect(push.mismatches).toEqual([]);
    expect(push.report.history.filter((h) => h.type === 'StateRetried' && h.state === STATES.updateService)).toHaveLength(stateRetries);
  });

  it('is deployment-failed, with nothing rolled back, when the update never reached the service', async () => {
    const result = await play({
      tag: 'v1.3.0',
      // One invocation and six retries (the Retry's maxAttempts), each making the SDK's 3 attempts, each a 503.
      awsFailures: { UpdateService: Array(7 * 3).fill('ServiceUnavailableException') },
      expect: { status: 'deployment-failed', error: 'DeploymentFailed', running: 'v1.2.0', alerts: ['warning'] },
    });
    const push = only(result);

    expect(push.mismatches).toEqual([]);
    expect(push.visited).toContain(STATES.recordUpdateNotApplied);
    expect(push.visited).not.toContain(STATES.checkRollback);
    expect(push.report.cause).toMatch(/never reached the service/);
    expect(result.ledger.digests.find((d) => d.digest === push.digest)?.quarantine).toBeNull();
  });
});

describe('a service under another deployment controller', () => {
  it.each(['CODE_DEPLOY', 'EXTERNAL'])('is refused at the first step when it uses %s, changing nothing', async (deploymentController) => {
    const result = await play(
      { tag: 'v1.3.0', expect: { status: 'rejected', error: 'ReleaseRejectedByPolicy', running: 'v1.2.0', alerts: ['warning'] } },
      { tag: 'v1.2.0', deploymentController },
    );
    const push = only(result);

    expect(push.mismatches).toEqual([]);
    expect(push.report.cause).toMatch(new RegExp(`${deploymentController} deployment controller`));
    expect(result.account.calls.map((c) => c.command)).not.toContain('RegisterTaskDefinition');
    expect(push.visited).not.toContain(STATES.verifySignature);
  });
});

describe('alarms already in ALARM when the release starts', () => {
  it('do not fail a fix-forward release before it serves; it deploys once they clear', async () => {
    const result = await play(
      {
        tag: 'v1.3.0',
        rollout: { result: 'completes', settlesAfterSeconds: 60 },
        expect: { status: 'succeeded', error: null, running: 'v1.3.0', alerts: ['info'] },
      },
      { tag: 'v1.2.0', alarmsInAlarm: ['sentiment-p99-latency'] },
    );
    const push = only(result);
    expect(push.mismatches).toEqual([]);
    // The wait looked once (the alarm still in ALARM from before the update: progressing, not failed); the deployment's
    // completion (60 s) found it still in ALARM; the alarm's own state change, two minutes later, woke it healthy —
    // before its first look of its own (225 s).
    const history = push.report.history;
    const updated = history.find((h) => h.type === 'StateExited' && h.state === STATES.updateService)!.at;
    const waits = history.filter((h) => h.state === STATES.waitForHealth);
    expect(waits.filter((h) => h.type === 'StateEntered')).toHaveLength(1);
    const woken = waits.find((h) => h.type === 'StateExited')!;
    expect(woken.detail).toMatch(/^healthy/);
    expect(woken.at - updated).toBe(60 + 120);
    expect(history.filter((h) => h.state === STATES.checkHealth)).toEqual([]);
    expect(result.account.deliveredEvents.map((e) => e['detail-type'])).toContain('CloudWatch Alarm State Change');
  });

  it('fail it at the deadline when they never clear', async () => {
    const result = await play(
      {
        tag: 'v1.3.0',
        rollout: { result: 'completes', settlesAfterSeconds: 60, tripsAlarm: 'sentiment-p99-latency' },
        expect: { status: 'rolled-back', error: 'ReleaseRolledBack', running: 'v1.2.0', alerts: ['warning'] },
      },
      { tag: 'v1.2.0', alarmsInAlarm: ['sentiment-p99-latency'] },
    );
    const push = only(result);
    expect(push.mismatches).toEqual([]);
    expect(push.report.cause).toMatch(/sentiment-p99-latency/);
  });

  it('an alarm that goes to ALARM after the update still fails the release at once', async () => {
    const result = await play({
      tag: 'v1.3.0',
      rollout: { result: 'completes', settlesAfterSeconds: 60, tripsAlarm: 'sentiment-p99-latency', tripsAlarmAfterSeconds: 0 },
      expect: { status: 'rolled-back', error: 'ReleaseRolledBack', running: 'v1.2.0', alerts: ['warning'] },
    });
    const push = only(result);
    expect(push.mismatches).toEqual([]);
    expect(push.report.cause).toMatch(/Alarm sentiment-p99-latency is in ALARM/);
  });
});
