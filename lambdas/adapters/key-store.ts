/**
 * KMS, as the signature check sees it: the public half of a trusted asymmetric signing key.
 * Uses only GetPublicKey (read-only). Signatures are verified locally with the public key, never with kms:Verify,
 * so verifying costs one KMS call per key per Lambda container, not one per signature.
 */
import { GetPublicKeyCommand, type GetPublicKeyCommandOutput, type KMSClient } from '@aws-sdk/client-kms';
import { classifyAwsError } from '../errors';
import type * as ports from '../signature/ports';
import { trustedKmsKey, type TrustedKey } from '../signature/keys';

/**
 * GetPublicKey errors that mean "this key cannot be used as configured": the key (or alias) does not exist, is
 * disabled or pending deletion, the function may not read it, or it is not an asymmetric key. The configuration (or
 * the key) has to change, so they are reported as a problem with the key rather than retried.
 */
const UNUSABLE_KEY_ERRORS: Record<string, string> = {
  NotFoundException: 'does not exist (no such key or alias in this account and Region)',
  DisabledException: 'is disabled',
  KMSInvalidStateException: 'is in a state that does not allow reading its public key (pending deletion, or no key material)',
  AccessDeniedException: 'cannot be read: the function is not allowed kms:GetPublicKey on it',
  InvalidArnException: 'is not a valid key ARN',
  UnsupportedOperationException: 'is not an asymmetric key, so it has no public key',
};

export class KeyStore implements ports.KeyStore {
  constructor(
    private readonly kms: Pick<KMSClient, 'send'>,
    private readonly cache: Map<string, Promise<TrustedKey | string>> = new Map(),
  ) {}

  /**
   * The KMS key's public half as a TrustedKey (kind 'kms-key', id = the key ARN GetPublicKey returns), or why it
   * cannot be used: a predicate to follow the key's name, as `trustedKmsKey` words it (e.g. `is disabled
   * (DisabledException)`); the caller writes `KMS key <keyId> <problem>`. Cached per key id for the life of the
   * instance (a Lambda container keeps one); a problem or a failed call is not cached, so a fixed key or a passing
   * hiccup is picked up next time.
   */
  trustedKmsKey(keyId: string): Promise<TrustedKey | string> {
    const cached = this.cache.get(keyId);
    if (cached) return cached;
    const loading = this.load(keyId);
    this.cache.set(keyId, loading);
    loading.then(
      (result) => {
        if (typeof result === 'string' && this.cache.get(keyId) === loading) this.cache.delete(keyId);
      },
      () => {
        if (this.cache.get(keyId) === loading) this.cache.delete(keyId);
      },
    );
    return loading;
  }

  private async load(keyId: string): Promise<TrustedKey | string> {
    let response: GetPublicKeyCommandOutput;
    try {
      response = await this.kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
    } catch (error) {
      const name = (error as Error)?.name ?? '';
      if (Object.hasOwn(UNUSABLE_KEY_ERRORS, name)) return `${UNUSABLE_KEY_ERRORS[name]} (${name})`;
      return classifyAwsError(error, `GetPublicKey ${keyId}`);
    }
    const keyArn = response.KeyId ?? keyId;
    // An alias names whichever key it points to today: say which one the problem is about.
    const which = keyArn === keyId ? '' : ` (${keyArn})`;
    if (response.KeyUsage !== 'SIGN_VERIFY') return `has key usage ${response.KeyUsage ?? 'unknown'}, not SIGN_VERIFY${which}`;
    if (!response.PublicKey || response.PublicKey.length === 0) return `has no public key in GetPublicKey's answer${which}`;
    const trusted = trustedKmsKey(keyArn, response.PublicKey);
    return typeof trusted === 'string' ? `${trusted}${which}` : trusted;
  }
}
