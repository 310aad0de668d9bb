/**
 * `model-rollout verify` end to end: the command, in-process, against a SimulatedAccount served over the AWS wire
 * protocols (AWS_ENDPOINT_URL), for every case of the signature table; then the usage and configuration errors; then
 * a few runs of the real bin in a child process.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandIo } from '../../cli/io';
import { main } from '../../cli/main';
import { serveSimulatedAccount } from '../../local/aws-endpoint';
import type { SimulatedAccount } from '../../local/simulated-account';
import { TEST_NETWORK } from '../fixtures/network';
import { NOTATION_FIXTURE } from '../fixtures/notation';
import { CASE_START, newCaseAccount, SIGNATURE_CASES, type SignatureCase, stageCase } from '../fixtures/signature-cases';
import { IMAGE, KEYS } from '../fixtures/signatures';

const REPOSITORY_URI = IMAGE.repositoryUri;
const BIN = join(__dirname, '../../cli/model-rollout.cjs');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'model-rollout-verify-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
/** Writes `text` to a new file in the temporary folder and returns its path. */
function tempFile(text: string, name = `file-${++fileCount}.pem`): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

interface Run {
  code: number;
  stdout: string[];
  stderr: string[];
}

/** Serves the account, points the SDK at it, runs `model-rollout <argv>` in-process, and puts everything back. */
async function runOn(account: SimulatedAccount, argv: string[]): Promise<Run> {
  const endpoint = await serveSimulatedAccount(account);
  const previous = process.env.AWS_ENDPOINT_URL;
  process.env.AWS_ENDPOINT_URL = endpoint.url;
  const stdout: string[] = [];
  const stderr: string[] = [];
  const io: CommandIo = {
    stdout: (line) => stdout.push(line),
    stderr: (line) => stderr.push(line),
    now: account.clock,
    sleep: async (seconds) => account.advance(seconds),
  };
  try {
    return { code: await main(argv, io), stdout, stderr };
  } finally {
    if (previous === undefined) delete process.env.AWS_ENDPOINT_URL;
    else process.env.AWS_ENDPOINT_URL = previous;
    await endpoint.close();
  }
}

function stagedAccount(c: SignatureCase): SimulatedAccount {
  const account = newCaseAccount();
  stageCase(account, c);
  return account;
}

/** The command line an operator would type for the case. */
function argsFor(c: SignatureCase, extra: string[] = []): string[] {
  const { trust } = c;
  return [
    'verify',
    '--repository',
    IMAGE.repositoryName,
    '--digest',
    c.digest,
    ...trust.publicKeys.flatMap((pem) => ['--public-key', tempFile(pem)]),
    ...trust.kmsKeys.flatMap((key) => ['--kms-key', key.keyArn]),
    ...trust.signingProfiles.flatMap((arn) => ['--signing-profile', arn]),
    ...(trust.signingProfiles.length > 0 ? ['--signer-root', tempFile(c.rootPem)] : []),
    ...(trust.threshold === 1 ? [] : ['--threshold', String(trust.threshold)]),
    ...(trust.lateSignatureSeconds === 0 ? [] : ['--wait', String(trust.lateSignatureSeconds), '--poll', String(trust.pollSeconds)]),
    ...extra,
  ];
}

const caseNamed = (name: string) => {
  const found = SIGNATURE_CASES.find((c) => c.name === name);
  if (found === undefined) throw new Error(`no signature case named ${name}`);
  return found;
};

describe('model-rollout verify, every signature case', () => {
  it.each(SIGNATURE_CASES.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const run = await runOn(stagedAccount(c), argsFor(c));

    expect(run.stdout).toHaveLength(1);
    const line = run.stdout[0]!;
    if (c.expected.code === 'verified') {
      expect(run.code).toBe(0);
      expect(line.split(' ')[0]).toBe('verified');
      expect(line).toContain(`${REPOSITORY_URI}@${c.digest}`);
      for (const evidence of c.expected.evidence ?? []) {
        expect(line).toContain(`${evidence.format} signature ${evidence.signatureDigest}`);
        expect(line).toContain(evidence.signer.id);
      }
    } else {
      expect(run.code).toBe(1);
      expect(line.split(' ')[0]).toBe(`${c.expected.code}:`);
      for (const words of c.expected.reasonMentions ?? []) expect(line).toContain(words);
    }
    if (c.expected.pendingReason === undefined) {
      expect(run.stderr).toEqual([]);
    } else {
      const waitUntil = new Date(CASE_START.getTime() + c.trust.lateSignatureSeconds * 1000).toISOString();
      expect(run.stderr).toEqual(Array(c.expected.pendingChecks).fill(`waiting: ${c.expected.pendingReason}; waiting until ${waitUntil}.`));
    }
  });

  it('--json prints the whole result of a verified image, with its repository', async () => {
    const c = caseNamed('threshold 2 met by a cosign key and a signing profile');

    const run = await runOn(stagedAccount(c), argsFor(c, ['--json']));

    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout.join('\n'));
    expect(result).toMatchObject({ repository: REPOSITORY_URI, verdict: 'verified', code: 'verified', digest: c.digest, waitUntil: null });
    expect(result.evidence).toMatchObject(c.expected.evidence!);
    expect(result.evidence[0].signedAt).toBeNull(); // cosign does not say when
    expect(result.evidence[1]).toMatchObject({
      signedAt: '2026-06-01T12:00:00.000Z',
      signer: { detail: NOTATION_FIXTURE.profileVersionArn },
    });
  });

  it('--json prints the whole result of a rejected image', async () => {
    const c = caseNamed('Notation: the signing job revoked');

    const run = await runOn(stagedAccount(c), argsFor(c, ['--json']));

    expect(run.code).toBe(1);
    const result = JSON.parse(run.stdout.join('\n'));
    expect(result).toMatchObject({ repository: REPOSITORY_URI, verdict: 'rejected', code: 'revoked', digest: c.digest, evidence: [] });
    expect(result.reason).toContain(NOTATION_FIXTURE.jobArn);
  });
});

describe('model-rollout verify --config', () => {
  /** A configuration trusting the cosign key and the Notation signing profile for models/sentiment. */
  function writeConfig(signing: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
    const configDir = mkdtempSync(join(dir, 'config-'));
    writeFileSync(join(configDir, 'cosign.pub'), KEYS.cosignTrusted.publicKeyPem);
    writeFileSync(join(configDir, 'signer-root.pem'), NOTATION_FIXTURE.rootPem);
    const config = {
      stackName: 'ModelRollout',
      signerRootCertificate: 'signer-root.pem',
      network: TEST_NETWORK,
      services: [
        {
          name: 'sentiment',
          environment: 'production',
          repository: IMAGE.repositoryName,
          cluster: 'models-prod',
          service: 'sentiment',
          container: 'model',
          taskDefinitionFamily: 'sentiment-task',
          signing: { publicKeys: ['cosign.pub'], signingProfiles: [NOTATION_FIXTURE.profileArn], ...signing },
        },
      ],
      ...extra,
    };
    const file = join(configDir, 'model-rollout.config.json');
    writeFileSync(file, JSON.stringify(config));
    return file;
  }

  it("verifies with the service's trust from the configuration (threshold 2: key and profile)", async () => {
    const c = caseNamed('threshold 2 met by a cosign key and a signing profile');

    const run = await runOn(stagedAccount(c), [
      'verify',
      '--config',
      writeConfig({ threshold: 2 }),
      '--service',
      'sentiment',
      '--digest',
      c.digest,
    ]);

    expect(run.code).toBe(0);
    expect(run.stdout[0]).toMatch(/^verified /);
    expect(run.stdout[0]).toContain(KEYS.cosignTrusted.fingerprint);
    expect(run.stdout[0]).toContain(NOTATION_FIXTURE.profileArn);
  });

  it('rejects with the configured threshold when only one trusted signer signed', async () => {
    const c = caseNamed('threshold 2 not met: only the signing profile signed');

    const run = await runOn(stagedAccount(c), [
      'verify',
      '--config',
      writeConfig({ threshold: 2 }),
      '--service',
      'sentiment',
      '--digest',
      c.digest,
    ]);

    expect(run.code).toBe(1);
    expect(run.stdout[0]).toMatch(/^untrusted-signer: Only 1 of the 2/);
  });

  it('waits only when given --wait, whatever the configuration says', async () => {
    const c = caseNamed('cosign signature arriving within the wait');
    const config = writeConfig({ lateSignatureSeconds: 600 });

    const noWait = await runOn(stagedAccount(c), ['verify', '--config', config, '--service', 'sentiment', '--digest', c.digest]);
    const withWait = await runOn(stagedAccount(c), [
      'verify',
      '--config',
      config,
      '--service',
      'sentiment',
      '--digest',
      c.digest,
      '--wait',
      '60',
      '--poll',
      '10',
    ]);

    expect(noWait.code).toBe(1);
    expect(noWait.stdout[0]).toMatch(/^unsigned: /);
    expect(withWait.code).toBe(0);
    expect(withWait.stderr).toHaveLength(4); // at 0, 10, 20 and 30 seconds; the signature appears at 40
  });

  it.each<[string, () => string[], string[]]>([
    ['an unknown service', () => ['--config', writeConfig({}), '--service', 'summarizer'], ['"summarizer"', 'sentiment']],
    [
      'a threshold above the signers listed',
      () => ['--config', writeConfig({ threshold: 3 }), '--service', 'sentiment'],
      ['threshold', '3'],
    ],
    [
      'signing profiles without signerRootCertificate',
      () => ['--config', writeConfig({}, { signerRootCertificate: undefined }), '--service', 'sentiment'],
      ['signerRootCertificate'],
    ],
    ['a configuration file that does not exist', () => ['--config', join(dir, 'nowhere.json'), '--service', 'sentiment'], ['nowhere.json']],
    ['--config without --service', () => ['--config', writeConfig({})], ['--service']],
    [
      '--config with --repository',
      () => ['--config', writeConfig({}), '--service', 'sentiment', '--repository', 'models/x'],
      ['--repository'],
    ],
  ])('exits 2 for %s, naming it', async (_, args, mentions) => {
    const run = await runOn(newCaseAccount(), ['verify', ...args(), '--digest', IMAGE.digest]);

    expect(run.code).toBe(2);
    expect(run.stdout).toEqual([]);
    expect(run.stderr[0]).toMatch(/^error: /);
    for (const words of mentions) expect(run.stderr[0]).toContain(words);
  });
});

describe('model-rollout verify usage errors', () => {
  const key = () => tempFile(KEYS.cosignTrusted.publicKeyPem);
  it.each<[string, () => string[], string]>([
    ['a missing --digest', () => ['--repository', IMAGE.repositoryName, '--public-key', key()], '--digest is required'],
    [
      'a digest that is not sha256',
      () => ['--repository', IMAGE.repositoryName, '--public-key', key(), '--digest', 'sha256:abc'],
      '"sha256:abc"',
    ],
    ['no trusted signer', () => ['--repository', IMAGE.repositoryName, '--digest', IMAGE.digest], 'at least one trusted signer'],
    [
      '--signing-profile without --signer-root',
      () => ['--repository', IMAGE.repositoryName, '--digest', IMAGE.digest, '--signing-profile', NOTATION_FIXTURE.profileArn],
      '--signer-root',
    ],
    [
      'an unknown option',
      () => ['--repository', IMAGE.repositoryName, '--digest', IMAGE.digest, '--public-key', key(), '--frobnicate'],
      '--frobnicate',
    ],
    [
      'a public key file that does not exist',
      () => ['--repository', IMAGE.repositoryName, '--digest', IMAGE.digest, '--public-key', join(dir, 'missing.pub')],
      'missing.pub',
    ],
    [
      'a threshold above the signers given',
      () => ['--repository', IMAGE.repositoryName, '--digest', IMAGE.digest, '--public-key', key(), '--threshold', '2'],
      '--threshold "2"',
    ],
    [
      'a --wait that is not a number',
      () => ['--repository', IMAGE.repositoryName, '--digest', IMAGE.digest, '--public-key', key(), '--wait', 'soon'],
      '--wait "soon"',
    ],
  ])('exits 2 for %s, naming it, with the usage', async (_, args, mentions) => {
    const account = newCaseAccount();
    const run = await runOn(account, ['verify', ...args()]);

    expect(run.code).toBe(2);
    expect(run.stdout).toEqual([]);
    expect(run.stderr[0]).toMatch(/^error: /);
    expect(run.stderr[0]).toContain(mentions);
    expect(run.stderr[0]).toContain('Usage:');
    expect(account.calls).toEqual([]);
  });

  it('exits 2 when AWS answers with an error (no such repository), naming it', async () => {
    const c = caseNamed('valid cosign signature');

    const run = await runOn(stagedAccount(c), [
      'verify',
      '--repository',
      'models/missing',
      '--digest',
      c.digest,
      '--public-key',
      tempFile(KEYS.cosignTrusted.publicKeyPem),
    ]);

    expect(run.code).toBe(2);
    expect(run.stdout).toEqual([]);
    expect(run.stderr[0]).toMatch(/^error: RepositoryNotFoundException: /);
    expect(run.stderr[0]).toContain('models/missing');
  });
});

describe('the model-rollout bin', () => {
  const exec = promisify(execFile);

  /** Runs the bin in a child process against the served account (asynchronously: this very process serves it). */
  async function runBin(account: SimulatedAccount, args: string[]): Promise<Run> {
    const endpoint = await serveSimulatedAccount(account);
    const lines = (text: string) => (text === '' ? [] : text.trimEnd().split('\n'));
    try {
      const { code, stdout, stderr } = await exec(process.execPath, [BIN, 'verify', ...args], {
        env: { ...process.env, AWS_ENDPOINT_URL: endpoint.url, AWS_REGION: 'us-east-1' },
        timeout: 30_000,
      }).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (failed: { code: number; stdout: string; stderr: string }) => failed,
      );
      return { code, stdout: lines(stdout), stderr: lines(stderr) };
    } finally {
      await endpoint.close();
    }
  }

  it('exits 0 and prints one verified line for a verified image', async () => {
    const c = caseNamed('valid cosign signature');

    const run = await runBin(stagedAccount(c), argsFor(c).slice(1));

    expect(run).toMatchObject({ code: 0, stderr: [] });
    expect(run.stdout).toEqual([
      expect.stringMatching(new RegExp(`^verified ${REPOSITORY_URI}@${c.digest}: cosign-simple-signing signature `)),
    ]);
    expect(run.stdout[0]).toContain(KEYS.cosignTrusted.fingerprint);
  });

  it('exits 1 and prints the reason code first for a rejected image', async () => {
    const c = caseNamed('cosign: payload names another digest');

    const run = await runBin(stagedAccount(c), argsFor(c).slice(1));

    expect(run).toMatchObject({ code: 1, stderr: [] });
    expect(run.stdout).toEqual([expect.stringMatching(/^digest-mismatch: /)]);
    expect(run.stdout[0]).toContain(IMAGE.otherDigest);
  });

  it('exits 2 with the usage for a usage error', async () => {
    const run = await runBin(newCaseAccount(), [
      '--repository',
      IMAGE.repositoryName,
      '--public-key',
      tempFile(KEYS.cosignTrusted.publicKeyPem),
    ]);

    expect(run.code).toBe(2);
    expect(run.stdout).toEqual([]);
    expect(run.stderr[0]).toBe('error: --digest is required (sha256:<64 hex characters>)');
    expect(run.stderr).toContain('Usage:');
  });
});
