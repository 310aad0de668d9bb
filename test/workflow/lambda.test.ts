/**
 * Lambda as Lambda behaves, through the real synthesized state machine: a step that throws fails with the runtime's
 * error JSON as Cause (and the ledger, the alert and the Fail state still say it in words); function timeouts and
 * throttling injected into one invocation are retried where the step is idempotent and caught where it is not.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DeploymentRecord } from '../../lambdas/contract/ledger-records';
import { pipelineFor, playScenario, type ExecutionResult, type ScenarioResult } from '../../local/play';
import { loadScenario, scenarioSchema } from '../../local/scenario';
import { LAMBDA_STATES, STATES } from '../../lib/state-names';

const ROOT = path.resolve(__dirname, '..', '..');
/** Text that must never reach a person: a Lambda error's JSON fields or a stack frame. */
const RUNTIME_JSON = /"errorType"|"errorMessage"|"trace"|\n\s+at |\(\/[^)]*:\d+:\d+\)/;

type PushSpec = Record<string, unknown> & { tag: string; expect: Record<string, unknown> };

async function play(push: PushSpec, running: Record<string, unknown> = { tag: 'v1.2.0' }): Promise<ScenarioResult> {
  return playScenario(scenarioSchema.parse({ name: 'lambda workflow test', service: 'sentiment', running, steps: [push] }), ROOT);
}

function only(result: ScenarioResult): ExecutionResult {
  expect(result.executions).toHaveLength(1);
  return result.executions[0]!;
}

function history(push: ExecutionResult, type: string, state: string) {
  return push.report.history.filter((h) => h.type === type && h.state === state) as (ExecutionResult['report']['history'][number] & {
    Error?: string;
    Cause?: string;
  })[];
}

function recordOf(result: ScenarioResult, push: ExecutionResult): DeploymentRecord {
  const [record] = result.ledger.deployments.filter((r) => r.executionArn === push.report.executionArn);
  return record!;
}

/** Every text a person reads about the outcome: the ledger's reason, the alert's reason and cause, the Fail cause. */
function wordsAbout(result: ScenarioResult, push: ExecutionResult): Record<string, unknown> {
  const alert = push.report.alerts.find((a) => a.event.source === 'model-rollout')?.event.detail;
  return {
    ledgerReason: recordOf(result, push).reason,
    alertReason: alert?.reason,
    alertCause: alert?.cause,
    alertSignatureReason: alert?.signature?.reason,
    failCause: push.report.cause,
  };
}

function updates(result: ScenarioResult): string[] {
  return result.account.calls
    .filter((c) => c.command === 'UpdateService')
    .map((c) => (c.input as { taskDefinition: string }).taskDefinition);
}

describe('a step that throws fails as the Lambda runtime reports it', () => {
  it('gives the Catch Error = the error’s name and Cause = the runtime’s JSON (errorType, errorMessage, trace)', async () => {
    const result = await play({
      tag: 'v1.3.0',
      awsFailures: { RegisterTaskDefinition: 'AccessDeniedException' },
      expect: { status: 'deployment-failed', error: 'DeploymentFailed', running: 'v1.2.0', alerts: ['warning'] },
    });
    const push = only(result);
    expect(push.mismatches).toEqual([]);

    const [failed] = history(push, 'StateFailed', STATES.registerRevision);
    expect(failed?.Error).toBe('AccessDeniedException');
    const cause = JSON.parse(failed!.Cause!);
    expect(Object.keys(cause)).toEqual(['errorType', 'errorMessage', 'trace']);
    expect(cause).toMatchObject({
      errorType: 'AccessDeniedException',
      errorMessage: 'simulated RegisterTaskDefinition failure: AccessDeniedException',
    });
    expect(cause.trace[0]).toBe('AccessDeniedException: simulated RegisterTaskDefinition failure: AccessDeniedException');
    expect(cause.trace.length).toBeGreaterThan(1);
  });

  it.each([
    [
      'deployment failed (RegisterTaskDefinition refused)',
      { RegisterTaskDefinition: 'AccessDeniedException' },
      {},
      'deployment-failed',
      'DeploymentFailed',
      ['warning'],
      'simulated RegisterTaskDefinition failure',
    ],
    [
      'rollback failed (the rollback UpdateService refused)',
      { UpdateService: [null, 'AccessDeniedException'] },
      { rollout: { result: 'fails', settlesAfterSeconds: 60 } },
      'rollback-failed',
      'RollbackFailed',
      ['critical'],
      'simulated UpdateService failure',
    ],
    [
      'signature rejected (the signature could not be read)',
      { BatchGetImage: [null, 'AccessDeniedException'] },
      {},
      'rejected',
      'SignatureRejected',
      ['warning'],
      'simulated BatchGetImage failure',
    ],
  ])(
    '%s: the ledger, the alert and the Fail cause carry the error’s message, no JSON, no stack',
    async (_case, awsFailures, push, status, error, alerts, message) => {
      const result = await play({ tag: 'v1.3.0', awsFailures, ...push, expect: { status, error, alerts } });
      const execution = only(result);
      expect(execution.mismatches).toEqual([]);

      const words = wordsAbout(result, execution);
      expect(words.ledgerReason).toContain(message);
      expect(words.alertReason).toContain(message);
      expect(words.alertCause).toContain(message);
      expect(words.failCause).toContain(message);
      expect(words.failCause).toBe(words.alertCause);
      expect(words.ledgerReason).toBe(words.alertReason);
      for (const [where, text] of Object.entries(words))
        expect({ where, text }).not.toMatchObject({ text: expect.stringMatching(RUNTIME_JSON) });
    },
  );

  it('an unexpected failure (no Catch) still fails the execution with the runtime’s JSON, and the crash finaliser records its message', async () => {
    const result = await play({
      tag: 'v1.3.0',
      awsFailures: { DescribeTaskDefinition: 'AccessDeniedException' },
      expect: { status: 'none', error: 'AccessDeniedException', running: 'v1.2.0', alerts: ['critical'] },
    });
    const push = only(result);
    expect(push.mismatches).toEqual([]);
    // As in AWS: the execution's cause is what the state failed with.
    expect(JSON.parse(push.report.cause!)).toMatchObject({ errorType: 'AccessDeniedException', trace: expect.any(Array) });
    const record = recordOf(result, push);
    expect(record.reason).toContain('simulated DescribeTaskDefinition failure: AccessDeniedException');
    expect(record.reason).not.toMatch(RUNTIME_JSON);
  });
});

describe('a Lambda timeout of an idempotent step is retried with backoff', () => {
  it.each([
    [STATES.checkRelease, 'Sandbox.Timedout'],
    [STATES.recordRelease, { error: 'Sandbox.Timedout', tookEffect: true }],
    [STATES.verifySignature, 'Sandbox.Timedout'],
    [STATES.takeLock, { error: 'Sandbox.Timedout', tookEffect: true }],
    [STATES.waitForHealth, 'Sandbox.Timedout'],
    [STATES.waitForHealth, 'Lambda.Unknown'],
    [STATES.recordInLedger, { error: 'Sandbox.Timedout', tookEffect: true }],
  ])('"%s" timing out once (%j) still deploys', async (state, failure) => {
    const result = await play({
      tag: 'v1.3.0',
      lambdaFailures: { [state]: failure },
      expect: { status: 'succeeded', error: null, running: 'v1.3.0', alerts: ['info'] },
    });
    const push = only(result);

    expect(push.mismatches).toEqual([]);
    const [failed] = history(push, 'StateFailed', state);
    expect(failed?.Error).toBe(typeof failure === 'string' ? failure : failure.error);
    expect(history(push, 'StateRetried', state)).toHaveLength(1);
    // The function ran for its whole 30 s timeout before Step Functions heard of it.
    expect(failed!.at).toBeGreaterThanOrEqual(30);
    expect(updates(result)).toEqual([expect.stringMatching(/sentiment-task:2$/)]);
    expect(recordOf(result, push)).toMatchObject({ status: 'succeeded', final: true });
  });

  it('a rollback’s health wait timing out once still ends rolled back, not rollback-failed', async () => {
    const result = await play({
      tag: 'v1.3.0',
      rollout: { result: 'fails', settlesAfterSeconds: 60 },
      lambdaFailures: { [STATES.waitForRollback]: 'Sandbox.Timedout' },
      expect: { status: 'rolled-back', error: 'ReleaseRolledBack', running: 'v1.2.0', alerts: ['warning'] },
    });
    expect(only(result).mismatches).toEqual([]);
  });
});

describe('a Lambda timeout of a step that changes ECS is not retried blindly', () => {
  it('an UpdateService step that timed out after ECS took the change goes to the rollback, without a second update', async () => {
    const result = await play({
      tag: 'v1.3.0',
      lambdaFailures: { [STATES.updateService]: { error: 'Sandbox.Timedout', tookEffect: true } },
      expect: { status: 'rolled-back', error: 'ReleaseRolledBack', running: 'v1.2.0', alerts: ['warning'] },
    });
    const push = only(result);

    expect(push.mismatches).toEqual([]);
    expect(history(push, 'StateRetried', STATES.updateService)).toEqual([]);
    // The rollout (which took effect), then the rollback: never the rollout twice.
    expect(updates(result)).toEqual([expect.stringMatching(/sentiment-task:2$/), expect.stringMatching(/sentiment-task:1$/)]);
    expect(wordsAbout(result, push).ledgerReason).toMatch(/Sandbox\.Timedout: RequestId: \S+ Error: Task timed out after 30\.00 seconds/);
  });

  it('a register-revision step that timed out ends deployment-failed, before the service changed', async () => {
    const result = await play({
      tag: 'v1.3.0',
      lambdaFailures: { [STATES.registerRevision]: 'Lambda.Unknown' },
      expect: { status: 'deployment-failed', error: 'DeploymentFailed', running: 'v1.2.0', alerts: ['warning'] },
    });
    const push = only(result);

    expect(push.mismatches).toEqual([]);
    expect(history(push, 'StateRetried', STATES.registerRevision)).toEqual([]);
    expect(updates(result)).toEqual([]);
    const words = wordsAbout(result, push);
    expect(words.failCause).toMatch(/Task timed out after 30\.00 seconds/);
    expect(words.failCause).not.toMatch(RUNTIME_JSON);
  });

  it('a rollback that timed out is reported as a failed rollback, not repeated', async () => {
    const result = await play({
      tag: 'v1.3.0',
      rollout: { result: 'fails', settlesAfterSeconds: 60 },
      lambdaFailures: { [STATES.rollBack]: 'Sandbox.Timedout' },
      expect: { status: 'rollback-failed', error: 'RollbackFailed', alerts: ['critical'] },
    });
    const push = only(result);
    expect(push.mismatches).toEqual([]);
    expect(history(push, 'StateRetried', STATES.rollBack)).toEqual([]);
  });
});

describe('a throttled invocation (reserved concurrency exceeded) never ran, so it is retried on every step', () => {
  it.each([STATES.updateService, STATES.registerRevision, STATES.waitForHealth])(
    '"%s" throttled twice still deploys, with one update',
    async (state) => {
      const result = await play({
        tag: 'v1.3.0',
        lambdaFailures: { [state]: ['Lambda.TooManyRequestsException', 'Lambda.TooManyRequestsException'] },
        expect: { status: 'succeeded', error: null, running: 'v1.3.0', alerts: ['info'] },
      });
      const push = only(result);

      expect(push.mismatches).toEqual([]);
      expect(history(push, 'StateFailed', state).map((h) => h.Error)).toEqual([
        'Lambda.TooManyRequestsException',
        'Lambda.TooManyRequestsException',
      ]);
      expect(history(push, 'StateRetried', state)).toHaveLength(2);
      expect(updates(result)).toHaveLength(1);
    },
  );
});

describe('the lambdaFailures knob', () => {
  it('names exactly the Task states of the synthesized definition that invoke a Lambda step', () => {
    const pipeline = pipelineFor(path.join(ROOT, 'model-rollout.config.json'));
    expect(Object.fromEntries(pipeline.stepOfState)).toEqual(LAMBDA_STATES);
    expect(pipeline.timeoutSecondsOf['check-health']).toBe(30);
  });

  it('retries timeouts on the idempotent steps only, as the synthesized Retry says', () => {
    const { definition } = pipelineFor(path.join(ROOT, 'model-rollout.config.json'));
    const retriedOnTimeout = Object.keys(LAMBDA_STATES).filter((state) =>
      definition.States[state].Retry.some((r: { ErrorEquals: string[] }) =>
        ['Sandbox.Timedout', 'Lambda.Unknown', 'States.Timeout'].every((e) => r.ErrorEquals.includes(e)),
      ),
    );
    expect(retriedOnTimeout.sort()).toEqual(
      [
        STATES.checkRelease,
        STATES.recordRelease,
        STATES.verifySignature,
        STATES.takeLock,
        STATES.checkHealth,
        STATES.checkRollback,
        STATES.checkCanary,
        STATES.probeCanary,
        STATES.analyseStep,
        STATES.checkPromotion,
        STATES.checkRestoredStable,
        // A gray release's traffic steps write absolute values: running one again ends the same.
        STATES.checkTrafficSetup,
        STATES.scaleCanary,
        STATES.scaleCanaryToLast,
        STATES.shiftTraffic,
        STATES.returnToStable,
        STATES.retireCanary,
        STATES.returnForNewerRelease,
        STATES.finishGrayRelease,
        STATES.recordInLedger,
        // Answers waits that take-lock then judges: answering one twice finds the Task closed.
        STATES.wakeLockWaiters,
      ].sort(),
    );
    // The health waits retry their function's timeout; their own States.Timeout is the wait running out (Catch).
    for (const state of [STATES.waitForHealth, STATES.waitForRollback]) {
      const errors = definition.States[state].Retry.flatMap((r: { ErrorEquals: string[] }) => r.ErrorEquals);
      expect(errors).toEqual(expect.arrayContaining(['Sandbox.Timedout', 'Lambda.Unknown', 'Lambda.TooManyRequestsException']));
      expect(errors).not.toContain('States.Timeout');
      expect(definition.States[state].Catch[0]).toMatchObject({ ErrorEquals: ['States.Timeout'], ResultPath: null });
    }
    for (const state of [STATES.registerRevision, STATES.updateService, STATES.rollBack]) {
      const errors = definition.States[state].Retry.flatMap((r: { ErrorEquals: string[] }) => r.ErrorEquals);
      expect(errors).toContain('Lambda.TooManyRequestsException');
      expect(errors).not.toContain('Sandbox.Timedout');
      expect(errors).not.toContain('Lambda.Unknown');
      expect(errors).not.toContain('States.Timeout');
    }
  });

  it.each([
    [{ 'Publish outcome alert': 'Sandbox.Timedout' }, /lambdaFailures\.Publish outcome alert: not a state that invokes a Lambda function/],
    [
      { 'Check service healthy': 'Sandbox.Timedout' },
      /lambdaFailures\.Check service healthy: not a state that invokes a Lambda function \(those are: .*Check service health;/,
    ],
    [{ [STATES.checkHealth]: 'Lambda.Timeout' }, /lambdaFailures\.Check service health: /],
    [{ [STATES.checkHealth]: { error: 'Lambda.TooManyRequestsException', tookEffect: true } }, /lambdaFailures\.Check service health: /],
  ])('refuses %j, naming the field', (lambdaFailures, message) => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'model-rollout-scenario-')), 'scenario.json');
    writeFileSync(
      file,
      JSON.stringify({ name: 'x', service: 'sentiment', running: { tag: 'v1.2.0' }, steps: [{ tag: 'v1.3.0', lambdaFailures }] }),
    );
    expect(() => loadScenario(file)).toThrow(message);
  });
});
