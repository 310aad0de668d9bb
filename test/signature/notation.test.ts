import { createPrivateKey, generateKeyPairSync, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode, encode } from 'cbor2';
import { describe, expect, it } from 'vitest';
import { NOTATION_COSE_MEDIA_TYPE, NOTATION_JWS_MEDIA_TYPE } from '../../lambdas/signature/artifacts';
import type { SignatureFinding } from '../../lambdas/signature/findings';
import { verifyNotationSignature, type NotationInput } from '../../lambdas/signature/notation';
import { AWS_SIGNER_NOTATION_PLATFORM, applyRevocation, matchTrustedProfile } from '../../lambdas/signature/notation-trust';
import { revocationCertificateHashes, tbsCertificate } from '../../lambdas/signature/x509';
import {
  NOTATION_BEFORE_SHORT_EXPIRY,
  NOTATION_CASES,
  NOTATION_FIXTURE,
  NOTATION_FIXTURE_DIR,
  NOTATION_NOW,
  type NotationEnvelopeFormat,
  type NotationFixtureCase,
} from '../fixtures/notation';

const F = NOTATION_FIXTURE;
const FORMATS: NotationEnvelopeFormat[] = ['jws', 'cose'];
const EXPECTED = {
  digest: F.imageDigest,
  repositoryName: 'models/sentiment',
  repositoryUri: '111122223333.dkr.ecr.us-east-2.amazonaws.com/models/sentiment',
};
const SIGNING_KEY = createPrivateKey(readFileSync(join(NOTATION_FIXTURE_DIR, 'test-only-signing.key.pem')));

function inputFor(
  fixture: Pick<NotationFixtureCase, 'envelope' | 'mediaType' | 'manifestDigest'>,
  overrides: Partial<NotationInput> = {},
): NotationInput {
  return {
    envelope: fixture.envelope,
    mediaType: fixture.mediaType,
    manifestDigest: fixture.manifestDigest,
    trustedRoots: [F.root],
    signingProfiles: [F.profileArn],
    expected: EXPECTED,
    now: NOTATION_NOW,
    ...overrides,
  };
}

function failureOf(finding: SignatureFinding) {
  if (finding.valid) throw new Error(`expected a failure, got a valid finding: ${JSON.stringify(finding)}`);
  return finding;
}
function validOf(finding: SignatureFinding) {
  if (!finding.valid) throw new Error(`expected a valid finding, got ${finding.code}: ${finding.reason}`);
  return finding;
}

// --- Inline envelopes, signed here with the fixture's TEST-ONLY signing key (P-384). ---

const validJws = JSON.parse(Buffer.from(NOTATION_CASES.jws.valid.envelope).toString('utf8')) as {
  payload: string;
  protected: string;
  header: Record<string, unknown>;
  signature: string;
};
const validProtectedHeader = JSON.parse(Buffer.from(validJws.protected, 'base64url').toString('utf8')) as Record<string, unknown>;

function jws(
  options: {
    header?: Record<string, unknown>;
    payload?: string;
    unprotected?: Record<string, unknown>;
    key?: KeyObject;
    hash?: string;
  } = {},
) {
  const protectedB64 = Buffer.from(JSON.stringify(options.header ?? validProtectedHeader)).toString('base64url');
  const payload = options.payload ?? validJws.payload;
  const signature = sign(options.hash ?? 'sha384', Buffer.from(`${protectedB64}.${payload}`), {
    key: options.key ?? SIGNING_KEY,
    dsaEncoding: 'ieee-p1363',
  });
  const envelope = {
    payload,
    protected: protectedB64,
    header: options.unprotected ?? validJws.header,
    signature: signature.toString('base64url'),
  };
  return {
    envelope: new Uint8Array(Buffer.from(JSON.stringify(envelope))),
    mediaType: NOTATION_JWS_MEDIA_TYPE,
    manifestDigest: 'sha256:inline',
  };
}

const coseOptions = { preferMap: true } as const;
const validCose = (
  decode(NOTATION_CASES.cose.valid.envelope, coseOptions) as { contents: [Uint8Array, Map<unknown, unknown>, Uint8Array, Uint8Array] }
).contents;
const validCoseProtected = decode(validCose[0], coseOptions) as Map<unknown, unknown>;

function cose(options: { protectedMap?: Map<unknown, unknown>; tagged?: boolean } = {}) {
  const protectedBytes = encode(options.protectedMap ?? validCoseProtected);
  const payload = new Uint8Array(validCose[2]);
  const toBeSigned = encode(['Signature1', protectedBytes, new Uint8Array(0), payload]);
  const signature = new Uint8Array(sign('sha384', toBeSigned, { key: SIGNING_KEY, dsaEncoding: 'ieee-p1363' }));
  const unprotected = new Map([[33, (validCose[1].get(33) as Uint8Array[]).map((cert) => new Uint8Array(cert))]]);
  const sign1 = [protectedBytes, unprotected, payload, signature];
  const bytes = options.tagged === false ? encode(sign1) : Buffer.concat([Buffer.from([0xd2]), encode(sign1)]);
  return { envelope: new Uint8Array(bytes), mediaType: NOTATION_COSE_MEDIA_TYPE, manifestDigest: 'sha256:inline-cose' };
}

describe('verifyNotationSignature on the openssl-made fixtures', () => {
  describe.each(FORMATS)('%s envelopes', (format) => {
    const cases = NOTATION_CASES[format];
    const expectedFormat = format === 'jws' ? 'notation-jws' : 'notation-cose';

    it('accepts a valid signature by the trusted profile, with evidence and the revocation query', () => {
      const finding = validOf(verifyNotationSignature(inputFor(cases.valid)));
      expect(finding.evidence).toEqual({
        format: expectedFormat,
        signer: { kind: 'signing-profile', id: F.profileArn, detail: F.profileVersionArn },
        signatureDigest: cases.valid.manifestDigest,
        signedAt: '2026-06-01T12:00:00.000Z',
      });
      expect(finding.revocation).toEqual({
        signatureTimestamp: '2026-06-01T12:00:00.000Z',
        platformId: AWS_SIGNER_NOTATION_PLATFORM,
        profileVersionArn: F.profileVersionArn,
        jobArn: F.jobArn,
        certificateHashes: F.certificateHashes,
      });
    });

    it('matches a trusted profile version ARN, and matches case-insensitively', () => {
      const byVersion = validOf(
        verifyNotationSignature(
          inputFor(cases.valid, {
            signingProfiles: ['arn:aws:signer:us-east-2:111122223333:/signing-profiles/Other', F.profileVersionArn],
          }),
        ),
      );
      expect(byVersion.evidence.signer.id).toBe(F.profileVersionArn);
      const shouting = F.profileArn.toUpperCase();
      expect(validOf(verifyNotationSignature(inputFor(cases.valid, { signingProfiles: [shouting] }))).evidence.signer.id).toBe(shouting);
    });

    it('rejects another version of a trusted profile when only a version ARN is trusted', () => {
      const otherVersion = `${F.profileArn}/zzzzZZZZ99`;
      const failure = failureOf(verifyNotationSignature(inputFor(cases.valid, { signingProfiles: [otherVersion] })));
      expect(failure).toMatchObject({ code: 'untrusted-signer', format: expectedFormat, signatureDigest: cases.valid.manifestDigest });
      expect(failure.reason).toContain(F.profileVersionArn);
    });

    it.each([
      ['untrusted-profile', 'untrusted-signer', F.otherProfileVersionArn],
      [
        'other-root',
        'untrusted-signer',
        'does not lead to the pinned AWS Signer root (it ends at O=someone else TEST ONLY, CN=TEST ONLY Another Root CA)',
      ],
      [
        'expired-certificate',
        'expired',
        'CN=AWS Signer expired (TEST ONLY) expired at 2026-01-01T00:00:00.000Z, before the signing time 2026-06-01T12:00:00.000Z',
      ],
      ['expired-signature', 'expired', 'the signature expired at 2026-07-01T12:00:00.000Z'],
      ['tampered-payload', 'invalid-signature', 'ES384 signature does not verify with the key of the signing certificate'],
      ['flipped-signature', 'invalid-signature', 'ES384 signature does not verify with the key of the signing certificate'],
      ['other-digest', 'digest-mismatch', `the signature is for ${F.otherDigest}, not the pushed image ${F.imageDigest}`],
    ] as const)('%s → %s', (name, code, named) => {
      const fixture = cases[name];
      const failure = failureOf(verifyNotationSignature(inputFor(fixture)));
      expect(failure).toMatchObject({ code, format: expectedFormat, signatureDigest: fixture.manifestDigest });
      expect(failure.reason).toContain(named);
    });

    it('accepts the expired-signature envelope before its expiry', () => {
      validOf(verifyNotationSignature(inputFor(cases['expired-signature'], { now: NOTATION_BEFORE_SHORT_EXPIRY })));
    });

    it('rejects a signing time more than 5 minutes after now', () => {
      const early = new Date('2026-06-01T11:54:00Z');
      const failure = failureOf(verifyNotationSignature(inputFor(cases.valid, { now: early })));
      expect(failure.code).toBe('invalid-signature');
      expect(failure.reason).toContain('2026-06-01T12:00:00.000Z is later than now');
      validOf(verifyNotationSignature(inputFor(cases.valid, { now: new Date('2026-06-01T11:56:00Z') })));
    });

    it('rejects the valid envelope when another root is pinned, and accepts other-root when its root is', () => {
      expect(failureOf(verifyNotationSignature(inputFor(cases.valid, { trustedRoots: [F.otherRoot] }))).code).toBe('untrusted-signer');
      validOf(verifyNotationSignature(inputFor(cases['other-root'], { trustedRoots: [F.root, F.otherRoot] })));
    });
  });
});

describe('certificate hashes for the revocation check', () => {
  it('cuts out the TBSCertificate exactly as openssl asn1parse -strparse does', () => {
    const x5c = validJws.header.x5c as string[];
    const chain = x5c.map((der) => new X509Certificate(Buffer.from(der, 'base64')));
    expect(revocationCertificateHashes(chain)).toEqual(F.certificateHashes);
    expect(F.certificateHashes).toHaveLength(3);
    expect(F.certificateHashes[2]).toBe(F.certificateHashes[2]!.slice(0, 96).repeat(2));
  });

  it('refuses DER that is not a certificate SEQUENCE', () => {
    expect(tbsCertificate(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]))).toBeNull();
    expect(tbsCertificate(new Uint8Array([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]))).toBeNull();
    expect(tbsCertificate(new Uint8Array([0x30, 0x80, 0x30, 0x00, 0x00, 0x00]))).toBeNull();
    expect(tbsCertificate(new Uint8Array([0x30, 0x02, 0x30, 0x00]))).toEqual(new Uint8Array([0x30, 0x00]));
  });
});

describe('verifyNotationSignature on malformed envelopes', () => {
  const reject = (fixture: Parameters<typeof inputFor>[0], code: string, named: string) => {
    const failure = failureOf(verifyNotationSignature(inputFor(fixture)));
    expect(failure.code).toBe(code);
    expect(failure.reason).toContain(named);
    return failure;
  };

  it('accepts envelopes signed here the same way (the helpers below are sound)', () => {
    validOf(verifyNotationSignature(inputFor(jws())));
    validOf(verifyNotationSignature(inputFor(cose())));
    validOf(verifyNotationSignature(inputFor(cose({ tagged: false }))));
  });

  it('rejects what is not JSON or not CBOR', () => {
    reject(
      { envelope: new Uint8Array(Buffer.from('not json')), mediaType: NOTATION_JWS_MEDIA_TYPE, manifestDigest: 'sha256:x' },
      'invalid-signature',
      'not JSON',
    );
    reject(
      { envelope: new Uint8Array([0xff, 0xff, 0x00]), mediaType: NOTATION_COSE_MEDIA_TYPE, manifestDigest: 'sha256:x' },
      'invalid-signature',
      'not CBOR',
    );
    reject(
      { envelope: encode(['a', 'b']), mediaType: NOTATION_COSE_MEDIA_TYPE, manifestDigest: 'sha256:x' },
      'invalid-signature',
      'COSE_Sign1',
    );
    reject(
      { envelope: NOTATION_CASES.jws.valid.envelope, mediaType: NOTATION_COSE_MEDIA_TYPE, manifestDigest: 'sha256:x' },
      'invalid-signature',
      'not CBOR',
    );
    reject(
      { envelope: NOTATION_CASES.jws.valid.envelope, mediaType: 'application/json', manifestDigest: 'sha256:x' },
      'invalid-signature',
      'application/json',
    );
  });

  it('rejects a JWS without x5c, or with a chain that stops short of the root', () => {
    reject(jws({ unprotected: { 'io.cncf.notary.signingAgent': 'test' } }), 'invalid-signature', 'no x5c certificate chain');
    reject(jws({ unprotected: { x5c: ['not base64!'] } }), 'invalid-signature', 'x5c');
    reject(jws({ unprotected: { x5c: [Buffer.from('garbage').toString('base64')] } }), 'invalid-signature', 'not a DER X.509 certificate');
    const leafOnly = { x5c: [(validJws.header.x5c as string[])[0]] };
    reject(jws({ unprotected: leafOnly }), 'untrusted-signer', 'it ends at C=US');
  });

  it('rejects unknown or missing critical headers', () => {
    const unknown = {
      ...validProtectedHeader,
      crit: [...(validProtectedHeader.crit as string[]), 'io.example.mustUnderstand'],
      'io.example.mustUnderstand': 1,
    };
    reject(jws({ header: unknown }), 'invalid-signature', 'critical header io.example.mustUnderstand');
    const notCritical = {
      ...validProtectedHeader,
      crit: (validProtectedHeader.crit as string[]).filter((name) => name !== 'io.cncf.notary.expiry'),
    };
    reject(jws({ header: notCritical }), 'invalid-signature', 'io.cncf.notary.expiry is not marked critical');
    const listedButMissing = { ...validProtectedHeader };
    delete listedButMissing['io.cncf.notary.expiry'];
    reject(jws({ header: listedButMissing }), 'invalid-signature', 'io.cncf.notary.expiry is listed in crit but missing');
    const coseUnknown = new Map(validCoseProtected);
    coseUnknown.set(2, [...(validCoseProtected.get(2) as string[]), 99]);
    reject(cose({ protectedMap: coseUnknown }), 'invalid-signature', 'label 99');
  });

  it('rejects an alg that does not match the leaf key', () => {
    reject(
      jws({ header: { ...validProtectedHeader, alg: 'ES256' }, hash: 'sha256' }),
      'invalid-signature',
      'not the prime256v1 key ES256 needs',
    );
    reject(jws({ header: { ...validProtectedHeader, alg: 'PS384' } }), 'invalid-signature', 'not the RSA (≥ 2048 bits) key PS384 needs');
    reject(jws({ header: { ...validProtectedHeader, alg: 'none' } }), 'invalid-signature', 'algorithm none');
    const coseEs256 = new Map(validCoseProtected);
    coseEs256.set(1, -7);
    reject(cose({ protectedMap: coseEs256 }), 'invalid-signature', 'ES256');
  });

  it('rejects a signature by a key other than the leaf certificate’s', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    reject(jws({ key: privateKey }), 'invalid-signature', 'does not verify');
  });

  it('rejects other signing schemes, plugins and missing AWS Signer attributes', () => {
    reject(
      jws({ header: { ...validProtectedHeader, 'io.cncf.notary.signingScheme': 'notary.x509' } }),
      'untrusted-signer',
      'notary.x509, not',
    );
    reject(
      jws({ header: { ...validProtectedHeader, 'io.cncf.notary.verificationPlugin': 'io.example.plugin' } }),
      'untrusted-signer',
      'io.example.plugin',
    );
    const noProfile: Record<string, unknown> = {
      ...validProtectedHeader,
      crit: (validProtectedHeader.crit as string[]).filter((n) => !n.startsWith('com.amazonaws')),
    };
    delete noProfile['com.amazonaws.signer.signingProfileVersion'];
    reject(jws({ header: noProfile }), 'invalid-signature', 'com.amazonaws.signer.signingProfileVersion is missing');
    const noJob: Record<string, unknown> = {
      ...validProtectedHeader,
      crit: (validProtectedHeader.crit as string[]).filter((n) => !n.startsWith('com.amazonaws')),
    };
    delete noJob['com.amazonaws.signer.signingJob'];
    reject(jws({ header: noJob }), 'invalid-signature', 'com.amazonaws.signer.signingJob is missing');
    reject(
      jws({ header: { ...validProtectedHeader, 'io.cncf.notary.authenticSigningTime': 'yesterday' } }),
      'invalid-signature',
      '"yesterday", not a time',
    );
    reject(jws({ header: { ...validProtectedHeader, cty: 'application/json' } }), 'invalid-signature', 'application/json');
  });

  it('rejects a payload that is not a Notation payload', () => {
    reject(jws({ payload: Buffer.from('{"subject":{}}').toString('base64url') }), 'invalid-signature', 'no targetArtifact');
    reject(jws({ payload: Buffer.from('[').toString('base64url') }), 'invalid-signature', 'payload is not JSON');
  });
});

describe('matchTrustedProfile', () => {
  const version = 'arn:aws:signer:us-east-2:111122223333:/signing-profiles/ProfileName/abcdEFGH12';
  it.each([
    [
      ['arn:aws:signer:us-east-2:111122223333:/signing-profiles/ProfileName'],
      'arn:aws:signer:us-east-2:111122223333:/signing-profiles/ProfileName',
    ],
    [
      ['arn:aws:signer:us-east-2:111122223333:/signing-profiles/profilename'],
      'arn:aws:signer:us-east-2:111122223333:/signing-profiles/profilename',
    ],
    [[version.toUpperCase()], version.toUpperCase()],
    [['arn:aws:signer:us-east-2:111122223333:/signing-profiles/ProfileNam'], null],
    [['arn:aws:signer:us-east-2:111122223333:/signing-profiles/ProfileName/other'], null],
    [['arn:aws:signer:us-east-2:444455556666:/signing-profiles/ProfileName'], null],
    [['arn:aws:signer:us-east-2:111122223333:/signing-profiles'], null],
  ] as const)('%j → %s', (trusted, match) => {
    expect(matchTrustedProfile(version, trusted)).toBe(match);
  });
});

describe('applyRevocation', () => {
  const valid = verifyNotationSignature(inputFor(NOTATION_CASES.cose.valid));

  it('passes a valid finding through when nothing is revoked, and invalid findings always', () => {
    expect(applyRevocation(valid, [])).toBe(valid);
    const invalid = verifyNotationSignature(inputFor(NOTATION_CASES.cose['flipped-signature']));
    expect(applyRevocation(invalid, [F.jobArn])).toBe(invalid);
  });

  it('names revoked ARNs and revoked certificates', () => {
    expect(applyRevocation(valid, [F.jobArn])).toEqual({
      valid: false,
      code: 'revoked',
      reason: `AWS Signer reports the signature by signing profile ${F.profileVersionArn} as revoked (${F.jobArn})`,
      format: 'notation-cose',
      signatureDigest: NOTATION_CASES.cose.valid.manifestDigest,
    });
    const both = failureOf(applyRevocation(valid, [F.profileVersionArn, F.certificateHashes[0]!]));
    expect(both.reason).toContain(`(${F.profileVersionArn} and a certificate in its chain)`);
    const certOnly = failureOf(applyRevocation(valid, [F.certificateHashes[1]!]));
    expect(certOnly.reason).toContain('(a certificate in its chain)');
    expect(certOnly.reason).not.toContain(F.certificateHashes[1]!);
  });
});
