/** The signature vocabulary: formats, signers, rejection codes, and what "Verify image signature" returns. */

/** How a signature was stored and what it is made of. */
export const SIGNATURE_FORMATS = {
  /** cosign key signature, legacy layout: `sha256-<hex>.sig` tag holding simple-signing payloads. */
  cosign: 'cosign-simple-signing',
  /** cosign v3 / Sigstore bundle (DSSE envelope over an in-toto statement), an OCI 1.1 referrer of the image. */
  sigstoreBundle: 'sigstore-bundle',
  /** Notation signature (AWS Signer, incl. ECR managed signing), JWS envelope, an OCI 1.1 referrer. */
  notationJws: 'notation-jws',
  /** Notation signature, COSE_Sign1 envelope. */
  notationCose: 'notation-cose',
} as const;
export type SignatureFormat = (typeof SIGNATURE_FORMATS)[keyof typeof SIGNATURE_FORMATS];

/** The kinds of trusted signer, as evidence names them. */
export type SignerKind = 'public-key' | 'kms-key' | 'signing-profile';

/** Why an image was trusted: one entry per valid signature by a distinct trusted signer. */
export interface SignatureEvidence {
  format: SignatureFormat;
  signer: {
    kind: SignerKind;
    /** public-key: `sha256:<hex>` of the key's SPKI DER; kms-key: the key ARN; signing-profile: the profile ARN trusted. */
    id: string;
    /** Extra detail where the format has it (Notation: the signing profile version ARN and signing job ARN). */
    detail?: string;
  };
  /** Digest of the signature artifact (the signature manifest / referrer manifest), so it can be found in ECR. */
  signatureDigest: string;
  /** When the signature says it was made (Notation's authentic signing time); null where the format does not say. */
  signedAt: string | null;
}

/** Why an image is rejected; the same words `model-rollout verify` prints. */
export const REJECTION_CODES = [
  'unsigned',
  'untrusted-signer',
  'invalid-signature',
  'digest-mismatch',
  'identity-mismatch',
  'revoked',
  'expired',
] as const;
export type RejectionCode = (typeof REJECTION_CODES)[number];

export type SignatureCode =
  | 'verified'
  /** No signature yet, but the wait for a late signature (or for ECR managed signing) has not run out. */
  | 'pending'
  | RejectionCode
  /** Set by the state machine when the verify step itself failed: nothing was proven, so the image is rejected. */
  | 'verification-error';

/** Output of "Verify image signature" (at `$.signature`). */
export interface SignatureResult {
  verdict: 'verified' | 'rejected' | 'pending';
  code: SignatureCode;
  /** One sentence an operator can act on. */
  reason: string;
  /** The digest that was verified: always the pushed digest. */
  digest: string;
  /** The valid signatures by distinct trusted signers that were counted (verified: at least `threshold`). */
  evidence: SignatureEvidence[];
  checkedAt: string;
  /** pending only: when the wait for a signature ends (then the image is rejected as unsigned). */
  waitUntil: string | null;
}
