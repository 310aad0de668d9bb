import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_ENVELOPE_BYTES } from '../../lambdas/signature/artifacts';
import type { SignatureFinding } from '../../lambdas/signature/findings';
import { type TrustedKey, trustedPublicKey } from '../../lambdas/signature/keys';
import { preAuthEncoding, verifySigstoreBundle } from '../../lambdas/signature/sigstore-bundle';
import { EXPECTED_IMAGE, IMAGE, KEYS, KEYLESS_CERTIFICATE_PEM, SIGSTORE_CASES, trustedKeysFor } from '../fixtures/signatures';

const MANIFEST_DIGEST = `sha256:${'ab'.repeat(32)}`;
const IN_TOTO = 'application/vnd.in-toto+json';

const codeOf = (finding: SignatureFinding) => (finding.valid ? 'verified' : finding.code);
const reasonOf = (finding: SignatureFinding) => (finding.valid ? '' : finding.reason);

function trust(pem: string): TrustedKey {
  const key = trustedPublicKey(pem);
  if (typeof key === 'string') throw new Error(key);
  return key;
}

describe('verifySigstoreBundle over the @sigstore/sign fixtures', () => {
  it.each(Object.entries(SIGSTORE_CASES))('%s', (_name, fixture) => {
    const finding = verifySigstoreBundle({
      bundle: fixture.bundle,
      manifestDigest: fixture.manifestDigest,
      trustedKeys: trustedKeysFor(fixture.trust),
      expected: fixture.expected,
    });

    expect(codeOf(finding)).toBe(fixture.outcome.code);
    if (fixture.outcome.code === 'verified') {
      expect(finding).toEqual({
        valid: true,
        evidence: { format: 'sigstore-bundle', signer: fixture.outcome.signer, signatureDigest: fixture.manifestDigest, signedAt: null },
      });
    } else {
      expect(finding).toMatchObject({ format: 'sigstore-bundle', signatureDigest: fixture.manifestDigest });
    }
  });

  const verify = (name: keyof typeof SIGSTORE_CASES, keys: TrustedKey[], expected = EXPECTED_IMAGE) =>
    verifySigstoreBundle({
      bundle: SIGSTORE_CASES[name].bundle,
      manifestDigest: SIGSTORE_CASES[name].manifestDigest,
      trustedKeys: keys,
      expected,
    });

  it('accepts either signature of a two-signature envelope, each by its own key', () => {
    expect(verify('secondOfTwo', trustedKeysFor({ publicKeys: ['sigstore1'], kmsKeys: [] }))).toMatchObject({
      valid: true,
      evidence: { signer: { id: KEYS.sigstore1.fingerprint } },
    });
    expect(codeOf(verify('secondOfTwo', trustedKeysFor({ publicKeys: ['sigstoreUntrusted'], kmsKeys: [] })))).not.toBe('verified');
  });

  it('explains a signature by an untrusted key with its hint, but never trusts the hint', () => {
    const finding = verify('wrongKey', trustedKeysFor({ publicKeys: ['sigstore1', 'sigstore2'], kmsKeys: [] }));

    expect(reasonOf(finding)).toMatch(/signed by key ".+", which is none of the 2 trusted keys/);
    // Key 1's bundle carries key 1's hint; trusting only key 2 makes it an untrusted signer, not a valid one.
    expect(codeOf(verify('valid', trustedKeysFor({ publicKeys: ['sigstore2'], kmsKeys: [] })))).toBe('untrusted-signer');
  });

  it('says keyless certificates are not trusted and how to sign instead', () => {
    const finding = verify('keyless', trustedKeysFor({ publicKeys: ['keyless'], kmsKeys: [] }));

    expect(codeOf(finding)).toBe('untrusted-signer');
    expect(reasonOf(finding)).toMatch(/keyless .*certificates are not trusted.*sign with a key/);
    expect(KEYLESS_CERTIFICATE_PEM).toContain('BEGIN CERTIFICATE');
  });

  it('names the digests on a digest mismatch and both repositories on an identity mismatch', () => {
    const keys = trustedKeysFor(SIGSTORE_CASES.valid.trust);

    expect(reasonOf(verify('otherDigest', keys))).toBe(
      `the signature vouches for ${IMAGE.otherDigest}, but the pushed image is ${IMAGE.digest}`,
    );
    expect(reasonOf(verify('otherRepository', keys))).toBe(
      `the signature names the image "${IMAGE.otherRepositoryUri}", but the image was pushed to ${IMAGE.repositoryUri}`,
    );
  });

  it('rejects the valid bundle for another image', () => {
    const keys = trustedKeysFor(SIGSTORE_CASES.valid.trust);

    expect(codeOf(verify('valid', keys, { ...EXPECTED_IMAGE, digest: IMAGE.otherDigest }))).toBe('digest-mismatch');
    expect(
      codeOf(verify('valid', keys, { ...EXPECTED_IMAGE, repositoryName: 'models/other', repositoryUri: IMAGE.otherRepositoryUri })),
    ).toBe('identity-mismatch');
  });

  it('computes the same pre-authentication encoding as sigstore-js signed', () => {
    const bundle = JSON.parse(Buffer.from(SIGSTORE_CASES.valid.bundle).toString());
    const payload = Buffer.from(bundle.dsseEnvelope.payload, 'base64');

    expect(preAuthEncoding(IN_TOTO, payload).toString()).toBe(
      `DSSEv1 ${IN_TOTO.length} ${IN_TOTO} ${payload.length} ${payload.toString()}`,
    );
  });
});

describe('verifySigstoreBundle on hand-made bundles', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const KEY = trust(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  const hexOf = (digest: string) => digest.replace('sha256:', '');

  const statement = (change: (s: any) => unknown = () => undefined) => {
    const s: any = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: IMAGE.repositoryUri, digest: { sha256: hexOf(IMAGE.digest) } }],
      predicateType: 'https://sigstore.dev/cosign/sign/v1',
      predicate: {},
    };
    return JSON.stringify(change(s) ?? s);
  };

  /** A key bundle over `payload`, signed (correctly) with KEY; `change` edits the bundle JSON afterwards. */
  function bundle(payload: string = statement(), change: (b: any) => unknown = () => undefined, payloadType = IN_TOTO): Uint8Array {
    const body = Buffer.from(payload);
    const b: any = {
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: { publicKey: { hint: '' }, tlogEntries: [], timestampVerificationData: { rfc3161Timestamps: [] } },
      dsseEnvelope: {
        payload: body.toString('base64'),
        payloadType,
        signatures: [{ sig: sign('sha256', preAuthEncoding(payloadType, body), privateKey).toString('base64'), keyid: '' }],
      },
    };
    return new Uint8Array(Buffer.from(JSON.stringify(change(b) ?? b)));
  }

  const cases: { name: string; bundle: () => Uint8Array; code: string; reason?: RegExp }[] = [
    { name: 'a hand-made valid bundle', bundle: () => bundle(), code: 'verified' },
    {
      name: 'an in-toto v0.1 statement',
      bundle: () => bundle(statement((s) => void (s._type = 'https://in-toto.io/Statement/v0.1'))),
      code: 'verified',
    },
    {
      name: 'the parameterised bundle media type',
      bundle: () => bundle(statement(), (b) => void (b.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.3')),
      code: 'verified',
    },
    {
      name: 'the expected digest among other subjects',
      bundle: () =>
        bundle(statement((s) => void s.subject.unshift({ name: 'models/other', digest: { sha256: hexOf(IMAGE.otherDigest) } }))),
      code: 'verified',
    },
    {
      name: 'a subject name with a tag',
      bundle: () => bundle(statement((s) => void (s.subject[0].name = `${IMAGE.repositoryUri}:1.2.3`))),
      code: 'verified',
    },
    {
      name: 'unverified transparency-log entries are ignored',
      bundle: () => bundle(statement(), (b) => void (b.verificationMaterial.tlogEntries = [{ logIndex: '1' }])),
      code: 'verified',
    },
    { name: 'not JSON', bundle: () => new Uint8Array(Buffer.from('{"mediaType":')), code: 'invalid-signature', reason: /not JSON/ },
    { name: 'JSON null', bundle: () => new Uint8Array(Buffer.from('null')), code: 'invalid-signature', reason: /not a Sigstore bundle/ },
    {
      name: 'another media type',
      bundle: () => bundle(statement(), (b) => void (b.mediaType = 'application/json')),
      code: 'invalid-signature',
      reason: /media type/,
    },
    {
      name: 'no verification material',
      bundle: () => bundle(statement(), (b) => void (b.verificationMaterial = {})),
      code: 'invalid-signature',
      reason: /no verification material/,
    },
    {
      name: 'a certificate chain (keyless, v0.2 style)',
      bundle: () =>
        bundle(statement(), (b) => void (b.verificationMaterial = { x509CertificateChain: { certificates: [{ rawBytes: 'AAAA' }] } })),
      code: 'untrusted-signer',
      reason: /keyless/,
    },
    {
      name: 'a message signature instead of an envelope',
      bundle: () => bundle(statement(), (b) => ({ ...b, dsseEnvelope: undefined, messageSignature: {} })),
      code: 'invalid-signature',
      reason: /no DSSE envelope/,
    },
    {
      name: 'no signature on the envelope',
      bundle: () => bundle(statement(), (b) => void (b.dsseEnvelope.signatures = [])),
      code: 'invalid-signature',
      reason: /no signature/,
    },
    {
      name: 'too many signatures',
      bundle: () => bundle(statement(), (b) => void (b.dsseEnvelope.signatures = Array(17).fill(b.dsseEnvelope.signatures[0]))),
      code: 'invalid-signature',
      reason: /more than 16 signatures/,
    },
    {
      name: 'another payload type',
      bundle: () => bundle(statement(), undefined, 'application/json'),
      code: 'invalid-signature',
      reason: /payload type is "application\/json"/,
    },
    {
      name: 'a payload that is not base64',
      bundle: () => bundle(statement(), (b) => void (b.dsseEnvelope.payload = 'e30=!!')),
      code: 'invalid-signature',
      reason: /payload is not valid base64/,
    },
    {
      name: 'a signature that is not base64',
      bundle: () => bundle(statement(), (b) => void (b.dsseEnvelope.signatures[0].sig = '***')),
      code: 'invalid-signature',
      reason: /signature of the envelope is not valid base64/,
    },
    {
      name: 'a signature over the payload instead of its PAE',
      bundle: () =>
        bundle(
          statement(),
          (b) => void (b.dsseEnvelope.signatures[0].sig = sign('sha256', Buffer.from(statement()), privateKey).toString('base64')),
        ),
      code: 'invalid-signature',
      reason: /does not verify with any of the 1 trusted keys: made by another key, or altered/,
    },
    {
      name: 'a signed payload that is not JSON',
      bundle: () => bundle('not json'),
      code: 'invalid-signature',
      reason: /signed payload is not JSON/,
    },
    {
      name: 'a signed payload that is not a statement',
      bundle: () => bundle('{"_type":"https://example.com/x"}'),
      code: 'invalid-signature',
      reason: /not an in-toto statement/,
    },
    {
      name: 'a statement without subjects',
      bundle: () => bundle(statement((s) => void (s.subject = []))),
      code: 'invalid-signature',
      reason: /no subject/,
    },
    {
      name: 'an attestation, not a signature',
      bundle: () => bundle(statement((s) => void (s.predicateType = 'https://spdx.dev/Document'))),
      code: 'invalid-signature',
      reason: /attestation/,
    },
    {
      name: 'a subject with only a sha512 digest',
      bundle: () => bundle(statement((s) => void (s.subject[0].digest = { sha512: 'ab' }))),
      code: 'digest-mismatch',
      reason: /no sha256/,
    },
    {
      name: 'the expected digest under another repository only',
      bundle: () => bundle(statement((s) => void (s.subject[0].name = 'ghcr.io/models/sentiment'))),
      code: 'identity-mismatch',
    },
    {
      name: 'a bundle larger than an envelope may be',
      bundle: () => new Uint8Array(MAX_ENVELOPE_BYTES + 1),
      code: 'invalid-signature',
      reason: /more than the/,
    },
  ];

  it.each(cases)('$name → $code', ({ bundle: make, code, reason }) => {
    const finding = verifySigstoreBundle({ bundle: make(), manifestDigest: MANIFEST_DIGEST, trustedKeys: [KEY], expected: EXPECTED_IMAGE });

    expect(codeOf(finding)).toBe(code);
    if (reason !== undefined) expect(reasonOf(finding)).toMatch(reason);
  });

  it.each([
    {
      hint: 'cosign hint of the trusted key',
      value: () =>
        createHash('sha256')
          .update(publicKey.export({ type: 'spki', format: 'der' }))
          .digest('base64'),
      code: 'invalid-signature',
    },
    { hint: 'trusted key id', value: () => KEY.id, code: 'invalid-signature' },
    { hint: 'no hint', value: () => '', code: 'invalid-signature' },
    { hint: 'hint of another key', value: () => 'c29tZSBvdGhlciBrZXk=', code: 'untrusted-signer' },
  ])('explains an altered bundle with $hint as $code', ({ value, code }) => {
    const altered = bundle(statement(), (b) => {
      b.verificationMaterial.publicKey.hint = value();
      b.dsseEnvelope.payload = Buffer.from(statement((s) => void (s.subject[0].name = 'models/evil'))).toString('base64');
    });

    expect(
      codeOf(verifySigstoreBundle({ bundle: altered, manifestDigest: MANIFEST_DIGEST, trustedKeys: [KEY], expected: EXPECTED_IMAGE })),
    ).toBe(code);
  });

  it('never throws, whatever the referrer held', () => {
    for (const text of [
      '',
      '[]',
      '{}',
      '"x"',
      '\u0000',
      '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":null}',
    ]) {
      const finding = verifySigstoreBundle({
        bundle: new Uint8Array(Buffer.from(text)),
        manifestDigest: MANIFEST_DIGEST,
        trustedKeys: [KEY],
        expected: EXPECTED_IMAGE,
      });
      expect(finding.valid).toBe(false);
    }
  });
});
