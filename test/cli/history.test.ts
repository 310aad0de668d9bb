/** `model-rollout history`: the ledger's deployment records of a service, newest first, from a real (dynalite) ledger. */
import { describe, expect, it } from 'vitest';
import { digestOf, recordDeployment, SERVICE, worldPerTest } from './ledger-fixture';

const fixture = worldPerTest();

const LONG_REASON =
  'v1.3.0 was rolled back: the service did not become healthy before its deadline; alarm sentiment-5xx-rate was in ALARM ' +
  'for 4 minutes and 2 of 3 tasks failed their container health check, so the previous revision runs again.';

/** Three records: a push that succeeded, a push rolled back, and the operator's rollback still in progress. */
async function seedThree() {
  await recordDeployment(fixture.world.ledger, {
    tag: 'v1.2.0',
    digest: digestOf('a'),
    receivedAt: '2026-06-01T10:00:00.123Z',
    status: 'succeeded',
  });
  await recordDeployment(fixture.world.ledger, {
    tag: 'v1.3.0',
    digest: digestOf('b'),
    receivedAt: '2026-06-02T11:30:45.999Z',
    status: 'rolled-back',
    reason: LONG_REASON,
  });
  await recordDeployment(fixture.world.ledger, {
    tag: 'v1.2.0',
    digest: digestOf('a'),
    receivedAt: '2026-06-03T09:05:07.000Z',
    trigger: 'rollback',
  });
}

const args = (...extra: string[]) => ['history', '--service', SERVICE, '--table', fixture.world.tableName, ...extra];

describe('model-rollout history', () => {
  it('prints a table of the records, newest first: when, version, short digest, trigger, outcome, reason', async () => {
    await seedThree();

    const run = await fixture.world.run(args());

    expect(run).toMatchObject({ code: 0, stderr: [] });
    expect(run.stdout).toHaveLength(4);
    expect(run.stdout[0]!.split(/\s{2,}/)).toEqual(['WHEN', 'VERSION', 'DIGEST', 'TRIGGER', 'OUTCOME', 'REASON']);
    const rows = run.stdout.slice(1).map((line) => line.split(/\s{2,}/));
    expect(rows[0]).toEqual(['2026-06-03T09:05:07Z', 'v1.2.0', 'sha256:aaaaaaaaaaaa', 'rollback', 'received', 'v1.2.0 received.']);
    expect(rows[1]!.slice(0, 5)).toEqual(['2026-06-02T11:30:45Z', 'v1.3.0', 'sha256:bbbbbbbbbbbb', 'push', 'rolled-back']);
    expect(rows[2]).toEqual(['2026-06-01T10:00:00Z', 'v1.2.0', 'sha256:aaaaaaaaaaaa', 'push', 'succeeded', 'v1.2.0: succeeded.']);
  });

  it('aligns the columns', async () => {
    await seedThree();

    const run = await fixture.world.run(args());

    const [header, ...rows] = run.stdout;
    for (const [column, cell] of [
      ['DIGEST', 'sha256:'],
      ['OUTCOME', /(received|rolled-back|succeeded)/],
    ] as const) {
      const at = header!.indexOf(column);
      expect(rows.map((row) => row.search(cell))).toEqual([at, at, at]);
    }
  });

  it('cuts the reason to fit the terminal line, and --json keeps it whole', async () => {
    await seedThree();

    const table = await fixture.world.run(args(), { columns: () => 100 });
    const json = await fixture.world.run(args('--json'));

    const rolledBack = table.stdout.find((line) => line.includes('v1.3.0'))!;
    expect(rolledBack.length).toBe(100);
    expect(rolledBack.endsWith('…')).toBe(true);
    expect(rolledBack).toMatch(/ {2}v1\.3\.0 was rolled back: …$/);
    expect(table.stdout.every((line) => line.length <= 100)).toBe(true);
    expect(JSON.parse(json.stdout.join('\n'))[1].reason).toBe(LONG_REASON);
  });

  it('--json prints the whole records, newest first', async () => {
    await seedThree();

    const run = await fixture.world.run(args('--json'));

    expect(run.code).toBe(0);
    const records = JSON.parse(run.stdout.join('\n'));
    expect(records.map((r: { receivedAt: string }) => r.receivedAt)).toEqual([
      '2026-06-03T09:05:07.000Z',
      '2026-06-02T11:30:45.999Z',
      '2026-06-01T10:00:00.123Z',
    ]);
    expect(records[0]).toMatchObject({
      tag: 'v1.2.0',
      digest: digestOf('a'),
      trigger: { kind: 'rollback', requestedBy: 'bob' },
      status: 'received',
    });
    expect(records[2]).toMatchObject({ status: 'succeeded', final: true, finishedAt: '2026-06-01T10:10:00.123Z' });
  });

  it('--limit shows the newest N and says how many there are', async () => {
    await seedThree();

    const run = await fixture.world.run(args('--limit', '2'));

    expect(run.code).toBe(0);
    expect(run.stdout.slice(1, 3).map((line) => line.slice(0, 20))).toEqual(['2026-06-03T09:05:07Z', '2026-06-02T11:30:45Z']);
    expect(run.stdout[3]).toBe('(the newest 2 of 3; --limit N shows more)');
    expect(run.stdout).toHaveLength(4);
  });

  it('says so when nothing is recorded for the service, exit 0', async () => {
    await recordDeployment(fixture.world.ledger, {
      tag: 'v1.2.0',
      digest: digestOf('a'),
      receivedAt: '2026-06-01T10:00:00.000Z',
      status: 'succeeded',
    });

    const run = await fixture.world.run(['history', '--service', 'summarizer', '--table', fixture.world.tableName]);
    const json = await fixture.world.run(['history', '--service', 'summarizer', '--table', fixture.world.tableName, '--json']);

    expect(run).toEqual({ code: 0, stdout: ['no deployments recorded for summarizer'], stderr: [] });
    expect(json).toEqual({ code: 0, stdout: ['[]'], stderr: [] });
  });

  it.each<[string, string[], string]>([
    ['no --service', ['history', '--table', 'ledger'], '--service NAME is required'],
    ['no ledger location', ['history', '--service', SERVICE], '--config FILE, --stack NAME or --table NAME'],
    ['a --limit that is not a number', ['history', '--service', SERVICE, '--table', 'ledger', '--limit', 'ten'], '--limit "ten"'],
    ['a --limit of 0', ['history', '--service', SERVICE, '--table', 'ledger', '--limit', '0'], '--limit "0"'],
    ['an unknown option', ['history', '--service', SERVICE, '--table', 'ledger', '--since', 'monday'], '--since'],
  ])('exits 2 for %s, naming it, with the usage', async (_, argv, mentions) => {
    const run = await fixture.world.run(argv);

    expect(run.code).toBe(2);
    expect(run.stdout).toEqual([]);
    expect(run.stderr[0]).toMatch(/^error: /);
    expect(run.stderr[0]).toContain(mentions);
    expect(run.stderr[0]).toContain('model-rollout history --service NAME');
  });

  it('exits 2 naming the AWS error when the table does not exist', async () => {
    const run = await fixture.world.run(['history', '--service', SERVICE, '--table', 'no-such-table']);

    expect(run.code).toBe(2);
    expect(run.stderr[0]).toMatch(/^error: ResourceNotFoundException: /);
  });
});
