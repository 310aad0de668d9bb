/**
 * Notation signatures made by AWS Signer (incl. ECR managed signing): JWS and COSE_Sign1 envelopes, judged as the Notary
 * Project signature specification and the AWS Signer Notation plugin judge them, short of the revocation call itself
 * (the finding carries the `RevocationQuery` for it; `applyRevocation` folds the answer in).
 *
 * Pure: no AWS SDK, no clock of its own. Fail closed: every problem with an envelope, however malformed, is a finding,
 * never a thrown error — a hostile envelope can only lead to "do not deploy".
 */
import { constants, verify, type KeyObject, type X509Certificate } from 'node:crypto';
import { decode, encode, Tag } from 'cbor2';
import { SIGNATURE_FORMATS, type SignatureFormat } from '../contract/signature';
import { MAX_ENVELOPE_BYTES, NOTATION_COSE_MEDIA_TYPE, NOTATION_JWS_MEDIA_TYPE } from './artifacts';
import { parseJsonUtf8 } from './encoding';
import { type ExpectedImage, failureOf, type RevocationQuery, type SignatureFinding } from './findings';
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
/** The plugin AWS Signer names in every signature it makes (`io.cncf.notary.verificationPlugin`). */
export const AWS_SIGNER_NOTATION_PLUGIN = 'com.amazonaws.signer.notation.plugin';
/** The signing scheme of a signing authority that vouches for the signing time: the only one AWS Signer uses. */
export const SIGNING_AUTHORITY_SCHEME = 'notary.x509.signingAuthority';
export const NOTATION_PAYLOAD_CONTENT_TYPE = 'application/vnd.cncf.notary.payload.v1+json';
/** How far a signing time may lie ahead of the verifier's clock before it is not believed. */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

/** Signed attributes (JWS protected header keys, COSE protected header string labels). */
const HEADER = {
  signingScheme: 'io.cncf.notary.signingScheme',
  signingTime: 'io.cncf.notary.signingTime',
  authenticSigningTime: 'io.cncf.notary.authenticSigningTime',
  expiry: 'io.cncf.notary.expiry',
  verificationPlugin: 'io.cncf.notary.verificationPlugin',
  verificationPluginMinVersion: 'io.cncf.notary.verificationPluginMinVersion',
  signingProfileVersion: 'com.amazonaws.signer.signingProfileVersion',
  signingJob: 'com.amazonaws.signer.signingJob',
} as const;
/** Headers that must be listed in `crit` whenever they are present. */
const MUST_BE_CRITICAL: readonly string[] = [
  HEADER.signingScheme,
  HEADER.authenticSigningTime,
  HEADER.expiry,
  HEADER.verificationPlugin,
  HEADER.verificationPluginMinVersion,
];
/** Headers this verifier understands, so may be critical. Any other critical header fails the signature. */
const KNOWN_CRITICAL: ReadonlySet<string> = new Set(Object.values(HEADER));

interface Algorithm {
  hash: 'sha256' | 'sha384' | 'sha512';
  /** EC: the curve the leaf key must be on and the size of r and s; RSA: PSS with a salt as long as the hash. */
  key: { type: 'ec'; curve: string; size: number } | { type: 'rsa'; saltLength: number };
}
const ALGORITHMS: Record<string, Algorithm> = {
  ES256: { hash: 'sha256', key: { type: 'ec', curve: 'prime256v1', size: 32 } },
  ES384: { hash: 'sha384', key: { type: 'ec', curve: 'secp384r1', size: 48 } },
  ES512: { hash: 'sha512', key: { type: 'ec', curve: 'secp521r1', size: 66 } },
  PS256: { hash: 'sha256', key: { type: 'rsa', saltLength: 32 } },
  PS384: { hash: 'sha384', key: { type: 'rsa', saltLength: 48 } },
  PS512: { hash: 'sha512', key: { type: 'rsa', saltLength: 64 } },
};
/** COSE algorithm identifiers (RFC 9053 / RFC 8230) → the JOSE names above. */
const COSE_ALGORITHMS: ReadonlyMap<number, string> = new Map([
  [-7, 'ES256'],
  [-35, 'ES384'],
  [-36, 'ES512'],
  [-37, 'PS256'],
  [-38, 'PS384'],
  [-39, 'PS512'],
]);
const COSE_LABEL = { alg: 1, crit: 2, contentType: 3, x5chain: 33 } as const;

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

/** An envelope taken apart, JWS or COSE alike. Values are as found: nothing here is checked yet except the shape. */
interface Envelope {
  alg: string;
  crit: unknown;
  contentType: unknown;
  /** The signed attributes with string names (`io.cncf.notary.*`, `com.amazonaws.signer.*`). */
  attributes: ReadonlyMap<string, unknown>;
  /** The signed bytes: JWS signing input or COSE Sig_structure. */
  signedBytes: Uint8Array;
  signature: Uint8Array;
  payload: Uint8Array;
  certificates: Uint8Array[];
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
  const envelope = format === SIGNATURE_FORMATS.notationCose ? parseCose(input.envelope) : parseJws(input.envelope);
  if (typeof envelope === 'string') return fail('invalid-signature', envelope);

  // 1. The signed attributes: well-formed, critical where they must be, and from AWS Signer.
  const algorithm = ALGORITHMS[envelope.alg];
  if (algorithm === undefined) return fail('invalid-signature', `the signature algorithm ${envelope.alg} is not one Notation allows`);
  if (envelope.contentType !== NOTATION_PAYLOAD_CONTENT_TYPE) {
    return fail('invalid-signature', `the payload content type is ${show(envelope.contentType)}, not ${NOTATION_PAYLOAD_CONTENT_TYPE}`);
  }
  const critProblem = criticalHeadersProblem(envelope);
  if (critProblem !== null) return fail('invalid-signature', critProblem);
  const { attributes } = envelope;
  const scheme = attributes.get(HEADER.signingScheme);
  if (typeof scheme !== 'string') return fail('invalid-signature', `the signed attribute ${HEADER.signingScheme} is missing`);
  if (scheme !== SIGNING_AUTHORITY_SCHEME) {
    return fail('untrusted-signer', `the signing scheme is ${scheme}, not AWS Signer's ${SIGNING_AUTHORITY_SCHEME}`);
  }
  const signedAt = readTime(attributes.get(HEADER.authenticSigningTime), format);
  if (signedAt === null) {
    return fail(
      'invalid-signature',
      `the signed attribute ${HEADER.authenticSigningTime} is ${show(attributes.get(HEADER.authenticSigningTime))}, not a time`,
    );
  }
  const expiryValue = attributes.get(HEADER.expiry);
  const expiry = expiryValue === undefined ? undefined : readTime(expiryValue, format);
  if (expiry === null) return fail('invalid-signature', `the signed attribute ${HEADER.expiry} is ${show(expiryValue)}, not a time`);
  const plugin = attributes.get(HEADER.verificationPlugin);
  if (plugin !== AWS_SIGNER_NOTATION_PLUGIN) {
    return fail(
      'untrusted-signer',
      `the signature names verification plugin ${show(plugin)}, not AWS Signer's ${AWS_SIGNER_NOTATION_PLUGIN}`,
    );
  }
  const profileVersionArn = attributes.get(HEADER.signingProfileVersion);
  if (typeof profileVersionArn !== 'string' || !PROFILE_VERSION_ARN.test(profileVersionArn)) {
    return fail(
      'invalid-signature',
      `the signed attribute ${HEADER.signingProfileVersion} is ${show(profileVersionArn)}, not a signing profile version ARN`,
    );
  }
  const jobArn = attributes.get(HEADER.signingJob);
  if (typeof jobArn !== 'string' || !SIGNING_JOB_ARN.test(jobArn)) {
    return fail('invalid-signature', `the signed attribute ${HEADER.signingJob} is ${show(jobArn)}, not a signing job ARN`);
  }

  // 2. Integrity: the signature verifies with the signing certificate's key.
  const chain = parseCertificateChain(envelope.certificates);
  if (typeof chain === 'string') return fail('invalid-signature', chain);
  const leaf = chain[0]!;
  const keyProblem = keyMismatch(leaf.publicKey, envelope.alg, algorithm);
  if (keyProblem !== null) return fail('invalid-signature', `the signing certificate ${describeCertificate(leaf)} ${keyProblem}`);
  if (!signatureVerifies(leaf.publicKey, algorithm, envelope.signedBytes, envelope.signature)) {
    return fail(
      'invalid-signature',
      `the ${envelope.alg} signature does not verify with the key of the signing certificate ${describeCertificate(leaf)}`,
    );
  }

  // 3. Authenticity: the chain leads to the pinned root, and the signing profile is trusted.
  const structureProblem = chainStructureProblem(chain);
  if (structureProblem !== null) return fail('invalid-signature', structureProblem);
  if (trustedRootOf(chain, input.trustedRoots) === null) {
    return fail(
      'untrusted-signer',
      `the certificate chain does not lead to the pinned AWS Signer root (it ends at ${describeCertificate(chain[chain.length - 1]!)})`,
    );
  }
  const trustedProfile = matchTrustedProfile(profileVersionArn, input.signingProfiles);
  if (trustedProfile === null) {
    return fail('untrusted-signer', `signing profile version ${profileVersionArn} is not a trusted signing profile`);
  }

  // 4. Time: signed when it says, by certificates valid then, and not past the signature's own expiry.
  if (signedAt.getTime() > input.now.getTime() + MAX_CLOCK_SKEW_MS) {
    return fail('invalid-signature', `the authentic signing time ${signedAt.toISOString()} is later than now (${input.now.toISOString()})`);
  }
  const validity = validityProblem(chain, signedAt);
  if (validity !== null) return fail('expired', validity);
  if (expiry !== undefined && expiry.getTime() <= input.now.getTime()) {
    return fail('expired', `the signature expired at ${expiry.toISOString()}`);
  }

  // 5. The payload names the pushed image.
  const target = targetDigest(envelope.payload);
  if (target.problem !== undefined) return fail('invalid-signature', target.problem);
  if (target.digest !== input.expected.digest) {
    return fail('digest-mismatch', `the signature is for ${target.digest}, not the pushed image ${input.expected.digest}`);
  }

  const certificateHashes = revocationCertificateHashes(chain);
  if (certificateHashes === null)
    return fail('invalid-signature', 'a certificate of the chain is not DER a TBSCertificate can be read from');
  const revocation: RevocationQuery = {
    signatureTimestamp: signedAt.toISOString(),
    platformId: AWS_SIGNER_NOTATION_PLATFORM,
    profileVersionArn,
    jobArn,
    certificateHashes,
  };
  return {
    valid: true,
    evidence: {
      format,
      signer: { kind: 'signing-profile', id: trustedProfile, detail: profileVersionArn },
      signatureDigest: input.manifestDigest,
      signedAt: signedAt.toISOString(),
    },
    revocation,
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

const PROFILE_VERSION_ARN = /^arn:aws[a-z-]*:signer:[a-z0-9-]+:\d{12}:\/signing-profiles\/[^/\s]+\/[^/\s]+$/;
const SIGNING_JOB_ARN = /^arn:aws[a-z-]*:signer:[a-z0-9-]+:\d{12}:\/signing-jobs\/[^/\s]+$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** A flattened JWS JSON serialization (`{payload, protected, header: {x5c}, signature}`), or why it is not one. */
function parseJws(bytes: Uint8Array): Envelope | string {
  const json = parseJsonUtf8(bytes);
  if (!json.ok) return 'the JWS envelope is not JSON';
  if (!isRecord(json.value)) return 'the JWS envelope is not a JSON object';
  const { payload, protected: protectedB64, header, signature } = json.value;
  for (const [name, value] of [
    ['payload', payload],
    ['protected', protectedB64],
    ['signature', signature],
  ] as const) {
    if (typeof value !== 'string' || !BASE64URL.test(value)) return `the JWS ${name} is ${show(value)}, not base64url`;
  }
  if (!isRecord(header)) return 'the JWS envelope has no unprotected header';
  const x5c = header.x5c;
  if (!Array.isArray(x5c) || x5c.length === 0) return 'the JWS unprotected header has no x5c certificate chain';
  if (!x5c.every((entry): entry is string => typeof entry === 'string' && BASE64.test(entry))) {
    return 'the JWS x5c certificate chain is not a list of base64 certificates';
  }
  const protectedHeader = parseJsonUtf8(Buffer.from(protectedB64 as string, 'base64url'));
  if (!protectedHeader.ok) return 'the JWS protected header is not JSON';
  if (!isRecord(protectedHeader.value)) return 'the JWS protected header is not a JSON object';
  const { alg, crit, cty, ...rest } = protectedHeader.value;
  if (typeof alg !== 'string') return `the JWS protected header has alg ${show(alg)}, not an algorithm name`;
  return {
    alg,
    crit,
    contentType: cty,
    attributes: new Map(Object.entries(rest)),
    signedBytes: Buffer.from(`${protectedB64 as string}.${payload as string}`, 'ascii'),
    signature: Buffer.from(signature as string, 'base64url'),
    payload: Buffer.from(payload as string, 'base64url'),
    certificates: x5c.map((entry) => Buffer.from(entry, 'base64')),
  };
}

/** A COSE_Sign1 (tag 18 or untagged) `[protected, unprotected, payload, signature]`, or why it is not one. */
function parseCose(bytes: Uint8Array): Envelope | string {
  const options = { preferMap: true, rejectDuplicateKeys: true, maxDepth: 32 };
  let decoded: unknown;
  try {
    decoded = decode(bytes, options);
  } catch {
    return 'the COSE envelope is not CBOR';
  }
  if (decoded instanceof Tag) {
    if (decoded.tag !== 18) return `the COSE envelope has CBOR tag ${String(decoded.tag)}, not 18 (COSE_Sign1)`;
    decoded = decoded.contents;
  }
  if (!Array.isArray(decoded) || decoded.length !== 4) return 'the COSE envelope is not a COSE_Sign1 array of 4 items';
  const [protectedBytes, unprotected, payload, signature] = decoded as unknown[];
  if (!(protectedBytes instanceof Uint8Array)) return 'the COSE protected header is not a byte string';
  if (!(unprotected instanceof Map)) return 'the COSE unprotected header is not a map';
  if (!(payload instanceof Uint8Array)) return 'the COSE payload is not an attached byte string';
  if (!(signature instanceof Uint8Array)) return 'the COSE signature is not a byte string';

  let headers: unknown;
  try {
    headers = protectedBytes.length === 0 ? new Map() : decode(protectedBytes, options);
  } catch {
    return 'the COSE protected header is not CBOR';
  }
  if (!(headers instanceof Map)) return 'the COSE protected header is not a map';
  const algId = headers.get(COSE_LABEL.alg);
  const alg = typeof algId === 'number' ? COSE_ALGORITHMS.get(algId) : undefined;
  if (alg === undefined) return `the COSE protected header has alg ${show(algId)}, not one Notation allows`;
  const attributes = new Map<string, unknown>();
  for (const [label, value] of headers) {
    if (typeof label === 'string') attributes.set(label, value);
  }

  const x5chain = unprotected.get(COSE_LABEL.x5chain);
  const certificates = x5chain instanceof Uint8Array ? [x5chain] : x5chain;
  if (!Array.isArray(certificates) || certificates.length === 0) return 'the COSE unprotected header has no x5chain certificate chain';
  if (!certificates.every((cert): cert is Uint8Array => cert instanceof Uint8Array)) {
    return 'the COSE x5chain is not a list of DER certificates';
  }
  // Sig_structure: the protected header exactly as sent, no external data, the payload.
  const crit = headers.get(COSE_LABEL.crit);
  return {
    alg,
    crit: Array.isArray(crit) ? crit.map((label: unknown) => (typeof label === 'string' ? label : `label ${show(label)}`)) : crit,
    contentType: headers.get(COSE_LABEL.contentType),
    attributes,
    signedBytes: encode(['Signature1', new Uint8Array(protectedBytes), new Uint8Array(0), new Uint8Array(payload)]),
    signature: new Uint8Array(signature),
    payload: new Uint8Array(payload),
    certificates: certificates.map((cert) => new Uint8Array(cert)),
  };
}

/**
 * Why the `crit` list is wrong, or null: a non-empty list of distinct names, each one this verifier understands and the
 * envelope contains, and naming every Notation header that must be critical.
 */
function criticalHeadersProblem({ crit, attributes }: Envelope): string | null {
  if (!Array.isArray(crit) || crit.length === 0 || !crit.every((name): name is string => typeof name === 'string')) {
    return `the critical header list (crit) is ${show(crit)}, not a list of header names`;
  }
  if (new Set(crit).size !== crit.length) return `the critical header list (crit) repeats a name: ${crit.join(', ')}`;
  for (const name of crit) {
    if (!KNOWN_CRITICAL.has(name)) return `the critical header ${name} is not one this verifier understands`;
    if (!attributes.has(name)) return `the critical header ${name} is listed in crit but missing`;
  }
  for (const name of MUST_BE_CRITICAL) {
    if (attributes.has(name) && !crit.includes(name)) return `the header ${name} is not marked critical`;
  }
  return null;
}

/** A signed time: RFC 3339 text in JWS, a CBOR epoch-time (tag 1, decoded as a Date) in COSE. Null when it is neither. */
function readTime(value: unknown, format: SignatureFormat): Date | null {
  let time: Date | null = null;
  if (format === SIGNATURE_FORMATS.notationCose && value instanceof Date) time = value;
  if (format === SIGNATURE_FORMATS.notationJws && typeof value === 'string' && RFC3339.test(value)) time = new Date(value);
  return time === null || Number.isNaN(time.getTime()) ? null : time;
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

/** The digest the Notation payload (`{"targetArtifact": {mediaType, digest, size}}`) signs. */
function targetDigest(payload: Uint8Array): { digest: string; problem?: undefined } | { digest?: undefined; problem: string } {
  const json = parseJsonUtf8(payload);
  if (!json.ok) return { problem: 'the signed payload is not JSON' };
  const target = isRecord(json.value) ? json.value.targetArtifact : undefined;
  if (!isRecord(target)) return { problem: 'the signed payload has no targetArtifact' };
  const { mediaType, digest, size } = target;
  if (typeof mediaType !== 'string' || mediaType === '') return { problem: `the signed targetArtifact has media type ${show(mediaType)}` };
  if (typeof digest !== 'string' || !DIGEST.test(digest))
    return { problem: `the signed targetArtifact has digest ${show(digest)}, not a digest` };
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
    return { problem: `the signed targetArtifact has size ${show(size)}` };
  return { digest };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value from an envelope, short enough for a reason. */
function show(value: unknown): string {
  if (value === undefined) return 'missing';
  let text: string;
  try {
    text = value instanceof Date ? value.toISOString() : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
