/**
 * Trusted signing keys, whatever they came from (a PEM file in the configuration or a KMS key's public half), and the
 * one function that checks a signature with them. Pure: no AWS SDK, no clock.
 */
import { constants, createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import type { SignerKind } from '../contract/signature';

/** A key signatures may be made with, ready to verify. */
export interface TrustedKey {
  key: KeyObject;
  kind: Extract<SignerKind, 'public-key' | 'kms-key'>;
  /** public-key: `sha256:<hex>` of the SPKI DER (see `publicKeyFingerprint`); kms-key: the key ARN. */
  id: string;
}

/** How a signature's bytes are laid out: DER (cosign, Sigstore) or r‖s (JWS and COSE, IEEE P1363). */
export type SignatureEncoding = 'der' | 'ieee-p1363';

/** `sha256:<hex>` of a public key's SPKI DER encoding (the same as `openssl pkey -pubin -outform DER | sha256sum`). */
export function publicKeyFingerprint(publicKey: string | KeyObject): string {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  return `sha256:${createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex')}`;
}

/**
 * Why a key cannot be trusted for signatures, or null when it can: EC P-256 / P-384 (what cosign, KMS and AWS Signer
 * use) and RSA of at least 2048 bits (KMS RSA keys).
 */
export function unsupportedKeyReason(key: KeyObject): string | null {
  if (key.type !== 'public') return 'is not a public key';
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    return curve === 'prime256v1' || curve === 'secp384r1' ? null : `is an EC ${curve ?? 'unknown-curve'} key, not P-256 or P-384`;
  }
  if (key.asymmetricKeyType === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    return bits >= 2048 ? null : `is a ${bits}-bit RSA key, shorter than 2048 bits`;
  }
  return `is a ${key.asymmetricKeyType ?? 'unknown'} key, not EC P-256/P-384 or RSA`;
}

/**
 * A PEM public key from the configuration, or the reason it cannot be used. A private key is refused rather than
 * reduced to its public half: one in the trust configuration is a leak waiting to happen.
 */
export function trustedPublicKey(pem: string): TrustedKey | string {
  if (/PRIVATE KEY/.test(pem)) return 'is a private key, not a public key';
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    return 'is not a PEM-encoded public key';
  }
  const problem = unsupportedKeyReason(key);
  return problem ?? { key, kind: 'public-key', id: publicKeyFingerprint(key) };
}

/** A KMS key's public half (GetPublicKey's DER SubjectPublicKeyInfo), or the reason it cannot be used. */
export function trustedKmsKey(keyArn: string, spkiDer: Uint8Array): TrustedKey | string {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(spkiDer), format: 'der', type: 'spki' });
  } catch {
    return 'has a public key that is not DER SubjectPublicKeyInfo';
  }
  const problem = unsupportedKeyReason(key);
  return problem ?? { key, kind: 'kms-key', id: keyArn };
}

/**
 * True when `signature` over `data` verifies with the key. The hash follows the key, as cosign and KMS choose it:
 * SHA-256 for P-256 and RSA (PKCS#1 v1.5, then PSS), SHA-384 for P-384. Never throws: garbled signature bytes can
 * make OpenSSL raise, and that is simply "does not verify".
 */
export function verifyWithKey(
  trusted: Pick<TrustedKey, 'key'>,
  data: Uint8Array,
  signature: Uint8Array,
  encoding: SignatureEncoding = 'der',
): boolean {
  const { key } = trusted;
  try {
    if (key.asymmetricKeyType === 'ec') {
      const hash = key.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'sha384' : 'sha256';
      return verify(hash, data, { key, dsaEncoding: encoding }, signature);
    }
    if (key.asymmetricKeyType === 'rsa') {
      return verify('sha256', data, key, signature) || verify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING }, signature);
    }
    return false;
  } catch {
    return false;
  }
}
