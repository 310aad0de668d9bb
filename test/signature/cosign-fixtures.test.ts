/** The cosign verifier over signatures made with openssl, not with this repository's own signer. */
import { createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signatureTagFor, verifyCosignSignature } from '../../lambdas/signature/cosign';
import { createCosignSignature } from '../../local/cosign-signer';
import { COSIGN_CASES, EXPECTED_IMAGE, IMAGE, KEYS, trustedKeysFor } from '../fixtures/signatures';
import { trust, codeOf, reasonOf, registryLayers } from '../fixtures/cosign-layers';

describe('verifyCosignSignature over the openssl-made fixtures', () => {
  it.each(Object.entries(COSIGN_CASES))('%s', (_name, fixture) => {
    const findings = verifyCosignSignature({
      manifest: fixture.manifest,
      layers: fixture.layers,
      trustedKeys: trustedKeysFor(fixture.trust),
      expected: fixture.expected,
    });

    expect(findings.map(codeOf)).toEqual(fixture.outcomes.map((outcome) => outcome.code));
    findings.forEach((finding, index) => {
      const outcome = fixture.outcomes[index]!;
      if (finding.valid && outcome.code === 'verified') {
        expect(finding.evidence).toEqual({
          format: 'cosign-simple-signing',
          signer: outcome.signer,
          signatureDigest: fixture.manifestDigest,
          signedAt: null,
        });
      }
    });
  });

  it('stores the fixtures under the tag the verifier derives', () => {
    expect(signatureTagFor(COSIGN_CASES.valid.expected.digest)).toBe(COSIGN_CASES.valid.signatureTag);
    expect(signatureTagFor(IMAGE.otherDigest)).toBe(COSIGN_CASES.moved.signatureTag);
  });

  it('verifies the moved signature for the digest it names, not the one it is stored under', () => {
    const { manifest, layers } = COSIGN_CASES.moved;
    const trustedKeys = trustedKeysFor(COSIGN_CASES.moved.trust);

    expect(verifyCosignSignature({ manifest, layers, trustedKeys, expected: EXPECTED_IMAGE }).map(codeOf)).toEqual(['verified']);
    expect(reasonOf(verifyCosignSignature({ manifest, layers, trustedKeys, expected: COSIGN_CASES.moved.expected })[0]!)).toBe(
      `the signature vouches for ${IMAGE.digest}, but the pushed image is ${IMAGE.otherDigest}`,
    );
  });

  it('names both repositories on an identity mismatch', () => {
    const fixture = COSIGN_CASES.otherRepository;
    const [finding] = verifyCosignSignature({ ...fixture, trustedKeys: trustedKeysFor(fixture.trust) });

    expect(reasonOf(finding!)).toContain(IMAGE.otherRepositoryUri);
    expect(reasonOf(finding!)).toContain(IMAGE.repositoryUri);
  });

  it('verifies the SHA-384 signature with the P-384 key however it is configured, and with no other key', () => {
    // The KMS key's signature is over SHA-384: it verifies with the P-384 key however that key is configured …
    const asPem = trust(KEYS.kmsP384.publicKeyPem);
    const fixture = COSIGN_CASES.kmsP384;
    expect(verifyCosignSignature({ ...fixture, trustedKeys: [asPem] }).map(codeOf)).toEqual(['verified']);
    // … and not with any other key.
    expect(
      verifyCosignSignature({ ...fixture, trustedKeys: trustedKeysFor({ publicKeys: ['cosignTrusted'], kmsKeys: [] }) }).map(codeOf),
    ).toEqual(['invalid-signature']);
  });

  it('agrees with our own signer on what a P-384 key signs', () => {
    const signature = createCosignSignature({
      privateKey: createPrivateKey(KEYS.kmsP384.privateKeyPem),
      repositoryUri: IMAGE.repositoryUri,
      digest: IMAGE.digest,
    });
    const findings = verifyCosignSignature({
      manifest: signature.manifest,
      layers: registryLayers(signature),
      trustedKeys: trustedKeysFor({ publicKeys: [], kmsKeys: ['kmsP384'] }),
      expected: EXPECTED_IMAGE,
    });

    expect(findings).toMatchObject([{ valid: true, evidence: { signer: { kind: 'kms-key', id: KEYS.kmsP384.keyArn } } }]);
  });
});
