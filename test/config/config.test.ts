import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig, readSignerRootCertificate, type RolloutConfig, toServiceCatalog } from '../../lib/config';

const ROOT = path.resolve(__dirname, '../..');
const EXAMPLE = path.join(ROOT, 'model-rollout.config.json');
const DEMO_PUBLIC_KEY = readFileSync(path.join(ROOT, 'examples/keys/demo-cosign.pub'), 'utf8');

/** A fresh, valid raw configuration (the example file) for each case to break in one place. */
function example(): any {
  return JSON.parse(readFileSync(EXAMPLE, 'utf8'));
}

/** The issues parseConfig reports for `raw`, or a failure if it accepts it. */
function issuesOf(raw: unknown, baseDir = ROOT): readonly string[] {
  try {
    parseConfig(raw, baseDir);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  expect.fail('expected the configuration to be rejected');
}

describe('the example configuration', () => {
  it('loads with both services and the alert addresses', () => {
    const config = loadConfig(EXAMPLE);

    expect(config.stackName).toBe('ModelRollout');
    expect(config.account).toBeUndefined();
    expect(config.alerts.critical).toEqual(['oncall@example.com']);
    expect(config.services.map((s) => [s.name, s.environment, s.repository, s.cluster])).toEqual([
      ['sentiment', 'production', 'models/sentiment', 'models-prod'],
      ['summarizer-staging', 'staging', 'models/summarizer', 'models-staging'],
    ]);
    expect(config.services[0]!.health).toEqual({
      deadlineMinutes: 15,
      pollSeconds: 30,
      alarms: ['sentiment-5xx-rate', 'sentiment-p99-latency'],
    });
  });

  it('becomes a catalog in the contract shape, with the key read into PEM and the deadline in seconds', () => {
    const catalog = toServiceCatalog(loadConfig(EXAMPLE), ROOT);

    expect(catalog[0]).toEqual({
      name: 'sentiment',
      environment: 'production',
      repositoryName: 'models/sentiment',
      cluster: 'models-prod',
      service: 'sentiment',
      container: 'model',
      trust: {
        publicKeys: [DEMO_PUBLIC_KEY],
        kmsKeys: [],
        signingProfiles: [],
        threshold: 1,
        lateSignatureSeconds: 120,
        signaturePollSeconds: 15,
      },
      health: { deadlineSeconds: 900, pollSeconds: 30, alarms: ['sentiment-5xx-rate', 'sentiment-p99-latency'] },
    });
    expect(catalog.map((entry) => entry.name)).toEqual(['sentiment', 'summarizer-staging']);
  });
});

describe('defaults', () => {
  it('fills in health, alerts and alarms when they are left out', () => {
    const raw = example();
    delete raw.alerts;
    delete raw.services[0].health;
    raw.services[1].health = { alarms: ['summarizer-5xx-rate'] };

    const config = parseConfig(raw, ROOT);

    expect(config.alerts).toEqual({ critical: [], warning: [], info: [] });
    expect(config.services[0]!.health).toEqual({ deadlineMinutes: 15, pollSeconds: 30, alarms: [] });
    expect(config.services[1]!.health).toEqual({ deadlineMinutes: 15, pollSeconds: 30, alarms: ['summarizer-5xx-rate'] });
    expect(toServiceCatalog(config, ROOT)[0]!.health.deadlineSeconds).toBe(15 * 60);
  });

  it('reconciles every 15 minutes when reconcileEveryMinutes is left out', () => {
    const raw = example();
    delete raw.reconcileEveryMinutes;

    expect(parseConfig(raw, ROOT).reconcileEveryMinutes).toBe(15);
  });

  it.each([1, 60, 1440])('keeps reconcileEveryMinutes %i as given (1 to 1440)', (minutes) => {
    const raw = example();
    raw.reconcileEveryMinutes = minutes;

    expect(parseConfig(raw, ROOT).reconcileEveryMinutes).toBe(minutes);
  });

  it('fills in each alert list on its own', () => {
    const raw = example();
    raw.alerts = { critical: ['oncall@example.com'] };

    expect(parseConfig(raw, ROOT).alerts).toEqual({ critical: ['oncall@example.com'], warning: [], info: [] });
  });
});

describe('invalid configurations name the field and the value', () => {
  const cases: { name: string; breakIt: (raw: any) => void; issue: string }[] = [
    {
      name: 'an unknown environment',
      breakIt: (raw) => (raw.services[1].environment = 'prod'),
      issue: 'services[1].environment: "prod" is not one of production | staging | development',
    },
    {
      name: 'a repository configured for two services',
      breakIt: (raw) => (raw.services[1].repository = 'models/sentiment'),
      issue:
        'services[1].repository: "models/sentiment" is already configured for service "sentiment" (services[0]); ' +
        'this version starts one execution per push, so a repository can feed at most one service',
    },
    {
      name: 'two services with the same name',
      breakIt: (raw) => (raw.services[1].name = 'sentiment'),
      issue: 'services[1].name: "sentiment" is already the name of services[0]; service names must be unique',
    },
    {
      name: 'an alert address that is not an e-mail address',
      breakIt: (raw) => (raw.alerts.warning = ['ml-platform at example.com']),
      issue: 'alerts.warning[0]: "ml-platform at example.com" is not a valid e-mail address',
    },
    {
      name: 'the same alert address twice in one list',
      breakIt: (raw) => (raw.alerts.critical = ['oncall@example.com', 'oncall@example.com']),
      issue: 'alerts.critical[1]: "oncall@example.com" is already listed at alerts.critical[0]',
    },
    {
      name: 'an unknown key (a typo) in a nested block',
      breakIt: (raw) => (raw.services[0].health.deadlineMinute = 10),
      issue: 'services[0].health: unknown key "deadlineMinute" (allowed: deadlineMinutes, pollSeconds, alarms)',
    },
    {
      name: 'an unknown key at the top level',
      breakIt: (raw) => (raw.alert = {}),
      issue:
        '(configuration): unknown key "alert" ' +
        '(allowed: stackName, account, region, alerts, signerRootCertificate, reconcileEveryMinutes, services)',
    },
    {
      name: 'a key file that does not exist',
      breakIt: (raw) => (raw.services[0].signing.publicKeys = ['examples/keys/missing.pub']),
      issue:
        'services[0].signing.publicKeys[0]: "examples/keys/missing.pub" not found ' +
        `(looked for ${path.join(ROOT, 'examples/keys/missing.pub')})`,
    },
    {
      name: 'no trusted signer',
      breakIt: (raw) => (raw.services[0].signing.publicKeys = []),
      issue:
        'services[0].signing: must list at least one publicKeys, kmsKeys or signingProfiles entry: unsigned images are never deployed',
    },
    {
      name: 'a threshold above the number of trusted signers',
      breakIt: (raw) => (raw.services[0].signing.threshold = 2),
      issue: 'services[0].signing.threshold: 2 is more than the 1 trusted signer listed',
    },
    {
      name: 'a KMS key that is neither an ARN nor an alias',
      breakIt: (raw) => (raw.services[0].signing.kmsKeys = ['release-signing']),
      issue: 'services[0].signing.kmsKeys[0]: "release-signing" is not a KMS key ARN, alias ARN or alias/<name>',
    },
    {
      name: 'a signing profile given by name instead of ARN',
      breakIt: (raw) => {
        raw.signerRootCertificate = 'examples/keys/demo-cosign.pub'; // only its existence is checked here
        raw.services[0].signing.signingProfiles = ['ReleaseProfile'];
      },
      issue:
        'services[0].signing.signingProfiles[0]: "ReleaseProfile" is not a signing profile ARN ' +
        '(arn:aws:signer:<region>:<account>:/signing-profiles/<name>[/<version>])',
    },
    {
      name: 'a signing profile without the pinned AWS Signer root',
      breakIt: (raw) =>
        (raw.services[0].signing.signingProfiles = ['arn:aws:signer:us-east-1:123456789012:/signing-profiles/ModelRelease']),
      issue:
        'services[0].signing.signingProfiles: trusts AWS Signer signing profiles, so signerRootCertificate must name the pinned ' +
        'AWS Signer root certificate file',
    },
    {
      name: 'the same KMS key twice',
      breakIt: (raw) => (raw.services[0].signing.kmsKeys = ['alias/release', 'alias/release']),
      issue: 'services[0].signing.kmsKeys[1]: "alias/release" is already listed at kmsKeys[0]',
    },
    {
      name: 'a late-signature wait above 30 minutes',
      breakIt: (raw) => (raw.services[0].signing.lateSignatureSeconds = 1801),
      issue: 'services[0].signing.lateSignatureSeconds: 1801 is not a whole number from 0 to 1800',
    },
    {
      name: 'a deadline above 120 minutes',
      breakIt: (raw) => (raw.services[0].health.deadlineMinutes = 121),
      issue: 'services[0].health.deadlineMinutes: 121 is not a whole number from 1 to 120',
    },
    {
      name: 'a deadline of 0 minutes',
      breakIt: (raw) => (raw.services[1].health.deadlineMinutes = 0),
      issue: 'services[1].health.deadlineMinutes: 0 is not a whole number from 1 to 120',
    },
    {
      name: 'a fractional poll interval',
      breakIt: (raw) => (raw.services[0].health.pollSeconds = 7.5),
      issue: 'services[0].health.pollSeconds: 7.5 is not a whole number from 5 to 300',
    },
    {
      name: 'a poll interval as long as the deadline',
      breakIt: (raw) => (raw.services[0].health = { deadlineMinutes: 1, pollSeconds: 60 }),
      issue: 'services[0].health.pollSeconds: 60 must be shorter than the deadline (deadlineMinutes 1 = 60 seconds)',
    },
    {
      name: 'a repository name ECR would refuse',
      breakIt: (raw) => (raw.services[0].repository = 'Models/Sentiment'),
      issue:
        'services[0].repository: "Models/Sentiment" is not a valid ECR repository name ' +
        '(lowercase letters and digits, separated by single . _ - or /)',
    },
    {
      name: 'a repository URI instead of a name',
      breakIt: (raw) => (raw.services[0].repository = '123456789012.dkr.ecr.us-east-1.amazonaws.com/models/sentiment'),
      issue:
        'services[0].repository: "123456789012.dkr.ecr.us-east-1.amazonaws.com/models/sentiment" is a repository URI; ' +
        'give the repository name only (the part after the first /)',
    },
    {
      name: 'an empty container name',
      breakIt: (raw) => (raw.services[0].container = ''),
      issue: 'services[0].container: must not be empty',
    },
    {
      name: 'a missing cluster',
      breakIt: (raw) => delete raw.services[1].cluster,
      issue: 'services[1].cluster: is required (string)',
    },
    {
      name: 'no services',
      breakIt: (raw) => (raw.services = []),
      issue: 'services: must list at least one service',
    },
    {
      name: 'a reconciliation every 0 minutes',
      breakIt: (raw) => (raw.reconcileEveryMinutes = 0),
      issue: 'reconcileEveryMinutes: 0 is not a whole number from 1 to 1440',
    },
    {
      name: 'a reconciliation less often than once a day',
      breakIt: (raw) => (raw.reconcileEveryMinutes = 1441),
      issue: 'reconcileEveryMinutes: 1441 is not a whole number from 1 to 1440',
    },
    {
      name: 'a fractional reconciliation interval',
      breakIt: (raw) => (raw.reconcileEveryMinutes = 7.5),
      issue: 'reconcileEveryMinutes: 7.5 is not a whole number from 1 to 1440',
    },
    {
      name: 'a reconciliation interval given as text',
      breakIt: (raw) => (raw.reconcileEveryMinutes = '15'),
      issue: 'reconcileEveryMinutes: "15" is not a whole number from 1 to 1440',
    },
    {
      name: 'an account without a region',
      breakIt: (raw) => (raw.account = '123456789012'),
      issue: `account: "123456789012" is set but region is not: set both to pin the stack's environment, or neither`,
    },
    {
      name: 'an account ID of the wrong length',
      breakIt: (raw) => Object.assign(raw, { account: '12345', region: 'us-east-1' }),
      issue: 'account: "12345" is not a 12-digit AWS account ID',
    },
  ];

  it('accepts the unbroken example (so that each case below fails for its own reason)', () => {
    expect(() => parseConfig(example(), ROOT)).not.toThrow();
  });

  it.each(cases)('rejects $name', ({ breakIt, issue }) => {
    const raw = example();
    breakIt(raw);

    expect(issuesOf(raw)).toEqual([issue]);
  });

  it('reports every problem at once, in the error message too', () => {
    const raw = example();
    raw.services[1].environment = 'prod';
    raw.services[0].health.deadlineMinutes = 121;

    expect(() => parseConfig(raw, ROOT)).toThrow(
      [
        'Invalid configuration:',
        '  - services[0].health.deadlineMinutes: 121 is not a whole number from 1 to 120',
        '  - services[1].environment: "prod" is not one of production | staging | development',
      ].join('\n'),
    );
  });

  it('rejects something that is not an object', () => {
    expect(issuesOf(['services'])).toEqual(['(configuration): expected object, got ["services"]']);
  });
});

describe('loadConfig', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'model-rollout-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the path of a missing file', () => {
    const missing = path.join(dir, 'nope.json');

    expect(() => loadConfig(missing)).toThrow(new ConfigError(`Configuration file not found: ${missing}`));
  });

  it('names the path of a file that is not JSON', () => {
    const file = path.join(dir, 'broken.json');
    writeFileSync(file, '{ "stackName": "ModelRollout", }');

    expect(() => loadConfig(file)).toThrow(`Configuration file ${file} is not valid JSON: `);
  });

  it('names the file in validation errors, and resolves key files next to it', () => {
    const file = path.join(dir, 'config.json');
    const raw = example();
    raw.services[1].environment = 'prod';
    raw.services[0].signing.publicKeys = ['demo.pub'];
    raw.services[1].signing.publicKeys = ['demo.pub'];
    writeFileSync(file, JSON.stringify(raw));

    // demo.pub does not exist yet: found relative to the file, not to the working directory.
    expect(() => loadConfig(file)).toThrow(`Invalid configuration in ${file}:\n`);

    copyFileSync(path.join(ROOT, 'examples/keys/demo-cosign.pub'), path.join(dir, 'demo.pub'));
    raw.services[1].environment = 'staging';
    writeFileSync(file, JSON.stringify(raw));
    expect(loadConfig(file).services[0]!.signing.publicKeys).toEqual(['demo.pub']);
  });
});

describe('toServiceCatalog key checks', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'model-rollout-keys-'));
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(path.join(dir, 'rsa.pub'), rsa.publicKey.export({ type: 'spki', format: 'pem' }));
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    writeFileSync(path.join(dir, 'p384.pub'), p384.publicKey.export({ type: 'spki', format: 'pem' }));
    const p521 = generateKeyPairSync('ec', { namedCurve: 'secp521r1' });
    writeFileSync(path.join(dir, 'p521.pub'), p521.publicKey.export({ type: 'spki', format: 'pem' }));
    const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });
    writeFileSync(path.join(dir, 'rsa1024.pub'), rsa1024.publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(path.join(dir, 'garbage.pub'), '-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n');
    writeFileSync(path.join(dir, 'commented.pub'), `# the demo key, with a comment before it\n${DEMO_PUBLIC_KEY}`);
    copyFileSync(path.join(ROOT, 'examples/keys/demo-cosign.key'), path.join(dir, 'demo.key'));
    copyFileSync(path.join(ROOT, 'examples/keys/demo-cosign.pub'), path.join(dir, 'demo.pub'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The example, with the second service trusting `keyFile` (relative to the temp dir). */
  function trusting(keyFile: string): RolloutConfig {
    const raw = example();
    raw.services[0].signing.publicKeys = ['demo.pub'];
    raw.services[1].signing.publicKeys = ['demo.pub', keyFile];
    return parseConfig(raw, dir);
  }

  it('accepts RSA and P-384 keys (KMS and cosign can sign with them)', () => {
    const catalog = toServiceCatalog(trusting('rsa.pub'), dir);
    expect(catalog[1]!.trust.publicKeys).toHaveLength(2);
    expect(toServiceCatalog(trusting('p384.pub'), dir)[1]!.trust.publicKeys).toHaveLength(2);
  });

  it('refuses a short RSA key, naming the service and the file', () => {
    expect(() => toServiceCatalog(trusting('rsa1024.pub'), dir)).toThrow(
      ConfigError.invalid([
        'services[1].signing.publicKeys[1] (service "summarizer-staging", file rsa1024.pub): ' +
          'is a 1024-bit RSA key, shorter than 2048 bits; signatures need an EC P-256 / P-384 or RSA (2048 bits or more) public key',
      ]),
    );
  });

  it('refuses an EC key on another curve', () => {
    expect(() => toServiceCatalog(trusting('p521.pub'), dir)).toThrow('file p521.pub): is an EC secp521r1 key, not P-256 or P-384');
  });

  it('refuses a private key given by mistake, so that it never reaches the Lambda environment', () => {
    expect(() => toServiceCatalog(trusting('demo.key'), dir)).toThrow(
      'file demo.key): expected exactly one "PUBLIC KEY" PEM block (as printed by cosign public-key), found "PRIVATE KEY"',
    );
  });

  it('refuses a PEM block that is not a key', () => {
    expect(() => toServiceCatalog(trusting('garbage.pub'), dir)).toThrow('file garbage.pub): not a readable public key');
  });

  it('names a key file that disappeared after validation', () => {
    writeFileSync(path.join(dir, 'gone.pub'), DEMO_PUBLIC_KEY);
    const config = trusting('gone.pub');
    unlinkSync(path.join(dir, 'gone.pub'));

    expect(() => toServiceCatalog(config, dir)).toThrow(`file gone.pub): cannot read ${path.join(dir, 'gone.pub')}`);
  });

  it('keeps only the key from a file with other text, and trusts a repeated key once', () => {
    const catalog = toServiceCatalog(trusting('commented.pub'), dir);

    expect(catalog[1]!.trust.publicKeys).toEqual([DEMO_PUBLIC_KEY]);
  });
});

describe('readSignerRootCertificate', () => {
  const NOTATION = path.join(ROOT, 'test/fixtures/notation');
  const withRoot = (file: string | undefined): RolloutConfig => {
    const raw = example();
    if (file !== undefined) raw.signerRootCertificate = file;
    return parseConfig(raw, ROOT);
  };
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'model-rollout-root-'));
    // AWS publishes the Signer root as DER: the same root, converted, must read the same.
    writeFileSync(path.join(dir, 'root.der'), new X509Certificate(readFileSync(path.join(NOTATION, 'test-only-root-ca.cert.pem'))).raw);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is empty when no root is configured', () => {
    expect(readSignerRootCertificate(withRoot(undefined), ROOT)).toBe('');
  });

  it('reads a PEM root, and a DER root as the same certificate', () => {
    const pem = readSignerRootCertificate(withRoot('test/fixtures/notation/test-only-root-ca.cert.pem'), ROOT);
    const fromDer = readSignerRootCertificate(withRoot(path.relative(ROOT, path.join(dir, 'root.der'))), ROOT);
    expect(new X509Certificate(pem).fingerprint256).toBe(new X509Certificate(fromDer).fingerprint256);
  });

  it('refuses a certificate that is not a CA, naming the field and the file', () => {
    expect(() => readSignerRootCertificate(withRoot('test/fixtures/notation/test-only-signing.cert.pem'), ROOT)).toThrow(
      /signerRootCertificate \(file test\/fixtures\/notation\/test-only-signing\.cert\.pem\): .*is not a CA certificate/,
    );
  });

  it('refuses a file that is not a certificate', () => {
    expect(() => readSignerRootCertificate(withRoot('examples/keys/demo-cosign.pub'), ROOT)).toThrow(/neither a PEM nor a DER certificate/);
  });
});
