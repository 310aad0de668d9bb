/**
 * The signature trust decision: all findings for an image (what each format's verifier said about one signature) turned
 * into its SignatureResult, and whether a signature still missing is worth waiting for. Pure: the clock comes in as
 * `checkedAt` and `now`; lambdas/signature/ reads and verifies the signatures.
 *
 * Fail closed: only a finding a verifier marked valid can count, and only `threshold` distinct trusted signers verify.
 */
import type { SignatureEvidence, SignatureResult } from '../contract/signature';
import type { ExpectedImage, FailureCode, SignatureFinding } from '../signature/findings';

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

export interface SignatureWaitInput {
  /** The verdict from the findings (decideSignature). */
  result: SignatureResult;
  expected: ExpectedImage;
  /** How many signatures were found, valid or not. */
  findingCount: number;
  /** Whether ECR managed signing is still signing the image. */
  signingInProgress: boolean;
  /** Until when a missing signature is worth waiting for; null: do not wait. */
  waitUntil: string | null;
  now: Date;
  /** Trust entries that could not be used (unparseable keys, unusable KMS keys). */
  configurationProblems: readonly string[];
}

/**
 * A verdict that is not `verified`: `pending` while a signature may still arrive (none found yet, or ECR still signing)
 * and the wait has not run out; otherwise the rejection, with how to sign an unsigned image and any unusable trust
 * entries (which matter to the operator only when they may be why nothing verified).
 */
export function settleSignature({
  result,
  expected,
  findingCount,
  signingInProgress,
  waitUntil,
  now,
  configurationProblems,
}: SignatureWaitInput): SignatureResult {
  if (result.verdict === 'verified') return result;
  const stillArriving = findingCount === 0 || signingInProgress;
  if (stillArriving && waitUntil !== null && now < new Date(waitUntil)) {
    const waitingFor = signingInProgress ? 'ECR managed signing is still in progress' : 'no signature has arrived yet';
    return { ...result, verdict: 'pending', code: 'pending', waitUntil, reason: `${waitingFor}; waiting until ${waitUntil}.` };
  }
  const signingNote = signingInProgress && findingCount === 0 ? ' ECR managed signing was still in progress.' : '';
  const howToSign =
    result.code === 'unsigned'
      ? ` Sign the pushed digest (never a tag), e.g. cosign sign --key <trusted-key> ${expected.repositoryUri}@${expected.digest}, ` +
        'or notation sign with a trusted AWS Signer profile, then push again.'
      : '';
  const configurationNote = configurationProblems.length > 0 ? ` (Configuration: ${configurationProblems.join('; ')}.)` : '';
  return { ...result, reason: `${result.reason}${signingNote}${howToSign}${configurationNote}` };
}
