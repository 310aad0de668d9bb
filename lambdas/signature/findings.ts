/**
 * What each format's verifier says about one signature (a finding), and the one decision that turns all findings for an
 * image into its SignatureResult. Pure: the clock comes in as `checkedAt`.
 *
 * Fail closed: only a finding a verifier marked valid can count, and only `threshold` distinct trusted signers verify.
 */
import type { RejectionCode, SignatureEvidence, SignatureFormat, SignatureResult } from '../contract/signature';

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
 * When no trusted signer's signature is valid, the most telling failure explains the rejection: a trusted signature
 * that was revoked or expired, or that names another image, says more than one that does not verify at all.
 */
const FAILURE_PRECEDENCE: readonly FailureCode[] = [
  'revoked',
  'expired',
  'digest-mismatch',
  'identity-mismatch',
  'invalid-signature',
  'untrusted-signer',
];

export interface DecideInput {
  expected: ExpectedImage;
  findings: readonly SignatureFinding[];
  /** Distinct trusted signers required. */
  threshold: number;
  /** ISO time the decision is made. */
  checkedAt: string;
}

/** The verdict for an image from all its signatures' findings. No findings at all: `unsigned`. */
export function decideSignature({ expected, findings, threshold, checkedAt }: DecideInput): SignatureResult {
  const base = { digest: expected.digest, checkedAt, waitUntil: null };
  const evidence = distinctSigners(findings.flatMap((f) => (f.valid ? [f.evidence] : [])));

  if (evidence.length >= threshold) {
    const signers = evidence.map(describeEvidence).join('; ');
    return { ...base, verdict: 'verified', code: 'verified', evidence, reason: `Verified ${expected.digest}: ${signers}.` };
  }
  if (findings.length === 0) {
    return {
      ...base,
      verdict: 'rejected',
      code: 'unsigned',
      evidence: [],
      reason: `${expected.repositoryUri}@${expected.digest} has no signature (no cosign signature tag and no signature referrer).`,
    };
  }
  if (evidence.length > 0) {
    return {
      ...base,
      verdict: 'rejected',
      code: 'untrusted-signer',
      evidence: [],
      reason:
        `Only ${evidence.length} of the ${threshold} distinct trusted signers required have signed ` +
        `(${evidence.map(describeEvidence).join('; ')}).`,
    };
  }

  const failures = findings.filter((f): f is Extract<SignatureFinding, { valid: false }> => !f.valid);
  const decisive = [...failures].sort((a, b) => FAILURE_PRECEDENCE.indexOf(a.code) - FAILURE_PRECEDENCE.indexOf(b.code))[0]!;
  const reason =
    failures.length === 1
      ? `The signature was rejected: ${decisive.reason}.`
      : `None of the ${failures.length} signatures is valid: ` +
        `${failures.map((f, i) => `${i + 1}. ${f.format} ${f.signatureDigest}: ${f.reason}`).join('; ')}.`;
  return { ...base, verdict: 'rejected', code: decisive.code, evidence: [], reason };
}

/** One piece of evidence per signer: the same key signing twice (two formats, or re-signing) counts once. */
function distinctSigners(evidence: readonly SignatureEvidence[]): SignatureEvidence[] {
  const seen = new Map<string, SignatureEvidence>();
  for (const item of evidence) {
    const signer = `${item.signer.kind}:${item.signer.id}`;
    if (!seen.has(signer)) seen.set(signer, item);
  }
  return [...seen.values()];
}

/** e.g. `notation-cose signature sha256:… by signing profile arn:aws:signer:…`. */
export function describeEvidence(evidence: SignatureEvidence): string {
  const signer = { 'public-key': 'public key', 'kms-key': 'KMS key', 'signing-profile': 'signing profile' }[evidence.signer.kind];
  const signedAt = evidence.signedAt === null ? '' : ` at ${evidence.signedAt}`;
  return `${evidence.format} signature ${evidence.signatureDigest} by ${signer} ${evidence.signer.id}${signedAt}`;
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
