/**
 * Makes real cosign-layout key signatures with node:crypto, for the local simulator and tests.
 * What it writes is what `cosign sign --key` pushes: a manifest under `sha256-<hex>.sig` whose simple-signing layer
 * carries the ECDSA signature of the payload in the `dev.cosignproject.cosign/signature` annotation (P-256 / SHA-256;
 * a P-384 key, as a KMS ECC_NIST_P384 key, signs SHA-384, as cosign does).
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import {
  COSIGN_SIGNATURE_TYPE,
  OCI_MANIFEST_MEDIA_TYPE,
  SIGNATURE_ANNOTATION,
  SIMPLE_SIGNING_MEDIA_TYPE,
  sha256Digest,
  signatureTagFor,
} from '../lambdas/signature/cosign';

const OCI_CONFIG_MEDIA_TYPE = 'application/vnd.oci.image.config.v1+json';

export interface CosignSignatureRequest {
  privateKey: KeyObject | string;
  /** `<registry>/<repository>`, written into the payload's `docker-reference`. */
  repositoryUri: string;
  /** What the payload's `docker-reference` says instead of `repositoryUri` (to make a signature for another repository). */
  dockerReference?: string;
  /** The image digest the signature is stored for (it decides the tag). */
  digest: string;
  /** The digest the signed payload names; defaults to `digest`. Set it to store a signature of another image. */
  payloadDigest?: string;
}

export interface CosignSignature {
  /** `sha256-<hex>.sig` */
  signatureTag: string;
  /** The signature manifest, exactly as the registry serves it. */
  manifest: string;
  manifestMediaType: typeof OCI_MANIFEST_MEDIA_TYPE;
  /** The manifest's config and payload blobs, by digest. */
  blobs: Map<string, Uint8Array>;
}

/** Signs `payloadDigest ?? digest` the way `cosign sign --key` does and lays it out as cosign pushes it. */
export function createCosignSignature(request: CosignSignatureRequest): CosignSignature {
  const payload = simpleSigningPayload(request.dockerReference ?? request.repositoryUri, request.payloadDigest ?? request.digest);
  const payloadDigest = sha256Digest(payload);
  const privateKey = typeof request.privateKey === 'string' ? createPrivateKey(request.privateKey) : request.privateKey;
  const hash = privateKey.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'sha384' : 'sha256';
  const signature = sign(hash, payload, privateKey); // ASN.1 DER, as cosign stores it

  const config = Buffer.from(JSON.stringify(signatureConfig(payloadDigest)));
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST_MEDIA_TYPE,
    config: { mediaType: OCI_CONFIG_MEDIA_TYPE, size: config.length, digest: sha256Digest(config) },
    layers: [
      {
        mediaType: SIMPLE_SIGNING_MEDIA_TYPE,
        size: payload.length,
        digest: payloadDigest,
        annotations: { [SIGNATURE_ANNOTATION]: signature.toString('base64') },
      },
    ],
  };
  return {
    signatureTag: signatureTagFor(request.digest),
    manifest: JSON.stringify(manifest),
    manifestMediaType: OCI_MANIFEST_MEDIA_TYPE,
    blobs: new Map([
      [sha256Digest(config), new Uint8Array(config)],
      [payloadDigest, new Uint8Array(payload)],
    ]),
  };
}

/** A fresh ECDSA P-256 key pair, PKCS#8 / SPKI PEM (the encodings `cosign generate-key-pair` keys convert to). */
export function generateSigningKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', {
    namedCurve: 'prime256v1',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/** cosign's simple-signing payload, with its key order (the bytes are what is signed, so they are built verbatim). */
function simpleSigningPayload(repositoryUri: string, digest: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': repositoryUri },
        image: { 'docker-manifest-digest': digest },
        type: COSIGN_SIGNATURE_TYPE,
      },
      optional: null,
    }),
  );
}

/** The config blob cosign writes: an empty image whose single layer is the payload. */
function signatureConfig(payloadDigest: string): object {
  return {
    architecture: '',
    created: '0001-01-01T00:00:00Z',
    history: [{ created: '0001-01-01T00:00:00Z' }],
    os: '',
    rootfs: { type: 'layers', diff_ids: [payloadDigest] },
    config: {},
  };
}
