/**
 * Runs the real synthesized state machine definition, with the real step handlers, against the simulated account,
 * through every branch: deploy, policy and signature rejections, health failures and rollbacks, a failed rollback,
 * retries of transient errors, and alert routing through the synthesized rules.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { playScenario, type ScenarioResult } from '../../local/play';
import { scenarioSchema } from '../../local/scenario';
import { STATES } from '../../lib/state-names';

const ROOT = path.resolve(__dirname, '..', '..');
const ECS_WRITES = ['RegisterTaskDefinition', 'UpdateService'];

type PushSpec = Record<string, unknown> & { tag: string; expect: Record<string, unknown> };

async function play(push: PushSpec, running: Record<string, unknown> = { tag: 'v1.2.0' }, service = 'sentiment'): Promise<ScenarioResult> {
  const scenario = scenarioSchema.parse({ name: 'workflow test', service, running, steps: [push] });
  return playScenario(scenario, ROOT);
}

function only(result: ScenarioResult) {
  const [push] = result.executions;
  return { ...push, visited: push.report.history.filter((h) => h.type === 'StateEntered').map((h) => h.state) };
}

/** When "Verify image signature" last ended, in simulated seconds since the execution started. */
function verifiedAt(push: ReturnType<typeof only>): number | undefined {
  return push.report.history.filter((h) => h.type === 'StateExited' && h.state === STATES.verifySignature).at(-1)?.at;
}

function ecsWrites(result: ScenarioResult) {
  return result.account.calls.filter((c) => ECS_WRITES.includes(c.command));
}

describe('a release that passes its gates and becomes healthy', () => {
  it('registers a revision pinned to the digest, updates the service, and succeeds with a summary', async () => {
    const result = await play({ tag: 'v1.3.0', expect: { status: 'succeeded', error: null, running: 'v1.3.0', alerts: ['info'] } });
    const push = only(result);

    expect(push.mismatches).toEqual([]);
    expect(push.report.status).toBe('SUCCEEDED');
    expect(push.report.output).toMatchObject({ status: 'succeeded', service: 'sentiment', tag: 'v1.3.0', digest: push.digest });
    const [register, update] = ecsWrites(result);
    const image = (register.input as any).containerDefinitions.find((c: any) => c.name === 'model').image;
    expect(image).toBe(`123456789012.dkr.ecr.us-east-1.amazonaws.com/models/sentiment@${push.digest}`);
    expect(update.input).toMatchObject({ cluster: 'models-prod', service: 'sentiment', taskDefinition: expect.stringMatching(/:2$/) });
    expect(push.visited).toContain(STATES.waitForHealth);
    expect(push.visited).not.toContain(STATES.rollBack);
  });

  it('waits for a signature pushed after the image, and records why the image was trusted', async () => {
    const result = await play({
      tag: 'v1.3.0',
      signatureArrivesAfterSeconds: 40,
      expect: { status: 'succeeded', signature: 'verified', error: null, running: 'v1.3.0', alerts: ['info'] },
    });
    const push = only(result);

    expect(push.mismatches).toEqual([]);
    // Pending at 0, 15 and 30 s (the example configuration's pollSeconds, no push meanwhile); the signature's push at
    // 40 s wakes the third wait, and the image is verified at 40 s, not at the next look (45 s).
    expect(push.visited.filter((state) => state === STATES.waitForSignature)).toHaveLength(3);
    expect(verifiedAt(push)).toBe(40);
    expect(result.account.deliveredEvents.map((e) => [e.source, e.detail['image-tag']])).toContainEqual([
      'aws.ecr',
      `${push.digest.replace(':', '-')}.sig`,
    ]);
    expect(push.report.output.signature).toMatchObject({
      verdict: 'verified',
      evidence: [{ format: 'cosign-simple-signing', signer: { kind: 'public-key', id: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) } }],
    });
    const alert = push.report.alerts.find((a) => a.event.source === 'model-rollout');
    expect(alert?.event.detail.signature.evidence).toHaveLength(1);
  });

  it('looks for a late signature every pollSeconds when its push event is lost', async () => {
    const result = await play(
      {
        tag: 'v1.3.0',
        signatureArrivesAfterSeconds: 40,
        expect: { status: 'succeeded', signature: 'verified', error: null, running: 'v1.3.0', alerts: ['info'] },
      },
      { tag: 'v1.2.0', eventsLost: true },
    );
    const push = only(result);

    expect(push.mismatches).toEqual([]);
    expect(verifiedAt(push)).toBe(45);
  });

  it('rejects as unsigned once the wait for a late signature runs out, without touching ECS', async () => {
    const result = await play({
      tag: 'v1.3.0',
      signatureArrivesAfterSeconds: 600,
      expect: { status: 'rejected', signature: 'unsigned', error: 'SignatureRejected', running: 'v1.2.0', alerts: ['warning'] },
    });
    const push = only(result);

    expect(push.mismatches).toEqual([]);
    expect(ecsWrites(result)).toEqual([]);
    // 120 s of waiting at 15 s a look: 8 waits, 9 looks.
    expect(push.visited.filter((state) => state === STATES.verifySignature)).toHaveLength(9);
  });

  it.each([
    // The SDK makes up to 3 attempts: two throttles never reach the handler.
    [2, 0],
    // Three exhaust them: the step fails with TransientAwsError, which the state's Retry matches; twice that, twice.
    [3, 1],
    [6, 2],
  ])('retries %i throttled ECS calls (the SDK first, then the state %i time(s)) and still deploys', async (throttles, stateRetries) => {
    const result = await play({
      tag: 'v1.3.0',
      awsFailures: { RegisterTaskDefinition: Array(throttles).fill('ThrottlingException') },
      expect: { status: 'succeeded', error: null, running: 'v1.3.0', alerts: ['info'], calls: { RegisterTaskDefinition: throttles + 1 } },
    });
    const push = only(result);
    expect(push.mismatches).toEqual([]);
    expect(push.report.history.filter((h) => h.type === 'StateRetried' && h.state === STATES.registerRevision)).toHaveLength(stateRetries);
  });
});

describe('rejections change nothing in ECS', () => {
  it.each([
    ['a development tag for production', 'v1.3.0-dev.1', 'trusted', 'ReleaseRejectedByPolicy', /development tag/],
    // (`latest` and other tags not starting with v never start an execution: the trigger rule ignores them.)
    ['a tag outside the release policy', 'v1.3', 'trusted', 'ReleaseRejectedByPolicy', /v1\.3/],
    ['a downgrade', 'v1.1.9', 'trusted', 'ReleaseRejectedByPolicy', /v1\.1\.9.*v1\.2\.0|downgrade/i],
    ['an unsigned image', 'v1.3.0', 'none', 'SignatureRejected', /unsigned|no cosign signature|not signed/i],
    ['an image signed by an unknown key', 'v1.3.0', 'untrusted', 'SignatureRejected', /does not verify with any of the 1 trusted keys/],
    ['a signature of another digest', 'v1.3.0', 'another-digest', 'SignatureRejected', /sha256:0{64}/],
  ])('rejects %s', async (_case, tag, signature, error, reason) => {
    const result = await play({ tag, signature, expect: { status: 'rejected', error, running: 'v1.2.0', alerts: ['warning'] } });
    const push = only(result);

    expect(push.mismatches).toEqual([]);
    expect(ecsWrites(result)).toEqual([]);
    expect(push.report.cause).toMatch(reason);
    expect(push.report.cause).toContain(`models/sentiment ${tag}`);
  });

  it('accepts a development tag for a staging service', async () => {
    const result = await play(
      { tag: 'v2.1.0-dev.3', expect: { status: 'succeeded', error: null, running: 'v2.1.0-dev.3', alerts: ['info'] } },
      { tag: 'v2.0.0' },
      'summarizer-staging',
    );
    expect(only(result).mismatches).toEqual([]);
  });

  it('rejects (fails closed) when the signature cannot be read at all', async () => {
    const result = await play({
      tag: 'v1.3.0',
      // The first BatchGetImage reads the model labels for the ledger (unreadable labels do not hold a release up);
      // the second is the verify step's.
      awsFailures: { BatchGetImage: [null, 'AccessDeniedException'] },
      expect: { status: 'rejected', error: 'SignatureRejected', running: 'v1.2.0', alerts: ['warning'] },
    });
    const push = only(result);
    expect(push.mismatches).toEqual([]);
    expect(push.visited).toContain(STATES.noteVerificationError);
    expect(push.report.cause).toMatch(/could not be verified.*AccessDenied/);
    expect(ecsWrites(result)).toEqual([]);
  });

  it('ends as deployment-failed, with the service untouched, when the new revision cannot be registered', async () => {
    const result = await play({
      tag: 'v1.3.0',
      awsFailures: { RegisterTaskDefinition: 'AccessDeniedException' },
      expect: { status: 'deployment-failed', error: 'DeploymentFailed', running: 'v1.2.0', alerts: ['warning'] },
    });
    const push = only(result);
    expect(push.mismatches).toEqual([]);
    expect(result.account.calls.filter((c) => c.command === 'UpdateService')).toEqual([]);
  });
});

describe('a release that is not healthy is rolled back to the revision recorded before the update', () => {
  it.each([
    ['an alarm fires', { result: 'completes', settlesAfterSeconds: 60, tripsAlarm: 'sentiment-5xx-rate' }, /sentiment-5xx-rate/],
    ['the ECS circuit breaker fails the deployment', { result: 'fails', settlesAfterSeconds: 60 }, /circuit breaker/],
    ['the rollout misses its deadline', { result: 'stalls', settlesAfterSeconds: 0 }, /deadline/],
  ])('rolls back when %s', async (_case, rollout, reason) => {
    const result = await play({
      tag: 'v1.3.0',
      rollout,
      expect: { status: 'rolled-back', error: 'ReleaseRolledBack', running: 'v1.2.0', alerts: ['warning'] },
    });
    const push = only(result);

    expect(push.mismatches).toEqual([]);
    expect(push.report.cause).toMatch(reason);
    const updates = result.account.calls.filter((c) => c.command === 'UpdateService').map((c) => (c.input as any).taskDefinition);
    expect(updates).toEqual([expect.stringMatching(/sentiment-task:2$/), expect.stringMatching(/sentiment-task:1$/)]);
  });

  it("a completed rollout is known at once from its ECS event, and at the wait's first look of its own when the event is lost", async () => {
    const expectation = { status: 'succeeded', error: null, running: 'v1.3.0', alerts: ['info'] } as const;
    const woken = only(await play({ tag: 'v1.3.0', rollout: { result: 'completes', settlesAfterSeconds: 90 }, expect: expectation }));
    const lost = only(
      await play(
        { tag: 'v1.3.0', rollout: { result: 'completes', settlesAfterSeconds: 90 }, expect: expectation },
        { tag: 'v1.2.0', eventsLost: true },
      ),
    );
    const knownAt = (push: typeof woken) => {
      const updated = push.report.history.find((h) => h.type === 'StateExited' && h.state === STATES.updateService)!.at;
      const healthy = push.report.history.find((h) => h.type === 'StateExited' && /^healthy/.test(h.detail ?? ''))!;
      return { state: healthy.state, after: healthy.at - updated };
    };
    expect(knownAt(woken)).toEqual({ state: STATES.waitForHealth, after: 90 });
    // A quarter of the 15-minute deadline.
    expect(knownAt(lost)).toEqual({ state: STATES.checkHealth, after: 225 });
  });

  it('the health wait is bounded: a stalled rollout, which no event ends, is looked at four times, the last at its deadline', async () => {
    const result = await play({
      tag: 'v1.3.0',
      rollout: { result: 'stalls' },
      expect: { status: 'rolled-back', error: 'ReleaseRolledBack', running: 'v1.2.0', alerts: ['warning'] },
    });
    const history = only(result).report.history;
    // Each wait for a task token (no polling) times out after a quarter of the 15-minute deadline (model-rollout.config.json),
    // looks once, and waits again while the service is progressing; at the deadline the look finds it unhealthy.
    const waits = history.filter((h) => h.type === 'StateEntered' && h.state === STATES.waitForHealth);
    expect(waits).toHaveLength(4);
    expect(waits.every((h) => h.stateType === 'Task')).toBe(true);
    const checks = history.filter((h) => h.type === 'StateEntered' && h.state === STATES.checkHealth);
    expect(checks.map((h) => h.at - waits[0]!.at)).toEqual([225, 450, 675, 900]);
  });
});

describe('a rollback that fails', () => {
  it('raises a critical alert when the previous revision does not stabilise', async () => {
    const result = await play(
      {
        tag: 'v1.3.0',
        rollout: { result: 'fails', settlesAfterSeconds: 60 },
        expect: { status: 'rollback-failed', error: 'RollbackFailed', running: 'v1.2.0', alerts: ['critical'] },
      },
      { tag: 'v1.2.0', onRedeploy: { result: 'fails', settlesAfterSeconds: 60 } },
    );
    const push = only(result);
    expect(push.mismatches).toEqual([]);
    expect(push.report.cause).toMatch(/Rollback to .*sentiment-task:1 failed/);
  });

  it('raises a critical alert when the rollback UpdateService is refused', async () => {
    const result = await play({
      tag: 'v1.3.0',
      rollout: { result: 'fails', settlesAfterSeconds: 60 },
      // the first UpdateService (the rollout) succeeds; the second (the rollback) is refused
      awsFailures: { UpdateService: [null, 'AccessDeniedException'] },
      expect: { status: 'rollback-failed', error: 'RollbackFailed', running: 'v1.3.0', alerts: ['critical'] },
    });
    const push = only(result);
    expect(push.mismatches).toEqual([]);
    expect(push.report.cause).toMatch(/AccessDeniedException/);
  });
});

describe('alerts are routed through the synthesized rules', () => {
  it('sends a critical alert through the execution-status rule when an execution fails unexpectedly', async () => {
    const result = await play({
      tag: 'v1.3.0',
      awsFailures: { DescribeTaskDefinition: 'AccessDeniedException' },
      expect: { status: 'none', error: 'AccessDeniedException', running: 'v1.2.0', alerts: ['critical'] },
    });
    const push = only(result);
    expect(push.mismatches).toEqual([]);
    expect(push.report.alerts.map((a) => a.event.source)).toEqual(['aws.states']);
  });

  it('fails the execution, and alerts critically, when the outcome cannot be published', async () => {
    const result = await play({
      tag: 'v1.3.0',
      awsFailures: { PutEvents: Array(6).fill('EventBridge.InternalException') },
      expect: { status: 'none', error: 'AlertPublishFailed', running: 'v1.3.0', alerts: ['critical'] },
    });
    const push = only(result);
    expect(push.mismatches).toEqual([]);
    expect(push.report.cause).toContain('models/sentiment v1.3.0');
  });
});
