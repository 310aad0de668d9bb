import { generateKeyPairSync } from 'node:crypto';
import { GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { KeyStore } from '../../lambdas/adapters/key-store';
import { TransientAwsError } from '../../lambdas/errors';
import type { TrustedKey } from '../../lambdas/signature/keys';

const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const ALIAS = 'alias/release-signing';

/** KMS keys' public halves, as GetPublicKey returns them: DER SubjectPublicKeyInfo. */
const spki = (pair: { publicKey: import('node:crypto').KeyObject }) =>
  new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' }));
const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });

const kms = mockClient(KMSClient);
const awsError = (name: string, fault: 'client' | 'server' = 'client') =>
  Object.assign(new Error(`simulated ${name}`), { name, $fault: fault, $metadata: {} });
const signingKey = (publicKey: Uint8Array, keyArn = KEY_ARN) => ({
  KeyId: keyArn,
  PublicKey: publicKey,
  KeySpec: 'ECC_NIST_P384' as const,
  KeyUsage: 'SIGN_VERIFY' as const,
  SigningAlgorithms: ['ECDSA_SHA_384' as const],
});

beforeEach(() => kms.reset());

describe('KeyStore.trustedKmsKey', () => {
  it('returns the public half of a SIGN_VERIFY key, named by the key ARN GetPublicKey returns', async () => {
    kms.on(GetPublicKeyCommand).resolves(signingKey(spki(p384)));

    const key = (await new KeyStore(new KMSClient({})).trustedKmsKey(ALIAS)) as TrustedKey;

    expect(key).toMatchObject({ kind: 'kms-key', id: KEY_ARN });
    expect(key.key.export({ type: 'spki', format: 'der' })).toEqual(Buffer.from(spki(p384)));
    expect(key.key.asymmetricKeyDetails?.namedCurve).toBe('secp384r1');
    expect(kms.commandCalls(GetPublicKeyCommand).map((call) => call.args[0].input)).toEqual([{ KeyId: ALIAS }]);
  });

  it('asks KMS once per key id for the life of the instance, and once per key id', async () => {
    kms.on(GetPublicKeyCommand, { KeyId: ALIAS }).resolves(signingKey(spki(p384)));
    kms.on(GetPublicKeyCommand, { KeyId: 'alias/other' }).resolves(signingKey(spki(p256), `${KEY_ARN}-other`));
    const store = new KeyStore(new KMSClient({}));

    const [first, concurrent] = await Promise.all([store.trustedKmsKey(ALIAS), store.trustedKmsKey(ALIAS)]);
    const later = await store.trustedKmsKey(ALIAS);
    const other = await store.trustedKmsKey('alias/other');

    expect(concurrent).toBe(first);
    expect(later).toBe(first);
    expect(other).toMatchObject({ id: `${KEY_ARN}-other` });
    expect(kms.commandCalls(GetPublicKeyCommand).map((call) => call.args[0].input.KeyId)).toEqual([ALIAS, 'alias/other']);
  });

  it('uses the cache it is given (one per Lambda container)', async () => {
    kms.on(GetPublicKeyCommand).resolves(signingKey(spki(p256)));
    const cache = new Map<string, Promise<TrustedKey | string>>();

    await new KeyStore(new KMSClient({}), cache).trustedKmsKey(KEY_ARN);
    await new KeyStore(new KMSClient({}), cache).trustedKmsKey(KEY_ARN);

    expect([...cache.keys()]).toEqual([KEY_ARN]);
    expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(1);
  });

  it.each([
    ['NotFoundException', /^does not exist .*\(NotFoundException\)$/],
    ['DisabledException', /^is disabled \(DisabledException\)$/],
    ['KMSInvalidStateException', /pending deletion.*\(KMSInvalidStateException\)$/],
    ['AccessDeniedException', /kms:GetPublicKey.*\(AccessDeniedException\)$/],
    ['InvalidArnException', /not a valid key ARN/],
    ['UnsupportedOperationException', /not an asymmetric key/],
  ])('explains %s instead of throwing, and asks again next time', async (name, problem) => {
    kms
      .on(GetPublicKeyCommand)
      .rejectsOnce(awsError(name))
      .resolves(signingKey(spki(p256)));
    const store = new KeyStore(new KMSClient({}));

    await expect(store.trustedKmsKey(ALIAS)).resolves.toMatch(problem);
    // The key was fixed (enabled, allowed...): the next look sees it.
    await expect(store.trustedKmsKey(ALIAS)).resolves.toMatchObject({ kind: 'kms-key', id: KEY_ARN });
    expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(2);
  });

  it('refuses a key whose usage is not SIGN_VERIFY, naming the key an alias points to', async () => {
    kms.on(GetPublicKeyCommand).resolves({ ...signingKey(spki(p256)), KeyUsage: 'ENCRYPT_DECRYPT', SigningAlgorithms: undefined });

    await expect(new KeyStore(new KMSClient({})).trustedKmsKey(ALIAS)).resolves.toBe(
      `has key usage ENCRYPT_DECRYPT, not SIGN_VERIFY (${KEY_ARN})`,
    );
  });

  it('refuses a key type signatures are not trusted with', async () => {
    kms.on(GetPublicKeyCommand).resolves(signingKey(spki(rsa1024)));

    await expect(new KeyStore(new KMSClient({})).trustedKmsKey(KEY_ARN)).resolves.toBe('is a 1024-bit RSA key, shorter than 2048 bits');
  });

  it('refuses an answer whose public key is not DER SubjectPublicKeyInfo', async () => {
    kms.on(GetPublicKeyCommand).resolves(signingKey(new Uint8Array([1, 2, 3])));

    await expect(new KeyStore(new KMSClient({})).trustedKmsKey(KEY_ARN)).resolves.toMatch(/not DER SubjectPublicKeyInfo/);
  });

  it.each([
    ['throttled', awsError('ThrottlingException')],
    ['failing inside KMS', awsError('KMSInternalException', 'server')],
    ['timing out on a dependency', awsError('DependencyTimeoutException', 'server')],
  ])('throws TransientAwsError when KMS is %s, and does not cache the failure', async (_, error) => {
    kms
      .on(GetPublicKeyCommand)
      .rejectsOnce(error)
      .resolves(signingKey(spki(p256)));
    const store = new KeyStore(new KMSClient({}));

    await expect(store.trustedKmsKey(KEY_ARN)).rejects.toThrow(TransientAwsError);
    await expect(store.trustedKmsKey(KEY_ARN)).resolves.toMatchObject({ id: KEY_ARN });
  });

  it('rethrows an unexpected client error unchanged', async () => {
    kms.on(GetPublicKeyCommand).rejects(awsError('InvalidGrantTokenException'));

    await expect(new KeyStore(new KMSClient({})).trustedKmsKey(KEY_ARN)).rejects.toMatchObject({ name: 'InvalidGrantTokenException' });
  });
});
