/**
 * Notation signatures made by AWS Signer (incl. ECR managed signing): JWS and COSE_Sign1 envelopes, judged as the Notary
 * Project signature specification and the AWS Signer Notation plugin judge them, short of the revocation call itself
 * (the finding carries the `RevocationQuery` for it; `applyRevocation` folds the answer in). The envelope and its
 * signed attributes are read in notation-envelope.ts; the certificate chain and trust policy are in notation-trust.ts.
 *
 * Pure: no AWS SDK, no clock of its own. Fail closed: every problem with an envelope, however malformed, is a finding,
 * never a thrown error — a hostile envelope can only lead to "do not deploy".
 */
import type { X509Certificate } from 'node:crypto';
import { SIGNATURE_FORMATS } from '../contract/signature';
import { MAX_ENVELOPE_BYTES, NOTATION_COSE_MEDIA_TYPE, NOTATION_JWS_MEDIA_TYPE } from './artifacts';
import { type ExpectedImage, failureOf, type SignatureFinding } from './findings';
import { isProblem, parseEnvelope, readSignedAttributes, targetDigest } from './notation-envelope';
import { revocationQueryOf, timeProblem, trustedSigningProfile, verifiedChain } from './notation-trust';

export interface NotationInput {
  /** The envelope: the bytes of the signature manifest's layer. */
  envelope: Uint8Array;
  /** `application/jose+json` or `application/cose` (NOTATION_JWS_MEDIA_TYPE, NOTATION_COSE_MEDIA_TYPE). */
  mediaType: string;
  /** Digest of the referrer manifest: the signature's identity in evidence and failures. */
  manifestDigest: string;
  /** The pinned AWS Signer root certificate(s). */
  trustedRoots: readonly X509Certificate[];
  /** Trusted signing profile ARNs (`…:/signing-profiles/<name>`) or profile version ARNs (`…/<name>/<version>`). */
  signingProfiles: readonly string[];
  expected: ExpectedImage;
  now: Date;
}

/** One Notation signature, judged. A valid finding carries what AWS Signer's revocation check needs. */
export function verifyNotationSignature(input: NotationInput): SignatureFinding {
  const format = input.mediaType === NOTATION_COSE_MEDIA_TYPE ? SIGNATURE_FORMATS.notationCose : SIGNATURE_FORMATS.notationJws;
  const fail = failureOf(format, input.manifestDigest);
  if (input.mediaType !== NOTATION_JWS_MEDIA_TYPE && input.mediaType !== NOTATION_COSE_MEDIA_TYPE) {
    return fail(
      'invalid-signature',
      `the Notation signature has media type ${input.mediaType}, not ${NOTATION_JWS_MEDIA_TYPE} or ${NOTATION_COSE_MEDIA_TYPE}`,
    );
  }
  if (input.envelope.length > MAX_ENVELOPE_BYTES) {
    return fail('invalid-signature', `the envelope is ${input.envelope.length} bytes, more than ${MAX_ENVELOPE_BYTES}`);
  }
  const envelope = parseEnvelope(input.envelope, format);
  if (typeof envelope === 'string') return fail('invalid-signature', envelope);
  // 1. The signed attributes; 2. integrity; 3. authenticity; 4. time; 5. the payload names the pushed image.
  const signed = readSignedAttributes(envelope, format);
  if (isProblem(signed)) return fail(signed.code, signed.reason);
  const chain = verifiedChain(envelope, signed.algorithm);
  if (isProblem(chain)) return fail(chain.code, chain.reason);
  const trustedProfile = trustedSigningProfile(chain, signed.profileVersionArn, input);
  if (isProblem(trustedProfile)) return fail(trustedProfile.code, trustedProfile.reason);
  const late = timeProblem(chain, signed, input.now);
  if (late !== null) return fail(late.code, late.reason);
  const target = targetDigest(envelope.payload);
  if (target.problem !== undefined) return fail('invalid-signature', target.problem);
  if (target.digest !== input.expected.digest) {
    return fail('digest-mismatch', `the signature is for ${target.digest}, not the pushed image ${input.expected.digest}`);
  }

  const revocation = revocationQueryOf(chain, signed);
  if (isProblem(revocation)) return fail(revocation.code, revocation.reason);
  return {
    valid: true,
    evidence: {
      format,
      signer: { kind: 'signing-profile', id: trustedProfile, detail: signed.profileVersionArn },
      signatureDigest: input.manifestDigest,
      signedAt: signed.signedAt.toISOString(),
    },
    revocation,
  };
}
