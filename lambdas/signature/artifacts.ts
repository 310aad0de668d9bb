/**
 * What the registry hands the signature verifiers: every signature stored for one image digest, as raw bytes.
 * The registry adapter reads these; the format verifiers judge them. Neither trusts the other's parsing.
 */

/** cosign v3 writes Sigstore bundles as referrers with this artifact type (and layer media type). */
export const SIGSTORE_BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** Older cosign releases spell the bundle media type with a parameter. */
export const SIGSTORE_BUNDLE_MEDIA_TYPE_PARAMETERISED = 'application/vnd.dev.sigstore.bundle+json;version=0.3';
/** Notation (and ECR managed signing, AWS Signer) signatures have this artifact type. */
export const NOTATION_SIGNATURE_ARTIFACT_TYPE = 'application/vnd.cncf.notary.signature';
export const NOTATION_JWS_MEDIA_TYPE = 'application/jose+json';
export const NOTATION_COSE_MEDIA_TYPE = 'application/cose';
/** The referrer artifact types that hold signatures; other referrers (SBOMs, attestations) are not read. */
export const SIGNATURE_ARTIFACT_TYPES = [
  SIGSTORE_BUNDLE_MEDIA_TYPE,
  SIGSTORE_BUNDLE_MEDIA_TYPE_PARAMETERISED,
  NOTATION_SIGNATURE_ARTIFACT_TYPE,
] as const;
/** A signature envelope with its certificate chain is a few kilobytes; anything far larger is not downloaded. */
export const MAX_ENVELOPE_BYTES = 256 * 1024;

/** The cosign legacy layout: the `sha256-<hex>.sig` manifest and the simple-signing payloads it points to. */
export interface CosignSignatureBlobs {
  /** The signature manifest, as ECR returned it. */
  manifest: string;
  /** One entry per manifest layer worth verifying, in manifest order. */
  layers: { digest: string; payload: Uint8Array; signatureBase64: string }[];
}

/** A signature stored as an OCI 1.1 referrer of the image (Sigstore bundle or Notation signature). */
export interface ReferrerSignature {
  /** One of SIGNATURE_ARTIFACT_TYPES. */
  artifactType: string;
  /** Digest of the referrer manifest: the signature's identity in ECR and in the evidence. */
  manifestDigest: string;
  /** Media type of the layer holding the envelope: a bundle, `application/jose+json` or `application/cose`. */
  mediaType: string;
  /** The envelope bytes, downloaded from that layer. */
  envelope: Uint8Array;
}

/** A signature referrer whose manifest could not be used (wrong shape, no layer, too large): it cannot verify. */
export interface UnreadableReferrer {
  artifactType: string;
  manifestDigest: string;
  problem: string;
}

/** Everything stored for one image digest that may be a signature. */
export interface SignatureArtifacts {
  /** The legacy `sha256-<hex>.sig` signature, or null when there is no such tag. */
  cosign: CosignSignatureBlobs | null;
  referrers: ReferrerSignature[];
  unreadable: UnreadableReferrer[];
  /** True while ECR managed signing reports IN_PROGRESS for this image (asked only when signing profiles are trusted). */
  signingInProgress: boolean;
}
