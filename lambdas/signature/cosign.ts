/**
 * Verification of cosign key signatures stored in the legacy "tag" layout (`sha256-<hex>.sig`).
 *
 * Pure: no AWS SDK, no clock, no environment. Every problem with what the registry returned is an outcome
 * (a rejected SignatureResult), never a thrown error, so a malformed or hostile signature can only ever
 * lead to "do not deploy".
 */
import { createHash, createPublicKey, KeyObject, verify } from 'node:crypto';
import { z } from 'zod';
import type { SignatureCode, SignatureResult } from '../contract';

export const OCI_MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
export const DOCKER_MANIFEST_V2_MEDIA_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';
/** The manifest media types cosign writes signature manifests in. */
export const SIGNATURE_MANIFEST_MEDIA_TYPES = [OCI_MANIFEST_MEDIA_TYPE, DOCKER_MANIFEST_V2_MEDIA_TYPE] as const;
export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
export const COSIGN_SIGNATURE_TYPE = 'cosign container image signature';
/** Simple-signing payloads are a few hundred bytes; anything far larger is not worth downloading. */
export const MAX_SIMPLE_SIGNING_PAYLOAD_BYTES = 64 * 1024;

const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;

/** A configured trusted key, parsed once. */
export interface TrustedKey {
  key: KeyObject;
  /** Hex SHA-256 of the key's SPKI DER encoding. */
  fingerprint: string;
}

/** One layer of the signature manifest, as the manifest describes it. */
export interface SignatureLayerDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  /** The `dev.cosignproject.cosign/signature` annotation, or null when the layer has none. */
  signatureBase64: string | null;
}

export type ManifestParseResult =
  | { ok: true; layers: SignatureLayerDescriptor[] }
  | { ok: false; reason: string };

/** The outcome of checking one layer. `digest` is the digest the payload names, once it can be trusted. */
export type LayerVerdict =
  | { valid: true; digest: string; signerFingerprint: string }
  | { valid: false; code: LayerFailureCode; reason: string; digest: string | null };
export type LayerFailureCode = Extract<SignatureCode, 'invalid-signature' | 'digest-mismatch' | 'malformed-signature'>;

/** cosign's tag for the signature of `digest`: `sha256:<hex>` → `sha256-<hex>.sig`. */
export function signatureTagFor(digest: string): string {
  if (!SHA256_DIGEST.test(digest)) {
    throw new Error(`Cannot derive a signature tag from "${digest}": expected sha256:<64 hex characters>`);
  }
  return `${digest.replace(':', '-')}.sig`;
}

/** Hex SHA-256 of a public key's SPKI DER encoding (the same as `openssl pkey -pubin -outform DER | sha256sum`). */
export function publicKeyFingerprint(publicKey: string | KeyObject): string {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  return sha256Hex(key.export({ type: 'spki', format: 'der' }));
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
  if (layer.size > MAX_SIMPLE_SIGNING_PAYLOAD_BYTES) return `declares ${layer.size} bytes, more than the ${MAX_SIMPLE_SIGNING_PAYLOAD_BYTES} a simple-signing payload may have`;
  return null;
}

/** A layer `unusableLayerReason` accepts: it has a signature to check. */
export type UsableSignatureLayer = SignatureLayerDescriptor & { signatureBase64: string };
export function isUsableLayer(layer: SignatureLayerDescriptor): layer is UsableSignatureLayer {
  return unusableLayerReason(layer) === null;
}

// ---------------------------------------------------------------------------------------------------------------
// Trusted keys
// ---------------------------------------------------------------------------------------------------------------

/**
 * Parses the configured keys. Unusable keys are reported, not thrown: a bad key must not stop the good ones from
 * verifying, and with no usable key nothing verifies (fail closed).
 */
export function loadTrustedKeys(keys: ReadonlyArray<KeyObject | string>): { keys: TrustedKey[]; problems: string[] } {
  const trusted: TrustedKey[] = [];
  const problems: string[] = [];
  keys.forEach((candidate, index) => {
    const loaded = loadTrustedKey(candidate);
    if (typeof loaded === 'string') problems.push(`trusted key ${index + 1} ${loaded}`);
    else trusted.push(loaded);
  });
  return { keys: trusted, problems };
}

function loadTrustedKey(candidate: KeyObject | string): TrustedKey | string {
  // A private key in the trust configuration is a leak waiting to happen; refuse it rather than derive its public half.
  if (typeof candidate === 'string' ? /PRIVATE KEY/.test(candidate) : candidate.type !== 'public') {
    return 'is not a public key';
  }
  let key: KeyObject;
  try {
    key = typeof candidate === 'string' ? createPublicKey(candidate) : candidate;
  } catch {
    return 'is not a PEM-encoded public key';
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    return `is a ${key.asymmetricKeyType ?? 'unknown'} key, not ECDSA P-256`;
  }
  return { key, fingerprint: publicKeyFingerprint(key) };
}

// ---------------------------------------------------------------------------------------------------------------
// One layer
// ---------------------------------------------------------------------------------------------------------------

export interface SimpleSigningLayerInput {
  /** The downloaded layer blob: the exact bytes that were signed. */
  payload: Uint8Array;
  /** The layer's digest from the signature manifest. */
  layerDigest: string;
  /** The `dev.cosignproject.cosign/signature` annotation: base64 of an ASN.1 DER ECDSA signature. */
  signatureBase64: string;
  /** PEM strings or KeyObjects (unusable ones are ignored), or keys already loaded with `loadTrustedKeys`. */
  trustedKeys: ReadonlyArray<KeyObject | string | TrustedKey>;
  /** The pushed image's digest: the only digest a signature may vouch for. */
  expectedDigest: string;
}

const simpleSigningPayloadSchema = z.object({
  critical: z.object({
    identity: z.object({ 'docker-reference': z.string() }),
    image: z.object({ 'docker-manifest-digest': z.string() }),
    type: z.string(),
  }),
});

/**
 * Checks one simple-signing layer, in the order that keeps unauthenticated bytes from being interpreted:
 * blob integrity, then the signature, and only then what the signed payload says.
 */
export function verifySimpleSigningLayer(input: SimpleSigningLayerInput): LayerVerdict {
  const malformed = (reason: string): LayerVerdict => ({ valid: false, code: 'malformed-signature', reason, digest: null });

  if (!SHA256_DIGEST.test(input.layerDigest)) return malformed(`the layer digest "${input.layerDigest}" is not sha256:<64 hex characters>`);
  const payloadDigest = sha256Digest(input.payload);
  if (payloadDigest !== input.layerDigest) {
    return malformed(`the payload hashes to ${payloadDigest}, not to the layer digest ${input.layerDigest}`);
  }
  const signature = decodeBase64Strict(input.signatureBase64);
  if (signature === null) return malformed('the signature annotation is not valid base64');

  const signer = findVerifyingKey(input.payload, signature, toTrustedKeys(input.trustedKeys));
  if (signer === null) {
    return {
      valid: false,
      code: 'invalid-signature',
      reason: 'no configured trusted key verifies the signature: it was made with an untrusted key or the payload was altered',
      digest: null,
    };
  }
  return checkSignedPayload(input.payload, signer, input.expectedDigest);
}

/** The payload is authentic from here on; check that it is a cosign image signature for the pushed digest. */
function checkSignedPayload(payload: Uint8Array, signer: TrustedKey, expectedDigest: string): LayerVerdict {
  const malformed = (reason: string): LayerVerdict => ({ valid: false, code: 'malformed-signature', reason, digest: null });
  const json = parseJson(Buffer.from(payload).toString('utf8'));
  if (!json.ok) return malformed(`the signed payload is not JSON (${json.reason})`);
  const parsed = simpleSigningPayloadSchema.safeParse(json.value);
  if (!parsed.success) return malformed(`the signed payload is not simple-signing JSON (${describeIssues(parsed.error)})`);

  const { type, image } = parsed.data.critical;
  if (type !== COSIGN_SIGNATURE_TYPE) return malformed(`the signed payload has type "${type}", not "${COSIGN_SIGNATURE_TYPE}"`);
  const signedDigest = image['docker-manifest-digest'];
  if (signedDigest !== expectedDigest) {
    return {
      valid: false,
      code: 'digest-mismatch',
      reason: `the signature vouches for ${signedDigest}, but the pushed image is ${expectedDigest}`,
      digest: signedDigest,
    };
  }
  return { valid: true, digest: signedDigest, signerFingerprint: signer.fingerprint };
}

function findVerifyingKey(payload: Uint8Array, signature: Uint8Array, keys: TrustedKey[]): TrustedKey | null {
  return keys.find((trusted) => verifiesWith(payload, signature, trusted.key)) ?? null;
}

function verifiesWith(payload: Uint8Array, signature: Uint8Array, key: KeyObject): boolean {
  try {
    // cosign signs SHA-256 of the payload and stores the ECDSA signature DER-encoded (Node's default encoding).
    return verify('sha256', payload, key, signature);
  } catch {
    // Garbled DER can make OpenSSL raise instead of returning false; either way it does not verify.
    return false;
  }
}

function toTrustedKeys(keys: SimpleSigningLayerInput['trustedKeys']): TrustedKey[] {
  return keys.flatMap((key) => {
    if (isTrustedKey(key)) return [key];
    const loaded = loadTrustedKey(key);
    return typeof loaded === 'string' ? [] : [loaded];
  });
}

function isTrustedKey(value: KeyObject | string | TrustedKey): value is TrustedKey {
  return typeof value === 'object' && !(value instanceof KeyObject) && 'fingerprint' in value;
}

// ---------------------------------------------------------------------------------------------------------------
// The verdict
// ---------------------------------------------------------------------------------------------------------------

/** When no layer is valid, the most specific failure explains the rejection best: a trusted key signing another
 * digest says more than a bad signature, which says more than a broken layer. */
const FAILURE_PRECEDENCE: readonly LayerFailureCode[] = ['digest-mismatch', 'invalid-signature', 'malformed-signature'];

/** Any one fully valid layer verifies the image; otherwise the image is rejected (fail closed). */
export function decideSignature(expectedDigest: string, verdicts: readonly LayerVerdict[]): SignatureResult {
  const valid = verdicts.find((verdict) => verdict.valid);
  if (valid) {
    return {
      verdict: 'verified',
      code: 'verified',
      reason: `Signed by trusted key ${valid.signerFingerprint} for ${expectedDigest}.`,
      digest: expectedDigest,
      signerFingerprint: valid.signerFingerprint,
    };
  }
  const failures = verdicts.filter((verdict) => !verdict.valid);
  if (failures.length === 0) return rejected('malformed-signature', 'The signature manifest holds no signature layer.', expectedDigest);

  const decisive = [...failures].sort((a, b) => FAILURE_PRECEDENCE.indexOf(a.code) - FAILURE_PRECEDENCE.indexOf(b.code))[0];
  const reason =
    failures.length === 1
      ? `The signature was rejected: ${decisive.reason}.`
      : `None of the ${failures.length} signature layers is valid: ${failures.map((f, i) => `layer ${i + 1}: ${f.reason}`).join('; ')}.`;
  return rejected(decisive.code, reason, decisive.digest ?? expectedDigest);
}

export interface CosignSignatureInput {
  /** The signature manifest, as the registry returned it: the one source of which layers and signatures exist. */
  manifest: string;
  /** The downloaded payload blobs, by layer digest (only the bytes are used; the manifest says what they are). */
  layers: ReadonlyArray<{ digest: string; payload: Uint8Array }>;
  trustedKeys: ReadonlyArray<KeyObject | string>;
  expectedDigest: string;
}

/** Verifies a signature read from the registry: every manifest layer gets a verdict, then `decideSignature`. */
export function verifyCosignSignature(input: CosignSignatureInput): SignatureResult {
  const manifest = parseSignatureManifest(input.manifest);
  if (!manifest.ok) return rejected('malformed-signature', `The signature was rejected: ${manifest.reason}.`, input.expectedDigest);

  const { keys, problems } = loadTrustedKeys(input.trustedKeys);
  const payloads = new Map(input.layers.map((layer) => [layer.digest, layer.payload]));
  const verdicts = manifest.layers.map((layer) => verifyManifestLayer(layer, payloads, keys, input.expectedDigest));
  const result = decideSignature(input.expectedDigest, verdicts);
  // Unusable keys matter to the operator only when they may be why nothing verified.
  return result.verdict === 'rejected' && problems.length > 0
    ? { ...result, reason: `${result.reason} (Configuration: ${problems.join('; ')}.)` }
    : result;
}

function verifyManifestLayer(
  layer: SignatureLayerDescriptor,
  payloads: ReadonlyMap<string, Uint8Array>,
  keys: TrustedKey[],
  expectedDigest: string,
): LayerVerdict {
  const malformed = (reason: string): LayerVerdict => ({ valid: false, code: 'malformed-signature', reason, digest: null });
  if (!isUsableLayer(layer)) return malformed(`the layer ${unusableLayerReason(layer)}`);
  const payload = payloads.get(layer.digest);
  if (payload === undefined) return malformed(`the payload of layer ${layer.digest} was not downloaded`);
  if (payload.length !== layer.size) return malformed(`the payload is ${payload.length} bytes, but the manifest declares ${layer.size}`);
  return verifySimpleSigningLayer({ payload, layerDigest: layer.digest, signatureBase64: layer.signatureBase64, trustedKeys: keys, expectedDigest });
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

function rejected(code: SignatureCode, reason: string, digest: string): SignatureResult {
  return { verdict: 'rejected', code, reason, digest, signerFingerprint: null };
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

/** Node's base64 decoder skips characters it does not know; a signature must be exactly base64 or nothing. */
function decodeBase64Strict(text: string): Uint8Array | null {
  if (text.length === 0 || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return null;
  return Buffer.from(text, 'base64');
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
}
