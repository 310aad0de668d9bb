/** `model-rollout quarantine list | release` against a real (dynalite) ledger. */
import { describe, expect, it } from 'vitest';
import { digestOf, recordDeployment, SERVICE, worldPerTest } from './ledger-fixture';

const fixture = worldPerTest();

/** v1.1.0 (b) runs fine; v1.2.0 (c) and v1.3.0 (d) were rolled back and quarantined, d last. */
async function seedQuarantined() {
  await recordDeployment(fixture.world.ledger, {
    tag: 'v1.1.0',
    digest: digestOf('b'),
    receivedAt: '2026-05-10T10:00:00.000Z',
    status: 'succeeded',
  });
  await recordDeployment(fixture.world.ledger, {
    tag: 'v1.2.0',
    digest: digestOf('c'),
    receivedAt: '2026-05-20T10:00:00.000Z',
    status: 'rolled-back',
    quarantine: { at: '2026-05-20T10:25:00.500Z', reason: 'alarm sentiment-5xx-rate in ALARM' },
  });
  await recordDeployment(fixture.world.ledger, {
    tag: 'v1.3.0',
    digest: digestOf('d'),
    receivedAt: '2026-06-01T10:00:00.000Z',
    status: 'rolled-back',
    quarantine: { at: '2026-06-01T10:20:00.000Z', reason: 'tasks failed their health check' },
  });
}

const list = (...extra: string[]) => ['quarantine', 'list', '--service', SERVICE, '--table', fixture.world.tableName, ...extra];
const release = (digest: string, ...extra: string[]) => [
  'quarantine',
  'release',
  '--service',
  SERVICE,
  '--table',
  fixture.world.tableName,
  '--digest',
  digest,
  ...extra,
];

describe('model-rollout quarantine list', () => {
  it('prints the quarantined digests, newest quarantine first: digest, tag, since, reason', async () => {
    await seedQuarantined();

    const run = await fixture.world.run(list());

    expect(run).toMatchObject({ code: 0, stderr: [] });
    expect(run.stdout.map((line) => line.split(/\s{2,}/))).toEqual([
      ['DIGEST', 'TAG', 'SINCE', 'REASON'],
      [digestOf('d'), 'v1.3.0', '2026-06-01T10:20:00Z', 'tasks failed their health check'],
      [digestOf('c'), 'v1.2.0', '2026-05-20T10:25:00Z', 'alarm sentiment-5xx-rate in ALARM'],
    ]);
  });

  it('--json prints the digest records in full', async () => {
    await seedQuarantined();

    const run = await fixture.world.run(list('--json'));

    expect(run.code).toBe(0);
    const records = JSON.parse(run.stdout.join('\n'));
    expect(records.map((r: { digest: string }) => r.digest)).toEqual([digestOf('d'), digestOf('c')]);
    expect(records[0]).toMatchObject({
      service: SERVICE,
      tags: ['v1.3.0'],
      quarantine: { tag: 'v1.3.0', reason: 'tasks failed their health check' },
    });
  });

  it('says so when no digest is quarantined', async () => {
    await recordDeployment(fixture.world.ledger, {
      tag: 'v1.1.0',
      digest: digestOf('b'),
      receivedAt: '2026-05-10T10:00:00.000Z',
      status: 'succeeded',
    });

    const run = await fixture.world.run(list());

    expect(run).toEqual({ code: 0, stdout: [`no quarantined digests for ${SERVICE}`], stderr: [] });
  });
});

describe('model-rollout quarantine release', () => {
  it('releases a quarantined digest (exit 0), recording who and why; it is no longer listed', async () => {
    await seedQuarantined();

    const run = await fixture.world.run(
      release(digestOf('c'), '--reason', 'the tokenizer was fixed in the serving image', '--requested-by', 'bob'),
    );

    expect(run).toEqual({
      code: 0,
      stdout: [`released ${digestOf('c')} (v1.2.0) of ${SERVICE} from quarantine: it may be deployed again`],
      stderr: [],
    });
    expect(await fixture.world.ledger.getDigest(SERVICE, digestOf('c'))).toMatchObject({
      quarantine: null,
      released: { at: '2026-06-10T08:30:15.250Z', by: 'bob', reason: 'the tokenizer was fixed in the serving image' },
    });
    expect((await fixture.world.ledger.getDigest(SERVICE, digestOf('d')))!.quarantine).not.toBeNull();
    const listed = await fixture.world.run(list());
    expect(listed.stdout.slice(1).map((line) => line.split(' ')[0])).toEqual([digestOf('d')]);
  });

  it('records the user as who released it, and no reason, by default', async () => {
    await seedQuarantined();

    const run = await fixture.world.run(release(digestOf('d')));

    expect(run.code).toBe(0);
    expect((await fixture.world.ledger.getDigest(SERVICE, digestOf('d')))!.released).toEqual({
      at: '2026-06-10T08:30:15.250Z',
      by: 'alice',
      reason: null,
    });
  });

  it('exits 1 for a digest that is not quarantined, saying when it was last released', async () => {
    await seedQuarantined();
    await fixture.world.run(release(digestOf('c'), '--requested-by', 'bob'));

    const again = await fixture.world.run(release(digestOf('c')));
    const neverQuarantined = await fixture.world.run(release(digestOf('b')));

    expect(again).toEqual({
      code: 1,
      stdout: [],
      stderr: [`not released: ${digestOf('c')} of ${SERVICE} is not quarantined (released 2026-06-10T08:30:15Z by bob)`],
    });
    expect(neverQuarantined).toEqual({ code: 1, stdout: [], stderr: [`not released: ${digestOf('b')} of ${SERVICE} is not quarantined`] });
  });

  it('exits 1 for a digest the ledger does not know', async () => {
    await seedQuarantined();

    const run = await fixture.world.run(release(digestOf('9')));

    expect(run).toEqual({ code: 1, stdout: [], stderr: [`not released: the ledger knows no digest ${digestOf('9')} for ${SERVICE}`] });
    expect(await fixture.world.ledger.getDigest(SERVICE, digestOf('9'))).toBeNull();
  });

  it('exits 1 for a digest quarantined for another service', async () => {
    await seedQuarantined();

    const run = await fixture.world.run([
      'quarantine',
      'release',
      '--service',
      'summarizer',
      '--table',
      fixture.world.tableName,
      '--digest',
      digestOf('c'),
    ]);

    expect(run.code).toBe(1);
    expect(run.stderr[0]).toContain('knows no digest');
    expect((await fixture.world.ledger.getDigest(SERVICE, digestOf('c')))!.quarantine).not.toBeNull();
  });
});

describe('model-rollout quarantine usage errors', () => {
  it.each<[string, string[], string]>([
    ['no action', ['quarantine', '--service', SERVICE, '--table', 'ledger'], 'say what to do first: quarantine list or quarantine release'],
    ['nothing at all', ['quarantine'], 'say what to do first'],
    ['an unknown action', ['quarantine', 'lift', '--service', SERVICE, '--table', 'ledger'], 'unknown quarantine action "lift"'],
    ['release without --digest', ['quarantine', 'release', '--service', SERVICE, '--table', 'ledger'], '--digest is required'],
    [
      'a digest that is not sha256',
      ['quarantine', 'release', '--service', SERVICE, '--table', 'ledger', '--digest', 'sha256:abc'],
      '"sha256:abc"',
    ],
    ['release without --service', ['quarantine', 'release', '--table', 'ledger', '--digest', digestOf('a')], '--service NAME is required'],
    ['list with --digest', ['quarantine', 'list', '--service', SERVICE, '--table', 'ledger', '--digest', digestOf('a')], '--digest'],
  ])('exits 2 for %s, naming it, with the usage', async (_, argv, mentions) => {
    const run = await fixture.world.run(argv);

    expect(run.code).toBe(2);
    expect(run.stdout).toEqual([]);
    expect(run.stderr[0]).toMatch(/^error: /);
    expect(run.stderr[0]).toContain(mentions);
    expect(run.stderr[0]).toContain('model-rollout quarantine release --service NAME --digest sha256:HEX');
  });
});
