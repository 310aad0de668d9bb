import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, readSignerRootCertificate, type RolloutConfig, toServiceCatalog } from '../../lib/config';
import { DEMO_PUBLIC_KEY, example, ROOT } from './config-fixture';

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
    expect(catalog[1]!.signing.publicKeys).toHaveLength(2);
    expect(toServiceCatalog(trusting('p384.pub'), dir)[1]!.signing.publicKeys).toHaveLength(2);
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

    expect(catalog[1]!.signing.publicKeys).toEqual([DEMO_PUBLIC_KEY]);
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
