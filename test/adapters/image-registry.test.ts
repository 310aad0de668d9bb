import { BatchGetImageCommand, ECRClient, GetDownloadUrlForLayerCommand, type ImageFailureCode } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fetchViaHttps, ImageRegistry } from '../../lambdas/adapters/image-registry';
import { TransientAwsError } from '../../lambdas/errors';
import { SIGNATURE_ANNOTATION } from '../../lambdas/signature/cosign';
import { createCosignSignature, generateSigningKeyPair, type CosignSignature } from '../../local/cosign-signer';

const REPOSITORY = 'models/sentiment';
const REPOSITORY_URI = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/${REPOSITORY}`;
const DIGEST = `sha256:${'5e'.repeat(32)}`;
const SIGNATURE_TAG = `sha256-${'5e'.repeat(32)}.sig`;
const ACCEPTED_MEDIA_TYPES = ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'];

const key = generateSigningKeyPair();
const ecr = mockClient(ECRClient);

/** The blob-URL convention of these tests (and of the local simulator): `https://blobs.test/<repository>/<digest>`. */
const blobUrl = (digest: string) => `https://blobs.test/${REPOSITORY}/${digest}`;

function serve(signature: CosignSignature): ReturnType<typeof vi.fn<(url: string) => Promise<Uint8Array>>> {
  ecr.on(BatchGetImageCommand).resolves({
    images: [{ imageId: { imageTag: signature.signatureTag }, imageManifest: signature.manifest, imageManifestMediaType: signature.manifestMediaType }],
    failures: [],
  });
  ecr.on(GetDownloadUrlForLayerCommand).callsFake(async ({ layerDigest }) => ({ layerDigest, downloadUrl: blobUrl(layerDigest) }));
  return vi.fn(async (url: string) => {
    const blob = [...signature.blobs].find(([digest]) => blobUrl(digest) === url)?.[1];
    if (!blob) throw new Error(`404 ${url}`);
    return blob;
  });
}

const throttling = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client', $metadata: {} });

beforeEach(() => ecr.reset());

describe('ImageRegistry.readCosignSignature', () => {
  it('reads the signature manifest by its tag and downloads its simple-signing payload', async () => {
    const signature = createCosignSignature({ privateKey: key.privateKeyPem, repositoryUri: REPOSITORY_URI, digest: DIGEST });
    const fetchBlob = serve(signature);
    const manifest = JSON.parse(signature.manifest);
    const layer = manifest.layers[0];

    const read = await new ImageRegistry(new ECRClient({}), fetchBlob).readCosignSignature(REPOSITORY, DIGEST);

    expect(read).toEqual({
      manifest: signature.manifest,
      layers: [{ digest: layer.digest, payload: signature.blobs.get(layer.digest), signatureBase64: layer.annotations[SIGNATURE_ANNOTATION] }],
    });
    expect(ecr.commandCalls(BatchGetImageCommand).map((call) => call.args[0].input)).toEqual([
      { repositoryName: REPOSITORY, imageIds: [{ imageTag: SIGNATURE_TAG }], acceptedMediaTypes: ACCEPTED_MEDIA_TYPES },
    ]);
    expect(ecr.commandCalls(GetDownloadUrlForLayerCommand).map((call) => call.args[0].input)).toEqual([{ repositoryName: REPOSITORY, layerDigest: layer.digest }]);
    // The config blob is never needed to verify, so it is never downloaded.
    expect(fetchBlob).toHaveBeenCalledExactlyOnceWith(blobUrl(layer.digest));
  });

  it('downloads a payload shared by several signature layers once', async () => {
    const first = createCosignSignature({ privateKey: key.privateKeyPem, repositoryUri: REPOSITORY_URI, digest: DIGEST });
    const second = createCosignSignature({ privateKey: generateSigningKeyPair().privateKeyPem, repositoryUri: REPOSITORY_URI, digest: DIGEST });
    const manifest = JSON.parse(first.manifest);
    manifest.layers.push(...JSON.parse(second.manifest).layers);
    const fetchBlob = serve({ ...first, manifest: JSON.stringify(manifest) });

    const read = await new ImageRegistry(new ECRClient({}), fetchBlob).readCosignSignature(REPOSITORY, DIGEST);

    expect(read?.layers.map((layer) => layer.signatureBase64)).toEqual(manifest.layers.map((layer: any) => layer.annotations[SIGNATURE_ANNOTATION]));
    expect(fetchBlob).toHaveBeenCalledTimes(1);
  });

  it('returns an unreadable manifest without downloading anything, for the verifier to reject', async () => {
    ecr.on(BatchGetImageCommand).resolves({ images: [{ imageManifest: '<html>' }] });
    const fetchBlob = vi.fn();

    await expect(new ImageRegistry(new ECRClient({}), fetchBlob).readCosignSignature(REPOSITORY, DIGEST)).resolves.toEqual({ manifest: '<html>', layers: [] });
    expect(ecr.commandCalls(GetDownloadUrlForLayerCommand)).toHaveLength(0);
    expect(fetchBlob).not.toHaveBeenCalled();
  });

  it.each([
    ['the tag does not exist', { failures: [{ imageId: { imageTag: SIGNATURE_TAG }, failureCode: 'ImageTagDoesNotExist' as ImageFailureCode, failureReason: 'Requested image not found' }] }],
    ['the image is not found', { failures: [{ imageId: { imageTag: SIGNATURE_TAG }, failureCode: 'ImageNotFound' as ImageFailureCode }] }],
    ['ECR returns no image and no failure', { images: [], failures: [] }],
  ])('returns null when %s (the image is unsigned)', async (_, response) => {
    ecr.on(BatchGetImageCommand).resolves(response);

    await expect(new ImageRegistry(new ECRClient({}), vi.fn()).readCosignSignature(REPOSITORY, DIGEST)).resolves.toBeNull();
  });

  it('throws TransientAwsError when BatchGetImage is throttled', async () => {
    ecr.on(BatchGetImageCommand).rejects(throttling());

    await expect(new ImageRegistry(new ECRClient({}), vi.fn()).readCosignSignature(REPOSITORY, DIGEST)).rejects.toThrow(TransientAwsError);
  });

  it('throws TransientAwsError when GetDownloadUrlForLayer is throttled', async () => {
    serve(createCosignSignature({ privateKey: key.privateKeyPem, repositoryUri: REPOSITORY_URI, digest: DIGEST }));
    ecr.on(GetDownloadUrlForLayerCommand).rejects(throttling());

    await expect(new ImageRegistry(new ECRClient({}), vi.fn()).readCosignSignature(REPOSITORY, DIGEST)).rejects.toThrow(TransientAwsError);
  });

  it('throws TransientAwsError when an upstream failure is reported', async () => {
    ecr.on(BatchGetImageCommand).resolves({ failures: [{ failureCode: 'UpstreamUnavailable', failureReason: 'try later' }] });

    await expect(new ImageRegistry(new ECRClient({}), vi.fn()).readCosignSignature(REPOSITORY, DIGEST)).rejects.toThrow(TransientAwsError);
  });

  it('rethrows a non-retryable SDK error unchanged', async () => {
    const notFound = Object.assign(new Error('no repository'), { name: 'RepositoryNotFoundException', $fault: 'client', $metadata: {} });
    ecr.on(BatchGetImageCommand).rejects(notFound);

    await expect(new ImageRegistry(new ECRClient({}), vi.fn()).readCosignSignature(REPOSITORY, DIGEST)).rejects.toMatchObject({ name: 'RepositoryNotFoundException' });
  });

  it('turns a failed blob download into TransientAwsError (the retry asks ECR for a fresh URL)', async () => {
    serve(createCosignSignature({ privateKey: key.privateKeyPem, repositoryUri: REPOSITORY_URI, digest: DIGEST }));
    const fetchBlob = vi.fn().mockRejectedValue(new Error('GET layer URL answered HTTP 403'));

    await expect(new ImageRegistry(new ECRClient({}), fetchBlob).readCosignSignature(REPOSITORY, DIGEST)).rejects.toThrow(
      expect.objectContaining({ name: 'TransientAwsError', message: expect.stringContaining('HTTP 403') }),
    );
  });
});

describe('fetchViaHttps', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('returns the body of a 2xx answer', async () => {
    const fetchMock = vi.fn().mockResolvedValue(new Response('payload', { status: 200 }));
    vi.stubGlobal('fetch', fetchMock);

    await expect(fetchViaHttps('https://blobs.test/x')).resolves.toEqual(new Uint8Array(Buffer.from('payload')));
    expect(fetchMock).toHaveBeenCalledWith('https://blobs.test/x');
  });

  it('throws on a non-2xx answer', async () => {
    vi.stubGlobal('fetch', vi.fn().mockResolvedValue(new Response('denied', { status: 403 })));

    await expect(fetchViaHttps('https://blobs.test/x')).rejects.toThrow('HTTP 403');
  });

  it('refuses a body larger than a simple-signing payload may be', async () => {
    vi.stubGlobal('fetch', vi.fn().mockResolvedValue(new Response(new Uint8Array(65 * 1024), { status: 200 })));

    await expect(fetchViaHttps('https://blobs.test/x')).rejects.toThrow(/larger than/);
  });

  it('refuses plain http', async () => {
    const fetchMock = vi.fn();
    vi.stubGlobal('fetch', fetchMock);

    await expect(fetchViaHttps('http://blobs.test/x')).rejects.toThrow(/https/);
    expect(fetchMock).not.toHaveBeenCalled();
  });
});
