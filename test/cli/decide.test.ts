/**
 * `model-rollout approve | reject | promote [--full] | abort`: the wait found in a real (dynalite) ledger, the answer sent
 * to Step Functions and the caller asked of STS (both under aws-sdk-client-mock).
 */
import { SendTaskSuccessCommand, TaskTimedOut } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { LedgerTable } from '../../lambdas/adapters/ledger-table';
import { LedgerWaiters } from '../../lambdas/adapters/ledger-waiters';
import type { Waiter } from '../../lambdas/contract/ledger-records';
import { type HumanWaitDetails, operatorDecisionSchema } from '../../lambdas/contract/operator-decisions';
import { chooseAnswer } from '../../cli/decide-command';
import { CALLER_ARN, EXECUTION_ARN_PREFIX, NOW, SERVICE, STACK, worldPerTest } from './ledger-fixture';

const fixture = worldPerTest();
beforeEach(() => {
  fixture.world.sfn.on(SendTaskSuccessCommand).resolves({});
});

/** Minutes before and after the commands' clock (NOW). */
const minutes = (n: number) => new Date(NOW.getTime() + n * 60_000).toISOString();
const EXECUTION = `${EXECUTION_ARN_PREFIX}:push-v1-3-0`;
const cli = (command: string, ...extra: string[]) => [command, '--service', SERVICE, '--table', fixture.world.tableName, ...extra];

const AT_STEP_2: HumanWaitDetails = {
  tag: 'v1.3.0',
  step: 2,
  of: 5,
  weight: 10,
  why: 'step 2 asks for approval before traffic goes on',
  until: minutes(30),
};

function waiter(waitsFor: Waiter['waitsFor'], overrides: Partial<Waiter> = {}): Waiter {
  return {
    service: SERVICE,
    executionArn: EXECUTION,
    state: waitsFor === 'bake' ? 'Bake the step' : 'Wait for approval',
    waitsFor,
    taskToken: `token-of-${waitsFor}`,
    check: AT_STEP_2,
    since: minutes(-2),
    expiresAt: minutes(5),
    ...overrides,
  };
}

async function seed(...waiters: Waiter[]) {
  const { clients, tableName } = fixture.world;
  const store = new LedgerWaiters(new LedgerTable(DynamoDBDocumentClient.from(clients.dynamoDb), tableName));
  for (const w of waiters) await store.put(w);
}

/** The answers sent: their tokens and their decisions as the state machine parses them. */
function answers() {
  return fixture.world.sfn.commandCalls(SendTaskSuccessCommand).map((call) => ({
    taskToken: call.args[0].input.taskToken,
    decision: operatorDecisionSchema.parse(JSON.parse(call.args[0].input.output!)),
  }));
}

describe('model-rollout approve', () => {
  it("answers the newest approval's token with the decision, signed by the caller's ARN", async () => {
    await seed(
      waiter('approval', {
        state: 'Wait for approval before step 1',
        taskToken: 'older',
        since: minutes(-20),
        check: { ...AT_STEP_2, step: null, weight: 0 },
      }),
      waiter('approval', { taskToken: 'newest', since: minutes(-2) }),
    );

    const run = await fixture.world.run(cli('approve', '--reason', 'canary metrics look fine'));

    expect(run).toEqual({
      code: 0,
      stdout: [`approved v1.3.0, waiting for approval at step 2 of 5 (10 %), as ${CALLER_ARN}: it goes on to step 3 of 5`],
      stderr: [],
    });
    expect(answers()).toEqual([
      {
        taskToken: 'newest',
        decision: { action: 'approve', by: CALLER_ARN, at: NOW.toISOString(), reason: 'canary metrics look fine' },
      },
    ]);
    expect(fixture.world.sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(1);
  });

  it('records a default reason, and says an approval of the last step goes on to promotion', async () => {
    await seed(waiter('approval', { check: { ...AT_STEP_2, step: 5, weight: 100 } }));

    const run = await fixture.world.run(cli('approve'));

    expect(run.stdout).toEqual([`approved v1.3.0, waiting for approval at step 5 of 5 (100 %), as ${CALLER_ARN}: it goes on to promotion`]);
    expect(answers()[0]?.decision.reason).toBe('approved from the command line');
  });

  it('finds the ledger table from the stack outputs', async () => {
    fixture.world.stackOutputs({ LedgerTableName: fixture.world.tableName });
    await seed(waiter('approval'));

    const run = await fixture.world.run(['approve', '--service', SERVICE, '--stack', STACK]);

    expect(run.code).toBe(0);
    expect(answers().map((a) => a.taskToken)).toEqual(['token-of-approval']);
  });

  it('refuses a bake, naming the actions it takes, and sends nothing', async () => {
    await seed(waiter('bake'));

    const run = await fixture.world.run(cli('approve'));

    expect(run).toEqual({
      code: 1,
      stdout: [],
      stderr: ['no approve: v1.3.0 is baking step 2 of 5 (10 %): nothing waits for approval; it takes promote, promote --full or abort'],
    });
    expect(answers()).toEqual([]);
    expect(fixture.world.sts.commandCalls(GetCallerIdentityCommand)).toEqual([]);
  });

  it('exits 1 when nothing of the service waits', async () => {
    const run = await fixture.world.run(cli('approve'));

    expect(run).toEqual({
      code: 1,
      stdout: [],
      stderr: [
        `no approve: nothing of ${SERVICE} waits for an operator now (\`model-rollout status --service ${SERVICE}\` says what its release waits for)`,
      ],
    });
  });

  it('answers only the release --tag names: another may have taken its place since the alert', async () => {
    await seed(waiter('approval'));
    const run = await fixture.world.run([...cli('approve'), '--tag', 'v1.2.9']);
    expect(run.code).toBe(1);
    expect(run.stderr.join('')).toContain('not v1.2.9: nothing answered (drop --tag to answer v1.3.0)');
    expect(await fixture.world.run([...cli('approve'), '--tag', 'v1.3.0'])).toMatchObject({ code: 0 });
  });

  it('ignores a waiter whose wait has ended', async () => {
    await seed(waiter('approval', { since: minutes(-40), expiresAt: minutes(-1) }));

    const run = await fixture.world.run(cli('approve'));

    expect(run.code).toBe(1);
    expect(run.stderr[0]).toContain(`nothing of ${SERVICE} waits for an operator`);
    expect(answers()).toEqual([]);
  });

  it('reads only the waits an operator answers (its role may read no other token): a health wait is not one', async () => {
    await seed(waiter('canary', { state: 'Wait for the canary to become healthy', check: {} }));

    const run = await fixture.world.run(cli('approve'));

    expect(run.code).toBe(1);
    expect(run.stderr.join('')).toContain(`nothing of ${SERVICE} waits for an operator now`);
  });

  it('exits 1 and says to run it again when the wait ended before the answer', async () => {
    await seed(waiter('approval'));
    fixture.world.sfn
      .on(SendTaskSuccessCommand)
      .rejects(new TaskTimedOut({ message: 'Task Timed Out: the task token has either expired or been closed', $metadata: {} }));

    const run = await fixture.world.run(cli('approve'));

    expect(run.code).toBe(1);
    expect(run.stdout).toEqual([]);
    expect(run.stderr).toEqual([
      'no approve: the wait of v1.3.0 ended before the answer (answered already, timed out for its next analysis or look — it then ' +
        `waits again within moments — or the release went on or ended): \`model-rollout status --service ${SERVICE}\` says what ` +
        'it waits for now; run the command again if it waits for you',
    ]);
  });

  it('exits 2 with the usage for an option it does not take', async () => {
    const run = await fixture.world.run(cli('approve', '--full'));

    expect(run.code).toBe(2);
    expect(run.stderr.join('\n')).toContain('Usage:\n  model-rollout approve --service NAME');
  });
});

describe('model-rollout promote, reject, abort', () => {
  it('promote --full answers promote-full during a bake, and says it skips to the last step', async () => {
    await seed(waiter('bake'));

    const run = await fixture.world.run(cli('promote', '--full'));

    expect(run.stdout).toEqual([
      `fully promoted v1.3.0, baking step 2 of 5 (10 %), as ${CALLER_ARN}: it skips to the last step, 5 of 5 (100 %)`,
    ]);
    expect(answers().map((a) => [a.taskToken, a.decision.action])).toEqual([['token-of-bake', 'promote-full']]);
  });

  it('promote before the first step goes on to step 1', async () => {
    await seed(waiter('approval', { check: { ...AT_STEP_2, step: null, weight: 0 } }));

    const run = await fixture.world.run(cli('promote'));

    expect(run.stdout).toEqual([
      `promoted v1.3.0, waiting for approval before its first step (of 5), as ${CALLER_ARN}: it goes on to step 1 of 5`,
    ]);
    expect(answers()[0]?.decision.action).toBe('promote');
  });

  it.each([
    ['reject', 'approval', 'rejected'],
    ['abort', 'bake', 'aborted'],
  ] as const)('%s in %s: traffic returns to the stable service', async (command, wait, verb) => {
    await seed(waiter(wait));

    const run = await fixture.world.run(cli(command, '--reason', 'p99 latency doubled'));

    expect(run.code).toBe(0);
    expect(run.stdout[0]).toMatch(
      new RegExp(`^${verb} v1\\.3\\.0, .* all traffic returns to the stable service and the release ends rolled back$`),
    );
    expect(answers().map((a) => a.decision)).toEqual([
      { action: command, by: CALLER_ARN, at: NOW.toISOString(), reason: 'p99 latency doubled' },
    ]);
  });

  it('abort while the canary scales answers its wait; anything else is refused, naming the one action it takes', async () => {
    const scaling = waiter('scaling', {
      state: 'Wait for the canary to become healthy',
      check: { ...AT_STEP_2, why: 'its canary is scaling for step 3 of 5 (30 %)' },
    });
    await seed(scaling);

    const promote = await fixture.world.run(cli('promote'));
    expect(promote.code).toBe(1);
    expect(promote.stderr).toEqual([
      `no promote: v1.3.0 is waiting while its canary is scaling for step 3 of 5 (30 %) (its tasks due by ${minutes(30)}); 10 % of the traffic is on it: nothing waits for promote; it takes abort`,
    ]);
    expect(answers()).toEqual([]);

    const abort = await fixture.world.run(cli('abort', '--reason', 'wrong model'));
    expect(abort.code).toBe(0);
    expect(abort.stdout).toEqual([
      `aborted v1.3.0, waiting while its canary is scaling for step 3 of 5 (30 %) (its tasks due by ${minutes(30)}); 10 % of the traffic is on it, as ${CALLER_ARN}: all traffic returns to the stable service and the release ends rolled back`,
    ]);
    expect(answers()).toEqual([
      { taskToken: 'token-of-scaling', decision: { action: 'abort', by: CALLER_ARN, at: NOW.toISOString(), reason: 'wrong model' } },
    ]);
  });

  it('abort at promotion answers its wait: the stable service returns to the previous version first', async () => {
    await seed(
      waiter('promoting', {
        state: 'Wait for the stable service to run the release',
        check: { ...AT_STEP_2, step: 5, weight: 100, why: 'its stable service is taking the release' },
      }),
    );
    // A promotion takes abort only: a promote let through would stop it (roll the release back), not speed it up.
    const promote = await fixture.world.run(cli('promote'));
    expect(promote.code).toBe(1);
    expect(promote.stderr[0]).toMatch(/: nothing waits for promote; it takes abort$/);
    expect(answers()).toEqual([]);

    const abort = await fixture.world.run(cli('abort'));
    expect(abort.code).toBe(0);
    expect(abort.stdout).toEqual([
      `aborted v1.3.0, waiting while its stable service is taking the release (due by ${minutes(30)}), as ${CALLER_ARN}: the stable service returns to the previous version, then all traffic returns to it, and the release ends rolled back`,
    ]);
    expect(answers().map((a) => a.taskToken)).toEqual(['token-of-promoting']);
  });

  it('reject during a bake is refused: a bake has nothing to reject', async () => {
    await seed(waiter('bake'));

    const run = await fixture.world.run(cli('reject'));

    expect(run.code).toBe(1);
    expect(run.stderr).toEqual([
      'no reject: v1.3.0 is baking step 2 of 5 (10 %): nothing waits for approval; it takes promote, promote --full or abort',
    ]);
  });
});

describe('chooseAnswer', () => {
  it("ignores an approval whose details this version cannot read, and names it among the release's waits", () => {
    const unreadable = waiter('approval', { check: { tag: 'v1.3.0' } });
    expect(chooseAnswer(SERVICE, 'approve', [unreadable, waiter('lock', { check: {} })])).toEqual({
      verdict: 'refused',
      reason: `nothing of ${SERVICE} waits for an operator: its release waits for approval (details this version of model-rollout cannot read) and the service lock; try again when it bakes, asks for approval, scales its canary or is promoted`,
    });
  });

  it('takes every action in an approval', () => {
    for (const action of ['approve', 'reject', 'promote', 'promote-full', 'abort'] as const) {
      expect(chooseAnswer(SERVICE, action, [waiter('approval')]).verdict).toBe('answer');
    }
  });
});
