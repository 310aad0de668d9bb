/**
 * KMS signing keys as GetPublicKey reports them (https://docs.aws.amazon.com/kms/latest/APIReference/API_GetPublicKey.html):
 * asked for by key ARN, key id, alias name or alias ARN; a disabled key answers DisabledException, one pending deletion
 * KMSInvalidStateException.
 */
import { createPublicKey } from 'node:crypto';
import { SimulatedAwsError } from './aws-error';

/** A KMS key, as GetPublicKey reports it. */
export interface SimulatedKmsKey {
  /** `arn:aws:kms:<region>:<account>:key/<key-id>` */
  keyArn: string;
  /** Alias names (`alias/release-signing`); each can also be asked for by its alias ARN. */
  aliases?: string[];
  /** The public key, DER SubjectPublicKeyInfo (what GetPublicKey returns). */
  publicKeyDer: Uint8Array;
  /** Default SIGN_VERIFY. */
  keyUsage?: 'SIGN_VERIFY' | 'ENCRYPT_DECRYPT';
  /** Default Enabled. Disabled answers DisabledException; PendingDeletion answers KMSInvalidStateException. */
  keyState?: 'Enabled' | 'Disabled' | 'PendingDeletion';
}

export class SimulatedKms {
  private readonly kmsKeys: Required<SimulatedKmsKey>[] = [];

  constructor(
    private readonly account: string,
    private readonly region: string,
  ) {}

  /** Creates a KMS key GetPublicKey answers for by key ARN, key id, alias name or alias ARN. */
  registerKmsKey(key: SimulatedKmsKey): void {
    this.kmsKeys.push({ aliases: [], keyUsage: 'SIGN_VERIFY', keyState: 'Enabled', ...key });
  }

  /** The key a key id, key ARN, alias name or alias ARN names; undefined when none. */
  keyNamedBy(keyId: string): Required<SimulatedKmsKey> | undefined {
    return this.kmsKeys.find(
      (k) =>
        k.keyArn === keyId ||
        k.keyArn.split('/').pop() === keyId ||
        k.aliases.some((alias) => alias === keyId || `arn:aws:kms:${this.region}:${this.account}:${alias}` === keyId),
    );
  }

  getPublicKey(input: { KeyId: string }) {
    const key = this.keyNamedBy(input.KeyId);
    if (!key) throw new SimulatedAwsError('NotFoundException', `Key '${input.KeyId}' does not exist`);
    if (key.keyState === 'Disabled') throw new SimulatedAwsError('DisabledException', `${key.keyArn} is disabled.`);
    if (key.keyState === 'PendingDeletion') throw new SimulatedAwsError('KMSInvalidStateException', `${key.keyArn} is pending deletion.`);
    return {
      KeyId: key.keyArn,
      PublicKey: key.publicKeyDer,
      KeySpec: kmsKeySpec(key.publicKeyDer),
      KeyUsage: key.keyUsage,
      ...(key.keyUsage === 'SIGN_VERIFY' ? { SigningAlgorithms: kmsSigningAlgorithms(key.publicKeyDer) } : {}),
    };
  }
}

/** GetPublicKey's KeySpec for a public key. */
function kmsKeySpec(spkiDer: Uint8Array): string {
  const key = createPublicKey({ key: Buffer.from(spkiDer), format: 'der', type: 'spki' });
  if (key.asymmetricKeyType === 'rsa') return `RSA_${key.asymmetricKeyDetails?.modulusLength}`;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return (
    { prime256v1: 'ECC_NIST_P256', secp384r1: 'ECC_NIST_P384', secp521r1: 'ECC_NIST_P521', secp256k1: 'ECC_SECG_P256K1' }[curve ?? ''] ??
    'UNKNOWN'
  );
}

/** GetPublicKey's SigningAlgorithms for a SIGN_VERIFY key of that key spec. */
function kmsSigningAlgorithms(spkiDer: Uint8Array): string[] {
  const spec = kmsKeySpec(spkiDer);
  if (spec.startsWith('RSA_')) {
    return [
      'RSASSA_PSS_SHA_256',
      'RSASSA_PSS_SHA_384',
      'RSASSA_PSS_SHA_512',
      'RSASSA_PKCS1_V1_5_SHA_256',
      'RSASSA_PKCS1_V1_5_SHA_384',
      'RSASSA_PKCS1_V1_5_SHA_512',
    ];
  }
  return [
    { ECC_NIST_P256: 'ECDSA_SHA_256', ECC_NIST_P384: 'ECDSA_SHA_384', ECC_NIST_P521: 'ECDSA_SHA_512', ECC_SECG_P256K1: 'ECDSA_SHA_256' }[
      spec
    ] ?? 'ECDSA_SHA_256',
  ];
}
