/**
 * A Notation envelope taken apart and its signed attributes read (Notary Project signature specification): JWS
 * (flattened JSON serialization) or COSE_Sign1, its critical headers, the attributes AWS Signer signs, and the payload
 * that names the signed image. Pure and fail closed: every problem is a reason, never a thrown error.
 */
import { decode, encode, Tag } from 'cbor2';
import { SIGNATURE_FORMATS, type SignatureFormat } from '../contract/signature';
import { parseJsonUtf8 } from './encoding';
import type { FailureCode } from './findings';

/** The plugin AWS Signer names in every signature it makes (`io.cncf.notary.verificationPlugin`). */
export const AWS_SIGNER_NOTATION_PLUGIN = 'com.amazonaws.signer.notation.plugin';
/** The signing scheme of a signing authority that vouches for the signing time: the only one AWS Signer uses. */
export const SIGNING_AUTHORITY_SCHEME = 'notary.x509.signingAuthority';
export const NOTATION_PAYLOAD_CONTENT_TYPE = 'application/vnd.cncf.notary.payload.v1+json';

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

export interface Algorithm {
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

/** An envelope taken apart, JWS or COSE alike. Values are as found: nothing here is checked yet except the shape. */
export interface Envelope {
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

/** Why a signature fails, as a finding will say it. */
export interface Problem {
  code: FailureCode;
  reason: string;
}

export function isProblem(value: unknown): value is Problem {
  return typeof value === 'object' && value !== null && 'code' in value && 'reason' in value;
}

/** What the signed attributes say, once each is well formed and names AWS Signer. */
export interface SignedAttributes {
  algorithm: Algorithm;
  signedAt: Date;
  expiry: Date | undefined;
  profileVersionArn: string;
  jobArn: string;
}

/** The envelope of `format`, or why it is not one. */
export function parseEnvelope(bytes: Uint8Array, format: SignatureFormat): Envelope | string {
  return format === SIGNATURE_FORMATS.notationCose ? parseCose(bytes) : parseJws(bytes);
}

/** Step 1: the signed attributes are well-formed, critical where they must be, and from AWS Signer. */
export function readSignedAttributes(envelope: Envelope, format: SignatureFormat): SignedAttributes | Problem {
  const invalid = (reason: string): Problem => ({ code: 'invalid-signature', reason });
  const algorithm = ALGORITHMS[envelope.alg];
  if (algorithm === undefined) return invalid(`the signature algorithm ${envelope.alg} is not one Notation allows`);
  if (envelope.contentType !== NOTATION_PAYLOAD_CONTENT_TYPE) {
    return invalid(`the payload content type is ${show(envelope.contentType)}, not ${NOTATION_PAYLOAD_CONTENT_TYPE}`);
  }
  const critProblem = criticalHeadersProblem(envelope);
  if (critProblem !== null) return invalid(critProblem);
  const signer = signingSchemeProblem(envelope.attributes);
  if (signer !== null) return signer;
  const times = readSigningTimes(envelope.attributes, format);
  if (isProblem(times)) return times;
  return readAwsSignerAttributes(envelope.attributes, algorithm, times);
}

/** The signing scheme must be AWS Signer's (a signing authority). */
function signingSchemeProblem(attributes: Envelope['attributes']): Problem | null {
  const scheme = attributes.get(HEADER.signingScheme);
  if (typeof scheme !== 'string') return { code: 'invalid-signature', reason: `the signed attribute ${HEADER.signingScheme} is missing` };
  if (scheme !== SIGNING_AUTHORITY_SCHEME) {
    return { code: 'untrusted-signer', reason: `the signing scheme is ${scheme}, not AWS Signer's ${SIGNING_AUTHORITY_SCHEME}` };
  }
  return null;
}

/** The authentic signing time (required) and the expiry (optional), each a time of the envelope's format. */
function readSigningTimes(
  attributes: Envelope['attributes'],
  format: SignatureFormat,
): { signedAt: Date; expiry: Date | undefined } | Problem {
  const signedAt = readTime(attributes.get(HEADER.authenticSigningTime), format);
  if (signedAt === null) {
    return {
      code: 'invalid-signature',
      reason: `the signed attribute ${HEADER.authenticSigningTime} is ${show(attributes.get(HEADER.authenticSigningTime))}, not a time`,
    };
  }
  const expiryValue = attributes.get(HEADER.expiry);
  const expiry = expiryValue === undefined ? undefined : readTime(expiryValue, format);
  if (expiry === null)
    return { code: 'invalid-signature', reason: `the signed attribute ${HEADER.expiry} is ${show(expiryValue)}, not a time` };
  return { signedAt, expiry };
}

/** AWS Signer's plugin, signing profile version and signing job, as its signatures name them. */
function readAwsSignerAttributes(
  attributes: Envelope['attributes'],
  algorithm: Algorithm,
  times: { signedAt: Date; expiry: Date | undefined },
): SignedAttributes | Problem {
  const plugin = attributes.get(HEADER.verificationPlugin);
  if (plugin !== AWS_SIGNER_NOTATION_PLUGIN) {
    return {
      code: 'untrusted-signer',
      reason: `the signature names verification plugin ${show(plugin)}, not AWS Signer's ${AWS_SIGNER_NOTATION_PLUGIN}`,
    };
  }
  const profileVersionArn = attributes.get(HEADER.signingProfileVersion);
  if (typeof profileVersionArn !== 'string' || !PROFILE_VERSION_ARN.test(profileVersionArn)) {
    return {
      code: 'invalid-signature',
      reason: `the signed attribute ${HEADER.signingProfileVersion} is ${show(profileVersionArn)}, not a signing profile version ARN`,
    };
  }
  const jobArn = attributes.get(HEADER.signingJob);
  if (typeof jobArn !== 'string' || !SIGNING_JOB_ARN.test(jobArn)) {
    return { code: 'invalid-signature', reason: `the signed attribute ${HEADER.signingJob} is ${show(jobArn)}, not a signing job ARN` };
  }
  return { algorithm, ...times, profileVersionArn, jobArn };
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

/** The digest the Notation payload (`{"targetArtifact": {mediaType, digest, size}}`) signs. */
export function targetDigest(payload: Uint8Array): { digest: string; problem?: undefined } | { digest?: undefined; problem: string } {
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
