import { constants, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { publicKeyFingerprint, trustedKmsKey, trustedPublicKey, unsupportedKeyReason, verifyWithKey } from '../../lambdas/signature/keys';
import { KEYS } from '../fixtures/signatures';

const DATA = Buffer.from('what was signed');
const pem = (key: { export: (o: { type: 'spki'; format: 'pem' }) => string | Buffer }) =>
  key.export({ type: 'spki', format: 'pem' }).toString();

describe('publicKeyFingerprint', () => {
  it('is sha256:<hex> of the SPKI DER, as openssl computes it', () => {
    expect(publicKeyFingerprint(KEYS.cosignTrusted.publicKeyPem)).toBe(KEYS.cosignTrusted.fingerprint);
    expect(publicKeyFingerprint(createPublicKey(KEYS.kmsP384.publicKeyPem))).toBe(KEYS.kmsP384.fingerprint);
    expect(KEYS.cosignTrusted.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe('trustedPublicKey', () => {
  it('trusts a P-256 public key under its fingerprint', () => {
    expect(trustedPublicKey(KEYS.cosignTrusted.publicKeyPem)).toMatchObject({ kind: 'public-key', id: KEYS.cosignTrusted.fingerprint });
  });

  it.each([
    { name: 'a private key', key: () => KEYS.cosignTrusted.privateKeyPem, reason: 'is a private key, not a public key' },
    {
      name: 'garbage',
      key: () => '-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----',
      reason: 'is not a PEM-encoded public key',
    },
    {
      name: 'a P-521 key',
      key: () => pem(generateKeyPairSync('ec', { namedCurve: 'secp521r1' }).publicKey),
      reason: 'is an EC secp521r1 key, not P-256 or P-384',
    },
    {
      name: 'a 1024-bit RSA key',
      key: () => pem(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey),
      reason: 'is a 1024-bit RSA key, shorter than 2048 bits',
    },
    {
      name: 'an Ed25519 key',
      key: () => pem(generateKeyPairSync('ed25519').publicKey),
      reason: 'is a ed25519 key, not EC P-256/P-384 or RSA',
    },
  ])('refuses $name', ({ key, reason }) => {
    expect(trustedPublicKey(key())).toBe(reason);
  });
});

describe('trustedKmsKey', () => {
  it("trusts a KMS key's DER public key under its ARN", () => {
    expect(trustedKmsKey(KEYS.kmsP384.keyArn, KEYS.kmsP384.spkiDer)).toMatchObject({ kind: 'kms-key', id: KEYS.kmsP384.keyArn });
  });

  it('refuses bytes that are not DER SPKI', () => {
    expect(trustedKmsKey(KEYS.kmsP384.keyArn, new Uint8Array([1, 2, 3]))).toBe('has a public key that is not DER SubjectPublicKeyInfo');
  });
});

describe('verifyWithKey', () => {
  const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

  it.each([
    { name: 'P-256 / SHA-256', key: p256, signature: () => sign('sha256', DATA, p256.privateKey), verifies: true },
    { name: 'P-256 / SHA-384', key: p256, signature: () => sign('sha384', DATA, p256.privateKey), verifies: false },
    { name: 'P-384 / SHA-384', key: p384, signature: () => sign('sha384', DATA, p384.privateKey), verifies: true },
    { name: 'P-384 / SHA-256', key: p384, signature: () => sign('sha256', DATA, p384.privateKey), verifies: false },
    { name: 'RSA PKCS#1 v1.5 / SHA-256', key: rsa, signature: () => sign('sha256', DATA, rsa.privateKey), verifies: true },
    {
      name: 'RSA PSS / SHA-256',
      key: rsa,
      signature: () => sign('sha256', DATA, { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING }),
      verifies: true,
    },
    {
      name: 'another key',
      key: p256,
      signature: () => sign('sha256', DATA, generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey),
      verifies: false,
    },
    { name: 'garbage bytes', key: p256, signature: () => Buffer.from([0x30, 0x02, 0xff]), verifies: false },
  ])('$name → $verifies', ({ key, signature, verifies }) => {
    expect(verifyWithKey({ key: key.publicKey }, DATA, signature())).toBe(verifies);
  });

  it('reads IEEE P1363 (r‖s) signatures when told to', () => {
    const signature = sign('sha256', DATA, { key: p256.privateKey, dsaEncoding: 'ieee-p1363' });

    expect(verifyWithKey({ key: p256.publicKey }, DATA, signature, 'ieee-p1363')).toBe(true);
    expect(verifyWithKey({ key: p256.publicKey }, DATA, signature)).toBe(false);
  });

  it('does not verify data that changed', () => {
    expect(verifyWithKey({ key: p256.publicKey }, Buffer.from('what was not signed'), sign('sha256', DATA, p256.privateKey))).toBe(false);
  });

  it('says a private key object is not a public key', () => {
    expect(unsupportedKeyReason(p256.privateKey)).toBe('is not a public key');
  });
});
