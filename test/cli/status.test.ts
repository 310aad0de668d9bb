/** `model-rollout status`: whether a rollout runs, from a real (dynalite) ledger; exit 1 while one does. */
import { describe, expect, it } from 'vitest';
import { LedgerTable } from '../../lambdas/adapters/ledger-table';
import { LedgerWaiters } from '../../lambdas/adapters/ledger-waiters';
import { digestOf, NOW, recordDeployment, SERVICE, worldPerTest } from './ledger-fixture';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const fixture = worldPerTest();
const args = (...extra: string[]) => ['status', '--service', SERVICE, '--table', fixture.world.tableName, ...extra];
/** Minutes before and after the commands' clock (NOW). */
const minutes = (n: number) => new Date(NOW.getTime() + n * 60_000).toISOString();

/** v1.3.0 received 5 minutes ago holds the lock and waits for health; v1.4.0 arrived since and waits for the lock. */
async function seedRollout() {
  const { ledger, clients, tableName } = fixture.world;
  const holder = await recordDeployment(ledger, { tag: 'v1.3.0', digest: digestOf('b'), receivedAt: minutes(-5) });
  await ledger.acquireLock(
    {
      service: SERVICE,
      holder: { executionArn: holder.executionArn, key: holder.key, tag: 'v1.3.0' },
      acquiredAt: minutes(-4),
      expiresAt: minutes(40),
    },
    minutes(-4),
  );
  await new LedgerWaiters(new LedgerTable(DynamoDBDocumentClient.from(clients.dynamoDb), tableName)).put({
    service: SERVICE,
    executionArn: holder.executionArn,
    state: 'Wait for the new revision to become healthy',
    waitsFor: 'deployment',
    taskToken: 'a-secret-task-token',
    check: {},
    since: minutes(-3),
    expiresAt: minutes(1),
  });
  await recordDeployment(ledger, { tag: 'v1.4.0', digest: digestOf('c'), receivedAt: minutes(-1) });
  return holder;
}

describe('model-rollout status', () => {
  it('exits 0 and says so when no rollout runs', async () => {
    await recordDeployment(fixture.world.ledger, { tag: 'v1.2.0', digest: digestOf('a'), receivedAt: minutes(-60), status: 'succeeded' });

    await expect(fixture.world.run(args())).resolves.toEqual({ code: 0, stdout: ['sentiment: no rollout is running'], stderr: [] });
  });

  it('exits 1 while a rollout runs, naming the release, what it waits for and what is under way behind it', async () => {
    await seedRollout();

    const run = await fixture.world.run(args());

    expect(run).toMatchObject({ code: 1, stderr: [] });
    expect(run.stdout).toEqual([
      `sentiment: v1.3.0 is rolling out (holds the service lock since ${minutes(-4)}, lease until ${minutes(40)}), waiting in ` +
        `"Wait for the new revision to become healthy" since ${minutes(-3)} (looks itself by ${minutes(1)}); under way behind it: v1.4.0 (received)`,
    ]);
  });

  it('prints it as JSON with --json, without the task token', async () => {
    const holder = await seedRollout();

    const run = await fixture.world.run(args('--json'));

    expect(run.code).toBe(1);
    const status = JSON.parse(run.stdout.join('\n'));
    expect(status).toMatchObject({
      service: SERVICE,
      running: true,
      holder: { tag: 'v1.3.0', executionArn: holder.executionArn },
      waiting: [{ state: 'Wait for the new revision to become healthy' }],
      underWay: [{ tag: 'v1.4.0', status: 'received' }],
    });
    expect(run.stdout.join('\n')).not.toContain('a-secret-task-token');
  });

  it('exits 2 with the usage when the service is missing', async () => {
    const run = await fixture.world.run(['status', '--table', fixture.world.tableName]);
    expect(run.code).toBe(2);
    expect(run.stderr.join('\n')).toContain('Usage:\n  model-rollout status --service NAME');
  });
});
