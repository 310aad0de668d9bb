/**
 * Whether a Notation signature by AWS Signer can be trusted: its signature verifies with the signing certificate's key,
 * the certificate chain leads to the pinned AWS Signer root, the signing profile is trusted, the times hold, and AWS
 * Signer has not revoked it (`applyRevocation` folds the answer of the revocation call in). Pure: `now` comes in.
 */
import { constants, verify, type KeyObject, type X509Certificate } from 'node:crypto';
import type { RevocationQuery, SignatureFinding } from './findings';
import type { Algorithm, Envelope, Problem, SignedAttributes } from './notation-envelope';
import {
  chainStructureProblem,
  describeCertificate,
  parseCertificateChain,
  revocationCertificateHashes,
  trustedRootOf,
  validityProblem,
} from './x509';

/** The signing platform of AWS Signer's Notation signatures: `platformId` of the revocation query. */
export const AWS_SIGNER_NOTATION_PLATFORM = 'Notation-OCI-SHA384-ECDSA';
/** How far a signing time may lie ahead of the verifier's clock before it is not believed. */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

/** Step 2, integrity: the certificate chain, whose leaf key verifies the signature; otherwise why not. */
export function verifiedChain(envelope: Envelope, algorithm: Algorithm): X509Certificate[] | Problem {
  const chain = parseCertificateChain(envelope.certificates);
  if (typeof chain === 'string') return { code: 'invalid-signature', reason: chain };
  const leaf = chain[0]!;
  const keyProblem = keyMismatch(leaf.publicKey, envelope.alg, algorithm);
  if (keyProblem !== null)
    return { code: 'invalid-signature', reason: `the signing certificate ${describeCertificate(leaf)} ${keyProblem}` };
  if (!signatureVerifies(leaf.publicKey, algorithm, envelope.signedBytes, envelope.signature)) {
    return {
      code: 'invalid-signature',
      reason: `the ${envelope.alg} signature does not verify with the key of the signing certificate ${describeCertificate(leaf)}`,
    };
  }
  return chain;
}

/** Step 3, authenticity: the chain leads to the pinned root, and the signing profile is trusted; the trusted ARN it matches. */
export function trustedSigningProfile(
  chain: X509Certificate[],
  profileVersionArn: string,
  trust: { trustedRoots: readonly X509Certificate[]; signingProfiles: readonly string[] },
): string | Problem {
  const structureProblem = chainStructureProblem(chain);
  if (structureProblem !== null) return { code: 'invalid-signature', reason: structureProblem };
  if (trustedRootOf(chain, trust.trustedRoots) === null) {
    return {
      code: 'untrusted-signer',
      reason: `the certificate chain does not lead to the pinned AWS Signer root (it ends at ${describeCertificate(chain[chain.length - 1]!)})`,
    };
  }
  const trustedProfile = matchTrustedProfile(profileVersionArn, trust.signingProfiles);
  if (trustedProfile === null) {
    return { code: 'untrusted-signer', reason: `signing profile version ${profileVersionArn} is not a trusted signing profile` };
  }
  return trustedProfile;
}

/** Step 4, time: signed when it says, by certificates valid then, and not past the signature's own expiry. */
export function timeProblem(
  chain: X509Certificate[],
  { signedAt, expiry }: Pick<SignedAttributes, 'signedAt' | 'expiry'>,
  now: Date,
): Problem | null {
  if (signedAt.getTime() > now.getTime() + MAX_CLOCK_SKEW_MS) {
    return {
      code: 'invalid-signature',
      reason: `the authentic signing time ${signedAt.toISOString()} is later than now (${now.toISOString()})`,
    };
  }
  const validity = validityProblem(chain, signedAt);
  if (validity !== null) return { code: 'expired', reason: validity };
  if (expiry !== undefined && expiry.getTime() <= now.getTime()) {
    return { code: 'expired', reason: `the signature expired at ${expiry.toISOString()}` };
  }
  return null;
}

/** What AWS Signer's GetRevocationStatus needs to know about the signature; a Problem when the chain cannot be hashed. */
export function revocationQueryOf(chain: X509Certificate[], signed: SignedAttributes): RevocationQuery | Problem {
  const certificateHashes = revocationCertificateHashes(chain);
  if (certificateHashes === null) {
    return { code: 'invalid-signature', reason: 'a certificate of the chain is not DER a TBSCertificate can be read from' };
  }
  return {
    signatureTimestamp: signed.signedAt.toISOString(),
    platformId: AWS_SIGNER_NOTATION_PLATFORM,
    profileVersionArn: signed.profileVersionArn,
    jobArn: signed.jobArn,
    certificateHashes,
  };
}

/**
 * A valid finding turned into a `revoked` one when AWS Signer's GetRevocationStatus named revoked entities (ARNs of the
 * signing job or profile, or certificate hashes). Invalid findings and empty lists pass through unchanged.
 */
export function applyRevocation(finding: SignatureFinding, revokedEntities: readonly string[]): SignatureFinding {
  if (!finding.valid || revokedEntities.length === 0) return finding;
  const arns = revokedEntities.filter((entity) => entity.startsWith('arn'));
  const revoked = arns.length < revokedEntities.length ? [...arns, 'a certificate in its chain'] : arns;
  const by = finding.evidence.signer.detail ?? finding.evidence.signer.id;
  return {
    valid: false,
    code: 'revoked',
    reason: `AWS Signer reports the signature by signing profile ${by} as revoked (${revoked.join(' and ')})`,
    format: finding.evidence.format,
    signatureDigest: finding.evidence.signatureDigest,
  };
}

/**
 * The trusted ARN a signature's profile version ARN matches, as the AWS Signer plugin matches trusted identities
 * (case-insensitively): a profile ARN (`…:/signing-profiles/<name>`, 3 parts split on `/`) matches every version of the
 * profile, a profile version ARN (4 parts) only itself. Null when none matches. The first match in list order wins.
 */
export function matchTrustedProfile(profileVersionArn: string, signingProfiles: readonly string[]): string | null {
  const version = profileVersionArn.toLowerCase();
  const profile = version.slice(0, version.lastIndexOf('/'));
  for (const trusted of signingProfiles) {
    const parts = trusted.split('/').length;
    const candidate = trusted.toLowerCase();
    if ((parts === 3 && candidate === profile) || (parts === 4 && candidate === version)) return trusted;
  }
  return null;
}

/** Why the leaf key cannot have made an `alg` signature (ES384 ⇔ P-384 key, PS* ⇔ RSA ≥ 2048 bits), or null. */
function keyMismatch(key: KeyObject, alg: string, algorithm: Algorithm): string | null {
  const expected = algorithm.key;
  if (expected.type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    return key.asymmetricKeyType === 'ec' && curve === expected.curve
      ? null
      : `has a ${key.asymmetricKeyType ?? 'unknown'}${curve === undefined ? '' : ` ${curve}`} key, not the ${expected.curve} key ${alg} needs`;
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  return key.asymmetricKeyType === 'rsa' && bits >= 2048
    ? null
    : `has a ${key.asymmetricKeyType ?? 'unknown'} key, not the RSA (≥ 2048 bits) key ${alg} needs`;
}

/** ECDSA as r‖s (IEEE P1363), RSA as PSS. Never throws: garbled signature bytes are simply "does not verify". */
function signatureVerifies(key: KeyObject, algorithm: Algorithm, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (algorithm.key.type === 'ec') {
      return signature.length === 2 * algorithm.key.size && verify(algorithm.hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
    }
    return verify(algorithm.hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: algorithm.key.saltLength }, signature);
  } catch {
    return false;
  }
}
