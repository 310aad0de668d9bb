import {
  BatchGetImageCommand,
  DescribeImageSigningStatusCommand,
  GetDownloadUrlForLayerCommand,
  type ImageFailureCode,
} from '@aws-sdk/client-ecr';
import { describe, expect, it, vi } from 'vitest';
import { TransientAwsError } from '../../lambdas/errors';
import { createCosignSignature, generateSigningKeyPair } from '../../local/cosign-signer';
import {
  REPOSITORY,
  REPOSITORY_URI,
  DIGEST,
  SIGNATURE_TAG,
  ACCEPTED_MEDIA_TYPES,
  COSIGN_SIGNATURE_ANNOTATION,
  SIMPLE_SIGNING_PAYLOAD_LIMIT,
  SIGNING_PROFILE,
  NO_SIGNING_STATUS,
  key,
  ecr,
  blobUrl,
  awsError,
  throttling,
  serve,
  read,
  inputsOf,
  emptyRegistryPerTest,
} from '../fixtures/ecr-registry';

emptyRegistryPerTest();

describe('ImageRegistry.readSignatureArtifacts: the cosign legacy layout', () => {
  it('reads the signature manifest by its tag and downloads its simple-signing payload, capped at the payload limit', async () => {
    const signature = createCosignSignature({ privateKey: key.privateKeyPem, repositoryUri: REPOSITORY_URI, digest: DIGEST });
    const fetchBlob = serve({ cosign: signature });
    const layer = JSON.parse(signature.manifest).layers[0];

    await expect(read(fetchBlob)).resolves.toEqual({
      cosign: {
        manifest: signature.manifest,
        layers: [
          {
            digest: layer.digest,
            payload: signature.blobs.get(layer.digest),
            signatureBase64: layer.annotations[COSIGN_SIGNATURE_ANNOTATION],
          },
        ],
      },
      referrers: [],
      unreadable: [],
      signingInProgress: false,
    });
    expect(inputsOf(BatchGetImageCommand)).toEqual([
      { repositoryName: REPOSITORY, imageIds: [{ imageTag: SIGNATURE_TAG }], acceptedMediaTypes: ACCEPTED_MEDIA_TYPES },
    ]);
    expect(inputsOf(GetDownloadUrlForLayerCommand)).toEqual([{ repositoryName: REPOSITORY, layerDigest: layer.digest }]);
    // The config blob is never needed to verify, so it is never downloaded.
    expect(fetchBlob).toHaveBeenCalledExactlyOnceWith(blobUrl(layer.digest), SIMPLE_SIGNING_PAYLOAD_LIMIT);
  });

  it('downloads a payload shared by several signature layers once', async () => {
    const first = createCosignSignature({ privateKey: key.privateKeyPem, repositoryUri: REPOSITORY_URI, digest: DIGEST });
    const second = createCosignSignature({
      privateKey: generateSigningKeyPair().privateKeyPem,
      repositoryUri: REPOSITORY_URI,
      digest: DIGEST,
    });
    const manifest = JSON.parse(first.manifest);
    manifest.layers.push(...JSON.parse(second.manifest).layers);
    const fetchBlob = serve({ cosign: { ...first, manifest: JSON.stringify(manifest) } });

    const { cosign } = await read(fetchBlob);

    expect(cosign?.layers.map((layer) => layer.signatureBase64)).toEqual(
      manifest.layers.map((layer: any) => layer.annotations[COSIGN_SIGNATURE_ANNOTATION]),
    );
    expect(cosign?.layers).toHaveLength(2);
    expect(fetchBlob).toHaveBeenCalledTimes(1);
  });

  it('returns an unreadable manifest without downloading anything, for the verifier to reject', async () => {
    ecr.on(BatchGetImageCommand).resolves({ images: [{ imageManifest: '<html>' }] });
    const fetchBlob = vi.fn();

    await expect(read(fetchBlob)).resolves.toMatchObject({ cosign: { manifest: '<html>', layers: [] } });
    expect(ecr.commandCalls(GetDownloadUrlForLayerCommand)).toHaveLength(0);
    expect(fetchBlob).not.toHaveBeenCalled();
  });

  it.each([
    [
      'the tag does not exist',
      {
        failures: [
          {
            imageId: { imageTag: SIGNATURE_TAG },
            failureCode: 'ImageTagDoesNotExist' as ImageFailureCode,
            failureReason: 'Requested image not found',
          },
        ],
      },
    ],
    ['the image is not found', { failures: [{ imageId: { imageTag: SIGNATURE_TAG }, failureCode: 'ImageNotFound' as ImageFailureCode }] }],
    ['ECR returns no image and no failure', { images: [], failures: [] }],
  ])('reads cosign as null when %s', async (_, response) => {
    ecr.on(BatchGetImageCommand).resolves(response);

    await expect(read(vi.fn())).resolves.toEqual({ cosign: null, referrers: [], unreadable: [], signingInProgress: false });
  });

  it('throws TransientAwsError when BatchGetImage is throttled', async () => {
    ecr.on(BatchGetImageCommand).rejects(throttling());

    await expect(read(vi.fn())).rejects.toThrow(TransientAwsError);
  });

  it('throws TransientAwsError when GetDownloadUrlForLayer is throttled', async () => {
    serve({ cosign: createCosignSignature({ privateKey: key.privateKeyPem, repositoryUri: REPOSITORY_URI, digest: DIGEST }) });
    ecr.on(GetDownloadUrlForLayerCommand).rejects(throttling());

    await expect(read(vi.fn())).rejects.toThrow(TransientAwsError);
  });

  it('throws TransientAwsError when an upstream failure is reported', async () => {
    ecr.on(BatchGetImageCommand).resolves({ failures: [{ failureCode: 'UpstreamUnavailable', failureReason: 'try later' }] });

    await expect(read(vi.fn())).rejects.toThrow(TransientAwsError);
  });

  it('rethrows a non-retryable SDK error unchanged', async () => {
    ecr.on(BatchGetImageCommand).rejects(awsError('RepositoryNotFoundException'));

    await expect(read(vi.fn())).rejects.toMatchObject({ name: 'RepositoryNotFoundException' });
  });

  it('turns a failed blob download into TransientAwsError (the retry asks ECR for a fresh URL)', async () => {
    serve({ cosign: createCosignSignature({ privateKey: key.privateKeyPem, repositoryUri: REPOSITORY_URI, digest: DIGEST }) });
    const fetchBlob = vi.fn().mockRejectedValue(new Error('GET layer URL answered HTTP 403'));

    await expect(read(fetchBlob)).rejects.toThrow(
      expect.objectContaining({ name: 'TransientAwsError', message: expect.stringContaining('HTTP 403') }),
    );
  });
});

describe('ImageRegistry.readSignatureArtifacts: ECR managed signing', () => {
  const signingStatus = { signingStatus: true };

  it('does not ask about managed signing unless told to', async () => {
    await read(vi.fn(), NO_SIGNING_STATUS);

    expect(ecr.commandCalls(DescribeImageSigningStatusCommand)).toHaveLength(0);
  });

  it.each([
    ['IN_PROGRESS for a profile', [{ signingProfileArn: SIGNING_PROFILE, status: 'IN_PROGRESS' as const }], true],
    [
      'IN_PROGRESS for one of two profiles',
      [{ signingProfileArn: SIGNING_PROFILE, status: 'COMPLETE' as const }, { status: 'IN_PROGRESS' as const }],
      true,
    ],
    ['COMPLETE', [{ signingProfileArn: SIGNING_PROFILE, status: 'COMPLETE' as const }], false],
    ['FAILED', [{ signingProfileArn: SIGNING_PROFILE, status: 'FAILED' as const, failureCode: 'x' }], false],
    ['no status (no signing rule matched the image)', [], false],
  ])('reports signingInProgress when ECR answers %s', async (_, signingStatuses, inProgress) => {
    ecr.on(DescribeImageSigningStatusCommand).resolves({ repositoryName: REPOSITORY, imageId: { imageDigest: DIGEST }, signingStatuses });

    await expect(read(vi.fn(), signingStatus)).resolves.toMatchObject({ signingInProgress: inProgress });
    expect(inputsOf(DescribeImageSigningStatusCommand)).toEqual([{ repositoryName: REPOSITORY, imageId: { imageDigest: DIGEST } }]);
  });

  it('reads an answer without signingStatuses as not signing', async () => {
    ecr.on(DescribeImageSigningStatusCommand).resolves({});

    await expect(read(vi.fn(), signingStatus)).resolves.toMatchObject({ signingInProgress: false });
  });

  it.each(['ImageNotFoundException', 'SigningConfigurationNotFoundException'])('reads %s as not signing', async (name) => {
    ecr.on(DescribeImageSigningStatusCommand).rejects(awsError(name));

    await expect(read(vi.fn(), signingStatus)).resolves.toMatchObject({ signingInProgress: false });
  });

  it('throws TransientAwsError when DescribeImageSigningStatus is throttled', async () => {
    ecr.on(DescribeImageSigningStatusCommand).rejects(throttling());

    await expect(read(vi.fn(), signingStatus)).rejects.toThrow(TransientAwsError);
  });

  it('rethrows any other DescribeImageSigningStatus failure unchanged', async () => {
    ecr.on(DescribeImageSigningStatusCommand).rejects(awsError('AccessDeniedException'));

    await expect(read(vi.fn(), signingStatus)).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});
