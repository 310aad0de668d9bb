/**
 * Verification of Sigstore bundles: what `cosign sign --key … --new-bundle-format` (the default from cosign v3) stores
 * as an OCI 1.1 referrer of the image. The bundle holds a DSSE envelope whose payload is an in-toto statement naming
 * the image digest; the envelope is signed with the key.
 *
 * Only key-based bundles can be trusted here: the accounts this runs in have no access to the public Fulcio / Rekor
 * instances, so a keyless (certificate) bundle is refused. Transparency-log entries and RFC 3161 timestamps in the
 * bundle are NOT verified: the trust anchor is the configured key, and a valid signature by it is what is required.
 *
 * Pure: no AWS SDK, no clock. Never throws on bad input: every problem is a finding.
 */
import * as z from 'zod';
import { SIGNATURE_FORMATS } from '../contract/signature';
import { MAX_ENVELOPE_BYTES } from './artifacts';
import { type ExpectedImage, type FailureCode, failureOf, type SignatureFinding, referenceNamesRepository } from './findings';
import { publicKeyFingerprint, type TrustedKey, verifyWithKey } from './keys';
import { decodeBase64Strict, describeIssues, parseJson } from './encoding';

/** The DSSE payload type of an in-toto statement. */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** The in-toto statement versions accepted (cosign v3 writes v1). */
export const IN_TOTO_STATEMENT_TYPES = ['https://in-toto.io/Statement/v1', 'https://in-toto.io/Statement/v0.1'] as const;
/** The predicate type of a cosign image signature; other predicates (SBOMs, provenance) are attestations, not signatures. */
export const COSIGN_SIGN_PREDICATE_TYPE = 'https://sigstore.dev/cosign/sign/v1';
/** More signatures than this on one envelope is not a signature, it is an attempt to make the verifier work. */
export const MAX_DSSE_SIGNATURES = 16;
/** cosign writes one subject; a statement may name a few (multi-image attestations), never thousands. */
export const MAX_STATEMENT_SUBJECTS = 256;

/** `application/vnd.dev.sigstore.bundle.v0.3+json` and the older `application/vnd.dev.sigstore.bundle+json;version=0.x`. */
const BUNDLE_MEDIA_TYPE = /^application\/vnd\.dev\.sigstore\.bundle(\.v0\.[1-3]\+json|\+json;version=0\.[1-3])$/;
const FORMAT = SIGNATURE_FORMATS.sigstoreBundle;

export interface SigstoreBundleInput {
  /** The bundle JSON, as downloaded from the referrer's layer. */
  bundle: Uint8Array;
  /** Digest of the referrer manifest holding the bundle: the signature's identity in the evidence. */
  manifestDigest: string;
  trustedKeys: readonly TrustedKey[];
  /** The pushed image: the only digest, in the only repository, the statement may name. */
  expected: ExpectedImage;
}

const bundleSchema = z.object({
  mediaType: z.string().regex(BUNDLE_MEDIA_TYPE, 'not a Sigstore bundle media type'),
  verificationMaterial: z.object({
    publicKey: z.object({ hint: z.string().optional() }).optional(),
    certificate: z.unknown().optional(),
    x509CertificateChain: z.unknown().optional(),
    // tlogEntries and timestampVerificationData may be present; they are not verified (see the file comment).
  }),
  dsseEnvelope: z
    .object({
      payload: z.string(),
      payloadType: z.string(),
      signatures: z
        .array(z.object({ sig: z.string(), keyid: z.string().optional() }))
        .min(1, 'the envelope has no signature')
        .max(MAX_DSSE_SIGNATURES, `more than ${MAX_DSSE_SIGNATURES} signatures`),
    })
    .optional(),
  messageSignature: z.unknown().optional(),
});
type Bundle = z.infer<typeof bundleSchema>;

const statementSchema = z.object({
  _type: z.enum(IN_TOTO_STATEMENT_TYPES),
  subject: z
    .array(z.object({ name: z.string(), digest: z.record(z.string(), z.string()) }))
    .min(1, 'the statement names no subject')
    .max(MAX_STATEMENT_SUBJECTS, `more than ${MAX_STATEMENT_SUBJECTS} subjects`),
  predicateType: z.string(),
});

/** Judges one Sigstore bundle stored for the pushed image. */
export function verifySigstoreBundle(input: SigstoreBundleInput): SignatureFinding {
  try {
    return judge(input);
  } catch (error) {
    // Nothing above is expected to throw; should it, the bundle proved nothing, which is a rejection, not a crash.
    return failure(input, 'invalid-signature', `the bundle could not be checked (${(error as Error).message})`);
  }
}

function judge(input: SigstoreBundleInput): SignatureFinding {
  const invalid = (reason: string) => failure(input, 'invalid-signature', reason);

  if (input.bundle.length > MAX_ENVELOPE_BYTES) {
    return invalid(`the bundle is ${input.bundle.length} bytes, more than the ${MAX_ENVELOPE_BYTES} a signature bundle may have`);
  }
  const json = parseJson(Buffer.from(input.bundle).toString('utf8'));
  if (!json.ok) return invalid(`the bundle is not JSON (${json.reason})`);
  const parsed = bundleSchema.safeParse(json.value);
  if (!parsed.success) return invalid(`the bundle is not a Sigstore bundle (${describeIssues(parsed.error)})`);
  const bundle = parsed.data;

  const material = bundle.verificationMaterial;
  if (material.certificate !== undefined || material.x509CertificateChain !== undefined) {
    return failure(
      input,
      'untrusted-signer',
      'the bundle is signed with a keyless (Fulcio) certificate, and keyless certificates are not trusted here: sign with a key (cosign sign --key)',
    );
  }
  if (material.publicKey === undefined) return invalid('the bundle has no verification material (no public key hint, no certificate)');
  const envelope = bundle.dsseEnvelope;
  if (envelope === undefined) {
    return invalid('the bundle holds no DSSE envelope (a message signature is not how cosign signs images)');
  }
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    return invalid(`the envelope's payload type is "${envelope.payloadType}", not ${IN_TOTO_PAYLOAD_TYPE}`);
  }
  const payload = decodeBase64Strict(envelope.payload, 'any');
  if (payload === null) return invalid('the envelope payload is not valid base64');

  const signer = findSigner(input.trustedKeys, preAuthEncoding(envelope.payloadType, payload), envelope.signatures);
  if (signer === 'malformed') return invalid('a signature of the envelope is not valid base64');
  if (signer === null) return noTrustedSignature(input, bundle);

  // The payload is authentic from here on.
  return checkStatement(input, payload, signer);
}

/** The first trusted key that verifies any of the envelope's signatures; `malformed` when a signature is not base64. */
function findSigner(
  keys: readonly TrustedKey[],
  pae: Uint8Array,
  signatures: ReadonlyArray<{ sig: string }>,
): TrustedKey | null | 'malformed' {
  const decoded = signatures.map((signature) => decodeBase64Strict(signature.sig, 'any'));
  if (decoded.some((signature) => signature === null)) return 'malformed';
  for (const signature of decoded as Uint8Array[]) {
    const key = keys.find((trusted) => verifyWithKey(trusted, pae, signature));
    if (key !== undefined) return key;
  }
  return null;
}

/**
 * No trusted key verifies. The key hints only explain why (they are unauthenticated and never used to accept): a
 * bundle whose hints all name keys that are not trusted was made by another key; otherwise it was altered, or made
 * by a key that does not say which it is.
 */
function noTrustedSignature(input: SigstoreBundleInput, bundle: Bundle): SignatureFinding {
  const hints = [bundle.verificationMaterial.publicKey?.hint, ...(bundle.dsseEnvelope?.signatures ?? []).map((s) => s.keyid)].filter(
    (hint): hint is string => hint !== undefined && hint !== '',
  );
  const keys = input.trustedKeys.length;
  if (hints.length > 0 && !hints.some((hint) => input.trustedKeys.some((key) => hintNamesKey(hint, key)))) {
    return failure(input, 'untrusted-signer', `the bundle was signed by key "${hints[0]}", which is none of the ${keys} trusted keys`);
  }
  return failure(
    input,
    'invalid-signature',
    `the DSSE signature does not verify with any of the ${keys} trusted keys: made by another key, or altered`,
  );
}

/** True when a key hint is a name the key goes by: its id, or the SHA-256 of its SPKI DER in hex or base64 (cosign's hint). */
function hintNamesKey(hint: string, trusted: TrustedKey): boolean {
  const fingerprint = publicKeyFingerprint(trusted.key);
  const hex = fingerprint.slice('sha256:'.length);
  const bytes = Buffer.from(hex, 'hex');
  return [trusted.id, fingerprint, hex, bytes.toString('base64'), bytes.toString('base64url')].includes(hint);
}

function checkStatement(input: SigstoreBundleInput, payload: Uint8Array, signer: TrustedKey): SignatureFinding {
  const { expected } = input;
  const json = parseJson(Buffer.from(payload).toString('utf8'));
  if (!json.ok) return failure(input, 'invalid-signature', `the signed payload is not JSON (${json.reason})`);
  const parsed = statementSchema.safeParse(json.value);
  if (!parsed.success)
    return failure(input, 'invalid-signature', `the signed payload is not an in-toto statement (${describeIssues(parsed.error)})`);
  const statement = parsed.data;
  if (statement.predicateType !== COSIGN_SIGN_PREDICATE_TYPE) {
    return failure(
      input,
      'invalid-signature',
      `the statement is an attestation (predicate type "${statement.predicateType}"), not a cosign signature (${COSIGN_SIGN_PREDICATE_TYPE})`,
    );
  }

  const expectedHex = expected.digest.replace(/^sha256:/, '');
  const forDigest = statement.subject.filter((subject) => subject.digest.sha256 === expectedHex);
  if (forDigest.length === 0) {
    const named = statement.subject.map((subject) =>
      subject.digest.sha256 === undefined ? `${subject.name} (no sha256)` : `sha256:${subject.digest.sha256}`,
    );
    return failure(input, 'digest-mismatch', `the signature vouches for ${named.join(', ')}, but the pushed image is ${expected.digest}`);
  }
  if (!forDigest.some((subject) => referenceNamesRepository(subject.name, expected))) {
    return failure(
      input,
      'identity-mismatch',
      `the signature names the image "${forDigest[0]!.name}", but the image was pushed to ${expected.repositoryUri}`,
    );
  }
  return {
    valid: true,
    evidence: { format: FORMAT, signer: { kind: signer.kind, id: signer.id }, signatureDigest: input.manifestDigest, signedAt: null },
  };
}

/** DSSE's pre-authentication encoding: `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths in bytes. */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

function failure(input: SigstoreBundleInput, code: FailureCode, reason: string): SignatureFinding {
  return failureOf(FORMAT, input.manifestDigest)(code, reason);
}
