import { createHash, createPrivateKey, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { SignatureFinding } from '../../lambdas/signature/findings';
import {
  DOCKER_MANIFEST_V2_MEDIA_TYPE,
  MAX_SIMPLE_SIGNING_PAYLOAD_BYTES,
  SIGNATURE_ANNOTATION,
  SIMPLE_SIGNING_MEDIA_TYPE,
  sha256Digest,
  signatureTagFor,
  verifyCosignSignature,
  verifySimpleSigningLayer,
  type SimpleSigningLayerInput,
} from '../../lambdas/signature/cosign';
import { type TrustedKey, trustedPublicKey } from '../../lambdas/signature/keys';
import { createCosignSignature, generateSigningKeyPair, type CosignSignature } from '../../local/cosign-signer';
import { COSIGN_CASES, EXPECTED_IMAGE, IMAGE, KEYS, trustedKeysFor } from '../fixtures/signatures';

const REPOSITORY_URI = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/models/sentiment';
const PUSHED_DIGEST = digestOf('the pushed image');
const OTHER_DIGEST = digestOf('another image');
const EXPECTED = { digest: PUSHED_DIGEST, repositoryName: 'models/sentiment', repositoryUri: REPOSITORY_URI };
const SIGNATURE_DIGEST = digestOf('the signature manifest');

const trusted = generateSigningKeyPair();
const untrusted = generateSigningKeyPair();
const TRUSTED_KEY = trust(trusted.publicKeyPem);
const UNTRUSTED_KEY = trust(untrusted.publicKeyPem);

function trust(pem: string): TrustedKey {
  const key = trustedPublicKey(pem);
  if (typeof key === 'string') throw new Error(key);
  return key;
}

function digestOf(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** The code of a finding, `verified` when valid. */
const codeOf = (finding: SignatureFinding) => (finding.valid ? 'verified' : finding.code);
const reasonOf = (finding: SignatureFinding) => (finding.valid ? '' : finding.reason);

/** A layer input signed by our own signer, as the adapter would hand it over. */
function signedLayer(options: { privateKeyPem?: string; payloadDigest?: string; dockerReference?: string } = {}): SimpleSigningLayerInput {
  const signature = createCosignSignature({
    privateKey: options.privateKeyPem ?? trusted.privateKeyPem,
    repositoryUri: REPOSITORY_URI,
    dockerReference: options.dockerReference,
    digest: PUSHED_DIGEST,
    payloadDigest: options.payloadDigest,
  });
  const [layer] = registryLayers(signature);
  return {
    payload: layer!.payload,
    layerDigest: layer!.digest,
    signatureBase64: layer!.signatureBase64,
    trustedKeys: [TRUSTED_KEY],
    expected: EXPECTED,
    signatureDigest: SIGNATURE_DIGEST,
  };
}

/** A layer whose payload is arbitrary bytes, properly hashed and signed by the trusted key. */
function trustedSignatureOf(payloadText: string): SimpleSigningLayerInput {
  const payload = new Uint8Array(Buffer.from(payloadText));
  return {
    payload,
    layerDigest: sha256Digest(payload),
    signatureBase64: sign('sha256', payload, trusted.privateKeyPem).toString('base64'),
    trustedKeys: [TRUSTED_KEY],
    expected: EXPECTED,
    signatureDigest: SIGNATURE_DIGEST,
  };
}

/** What ImageRegistry.readCosignSignature returns for a signature made by the signer. */
function registryLayers(signature: CosignSignature) {
  const manifest = JSON.parse(signature.manifest) as { layers: { digest: string; annotations: Record<string, string> }[] };
  return manifest.layers.map((layer) => ({
    digest: layer.digest,
    payload: signature.blobs.get(layer.digest) as Uint8Array,
    signatureBase64: layer.annotations[SIGNATURE_ANNOTATION]!,
  }));
}

function flipLastByte(base64: string): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[bytes.length - 1] ^= 0x01; // the last byte belongs to `s`, so the DER stays well-formed
  return bytes.toString('base64');
}

function tamper(payload: Uint8Array): Uint8Array {
  return new Uint8Array(Buffer.from(Buffer.from(payload).toString().replace('models/sentiment', 'models/evil')));
}

const simpleSigning = (reference: string, digest: string, type = 'cosign container image signature') =>
  JSON.stringify({ critical: { identity: { 'docker-reference': reference }, image: { 'docker-manifest-digest': digest }, type } });

describe('verifySimpleSigningLayer', () => {
  const cases: { name: string; layer: () => SimpleSigningLayerInput; code: string; reason?: RegExp }[] = [
    { name: 'a signature by the trusted key over the pushed digest', layer: () => signedLayer(), code: 'verified' },
    {
      name: 'the trusted key after an untrusted one',
      layer: () => ({ ...signedLayer(), trustedKeys: [UNTRUSTED_KEY, TRUSTED_KEY] }),
      code: 'verified',
    },
    {
      name: 'a signature by an untrusted key',
      layer: () => signedLayer({ privateKeyPem: untrusted.privateKeyPem }),
      code: 'invalid-signature',
      reason: /does not verify with any of the 1 trusted keys: made by another key, or altered/,
    },
    {
      name: 'a tampered payload whose layer digest was updated to match',
      layer: () => {
        const layer = signedLayer();
        const payload = tamper(layer.payload);
        return { ...layer, payload, layerDigest: sha256Digest(payload) };
      },
      code: 'invalid-signature',
      reason: /does not verify/,
    },
    {
      name: 'one flipped signature byte',
      layer: () => ({ ...signedLayer(), signatureBase64: flipLastByte(signedLayer().signatureBase64) }),
      code: 'invalid-signature',
    },
    {
      name: 'a signature that is base64 but not DER',
      layer: () => ({ ...signedLayer(), signatureBase64: Buffer.alloc(64, 7).toString('base64') }),
      code: 'invalid-signature',
    },
    {
      name: 'no trusted key at all',
      layer: () => ({ ...signedLayer(), trustedKeys: [] }),
      code: 'invalid-signature',
      reason: /any of the 0 trusted keys/,
    },
    {
      name: 'a trusted signature of a payload naming another digest',
      layer: () => signedLayer({ payloadDigest: OTHER_DIGEST }),
      code: 'digest-mismatch',
      reason: new RegExp(`vouches for ${OTHER_DIGEST}, but the pushed image is ${PUSHED_DIGEST}`),
    },
    {
      name: 'a trusted signature naming another repository',
      layer: () => signedLayer({ dockerReference: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/models/other' }),
      code: 'identity-mismatch',
      reason: new RegExp(`"123456789012.dkr.ecr.eu-west-1.amazonaws.com/models/other", but the image was pushed to ${REPOSITORY_URI}`),
    },
    {
      name: 'a trusted signature naming the same repository in another registry',
      layer: () => signedLayer({ dockerReference: '999999999999.dkr.ecr.eu-west-1.amazonaws.com/models/sentiment' }),
      code: 'identity-mismatch',
    },
    { name: 'a docker-reference with a tag', layer: () => signedLayer({ dockerReference: `${REPOSITORY_URI}:1.4.0` }), code: 'verified' },
    {
      name: 'a bare repository name as docker-reference',
      layer: () => signedLayer({ dockerReference: 'models/sentiment' }),
      code: 'verified',
    },
    {
      name: 'the digest checked before the identity',
      layer: () => signedLayer({ payloadDigest: OTHER_DIGEST, dockerReference: 'models/other' }),
      code: 'digest-mismatch',
    },
    {
      name: 'a tampered payload under its original layer digest',
      layer: () => ({ ...signedLayer(), payload: tamper(signedLayer().payload) }),
      code: 'invalid-signature',
      reason: /hashes to/,
    },
    {
      name: 'a layer digest that does not match the blob',
      layer: () => ({ ...signedLayer(), layerDigest: OTHER_DIGEST }),
      code: 'invalid-signature',
      reason: /not to the layer digest/,
    },
    {
      name: 'a layer digest that is not sha256',
      layer: () => ({ ...signedLayer(), layerDigest: 'md5:abc' }),
      code: 'invalid-signature',
      reason: /"md5:abc" is not sha256/,
    },
    {
      name: 'a signature annotation that is not base64',
      layer: () => ({ ...signedLayer(), signatureBase64: 'MEUC!not*base64' }),
      code: 'invalid-signature',
      reason: /not valid base64/,
    },
    {
      name: 'an empty signature annotation',
      layer: () => ({ ...signedLayer(), signatureBase64: '' }),
      code: 'invalid-signature',
      reason: /not valid base64/,
    },
    {
      name: 'a trusted signature of a payload that is not JSON',
      layer: () => trustedSignatureOf('hello'),
      code: 'invalid-signature',
      reason: /not JSON/,
    },
    {
      name: 'a trusted signature of JSON that is not simple signing',
      layer: () => trustedSignatureOf('{"critical":{}}'),
      code: 'invalid-signature',
      reason: /not simple-signing JSON/,
    },
    {
      name: 'a trusted signature of a payload of another type',
      layer: () => trustedSignatureOf(simpleSigning(REPOSITORY_URI, PUSHED_DIGEST, 'atomic container signature')),
      code: 'invalid-signature',
      reason: /type "atomic container signature"/,
    },
    {
      name: 'a trusted signature of a hand-written payload',
      layer: () => trustedSignatureOf(simpleSigning(REPOSITORY_URI, PUSHED_DIGEST)),
      code: 'verified',
    },
  ];

  it.each(cases)('$name → $code', ({ layer, code, reason }) => {
    const finding = verifySimpleSigningLayer(layer());

    expect(codeOf(finding)).toBe(code);
    if (reason !== undefined) expect(reasonOf(finding)).toMatch(reason);
    if (!finding.valid) expect(finding).toMatchObject({ format: 'cosign-simple-signing', signatureDigest: SIGNATURE_DIGEST });
  });

  it('names the verifying key, not the first configured one, as the signer', () => {
    const finding = verifySimpleSigningLayer({ ...signedLayer(), trustedKeys: [UNTRUSTED_KEY, TRUSTED_KEY] });

    expect(finding).toEqual({
      valid: true,
      evidence: {
        format: 'cosign-simple-signing',
        signer: { kind: 'public-key', id: TRUSTED_KEY.id },
        signatureDigest: SIGNATURE_DIGEST,
        signedAt: null,
      },
    });
  });
});

describe('verifyCosignSignature', () => {
  const signatureBy = (privateKeyPem: string, payloadDigest?: string) =>
    createCosignSignature({ privateKey: privateKeyPem, repositoryUri: REPOSITORY_URI, digest: PUSHED_DIGEST, payloadDigest });

  /** Two signatures merged into one manifest, as cosign does when a second key signs the same image. */
  function twoLayerSignature(first: CosignSignature, second: CosignSignature) {
    const manifest = JSON.parse(first.manifest);
    manifest.layers.push(...JSON.parse(second.manifest).layers);
    return { manifest: JSON.stringify(manifest), layers: [...registryLayers(first), ...registryLayers(second)] };
  }

  function withManifest(change: (manifest: any) => unknown) {
    const signature = signatureBy(trusted.privateKeyPem);
    const manifest = JSON.parse(signature.manifest);
    return { manifest: JSON.stringify(change(manifest) ?? manifest), layers: registryLayers(signature) };
  }

  const cases: {
    name: string;
    read: () => { manifest: string; layers: { digest: string; payload: Uint8Array }[] };
    codes: string[];
    reason?: RegExp;
  }[] = [
    { name: 'one layer signed by the trusted key', read: () => withManifest(() => undefined), codes: ['verified'] },
    {
      name: 'an untrusted layer followed by a trusted one',
      read: () => twoLayerSignature(signatureBy(untrusted.privateKeyPem), signatureBy(trusted.privateKeyPem)),
      codes: ['invalid-signature', 'verified'],
    },
    {
      name: 'a trusted layer followed by a broken one',
      read: () => {
        const read = twoLayerSignature(signatureBy(trusted.privateKeyPem), signatureBy(untrusted.privateKeyPem));
        const manifest = JSON.parse(read.manifest);
        manifest.layers[1].annotations[SIGNATURE_ANNOTATION] = '%%%';
        return { ...read, manifest: JSON.stringify(manifest) };
      },
      codes: ['verified', 'invalid-signature'],
      reason: /^layer 2: the signature annotation is not valid base64$/,
    },
    {
      name: 'a Docker v2 manifest',
      read: () => withManifest((m) => ({ ...m, mediaType: DOCKER_MANIFEST_V2_MEDIA_TYPE })),
      codes: ['verified'],
    },
    {
      name: 'an untrusted layer and a trusted signature of another digest',
      read: () => twoLayerSignature(signatureBy(untrusted.privateKeyPem), signatureBy(trusted.privateKeyPem, OTHER_DIGEST)),
      codes: ['invalid-signature', 'digest-mismatch'],
      reason: /^layer 1: the signature does not verify/,
    },
    {
      name: 'a manifest that is not JSON',
      read: () => ({ manifest: '{"schemaVersion":2,', layers: [] }),
      codes: ['invalid-signature'],
      reason: /not JSON/,
    },
    { name: 'an empty manifest', read: () => ({ manifest: '', layers: [] }), codes: ['invalid-signature'] },
    {
      name: 'a manifest without layers',
      read: () => withManifest((m) => ({ ...m, layers: undefined })),
      codes: ['invalid-signature'],
      reason: /layers/,
    },
    {
      name: 'a manifest with no layer',
      read: () => withManifest((m) => ({ ...m, layers: [] })),
      codes: ['invalid-signature'],
      reason: /at least one layer/,
    },
    {
      name: 'an image index instead of a manifest',
      read: () => ({
        manifest: JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] }),
        layers: [],
      }),
      codes: ['invalid-signature'],
      reason: /not a cosign manifest/,
    },
    { name: 'schema version 1', read: () => withManifest((m) => ({ ...m, schemaVersion: 1 })), codes: ['invalid-signature'] },
    {
      name: 'a layer that is not simple signing',
      read: () => withManifest((m) => void (m.layers[0].mediaType = 'application/vnd.oci.image.layer.v1.tar+gzip')),
      codes: ['invalid-signature'],
      reason: /media type/,
    },
    {
      name: 'a layer without signature annotation',
      read: () => withManifest((m) => void (m.layers[0].annotations = {})),
      codes: ['invalid-signature'],
      reason: /no dev.cosignproject.cosign\/signature annotation/,
    },
    {
      name: 'a layer whose payload was not downloaded',
      read: () => ({ ...withManifest(() => undefined), layers: [] }),
      codes: ['invalid-signature'],
      reason: /not downloaded/,
    },
    {
      name: 'a payload longer than the manifest declares',
      read: () => withManifest((m) => void (m.layers[0].size -= 1)),
      codes: ['invalid-signature'],
      reason: /declares/,
    },
    {
      name: 'a signature annotation edited in the manifest',
      read: () =>
        withManifest(
          (m) => void (m.layers[0].annotations[SIGNATURE_ANNOTATION] = flipLastByte(m.layers[0].annotations[SIGNATURE_ANNOTATION])),
        ),
      codes: ['invalid-signature'],
      reason: /does not verify/,
    },
    {
      name: 'a layer too large to be a payload',
      read: () => withManifest((m) => void (m.layers[0].size = MAX_SIMPLE_SIGNING_PAYLOAD_BYTES + 1)),
      codes: ['invalid-signature'],
      reason: /bytes/,
    },
  ];

  it.each(cases)('$name → $codes', ({ read, codes, reason }) => {
    const input = read();
    const findings = verifyCosignSignature({ ...input, trustedKeys: [TRUSTED_KEY], expected: EXPECTED });

    expect(findings.map(codeOf)).toEqual(codes);
    // Every finding of a manifest carries the manifest's digest.
    for (const finding of findings) {
      expect(finding.valid ? finding.evidence.signatureDigest : finding.signatureDigest).toBe(sha256Digest(Buffer.from(input.manifest)));
    }
    if (reason !== undefined)
      expect(
        findings
          .filter((f) => !f.valid)
          .map(reasonOf)
          .join(' | '),
      ).toMatch(reason);
  });

  it('gives the evidence of a valid layer', () => {
    const signature = signatureBy(trusted.privateKeyPem);
    const findings = verifyCosignSignature({
      manifest: signature.manifest,
      layers: registryLayers(signature),
      trustedKeys: [TRUSTED_KEY],
      expected: EXPECTED,
    });

    expect(findings).toEqual([
      {
        valid: true,
        evidence: {
          format: 'cosign-simple-signing',
          signer: { kind: 'public-key', id: TRUSTED_KEY.id },
          signatureDigest: sha256Digest(Buffer.from(signature.manifest)),
          signedAt: null,
        },
      },
    ]);
  });

  it('never throws, whatever the registry returned', () => {
    const hostile = [{ digest: 'x', payload: new Uint8Array([0xff, 0x00]) }];
    for (const manifest of [
      'null',
      '[]',
      '{"schemaVersion":2,"layers":[null]}',
      '\u0000',
      JSON.stringify({ schemaVersion: 2, layers: [{ mediaType: SIMPLE_SIGNING_MEDIA_TYPE, digest: 'x', size: -1 }] }),
    ]) {
      const findings = verifyCosignSignature({ manifest, layers: hostile, trustedKeys: [TRUSTED_KEY], expected: EXPECTED });
      expect(findings.length).toBeGreaterThan(0);
      expect(findings.every((finding) => !finding.valid)).toBe(true);
    }
  });
});

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

describe('signatureTagFor', () => {
  it("is cosign's tag for the digest", () => {
    expect(signatureTagFor(`sha256:${'0a'.repeat(32)}`)).toBe(`sha256-${'0a'.repeat(32)}.sig`);
  });

  it.each(['latest', 'sha256:ABC', `sha512:${'0'.repeat(128)}`])('refuses %s', (digest) => {
    expect(() => signatureTagFor(digest)).toThrow(/expected sha256/);
  });
});
