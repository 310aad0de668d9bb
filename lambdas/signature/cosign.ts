/**
 * Verification of cosign key signatures stored in the legacy "tag" layout (`sha256-<hex>.sig`): one finding per
 * signature layer; `decideSignature` (decisions/signature-trust.ts) turns the findings of all formats into the verdict.
 *
 * Pure: no AWS SDK, no clock, no environment. Every problem with what the registry returned is a finding, never a
 * thrown error, so a malformed or hostile signature can only ever lead to "do not deploy".
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { SHA256_DIGEST } from '../contract/catalog';
import { SIGNATURE_FORMATS } from '../contract/signature';
import { type ExpectedImage, failureOf, type SignatureFinding, referenceNamesRepository } from './findings';
import { type TrustedKey, verifyWithKey } from './keys';
import { decodeBase64Strict, describeIssues, parseJson } from './encoding';
import { InvalidInputError } from '../errors';

export const OCI_MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
export const DOCKER_MANIFEST_V2_MEDIA_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';
/** The manifest media types cosign writes signature manifests in. */
export const SIGNATURE_MANIFEST_MEDIA_TYPES = [OCI_MANIFEST_MEDIA_TYPE, DOCKER_MANIFEST_V2_MEDIA_TYPE] as const;
export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
export const COSIGN_SIGNATURE_TYPE = 'cosign container image signature';
/** Simple-signing payloads are a few hundred bytes; anything far larger is not worth downloading. */
export const MAX_SIMPLE_SIGNING_PAYLOAD_BYTES = 64 * 1024;

/** One layer of the signature manifest, as the manifest describes it. */
export interface SignatureLayerDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  /** The `dev.cosignproject.cosign/signature` annotation, or null when the layer has none. */
  signatureBase64: string | null;
}

export type ManifestParseResult = { ok: true; layers: SignatureLayerDescriptor[] } | { ok: false; reason: string };

/** cosign's tag for the signature of `digest`: `sha256:<hex>` → `sha256-<hex>.sig`. */
export function signatureTagFor(digest: string): string {
  if (!SHA256_DIGEST.test(digest)) {
    throw new InvalidInputError(`Cannot derive a signature tag from "${digest}": expected sha256:<64 hex characters>`);
  }
  return `${digest.replace(':', '-')}.sig`;
}

/** `sha256:<hex>` of some bytes, in the form OCI digests take. */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${sha256Hex(bytes)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Signature manifest
// ---------------------------------------------------------------------------------------------------------------

const signatureManifestSchema = z.object({
  schemaVersion: z.literal(2),
  // Optional in the OCI spec; when present it must be one of the two layouts cosign writes.
  mediaType: z.enum(SIGNATURE_MANIFEST_MEDIA_TYPES).optional(),
  layers: z
    .array(
      z.object({
        mediaType: z.string(),
        digest: z.string(),
        size: z.number().int().nonnegative(),
        annotations: z.record(z.string(), z.string()).optional(),
      }),
    )
    .min(1, 'a signature manifest needs at least one layer'),
});

/** Reads the signature manifest. Checks the shape only; each layer is judged by `verifySimpleSigningLayer`. */
export function parseSignatureManifest(manifestText: string): ManifestParseResult {
  const json = parseJson(manifestText);
  if (!json.ok) return { ok: false, reason: `the signature manifest is not JSON (${json.reason})` };
  const parsed = signatureManifestSchema.safeParse(json.value);
  if (!parsed.success) return { ok: false, reason: `the signature manifest is not a cosign manifest (${describeIssues(parsed.error)})` };
  return {
    ok: true,
    layers: parsed.data.layers.map((layer) => ({
      mediaType: layer.mediaType,
      digest: layer.digest,
      size: layer.size,
      signatureBase64: layer.annotations?.[SIGNATURE_ANNOTATION] ?? null,
    })),
  };
}

/**
 * Why a layer cannot hold a usable key signature, or null when it is worth downloading. The registry adapter
 * downloads only these layers; `verifyCosignSignature` reports the others.
 */
export function unusableLayerReason(layer: SignatureLayerDescriptor): string | null {
  if (layer.mediaType !== SIMPLE_SIGNING_MEDIA_TYPE) return `has media type "${layer.mediaType}", not ${SIMPLE_SIGNING_MEDIA_TYPE}`;
  if (!SHA256_DIGEST.test(layer.digest)) return `has digest "${layer.digest}", not sha256:<64 hex characters>`;
  if (layer.signatureBase64 === null) return `has no ${SIGNATURE_ANNOTATION} annotation`;
  if (layer.size > MAX_SIMPLE_SIGNING_PAYLOAD_BYTES)
    return `declares ${layer.size} bytes, more than the ${MAX_SIMPLE_SIGNING_PAYLOAD_BYTES} a simple-signing payload may have`;
  return null;
}

/** A layer `unusableLayerReason` accepts: it has a signature to check. */
export type UsableSignatureLayer = SignatureLayerDescriptor & { signatureBase64: string };
export function isUsableLayer(layer: SignatureLayerDescriptor): layer is UsableSignatureLayer {
  return unusableLayerReason(layer) === null;
}

// ---------------------------------------------------------------------------------------------------------------
// One layer
// ---------------------------------------------------------------------------------------------------------------

export interface SimpleSigningLayerInput {
  /** The downloaded layer blob: the exact bytes that were signed. */
  payload: Uint8Array;
  /** The layer's digest from the signature manifest. */
  layerDigest: string;
  /** The `dev.cosignproject.cosign/signature` annotation: base64 of the DER signature (ECDSA, or RSA for KMS RSA keys). */
  signatureBase64: string;
  trustedKeys: readonly TrustedKey[];
  /** The pushed image: the only digest, in the only repository, a signature may vouch for. */
  expected: ExpectedImage;
  /** Digest of the signature manifest the layer belongs to (the finding's `signatureDigest`). */
  signatureDigest: string;
}

const simpleSigningPayloadSchema = z.object({
  critical: z.object({
    identity: z.object({ 'docker-reference': z.string() }),
    image: z.object({ 'docker-manifest-digest': z.string() }),
    type: z.string(),
  }),
});

const FORMAT = SIGNATURE_FORMATS.cosign;

/**
 * Checks one simple-signing layer, in the order that keeps unauthenticated bytes from being interpreted:
 * blob integrity, then the signature, and only then what the signed payload says.
 */
export function verifySimpleSigningLayer(input: SimpleSigningLayerInput): SignatureFinding {
  const fail = failureOf(FORMAT, input.signatureDigest);
  const invalid = (reason: string) => fail('invalid-signature', reason);

  if (!SHA256_DIGEST.test(input.layerDigest)) return invalid(`the layer digest "${input.layerDigest}" is not sha256:<64 hex characters>`);
  const payloadDigest = sha256Digest(input.payload);
  if (payloadDigest !== input.layerDigest) {
    return invalid(`the payload hashes to ${payloadDigest}, not to the layer digest ${input.layerDigest}`);
  }
  const signature = decodeBase64Strict(input.signatureBase64);
  if (signature === null) return invalid('the signature annotation is not valid base64');

  const signer = input.trustedKeys.find((trusted) => verifyWithKey(trusted, input.payload, signature)) ?? null;
  if (signer === null) {
    return invalid(
      `the signature does not verify with any of the ${input.trustedKeys.length} trusted keys: made by another key, or altered`,
    );
  }
  return checkSignedPayload(input, signer);
}

/** The payload is authentic from here on; check that it is a cosign image signature for the pushed image. */
function checkSignedPayload(input: SimpleSigningLayerInput, signer: TrustedKey): SignatureFinding {
  const { expected, signatureDigest } = input;
  const failed = failureOf(FORMAT, signatureDigest);
  const json = parseJson(Buffer.from(input.payload).toString('utf8'));
  if (!json.ok) return failed('invalid-signature', `the signed payload is not JSON (${json.reason})`);
  const parsed = simpleSigningPayloadSchema.safeParse(json.value);
  if (!parsed.success)
    return failed('invalid-signature', `the signed payload is not simple-signing JSON (${describeIssues(parsed.error)})`);

  const { type, image, identity } = parsed.data.critical;
  if (type !== COSIGN_SIGNATURE_TYPE)
    return failed('invalid-signature', `the signed payload has type "${type}", not "${COSIGN_SIGNATURE_TYPE}"`);
  const signedDigest = image['docker-manifest-digest'];
  if (signedDigest !== expected.digest) {
    return failed('digest-mismatch', `the signature vouches for ${signedDigest}, but the pushed image is ${expected.digest}`);
  }
  const reference = identity['docker-reference'];
  if (!referenceNamesRepository(reference, expected)) {
    return failed(
      'identity-mismatch',
      `the signature names the image "${reference}", but the image was pushed to ${expected.repositoryUri}`,
    );
  }
  return { valid: true, evidence: { format: FORMAT, signer: { kind: signer.kind, id: signer.id }, signatureDigest, signedAt: null } };
}

// ---------------------------------------------------------------------------------------------------------------
// The signature manifest and all its layers
// ---------------------------------------------------------------------------------------------------------------

export interface CosignSignatureInput {
  /** The signature manifest, as the registry returned it: the one source of which layers and signatures exist. */
  manifest: string;
  /** The downloaded payload blobs, by layer digest (only the bytes are used; the manifest says what they are). */
  layers: ReadonlyArray<{ digest: string; payload: Uint8Array }>;
  trustedKeys: readonly TrustedKey[];
  expected: ExpectedImage;
}

/**
 * Judges a signature read from the registry: one finding per manifest layer (cosign appends a layer per signing),
 * or a single invalid-signature finding when the manifest is not a cosign signature manifest.
 */
export function verifyCosignSignature(input: CosignSignatureInput): SignatureFinding[] {
  const signatureDigest = sha256Digest(Buffer.from(input.manifest, 'utf8'));
  const manifest = parseSignatureManifest(input.manifest);
  if (!manifest.ok) return [failureOf(FORMAT, signatureDigest)('invalid-signature', manifest.reason)];

  const payloads = new Map(input.layers.map((layer) => [layer.digest, layer.payload]));
  const several = manifest.layers.length > 1;
  return manifest.layers.map((layer, index) => {
    const finding = verifyManifestLayer(layer, payloads, input, signatureDigest);
    // The findings of one manifest share its digest; the layer number tells them apart in the reason.
    return finding.valid || !several ? finding : { ...finding, reason: `layer ${index + 1}: ${finding.reason}` };
  });
}

function verifyManifestLayer(
  layer: SignatureLayerDescriptor,
  payloads: ReadonlyMap<string, Uint8Array>,
  input: CosignSignatureInput,
  signatureDigest: string,
): SignatureFinding {
  const invalid = (reason: string) => failureOf(FORMAT, signatureDigest)('invalid-signature', reason);
  if (!isUsableLayer(layer)) return invalid(`the layer ${unusableLayerReason(layer)}`);
  const payload = payloads.get(layer.digest);
  if (payload === undefined) return invalid(`the payload of layer ${layer.digest} was not downloaded`);
  if (payload.length !== layer.size) return invalid(`the payload is ${payload.length} bytes, but the manifest declares ${layer.size}`);
  return verifySimpleSigningLayer({
    payload,
    layerDigest: layer.digest,
    signatureBase64: layer.signatureBase64,
    trustedKeys: input.trustedKeys,
    expected: input.expected,
    signatureDigest,
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
