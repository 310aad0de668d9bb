/** What the pipeline reads from ECR besides signatures: an image's model labels and the repository's tagged images. */
import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  ECRClient,
  type BatchGetImageCommandInput,
  type DescribeImagesCommandInput,
} from '@aws-sdk/client-ecr';
import { describe, expect, it, vi } from 'vitest';
import { ImageRegistry } from '../../lambdas/adapters/image-registry';
import { TransientAwsError } from '../../lambdas/errors';
import {
  REPOSITORY,
  DIGEST,
  OTHER_DIGEST,
  SIGNATURE_TAG,
  OCI_MANIFEST,
  ACCEPTED_MEDIA_TYPES,
  ecr,
  sha256,
  blobUrl,
  throttling,
  serve,
  inputsOf,
  emptyRegistryPerTest,
} from '../fixtures/ecr-registry';

emptyRegistryPerTest();

describe('ImageRegistry.readImageLabels', () => {
  const INDEX = 'application/vnd.oci.image.index.v1+json';
  const IMAGE_AND_INDEX_MEDIA_TYPES = [...ACCEPTED_MEDIA_TYPES, INDEX, 'application/vnd.docker.distribution.manifest.list.v2+json'];
  const MODEL_LABELS = { 'org.opencontainers.image.version': 'v1.3.0', model_id: 'sentiment-xl-2026-11', accuracy: '0.931' };

  /** An image config blob with these labels (`undefined`: a config without a Labels field). */
  const configBlob = (labels: unknown) =>
    new Uint8Array(
      Buffer.from(JSON.stringify({ architecture: 'arm64', os: 'linux', config: labels === undefined ? {} : { Labels: labels } })),
    );

  /** An OCI image manifest pointing at `config`, as `docker buildx` pushes it. */
  function imageManifest(config: Uint8Array): string {
    return JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: OTHER_DIGEST, size: 31_337_000 }],
    });
  }

  /** Serves these manifests by digest and these blobs; returns the fetchBlob that downloads them. */
  function serveImage(manifests: Record<string, { manifest: string; mediaType: string }>, blobs: Uint8Array[]) {
    const fetchBlob = serve({ blobs: new Map(blobs.map((blob): [string, Uint8Array] => [sha256(blob), blob])) });
    // `serve` answers BatchGetImage for signatures; the image's own manifests are answered here.
    ecr.on(BatchGetImageCommand).callsFake(async (input: BatchGetImageCommandInput) => {
      const [imageId] = input.imageIds!;
      const stored = manifests[imageId.imageDigest ?? ''];
      if (!stored) return { images: [], failures: [{ imageId, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' }] };
      return { images: [{ imageId, imageManifest: stored.manifest, imageManifestMediaType: stored.mediaType }], failures: [] };
    });
    return fetchBlob;
  }

  const readLabels = (fetchBlob: (url: string, limit: number) => Promise<Uint8Array>) =>
    new ImageRegistry(new ECRClient({}), fetchBlob).readImageLabels(REPOSITORY, DIGEST);

  it('reads the labels of the config of an OCI image manifest, downloading no more than the config declares', async () => {
    const config = configBlob(MODEL_LABELS);
    const fetchBlob = serveImage({ [DIGEST]: { manifest: imageManifest(config), mediaType: OCI_MANIFEST } }, [config]);

    await expect(readLabels(fetchBlob)).resolves.toEqual(MODEL_LABELS);
    expect(inputsOf(BatchGetImageCommand)).toEqual([
      { repositoryName: REPOSITORY, imageIds: [{ imageDigest: DIGEST }], acceptedMediaTypes: IMAGE_AND_INDEX_MEDIA_TYPES },
    ]);
    expect(fetchBlob).toHaveBeenCalledWith(blobUrl(sha256(config)), config.length);
  });

  it('reads a multi-platform image index through its first image manifest', async () => {
    const amd64 = configBlob({ ...MODEL_LABELS, platform: 'amd64' });
    const arm64 = configBlob({ ...MODEL_LABELS, platform: 'arm64' });
    const [amd64Manifest, arm64Manifest] = [imageManifest(amd64), imageManifest(arm64)];
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: INDEX,
      manifests: [amd64Manifest, arm64Manifest].map((m, i) => ({
        mediaType: OCI_MANIFEST,
        digest: sha256(m),
        size: m.length,
        platform: { os: 'linux', architecture: ['amd64', 'arm64'][i] },
      })),
    });
    const fetchBlob = serveImage(
      {
        [DIGEST]: { manifest: index, mediaType: INDEX },
        [sha256(amd64Manifest)]: { manifest: amd64Manifest, mediaType: OCI_MANIFEST },
        [sha256(arm64Manifest)]: { manifest: arm64Manifest, mediaType: OCI_MANIFEST },
      },
      [amd64, arm64],
    );

    await expect(readLabels(fetchBlob)).resolves.toEqual({ ...MODEL_LABELS, platform: 'amd64' });
    expect(inputsOf(BatchGetImageCommand)).toEqual([
      { repositoryName: REPOSITORY, imageIds: [{ imageDigest: DIGEST }], acceptedMediaTypes: IMAGE_AND_INDEX_MEDIA_TYPES },
      { repositoryName: REPOSITORY, imageIds: [{ imageDigest: sha256(amd64Manifest) }], acceptedMediaTypes: ACCEPTED_MEDIA_TYPES },
    ]);
  });

  it('keeps only the labels whose value is a string', async () => {
    const config = configBlob({
      model_id: 'sentiment-xl',
      accuracy: 0.931,
      epochs: null,
      datasets: ['imdb'],
      nested: { a: 'b' },
      empty: '',
    });
    const fetchBlob = serveImage({ [DIGEST]: { manifest: imageManifest(config), mediaType: OCI_MANIFEST } }, [config]);

    await expect(readLabels(fetchBlob)).resolves.toEqual({ model_id: 'sentiment-xl', empty: '' });
  });

  it.each([
    ['no Labels field', undefined],
    ['Labels null', null],
    ['Labels not an object', 'model_id=sentiment-xl'],
  ])('answers no labels for a config with %s', async (_, labels) => {
    const config = configBlob(labels);
    const fetchBlob = serveImage({ [DIGEST]: { manifest: imageManifest(config), mediaType: OCI_MANIFEST } }, [config]);

    await expect(readLabels(fetchBlob)).resolves.toEqual({});
  });

  it('answers no labels for a config that is not JSON', async () => {
    const config = new Uint8Array(Buffer.from('not json'));
    const fetchBlob = serveImage({ [DIGEST]: { manifest: imageManifest(config), mediaType: OCI_MANIFEST } }, [config]);

    await expect(readLabels(fetchBlob)).resolves.toEqual({});
  });

  it('throws, naming the image, when ECR has no such image', async () => {
    const fetchBlob = serveImage({}, []);

    await expect(readLabels(fetchBlob)).rejects.toThrow(`${REPOSITORY}@${DIGEST}`);
  });

  it('throws when the manifest names no config to read', async () => {
    const fetchBlob = serveImage(
      { [DIGEST]: { manifest: JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, layers: [] }), mediaType: OCI_MANIFEST } },
      [],
    );

    await expect(readLabels(fetchBlob)).rejects.toThrow('names no image config');
  });

  it('throws TransientAwsError when BatchGetImage is throttled', async () => {
    ecr.on(BatchGetImageCommand).rejects(throttling());

    await expect(readLabels(vi.fn())).rejects.toThrow(TransientAwsError);
  });
});

describe('ImageRegistry.listTaggedImages', () => {
  const list = () => new ImageRegistry(new ECRClient({})).listTaggedImages(REPOSITORY);

  it('lists every tag with its digest, following nextToken to the last page', async () => {
    const pages: Record<string, { imageDetails: { imageDigest?: string; imageTags?: string[] }[]; nextToken?: string }> = {
      first: { imageDetails: [{ imageDigest: DIGEST, imageTags: ['v1.3.0', 'latest'] }], nextToken: 'page-2' },
      'page-2': { imageDetails: [{ imageDigest: OTHER_DIGEST, imageTags: ['v1.2.0'] }], nextToken: 'page-3' },
      'page-3': { imageDetails: [{ imageDigest: `sha256:${'77'.repeat(32)}`, imageTags: [SIGNATURE_TAG] }] },
    };
    ecr.on(DescribeImagesCommand).callsFake(async (input: DescribeImagesCommandInput) => pages[input.nextToken ?? 'first']);

    await expect(list()).resolves.toEqual([
      { tag: 'v1.3.0', digest: DIGEST },
      { tag: 'latest', digest: DIGEST },
      { tag: 'v1.2.0', digest: OTHER_DIGEST },
      { tag: SIGNATURE_TAG, digest: `sha256:${'77'.repeat(32)}` },
    ]);
    expect(inputsOf(DescribeImagesCommand)).toEqual([
      { repositoryName: REPOSITORY, filter: { tagStatus: 'TAGGED' }, nextToken: undefined, maxResults: 1000 },
      { repositoryName: REPOSITORY, filter: { tagStatus: 'TAGGED' }, nextToken: 'page-2', maxResults: 1000 },
      { repositoryName: REPOSITORY, filter: { tagStatus: 'TAGGED' }, nextToken: 'page-3', maxResults: 1000 },
    ]);
  });

  it('skips images without tags or without a digest', async () => {
    ecr.on(DescribeImagesCommand).resolves({
      imageDetails: [
        { imageDigest: DIGEST },
        { imageDigest: OTHER_DIGEST, imageTags: [] },
        { imageTags: ['orphan'] },
        { imageDigest: OTHER_DIGEST, imageTags: ['v1.2.0'] },
      ],
    });

    await expect(list()).resolves.toEqual([{ tag: 'v1.2.0', digest: OTHER_DIGEST }]);
  });

  it('answers an empty list for an empty repository', async () => {
    ecr.on(DescribeImagesCommand).resolves({});

    await expect(list()).resolves.toEqual([]);
  });

  it('throws TransientAwsError when DescribeImages is throttled', async () => {
    ecr.on(DescribeImagesCommand).rejects(throttling());

    await expect(list()).rejects.toThrow(TransientAwsError);
  });
});
