/**
 * What each format's verifier says about one signature (a finding). decisions/signature-trust.ts turns all findings for
 * an image into its SignatureResult.
 */
import type { RejectionCode, SignatureEvidence, SignatureFormat } from '../contract/signature';

/** The image a signature must name: the pushed digest, in the repository it was pushed to. */
export interface ExpectedImage {
  /** `sha256:<hex>` */
  digest: string;
  /** e.g. `models/sentiment` */
  repositoryName: string;
  /** e.g. `123456789012.dkr.ecr.us-east-1.amazonaws.com/models/sentiment` */
  repositoryUri: string;
}

/** What `signer:GetRevocationStatus` needs to say whether a Notation signature by AWS Signer was revoked. */
export interface RevocationQuery {
  /** ISO time: the signature's authentic signing time. */
  signatureTimestamp: string;
  platformId: string;
  profileVersionArn: string;
  jobArn: string;
  /** Per certificate, leaf first: hex SHA-384 of its TBSCertificate followed by its issuer's (the root: its own twice). */
  certificateHashes: string[];
}

export type FailureCode = Exclude<RejectionCode, 'unsigned'>;

/** One signature, judged. A valid finding may still need its revocation checked (Notation by AWS Signer). */
export type SignatureFinding =
  | { valid: true; evidence: SignatureEvidence; revocation?: RevocationQuery }
  | { valid: false; code: FailureCode; reason: string; format: SignatureFormat; signatureDigest: string };

/** Makes the failed findings of one signature, whose format and digest are fixed; the code and reason vary. */
export function failureOf(format: SignatureFormat, signatureDigest: string): (code: FailureCode, reason: string) => SignatureFinding {
  return (code, reason) => ({ valid: false, code, reason, format, signatureDigest });
}

/**
 * True when an image reference a signature names (cosign's `docker-reference`, an in-toto subject name) is the
 * expected repository: `<registry>/<repository>` or the bare repository name, with any `:tag` or `@digest` ignored.
 */
export function referenceNamesRepository(reference: string, expected: Pick<ExpectedImage, 'repositoryName' | 'repositoryUri'>): boolean {
  const withoutDigest = reference.split('@')[0]!;
  // A colon after the last slash is a tag; one before it belongs to a registry port.
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  const name = colon === -1 ? withoutDigest : withoutDigest.slice(0, colon);
  return name === expected.repositoryUri || name === expected.repositoryName;
}
