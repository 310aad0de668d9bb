import { BatchGetImageCommand, ECRClient, GetDownloadUrlForLayerCommand, type ImageFailureCode } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ImageRegistry } from '../../lambdas/adapters/image-registry';
import type { Release } from '../../lambdas/contract';
import { InvalidInputError } from '../../lambdas/errors';
import { logger } from '../../lambdas/shared/logger';
import { publicKeyFingerprint } from '../../lambdas/signature/cosign';
import { createVerifySignatureHandler, type VerifySignatureInput } from '../../lambdas/steps/verify-signature';
import { createCosignSignature, generateSigningKeyPair, type CosignSignature } from '../../local/cosign-signer';

const REPOSITORY = 'models/sentiment';
const REPOSITORY_URI = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/${REPOSITORY}`;
const PUSHED_DIGEST = `sha256:${'1b'.repeat(32)}`;
const OLDER_DIGEST = `sha256:${'0a'.repeat(32)}`;
const release: Release = {
  repositoryName: REPOSITORY,
  repositoryUri: REPOSITORY_URI,
  tag: 'v1.4.0',
  digest: PUSHED_DIGEST,
  imageUri: `${REPOSITORY_URI}@${PUSHED_DIGEST}`,
};

const trusted = generateSigningKeyPair();
const untrusted = generateSigningKeyPair();
const ecr = mockClient(ECRClient);

/** A registry holding exactly the given signatures, each under its own tag; every other tag does not exist. */
function registryWith(...signatures: CosignSignature[]) {
  ecr.on(BatchGetImageCommand).callsFake(async ({ imageIds }) => {
    const signature = signatures.find((s) => s.signatureTag === imageIds[0].imageTag);
    return signature
      ? { images: [{ imageManifest: signature.manifest, imageManifestMediaType: signature.manifestMediaType }], failures: [] }
      : { images: [], failures: [{ imageId: imageIds[0], failureCode: 'ImageNotFound' as ImageFailureCode, failureReason: 'Requested image not found' }] };
  });
  ecr.on(GetDownloadUrlForLayerCommand).callsFake(async ({ layerDigest }) => ({ layerDigest, downloadUrl: `https://blobs.test/${layerDigest}` }));
  const blobs = new Map(signatures.flatMap((s) => [...s.blobs]));
  const fetchBlob = async (url: string) => blobs.get(url.replace('https://blobs.test/', '')) ?? Promise.reject(new Error(`404 ${url}`));
  return new ImageRegistry(new ECRClient({}), fetchBlob);
}

const signedBy = (privateKey: string, digest: string, payloadDigest?: string) =>
  createCosignSignature({ privateKey, repositoryUri: REPOSITORY_URI, digest, payloadDigest });

beforeEach(() => ecr.reset());

describe('Verify image signature', () => {
  it('verifies a release signed by a trusted key, by its digest', async () => {
    const verifySignature = createVerifySignatureHandler({ registry: registryWith(signedBy(trusted.privateKeyPem, PUSHED_DIGEST)) });

    const result = await verifySignature({ release, trustedKeys: [untrusted.publicKeyPem, trusted.publicKeyPem] });

    expect(result).toEqual({
      verdict: 'verified',
      code: 'verified',
      reason: expect.any(String),
      digest: PUSHED_DIGEST,
      signerFingerprint: publicKeyFingerprint(trusted.publicKeyPem),
    });
    expect(ecr.commandCalls(BatchGetImageCommand)[0].args[0].input.imageIds).toEqual([{ imageTag: `sha256-${'1b'.repeat(32)}.sig` }]);
  });

  it('logs with the release version and digest', async () => {
    const appendKeys = vi.spyOn(logger, 'appendKeys');
    const verifySignature = createVerifySignatureHandler({ registry: registryWith(signedBy(trusted.privateKeyPem, PUSHED_DIGEST)) });

    await verifySignature({ release, trustedKeys: [trusted.publicKeyPem] });

    expect(appendKeys).toHaveBeenCalledWith({ version: 'v1.4.0', digest: PUSHED_DIGEST });
  });

  it('rejects an unsigned release and tells the operator to sign it by digest', async () => {
    // Signed, but only an older digest: the release's own digest has no signature.
    const verifySignature = createVerifySignatureHandler({ registry: registryWith(signedBy(trusted.privateKeyPem, OLDER_DIGEST)) });

    const result = await verifySignature({ release, trustedKeys: [trusted.publicKeyPem] });

    expect(result).toMatchObject({ verdict: 'rejected', code: 'unsigned', digest: PUSHED_DIGEST, signerFingerprint: null });
    expect(result.reason).toContain(`cosign sign --key <trusted-key> ${release.imageUri}`);
  });

  it('rejects a valid signature of another digest stored under the release digest tag', async () => {
    // A trusted signature of the older image, copied to the tag cosign would look up for the new one.
    const copied = signedBy(trusted.privateKeyPem, PUSHED_DIGEST, OLDER_DIGEST);
    const verifySignature = createVerifySignatureHandler({ registry: registryWith(copied) });

    const result = await verifySignature({ release, trustedKeys: [trusted.publicKeyPem] });

    expect(result).toMatchObject({ verdict: 'rejected', code: 'digest-mismatch', digest: OLDER_DIGEST, signerFingerprint: null });
    expect(result.reason).toContain(OLDER_DIGEST);
    expect(result.reason).toContain(PUSHED_DIGEST);
  });

  it('rejects a signature by a key the service does not trust', async () => {
    const verifySignature = createVerifySignatureHandler({ registry: registryWith(signedBy(untrusted.privateKeyPem, PUSHED_DIGEST)) });

    await expect(verifySignature({ release, trustedKeys: [trusted.publicKeyPem] })).resolves.toMatchObject({ verdict: 'rejected', code: 'invalid-signature' });
  });

  it.each<[string, unknown, string]>([
    ['a missing release', { trustedKeys: ['k'] }, 'release'],
    ['a digest that is not sha256', { release: { ...release, digest: 'latest' }, trustedKeys: ['k'] }, 'release.digest'],
    ['an image URI naming another digest', { release: { ...release, imageUri: `${REPOSITORY_URI}@${OLDER_DIGEST}` }, trustedKeys: ['k'] }, 'release.imageUri'],
    ['a repository URI of another repository', { release: { ...release, repositoryName: 'models/other', imageUri: release.imageUri }, trustedKeys: ['k'] }, 'release.repositoryUri'],
    ['no trusted key', { release, trustedKeys: [] }, 'trustedKeys'],
    ['an empty trusted key', { release, trustedKeys: [''] }, 'trustedKeys.0'],
  ])('throws InvalidInputError naming the field for %s', async (_, input, field) => {
    const verifySignature = createVerifySignatureHandler({ registry: registryWith() });

    const error = await verifySignature(input as VerifySignatureInput).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toContain(`${field}:`);
    expect(ecr.calls()).toHaveLength(0);
  });
});
