import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DOCKER_MANIFEST_V2_MEDIA_TYPE,
  MAX_SIMPLE_SIGNING_PAYLOAD_BYTES,
  SIGNATURE_ANNOTATION,
  SIMPLE_SIGNING_MEDIA_TYPE,
  decideSignature,
  publicKeyFingerprint,
  sha256Digest,
  signatureTagFor,
  verifyCosignSignature,
  verifySimpleSigningLayer,
  type SimpleSigningLayerInput,
} from '../../lambdas/signature/cosign';
import { createCosignSignature, generateSigningKeyPair, type CosignSignature } from '../../local/cosign-signer';

const REPOSITORY_URI = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/models/sentiment';
const PUSHED_DIGEST = digestOf('the pushed image');
const OTHER_DIGEST = digestOf('another image');

const trusted = generateSigningKeyPair();
const untrusted = generateSigningKeyPair();
const TRUSTED_FINGERPRINT = publicKeyFingerprint(trusted.publicKeyPem);

const fixture = (name: string) => readFileSync(join(__dirname, '../fixtures/cosign', name));
const openssl = {
  payload: new Uint8Array(fixture('openssl-payload.json')),
  layerDigest: fixture('openssl-payload.layer-digest').toString(),
  imageDigest: fixture('openssl-payload.image-digest').toString(),
  signatureBase64: fixture('openssl-payload.sig.base64').toString(),
  manifest: fixture('openssl-signature-manifest.json').toString(),
  publicKeyPem: fixture('test-only-openssl-signing-key.pub.pem').toString(),
  fingerprint: fixture('test-only-openssl-signing-key.pub.sha256').toString().trim(),
};

function digestOf(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** A layer input signed by our own signer, as the adapter would hand it over. */
function signedLayer(options: { privateKeyPem?: string; payloadDigest?: string } = {}): SimpleSigningLayerInput {
  const signature = createCosignSignature({
    privateKey: options.privateKeyPem ?? trusted.privateKeyPem,
    repositoryUri: REPOSITORY_URI,
    digest: PUSHED_DIGEST,
    payloadDigest: options.payloadDigest,
  });
  const [layer] = registryLayers(signature);
  return { payload: layer.payload, layerDigest: layer.digest, signatureBase64: layer.signatureBase64, trustedKeys: [trusted.publicKeyPem], expectedDigest: PUSHED_DIGEST };
}

/** A layer whose payload is arbitrary bytes, properly hashed and signed by the trusted key. */
function trustedSignatureOf(payloadText: string): SimpleSigningLayerInput {
  const payload = new Uint8Array(Buffer.from(payloadText));
  return {
    payload,
    layerDigest: sha256Digest(payload),
    signatureBase64: sign('sha256', payload, trusted.privateKeyPem).toString('base64'),
    trustedKeys: [trusted.publicKeyPem],
    expectedDigest: PUSHED_DIGEST,
  };
}

/** What ImageRegistry.readCosignSignature returns for a signature made by the signer. */
function registryLayers(signature: CosignSignature) {
  const manifest = JSON.parse(signature.manifest) as { layers: { digest: string; annotations: Record<string, string> }[] };
  return manifest.layers.map((layer) => ({
    digest: layer.digest,
    payload: signature.blobs.get(layer.digest) as Uint8Array,
    signatureBase64: layer.annotations[SIGNATURE_ANNOTATION],
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

describe('verifySimpleSigningLayer', () => {
  const rsaPublicKeyPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();

  const cases: { name: string; layer: () => SimpleSigningLayerInput; code: string; digest?: string | null; fingerprint?: string }[] = [
    { name: 'a signature by the trusted key over the pushed digest', layer: () => signedLayer(), code: 'verified', digest: PUSHED_DIGEST, fingerprint: TRUSTED_FINGERPRINT },
    {
      name: 'the openssl-made fixture with its public key',
      layer: () => ({ ...openssl, trustedKeys: [openssl.publicKeyPem], expectedDigest: openssl.imageDigest }),
      code: 'verified',
      digest: openssl.imageDigest,
      fingerprint: openssl.fingerprint,
    },
    {
      name: 'the trusted key among unusable and untrusted keys',
      layer: () => ({ ...signedLayer(), trustedKeys: ['not a key', untrusted.publicKeyPem, trusted.publicKeyPem] }),
      code: 'verified',
      fingerprint: TRUSTED_FINGERPRINT,
    },
    { name: 'a signature by an untrusted key', layer: () => signedLayer({ privateKeyPem: untrusted.privateKeyPem }), code: 'invalid-signature', digest: null },
    {
      name: 'a tampered payload whose layer digest was updated to match',
      layer: () => {
        const layer = signedLayer();
        const payload = tamper(layer.payload);
        return { ...layer, payload, layerDigest: sha256Digest(payload) };
      },
      code: 'invalid-signature',
    },
    { name: 'one flipped signature byte', layer: () => ({ ...signedLayer(), signatureBase64: flipLastByte(signedLayer().signatureBase64) }), code: 'invalid-signature' },
    {
      name: 'a signature that is base64 but not DER',
      layer: () => ({ ...signedLayer(), signatureBase64: Buffer.alloc(64, 7).toString('base64') }),
      code: 'invalid-signature',
    },
    { name: 'the signing key configured as a private PEM', layer: () => ({ ...signedLayer(), trustedKeys: [trusted.privateKeyPem] }), code: 'invalid-signature' },
    { name: 'the signing key configured as a private KeyObject', layer: () => ({ ...signedLayer(), trustedKeys: [createPrivateKey(trusted.privateKeyPem)] }), code: 'invalid-signature' },
    { name: 'the trusted key as a public KeyObject', layer: () => ({ ...signedLayer(), trustedKeys: [createPublicKey(trusted.publicKeyPem)] }), code: 'verified', fingerprint: TRUSTED_FINGERPRINT },
    { name: 'only an RSA key configured', layer: () => ({ ...signedLayer(), trustedKeys: [rsaPublicKeyPem] }), code: 'invalid-signature' },
    { name: 'no configured key parses', layer: () => ({ ...signedLayer(), trustedKeys: ['-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----'] }), code: 'invalid-signature' },
    { name: 'a trusted signature of a payload naming another digest', layer: () => signedLayer({ payloadDigest: OTHER_DIGEST }), code: 'digest-mismatch', digest: OTHER_DIGEST },
    {
      name: 'the openssl fixture presented for another image',
      layer: () => ({ ...openssl, trustedKeys: [openssl.publicKeyPem], expectedDigest: PUSHED_DIGEST }),
      code: 'digest-mismatch',
      digest: openssl.imageDigest,
    },
    { name: 'a tampered payload under its original layer digest', layer: () => ({ ...signedLayer(), payload: tamper(signedLayer().payload) }), code: 'malformed-signature' },
    { name: 'a layer digest that does not match the blob', layer: () => ({ ...signedLayer(), layerDigest: OTHER_DIGEST }), code: 'malformed-signature' },
    { name: 'a layer digest that is not sha256', layer: () => ({ ...signedLayer(), layerDigest: 'md5:abc' }), code: 'malformed-signature' },
    { name: 'a signature annotation that is not base64', layer: () => ({ ...signedLayer(), signatureBase64: 'MEUC!not*base64' }), code: 'malformed-signature' },
    { name: 'an empty signature annotation', layer: () => ({ ...signedLayer(), signatureBase64: '' }), code: 'malformed-signature' },
    { name: 'a trusted signature of a payload that is not JSON', layer: () => trustedSignatureOf('hello'), code: 'malformed-signature' },
    { name: 'a trusted signature of JSON that is not simple signing', layer: () => trustedSignatureOf('{"critical":{}}'), code: 'malformed-signature' },
    {
      name: 'a trusted signature of a payload of another type',
      layer: () =>
        trustedSignatureOf(
          JSON.stringify({ critical: { identity: { 'docker-reference': REPOSITORY_URI }, image: { 'docker-manifest-digest': PUSHED_DIGEST }, type: 'atomic container signature' } }),
        ),
      code: 'malformed-signature',
    },
  ];

  it.each(cases)('$name → $code', ({ layer, code, digest, fingerprint }) => {
    const verdict = verifySimpleSigningLayer(layer());

    expect(verdict.valid ? 'verified' : verdict.code).toBe(code);
    if (digest !== undefined) expect(verdict.digest).toBe(digest);
    if (fingerprint !== undefined) expect(verdict.valid && verdict.signerFingerprint).toBe(fingerprint);
  });

  it('names both digests when the payload vouches for another image', () => {
    const verdict = verifySimpleSigningLayer(signedLayer({ payloadDigest: OTHER_DIGEST }));

    expect(verdict.valid).toBe(false);
    expect(!verdict.valid && verdict.reason).toContain(OTHER_DIGEST);
    expect(!verdict.valid && verdict.reason).toContain(PUSHED_DIGEST);
  });

  it('says an untrusted key or an alteration is why a signature does not verify', () => {
    const verdict = verifySimpleSigningLayer(signedLayer({ privateKeyPem: untrusted.privateKeyPem }));

    expect(!verdict.valid && verdict.reason).toMatch(/no configured trusted key verifies the signature.*untrusted key.*altered/);
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

  const cases: { name: string; read: () => { manifest: string; layers: ReturnType<typeof registryLayers> }; code: string; digest?: string; fingerprint?: string; reason?: RegExp }[] = [
    { name: 'one layer signed by the trusted key', read: () => ({ manifest: signatureBy(trusted.privateKeyPem).manifest, layers: registryLayers(signatureBy(trusted.privateKeyPem)) }), code: 'verified', digest: PUSHED_DIGEST, fingerprint: TRUSTED_FINGERPRINT },
    {
      name: 'an untrusted layer followed by a trusted one',
      read: () => twoLayerSignature(signatureBy(untrusted.privateKeyPem), signatureBy(trusted.privateKeyPem)),
      code: 'verified',
      fingerprint: TRUSTED_FINGERPRINT,
    },
    {
      name: 'a trusted layer followed by a broken one',
      read: () => {
        const read = twoLayerSignature(signatureBy(trusted.privateKeyPem), signatureBy(untrusted.privateKeyPem));
        const manifest = JSON.parse(read.manifest);
        manifest.layers[1].annotations[SIGNATURE_ANNOTATION] = '%%%';
        return { ...read, manifest: JSON.stringify(manifest) };
      },
      code: 'verified',
      fingerprint: TRUSTED_FINGERPRINT,
    },
    { name: 'a Docker v2 manifest', read: () => withManifest((m) => ({ ...m, mediaType: DOCKER_MANIFEST_V2_MEDIA_TYPE })), code: 'verified', fingerprint: TRUSTED_FINGERPRINT },
    {
      name: 'no valid layer, one of them a trusted signature of another digest',
      read: () => twoLayerSignature(signatureBy(untrusted.privateKeyPem), signatureBy(trusted.privateKeyPem, OTHER_DIGEST)),
      code: 'digest-mismatch',
      digest: OTHER_DIGEST,
      reason: /None of the 2 signature layers is valid: layer 1: no configured trusted key.*layer 2: .*sha256:/,
    },
    { name: 'a manifest that is not JSON', read: () => ({ manifest: '{"schemaVersion":2,', layers: [] }), code: 'malformed-signature', digest: PUSHED_DIGEST, reason: /not JSON/ },
    { name: 'an empty manifest', read: () => ({ manifest: '', layers: [] }), code: 'malformed-signature' },
    { name: 'a manifest without layers', read: () => withManifest((m) => ({ ...m, layers: undefined })), code: 'malformed-signature', reason: /layers/ },
    { name: 'a manifest with no layer', read: () => withManifest((m) => ({ ...m, layers: [] })), code: 'malformed-signature', reason: /at least one layer/ },
    { name: 'an image index instead of a manifest', read: () => ({ manifest: JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] }), layers: [] }), code: 'malformed-signature' },
    { name: 'schema version 1', read: () => withManifest((m) => ({ ...m, schemaVersion: 1 })), code: 'malformed-signature' },
    { name: 'a layer that is not simple signing', read: () => withManifest((m) => void (m.layers[0].mediaType = 'application/vnd.oci.image.layer.v1.tar+gzip')), code: 'malformed-signature', reason: /media type/ },
    { name: 'a layer without signature annotation', read: () => withManifest((m) => void (m.layers[0].annotations = {})), code: 'malformed-signature', reason: /no dev.cosignproject.cosign\/signature annotation/ },
    { name: 'a layer whose payload was not downloaded', read: () => ({ ...withManifest(() => undefined), layers: [] }), code: 'malformed-signature', reason: /not downloaded/ },
    { name: 'a payload longer than the manifest declares', read: () => withManifest((m) => void (m.layers[0].size -= 1)), code: 'malformed-signature', reason: /declares/ },
    {
      name: 'a signature annotation edited in the manifest',
      read: () => withManifest((m) => void (m.layers[0].annotations[SIGNATURE_ANNOTATION] = flipLastByte(m.layers[0].annotations[SIGNATURE_ANNOTATION]))),
      code: 'invalid-signature',
    },
    { name: 'a layer too large to be a payload', read: () => withManifest((m) => void (m.layers[0].size = MAX_SIMPLE_SIGNING_PAYLOAD_BYTES + 1)), code: 'malformed-signature', reason: /bytes/ },
  ];

  it.each(cases)('$name → $code', ({ read, code, digest, fingerprint, reason }) => {
    const result = verifyCosignSignature({ ...read(), trustedKeys: [trusted.publicKeyPem], expectedDigest: PUSHED_DIGEST });

    expect(result.code).toBe(code);
    expect(result.verdict).toBe(code === 'verified' ? 'verified' : 'rejected');
    expect(result.signerFingerprint).toBe(code === 'verified' ? fingerprint : null);
    if (digest !== undefined) expect(result.digest).toBe(digest);
    if (reason !== undefined) expect(result.reason).toMatch(reason);
  });

  it('verifies the openssl-made signature manifest', () => {
    const result = verifyCosignSignature({
      manifest: openssl.manifest,
      layers: [{ digest: openssl.layerDigest, payload: openssl.payload }],
      trustedKeys: [openssl.publicKeyPem],
      expectedDigest: openssl.imageDigest,
    });

    expect(result).toEqual({
      verdict: 'verified',
      code: 'verified',
      reason: expect.stringContaining(openssl.fingerprint),
      digest: openssl.imageDigest,
      signerFingerprint: openssl.fingerprint,
    });
  });

  it('tells the operator about unusable configured keys when nothing verifies', () => {
    const signature = signatureBy(trusted.privateKeyPem);
    const result = verifyCosignSignature({ manifest: signature.manifest, layers: registryLayers(signature), trustedKeys: ['not a key'], expectedDigest: PUSHED_DIGEST });

    expect(result.code).toBe('invalid-signature');
    expect(result.reason).toContain('trusted key 1 is not a PEM-encoded public key');
  });

  it('never throws, whatever the registry returned', () => {
    const hostile = [{ digest: 'x', payload: new Uint8Array([0xff, 0x00]), signatureBase64: '====' }];
    for (const manifest of ['null', '[]', '{"schemaVersion":2,"layers":[null]}', '\u0000', JSON.stringify({ schemaVersion: 2, layers: [{ mediaType: SIMPLE_SIGNING_MEDIA_TYPE, digest: 'x', size: -1 }] })]) {
      expect(verifyCosignSignature({ manifest, layers: hostile, trustedKeys: [trusted.publicKeyPem], expectedDigest: PUSHED_DIGEST }).verdict).toBe('rejected');
    }
  });
});

describe('decideSignature', () => {
  it('rejects when there is no layer at all', () => {
    expect(decideSignature(PUSHED_DIGEST, [])).toMatchObject({ verdict: 'rejected', code: 'malformed-signature', digest: PUSHED_DIGEST });
  });
});

describe('publicKeyFingerprint', () => {
  it('is the SHA-256 of the SPKI DER, as openssl computes it', () => {
    expect(publicKeyFingerprint(openssl.publicKeyPem)).toBe(openssl.fingerprint);
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
