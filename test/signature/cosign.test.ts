import { describe, expect, it } from 'vitest';
import {
  DOCKER_MANIFEST_V2_MEDIA_TYPE,
  MAX_SIMPLE_SIGNING_PAYLOAD_BYTES,
  SIGNATURE_ANNOTATION,
  SIMPLE_SIGNING_MEDIA_TYPE,
  sha256Digest,
  signatureTagFor,
  verifyCosignSignature,
} from '../../lambdas/signature/cosign';
import { createCosignSignature, type CosignSignature } from '../../local/cosign-signer';
import {
  REPOSITORY_URI,
  PUSHED_DIGEST,
  OTHER_DIGEST,
  EXPECTED,
  trusted,
  untrusted,
  TRUSTED_KEY,
  codeOf,
  reasonOf,
  registryLayers,
  flipLastByte,
} from '../fixtures/cosign-layers';

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

describe('signatureTagFor', () => {
  it("is cosign's tag for the digest", () => {
    expect(signatureTagFor(`sha256:${'0a'.repeat(32)}`)).toBe(`sha256-${'0a'.repeat(32)}.sig`);
  });

  it.each(['latest', 'sha256:ABC', `sha512:${'0'.repeat(128)}`])('refuses %s', (digest) => {
    expect(() => signatureTagFor(digest)).toThrow(/expected sha256/);
  });
});
