/**
 * The operator's decisions in the local run: the real CLI finds the wait in the local ledger, asks the local STS who
 * it is, and answers the wait's task token through the local Step Functions.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pipelineFor } from '../../local/play';
import { iamLogOf } from '../../local/iam/authorize';
import { LedgerWaiters } from '../../lambdas/adapters/ledger-waiters';
import { LedgerTable } from '../../lambdas/adapters/ledger-table';
import { operatorDecisionSchema } from '../../lambdas/contract/operator-decisions';
import { localOperatorArn, runCli } from '../../local/operator-commands';
import { SimulatedAccount } from '../../local/simulated-account';
import { SimulatedTime } from '../../local/simulated-time';
import { LocalTaskTokens } from '../../local/task-tokens';
import type { LocalWorld } from '../../local/workflow';
import { sentimentService } from '../fixtures/catalog';
import { ledgerPerTest } from '../fixtures/ledger';

const table = ledgerPerTest();
const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:Pipeline:local-0001';
const STATE = 'Wait for approval';

/** The gray example's synthesized policies: a decision runs as an operator with sentiment's approvers' policy. */
const { iam } = pipelineFor(path.resolve(__dirname, '..', '..', 'examples', 'gray-release.config.json'));

/**
 * Just what runCli reads of the local world: the clock, simulated time, task tokens, the state machine's ARN, and
 * what an operator's calls are authorized against (the policies, the ledger table).
 */
function world(): LocalWorld {
  const account = new SimulatedAccount({ start: new Date('2026-12-06T10:00:00Z') });
  const time = new SimulatedTime(account);
  return {
    account,
    time,
    tokens: new LocalTaskTokens(time),
    pipeline: { stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:Pipeline', iam },
    ledgerTable: { tableName: table.tableName, documentClient: table.database.documentClient },
  } as unknown as LocalWorld;
}

/** Starts no execution: the decisions answer one that waits. */
const noStarts = {
  send: async (command: unknown) => {
    throw new Error(`unexpected ${(command as object).constructor.name}`);
  },
};

async function waitForApproval(local: LocalWorld): Promise<string> {
  const token = local.tokens.open(EXECUTION, STATE);
  await new LedgerWaiters(new LedgerTable(table.database.documentClient, table.tableName)).put({
    service: 'sentiment',
    executionArn: EXECUTION,
    state: STATE,
    waitsFor: 'approval',
    taskToken: token,
    check: { tag: 'v1.3.0', step: null, of: 3, weight: 0, why: 'the release asks for approval first', until: '2026-12-06T11:00:00Z' },
    since: '2026-12-06T09:59:00Z',
    expiresAt: '2026-12-06T11:00:00Z',
  });
  return token;
}

describe('runCli: an operator decision in the local run', () => {
  it("answers the wait's token with the decision of the local operator", async () => {
    const local = world();
    const token = await waitForApproval(local);
    const database = { ...table.database, tableName: table.tableName };

    const answer = await runCli(local, database, noStarts, sentimentService(), ['promote', '--full']);

    expect(answer).toMatchObject({ command: 'model-rollout promote --full --service sentiment', exitCode: 0 });
    // Its calls were authorized (the Query, the ledger key through DynamoDB, SendTaskSuccess), and none refused.
    expect(iamLogOf(local.account)).toMatchObject({ allowed: 3, denials: [] });
    expect(localOperatorArn(local)).toBe('arn:aws:sts::123456789012:assumed-role/operator/local-operator');
    const output = operatorDecisionSchema.parse(await local.tokens.answer(token, 60));
    expect(output).toEqual({
      action: 'promote-full',
      by: localOperatorArn(local),
      at: '2026-12-06T10:00:00.000Z',
      reason: 'promoted from the command line',
    });
  });

  it('exits 1 when the token was already answered: the wait ended before the answer', async () => {
    const local = world();
    const token = await waitForApproval(local);
    local.tokens.closeTask(token);
    const database = { ...table.database, tableName: table.tableName };

    const answer = await runCli(local, database, noStarts, sentimentService(), ['approve']);

    expect(answer.exitCode).toBe(1);
    expect(answer.output.join('\n')).toContain('run the command again');
  });

  it("is refused, as AWS would refuse it, for a service whose policy the operator's role does not have", async () => {
    const local = world();
    await waitForApproval(local);
    const database = { ...table.database, tableName: table.tableName };
    const narrowed = structuredClone(iam);
    // The role has another service's policy only: its Query of sentiment's waits is not allowed.
    const [document] = narrowed.principals['operator:sentiment']!.identityPolicies;
    const text = JSON.stringify(document!.policy).replaceAll('OPERATOR-WAITS#sentiment', 'OPERATOR-WAITS#summarizer');
    document!.policy = JSON.parse(text);
    (local.pipeline as { iam: typeof iam }).iam = narrowed;

    const answer = await runCli(local, database, noStarts, sentimentService(), ['approve']);

    expect(answer.exitCode).toBe(2);
    expect(answer.output.join('\n')).toMatch(/AccessDeniedException/);
    expect(iamLogOf(local.account).denials.map((d) => d.request.action)).toEqual(['dynamodb:Query']);
  });
});
