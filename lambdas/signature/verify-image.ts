/**
 * The signature gate, shared by the "Verify image signature" step and `model-rollout verify`: reads every signature
 * stored for the pushed digest, judges each with its format's verifier against the trust configuration, and lets
 * decisions/signature-trust.ts decide.
 *
 * Every path that cannot prove `threshold` valid signatures by trusted signers rejects. The only thrown errors are the
 * adapters' (AWS calls that failed): the state machine then rejects the image as `verification-error`.
 */
import type { X509Certificate } from 'node:crypto';
import type { Signing } from '../contract/catalog';
import type { SignatureResult } from '../contract/signature';
import { decideSignature, settleSignature } from '../decisions/signature-trust';
import {
  NOTATION_COSE_MEDIA_TYPE,
  NOTATION_JWS_MEDIA_TYPE,
  NOTATION_SIGNATURE_ARTIFACT_TYPE,
  type ReferrerSignature,
  type SignatureArtifacts,
} from './artifacts';
import { verifyCosignSignature } from './cosign';
import { type ExpectedImage, failureOf, type SignatureFinding } from './findings';
import { type TrustedKey, trustedPublicKey } from './keys';
import { verifyNotationSignature } from './notation';
import { applyRevocation } from './notation-trust';
import type { KeyStore, SignatureRegistry, SigningAuthority } from './ports';
import { verifySigstoreBundle } from './sigstore-bundle';

export interface VerifyImageDependencies {
  registry: SignatureRegistry;
  keyStore: KeyStore;
  signingAuthority: SigningAuthority;
  /** The pinned AWS Signer root certificate(s) Notation signatures must chain to. */
  trustedRoots: readonly X509Certificate[];
  now: () => Date;
}

export interface VerifyImageRequest {
  expected: ExpectedImage;
  signing: Signing;
  /**
   * Until when a missing signature (or ECR managed signing still in progress) is worth waiting for: the result is then
   * `pending` instead of `unsigned`. null: do not wait.
   */
  waitUntil: string | null;
}

/** Until when a signature that has not arrived is waited for: `lateSignatureSeconds` after `since`; null for no wait. */
export function lateSignatureDeadline(since: Date, trust: Pick<Signing, 'lateSignatureSeconds'>): string | null {
  return trust.lateSignatureSeconds === 0 ? null : new Date(since.getTime() + trust.lateSignatureSeconds * 1000).toISOString();
}

export async function verifyImage(deps: VerifyImageDependencies, request: VerifyImageRequest): Promise<SignatureResult> {
  const { expected, signing: trust } = request;
  // When it looked: before reading ECR, so that a signature pushed during the reads counts as pushed after the look
  // (the wait for a late signature answers at once a wait whose look came before a push it was told of).
  const lookedAt = deps.now();
  const { keys, problems } = await loadTrustedKeys(deps.keyStore, trust);
  const artifacts = await deps.registry.readSignatureArtifacts(expected.repositoryName, expected.digest, {
    signingStatus: trust.signingProfiles.length > 0,
  });
  const now = deps.now();
  const findings = await Promise.all(
    judgeArtifacts(artifacts, { keys, trust, expected, trustedRoots: deps.trustedRoots, now }).map((finding) =>
      withRevocationChecked(deps.signingAuthority, finding),
    ),
  );
  const result = decideSignature({ expected, findings, threshold: trust.threshold, checkedAt: lookedAt.toISOString() });
  return settleSignature({
    result,
    expected,
    findingCount: findings.length,
    signingInProgress: artifacts.signingInProgress,
    waitUntil: request.waitUntil,
    now,
    configurationProblems: problems,
  });
}

/** The configured PEM keys and KMS keys, parsed; an unusable one is reported, not fatal, so the others still verify. */
async function loadTrustedKeys(
  keyStore: VerifyImageDependencies['keyStore'],
  trust: Signing,
): Promise<{ keys: TrustedKey[]; problems: string[] }> {
  const keys: TrustedKey[] = [];
  const problems: string[] = [];
  trust.publicKeys.forEach((pem, index) => {
    const key = trustedPublicKey(pem);
    if (typeof key === 'string') problems.push(`public key ${index + 1} ${key}`);
    else keys.push(key);
  });
  for (const keyId of trust.kmsKeys) {
    const key = await keyStore.trustedKmsKey(keyId);
    if (typeof key === 'string') problems.push(`KMS key ${keyId} ${key}`);
    else keys.push(key);
  }
  return { keys, problems };
}

interface JudgeContext {
  keys: TrustedKey[];
  trust: Signing;
  expected: ExpectedImage;
  trustedRoots: readonly X509Certificate[];
  now: Date;
}

/** One finding per signature, whatever its format. */
function judgeArtifacts(artifacts: SignatureArtifacts, context: JudgeContext): SignatureFinding[] {
  const { keys, expected } = context;
  const cosign = artifacts.cosign === null ? [] : verifyCosignSignature({ ...artifacts.cosign, trustedKeys: keys, expected });
  const unreadable = artifacts.unreadable.map((referrer) => {
    const format = referrer.artifactType === NOTATION_SIGNATURE_ARTIFACT_TYPE ? 'notation-jws' : 'sigstore-bundle';
    return failureOf(format, referrer.manifestDigest)('invalid-signature', referrer.problem);
  });
  return [...cosign, ...artifacts.referrers.map((referrer) => judgeReferrer(referrer, context)), ...unreadable];
}

function judgeReferrer(referrer: ReferrerSignature, { keys, trust, expected, trustedRoots, now }: JudgeContext): SignatureFinding {
  if (referrer.artifactType !== NOTATION_SIGNATURE_ARTIFACT_TYPE) {
    return verifySigstoreBundle({ bundle: referrer.envelope, manifestDigest: referrer.manifestDigest, trustedKeys: keys, expected });
  }
  if (referrer.mediaType !== NOTATION_JWS_MEDIA_TYPE && referrer.mediaType !== NOTATION_COSE_MEDIA_TYPE) {
    return failureOf('notation-jws', referrer.manifestDigest)(
      'invalid-signature',
      `the Notation signature layer has media type "${referrer.mediaType}", not ${NOTATION_JWS_MEDIA_TYPE} or ${NOTATION_COSE_MEDIA_TYPE}`,
    );
  }
  return verifyNotationSignature({
    envelope: referrer.envelope,
    mediaType: referrer.mediaType,
    manifestDigest: referrer.manifestDigest,
    trustedRoots,
    signingProfiles: trust.signingProfiles,
    expected,
    now,
  });
}

/** A valid AWS Signer signature counts only once Signer says neither it, its profile nor its certificates are revoked. */
async function withRevocationChecked(
  signingAuthority: VerifyImageDependencies['signingAuthority'],
  finding: SignatureFinding,
): Promise<SignatureFinding> {
  if (!finding.valid || finding.revocation === undefined) return finding;
  return applyRevocation(finding, await signingAuthority.revokedEntities(finding.revocation));
}
