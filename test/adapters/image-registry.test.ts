import { createHash } from 'node:crypto';
import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  DescribeImageSigningStatusCommand,
  ECRClient,
  GetDownloadUrlForLayerCommand,
  ListImageReferrersCommand,
  type BatchGetImageCommandInput,
  type DescribeImagesCommandInput,
  type ImageFailureCode,
  type ImageReferrer,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BlobTooLargeError, fetchViaHttps, ImageRegistry } from '../../lambdas/adapters/image-registry';
import { TransientAwsError } from '../../lambdas/errors';
import {
  MAX_ENVELOPE_BYTES,
  NOTATION_COSE_MEDIA_TYPE,
  NOTATION_JWS_MEDIA_TYPE,
  NOTATION_SIGNATURE_ARTIFACT_TYPE,
  SIGNATURE_ARTIFACT_TYPES,
  SIGSTORE_BUNDLE_MEDIA_TYPE,
} from '../../lambdas/signature/artifacts';
import { createCosignSignature, generateSigningKeyPair, type CosignSignature } from '../../local/cosign-signer';

const REPOSITORY = 'models/sentiment';
const REPOSITORY_URI = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/${REPOSITORY}`;
const DIGEST = `sha256:${'5e'.repeat(32)}`;
const OTHER_DIGEST = `sha256:${'0a'.repeat(32)}`;
const SIGNATURE_TAG = `sha256-${'5e'.repeat(32)}.sig`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const ACCEPTED_MEDIA_TYPES = [OCI_MANIFEST, 'application/vnd.docker.distribution.manifest.v2+json'];
const COSIGN_SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
const SIMPLE_SIGNING_PAYLOAD_LIMIT = 64 * 1024;
const SIGNING_PROFILE = 'arn:aws:signer:eu-west-1:123456789012:/signing-profiles/release';
const NO_SIGNING_STATUS = { signingStatus: false };

const key = generateSigningKeyPair();
const ecr = mockClient(ECRClient);

const sha256 = (bytes: Uint8Array | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
/** The blob-URL convention of these tests: `https://blobs.test/<repository>/<digest>`. */
const blobUrl = (digest: string) => `https://blobs.test/${REPOSITORY}/${digest}`;
const awsError = (name: string, fault: 'client' | 'server' = 'client') =>
  Object.assign(new Error(`simulated ${name}`), { name, $fault: fault, $metadata: {} });
const throttling = () => awsError('ThrottlingException');

/** A signature referrer as Notation or cosign v3 pushes it: an OCI manifest with one envelope layer and a subject. */
interface Referrer {
  digest: string;
  manifest: string;
  artifactType: string;
  layerMediaType: string;
  layerDigest: string;
  envelope: Uint8Array;
}

function makeReferrer(
  options: {
    artifactType?: string;
    layerMediaType?: string;
    envelope?: Uint8Array;
    subject?: string | null;
    /** Replaces the manifest's layers (after the envelope layer is computed). */
    layers?: (envelopeLayer: { mediaType: string; digest: string; size: number }) => unknown[];
    manifestArtifactType?: string;
  } = {},
): Referrer {
  const artifactType = options.artifactType ?? NOTATION_SIGNATURE_ARTIFACT_TYPE;
  const layerMediaType = options.layerMediaType ?? NOTATION_JWS_MEDIA_TYPE;
  const envelope =
    options.envelope ??
    new Uint8Array(Buffer.from(JSON.stringify({ payload: 'eyJ0YXJnZXRBcnRpZmFjdCI6e319', signature: 'c2ln', nonce: Math.random() })));
  const layer = { mediaType: layerMediaType, digest: sha256(envelope), size: envelope.length };
  const subject = options.subject === undefined ? DIGEST : options.subject;
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: options.manifestArtifactType ?? artifactType,
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256('{}'), size: 2 },
    layers: options.layers ? options.layers(layer) : [layer],
    ...(subject === null ? {} : { subject: { mediaType: OCI_MANIFEST, digest: subject, size: 1234 } }),
    annotations: { 'io.cncf.notary.x509chain.thumbprint#S256': '["abc"]' },
  });
  return { digest: sha256(manifest), manifest, artifactType, layerMediaType, layerDigest: layer.digest, envelope };
}

const listed = (referrer: Referrer, extra: Partial<ImageReferrer> = {}): ImageReferrer => ({
  digest: referrer.digest,
  mediaType: OCI_MANIFEST,
  artifactType: referrer.artifactType,
  size: Buffer.byteLength(referrer.manifest),
  artifactStatus: 'ACTIVE',
  ...extra,
});

/**
 * Serves a registry holding `cosign` under its signature tag and `referrers` by digest (listed on one page unless the
 * test mocks ListImageReferrers itself), with blobs reachable through GetDownloadUrlForLayer + the returned fetchBlob.
 */
function serve({
  cosign,
  referrers = [],
  blobs = new Map(),
}: {
  cosign?: CosignSignature;
  referrers?: Referrer[];
  blobs?: Map<string, Uint8Array>;
} = {}) {
  const manifests = new Map(referrers.map((r) => [r.digest, r.manifest]));
  const allBlobs = new Map([
    ...(cosign?.blobs ?? []),
    ...referrers.map((r): [string, Uint8Array] => [r.layerDigest, r.envelope]),
    ...blobs,
  ]);
  ecr.on(BatchGetImageCommand).callsFake(async (input: BatchGetImageCommandInput) => {
    const [imageId] = input.imageIds!;
    if (imageId.imageTag === SIGNATURE_TAG && cosign) {
      return { images: [{ imageId, imageManifest: cosign.manifest, imageManifestMediaType: cosign.manifestMediaType }], failures: [] };
    }
    const manifest = imageId.imageDigest ? manifests.get(imageId.imageDigest) : undefined;
    if (manifest !== undefined)
      return { images: [{ imageId, imageManifest: manifest, imageManifestMediaType: OCI_MANIFEST }], failures: [] };
    return {
      images: [],
      failures: [
        { imageId, failureCode: imageId.imageTag ? 'ImageTagDoesNotExist' : 'ImageNotFound', failureReason: 'Requested image not found' },
      ],
    };
  });
  ecr.on(ListImageReferrersCommand).resolves({ referrers: referrers.map((r) => listed(r)) });
  ecr.on(GetDownloadUrlForLayerCommand).callsFake(async ({ layerDigest }) => {
    if (!allBlobs.has(layerDigest)) throw awsError('LayersNotFoundException');
    return { layerDigest, downloadUrl: blobUrl(layerDigest) };
  });
  return vi.fn(async (url: string, limit: number) => {
    const blob = [...allBlobs].find(([digest]) => blobUrl(digest) === url)?.[1];
    if (!blob) throw new Error(`404 ${url}`);
    if (blob.length > limit) throw new BlobTooLargeError(`layer is larger than ${limit} bytes`);
    return blob;
  });
}

const read = (fetchBlob: (url: string, limit: number) => Promise<Uint8Array>, options = NO_SIGNING_STATUS) =>
  new ImageRegistry(new ECRClient({}), fetchBlob).readSignatureArtifacts(REPOSITORY, DIGEST, options);
const inputsOf = <T>(command: new (input: T) => unknown) =>
  ecr.commandCalls(command as never).map((call) => (call.args[0] as { input: unknown }).input);

beforeEach(() => {
  ecr.reset();
  serve();
});

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

describe('ImageRegistry.readSignatureArtifacts: signature referrers', () => {
  it('lists the signature referrers of the digest and downloads each envelope, checked against its manifest', async () => {
    const notation = makeReferrer();
    const bundle = makeReferrer({ artifactType: SIGSTORE_BUNDLE_MEDIA_TYPE, layerMediaType: SIGSTORE_BUNDLE_MEDIA_TYPE, subject: null });
    const fetchBlob = serve({ referrers: [notation, bundle] });

    await expect(read(fetchBlob)).resolves.toEqual({
      cosign: null,
      referrers: [
        {
          artifactType: NOTATION_SIGNATURE_ARTIFACT_TYPE,
          manifestDigest: notation.digest,
          mediaType: NOTATION_JWS_MEDIA_TYPE,
          envelope: notation.envelope,
        },
        {
          artifactType: SIGSTORE_BUNDLE_MEDIA_TYPE,
          manifestDigest: bundle.digest,
          mediaType: SIGSTORE_BUNDLE_MEDIA_TYPE,
          envelope: bundle.envelope,
        },
      ],
      unreadable: [],
      signingInProgress: false,
    });
    expect(inputsOf(ListImageReferrersCommand)).toEqual([
      {
        repositoryName: REPOSITORY,
        subjectId: { imageDigest: DIGEST },
        filter: { artifactTypes: [...SIGNATURE_ARTIFACT_TYPES], artifactStatus: 'ACTIVE' },
      },
    ]);
    expect(inputsOf(BatchGetImageCommand)).toEqual([
      { repositoryName: REPOSITORY, imageIds: [{ imageTag: SIGNATURE_TAG }], acceptedMediaTypes: ACCEPTED_MEDIA_TYPES },
      { repositoryName: REPOSITORY, imageIds: [{ imageDigest: notation.digest }], acceptedMediaTypes: [OCI_MANIFEST] },
      { repositoryName: REPOSITORY, imageIds: [{ imageDigest: bundle.digest }], acceptedMediaTypes: [OCI_MANIFEST] },
    ]);
    // Each envelope is capped at the size its manifest declares.
    expect(fetchBlob.mock.calls).toEqual([
      [blobUrl(notation.layerDigest), notation.envelope.length],
      [blobUrl(bundle.layerDigest), bundle.envelope.length],
    ]);
  });

  it('reads a COSE Notation signature', async () => {
    const cose = makeReferrer({ layerMediaType: NOTATION_COSE_MEDIA_TYPE, envelope: new Uint8Array([0xd2, 0x84, 0x43, 0xa1]) });

    await expect(read(serve({ referrers: [cose] }))).resolves.toMatchObject({
      referrers: [{ mediaType: NOTATION_COSE_MEDIA_TYPE, envelope: cose.envelope }],
      unreadable: [],
    });
  });

  it('follows nextToken through every page of referrers', async () => {
    const [first, second, third] = [makeReferrer(), makeReferrer(), makeReferrer()];
    const fetchBlob = serve({ referrers: [first!, second!, third!] });
    ecr
      .on(ListImageReferrersCommand)
      .resolvesOnce({ referrers: [listed(first!)], nextToken: 'page-2' })
      .resolvesOnce({ referrers: [listed(second!)], nextToken: 'page-3' })
      .resolvesOnce({ referrers: [listed(third!)] });

    const { referrers } = await read(fetchBlob);

    expect(referrers.map((r) => r.manifestDigest)).toEqual([first!.digest, second!.digest, third!.digest]);
    expect(inputsOf(ListImageReferrersCommand).map((input: any) => input.nextToken)).toEqual([undefined, 'page-2', 'page-3']);
  });

  it('does not request referrers that are not signatures, or not ACTIVE, even when ECR lists them', async () => {
    const signature = makeReferrer();
    const archived = makeReferrer();
    const fetchBlob = serve({ referrers: [signature, archived] });
    ecr.on(ListImageReferrersCommand).resolves({
      referrers: [
        { digest: sha256('sbom'), mediaType: OCI_MANIFEST, artifactType: 'application/spdx+json', size: 500, artifactStatus: 'ACTIVE' },
        listed(archived, { artifactStatus: 'ARCHIVED' }),
        listed(signature, { artifactStatus: undefined }),
      ],
    });

    const artifacts = await read(fetchBlob);

    expect(artifacts.referrers.map((r) => r.manifestDigest)).toEqual([signature.digest]);
    expect(artifacts.unreadable).toEqual([]);
    const requested = inputsOf(BatchGetImageCommand).flatMap((input: any) =>
      input.imageIds.map((id: any) => id.imageDigest ?? id.imageTag),
    );
    expect(requested).toEqual([SIGNATURE_TAG, signature.digest]);
  });

  it('reports a referrer whose downloaded bytes do not hash to the layer digest as unreadable, and still reads the others', async () => {
    const good = makeReferrer();
    const tampered = makeReferrer();
    const swapped = new Uint8Array(tampered.envelope);
    swapped[0] = swapped[0]! ^ 0xff;
    const fetchBlob = serve({ referrers: [tampered, good], blobs: new Map([[tampered.layerDigest, swapped]]) });

    const artifacts = await read(fetchBlob);

    expect(artifacts.referrers.map((r) => r.manifestDigest)).toEqual([good.digest]);
    expect(artifacts.unreadable).toEqual([
      {
        artifactType: NOTATION_SIGNATURE_ARTIFACT_TYPE,
        manifestDigest: tampered.digest,
        problem: `the bytes downloaded for its layer hash to ${sha256(swapped)}, not ${tampered.layerDigest}`,
      },
    ]);
  });

  it('reports a referrer whose layer declares more than MAX_ENVELOPE_BYTES as unreadable, without downloading it', async () => {
    const huge = makeReferrer({ layers: (layer) => [{ ...layer, size: MAX_ENVELOPE_BYTES + 1 }] });
    const fetchBlob = serve({ referrers: [huge] });

    const artifacts = await read(fetchBlob);

    expect(artifacts.referrers).toEqual([]);
    expect(artifacts.unreadable).toEqual([
      expect.objectContaining({ manifestDigest: huge.digest, problem: expect.stringContaining(`more than the ${MAX_ENVELOPE_BYTES}`) }),
    ]);
    expect(ecr.commandCalls(GetDownloadUrlForLayerCommand)).toHaveLength(0);
    expect(fetchBlob).not.toHaveBeenCalled();
  });

  it('reports a referrer whose blob is larger than its manifest declares as unreadable', async () => {
    const liar = makeReferrer({ layers: (layer) => [{ ...layer, size: layer.size - 1 }] });

    const artifacts = await read(serve({ referrers: [liar] }));

    expect(artifacts.unreadable).toEqual([
      expect.objectContaining({ manifestDigest: liar.digest, problem: expect.stringContaining('larger than the') }),
    ]);
  });

  it('reports a referrer whose blob is shorter than its manifest declares as unreadable', async () => {
    const liar = makeReferrer({ layers: (layer) => [{ ...layer, size: layer.size + 10 }] });

    const artifacts = await read(serve({ referrers: [liar] }));

    expect(artifacts.unreadable).toEqual([
      expect.objectContaining({ manifestDigest: liar.digest, problem: expect.stringContaining(`not the ${liar.envelope.length + 10}`) }),
    ]);
  });

  it.each<[string, () => Referrer, RegExp]>([
    ['a manifest about another image', () => makeReferrer({ subject: OTHER_DIGEST }), new RegExp(`subject is ${OTHER_DIGEST}`)],
    ['two layers', () => makeReferrer({ layers: (layer) => [layer, layer] }), /has 2 layers, not exactly one/],
    ['no layer', () => makeReferrer({ layers: () => [] }), /has 0 layers/],
    [
      'a Notation signature in a bundle layer',
      () => makeReferrer({ layerMediaType: SIGSTORE_BUNDLE_MEDIA_TYPE }),
      /media type "application\/vnd.dev.sigstore.bundle.v0.3\+json"/,
    ],
    [
      'a bundle in a JWS layer',
      () => makeReferrer({ artifactType: SIGSTORE_BUNDLE_MEDIA_TYPE, layerMediaType: NOTATION_JWS_MEDIA_TYPE }),
      /media type "application\/jose\+json"/,
    ],
    [
      'a manifest of another artifact type than listed',
      () => makeReferrer({ manifestArtifactType: 'application/spdx+json' }),
      /declares artifact type "application\/spdx\+json"/,
    ],
    ['a layer that is not sha256', () => makeReferrer({ layers: (layer) => [{ ...layer, digest: 'sha512:abc' }] }), /not sha256/],
    ['a manifest that is not an OCI manifest', () => makeReferrer({ layers: () => 'oops' as never }), /not an OCI image manifest/],
  ])('reports %s as unreadable', async (_, make, problem) => {
    const referrer = make();

    const artifacts = await read(serve({ referrers: [referrer] }));

    expect(artifacts.referrers).toEqual([]);
    expect(artifacts.unreadable).toEqual([
      { artifactType: referrer.artifactType, manifestDigest: referrer.digest, problem: expect.stringMatching(problem) },
    ]);
  });

  it('reports a referrer whose manifest does not hash to its listed digest as unreadable', async () => {
    const referrer = makeReferrer();
    serve({ referrers: [referrer] });
    ecr
      .on(BatchGetImageCommand, { imageIds: [{ imageDigest: referrer.digest }] })
      .resolves({ images: [{ imageManifest: referrer.manifest.replace('"schemaVersion":2', '"schemaVersion": 2') }] });

    const artifacts = await read(vi.fn());

    expect(artifacts.unreadable).toEqual([expect.objectContaining({ problem: expect.stringContaining('does not hash to the digest') })]);
  });

  it('reports a listed referrer ECR no longer returns, or whose layer is gone, as unreadable', async () => {
    const deleted = makeReferrer();
    const layerless = makeReferrer();
    serve({ referrers: [layerless] });
    ecr.on(ListImageReferrersCommand).resolves({ referrers: [listed(deleted), listed(layerless)] });
    ecr.on(GetDownloadUrlForLayerCommand).rejects(awsError('LayersNotFoundException'));

    const artifacts = await read(vi.fn());

    expect(artifacts.unreadable).toEqual([
      expect.objectContaining({ manifestDigest: deleted.digest, problem: expect.stringContaining('does not return its manifest') }),
      expect.objectContaining({ manifestDigest: layerless.digest, problem: expect.stringContaining('LayersNotFoundException') }),
    ]);
  });

  it('throws TransientAwsError when ListImageReferrers is throttled or fails on the server', async () => {
    ecr.on(ListImageReferrersCommand).rejectsOnce(throttling()).rejectsOnce(awsError('ServerException', 'server'));

    await expect(read(vi.fn())).rejects.toThrow(TransientAwsError);
    await expect(read(vi.fn())).rejects.toThrow(TransientAwsError);
  });

  it('rethrows any other ListImageReferrers failure unchanged (the step fails closed)', async () => {
    ecr.on(ListImageReferrersCommand).rejects(awsError('AccessDeniedException'));

    const error = await read(vi.fn()).catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'AccessDeniedException' });
    expect(error).not.toBeInstanceOf(TransientAwsError);
  });

  it('throws TransientAwsError when reading a referrer manifest is throttled', async () => {
    const referrer = makeReferrer();
    serve({ referrers: [referrer] });
    ecr.on(BatchGetImageCommand, { imageIds: [{ imageDigest: referrer.digest }] }).rejects(throttling());

    await expect(read(vi.fn())).rejects.toThrow(TransientAwsError);
  });

  it('throws TransientAwsError when ECR reports an upstream failure for a referrer manifest', async () => {
    const referrer = makeReferrer();
    serve({ referrers: [referrer] });
    ecr
      .on(BatchGetImageCommand, { imageIds: [{ imageDigest: referrer.digest }] })
      .resolves({ failures: [{ failureCode: 'UpstreamUnavailable' }] });

    await expect(read(vi.fn())).rejects.toThrow(TransientAwsError);
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

describe('fetchViaHttps', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('returns the body of a 2xx answer', async () => {
    const fetchMock = vi.fn().mockResolvedValue(new Response('payload', { status: 200 }));
    vi.stubGlobal('fetch', fetchMock);

    await expect(fetchViaHttps('https://blobs.test/x', 1024)).resolves.toEqual(new Uint8Array(Buffer.from('payload')));
    expect(fetchMock).toHaveBeenCalledWith('https://blobs.test/x');
  });

  it('throws on a non-2xx answer', async () => {
    vi.stubGlobal('fetch', vi.fn().mockResolvedValue(new Response('denied', { status: 403 })));

    await expect(fetchViaHttps('https://blobs.test/x', 1024)).rejects.toThrow('HTTP 403');
  });

  it('accepts a body of exactly the limit and refuses one byte more', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn().mockImplementation(async () => new Response(new Uint8Array(10), { status: 200 })),
    );

    await expect(fetchViaHttps('https://blobs.test/x', 10)).resolves.toHaveLength(10);
    await expect(fetchViaHttps('https://blobs.test/x', 9)).rejects.toThrow(BlobTooLargeError);
  });

  it('refuses a streamed body that grows past the limit', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(new Uint8Array(1024));
        controller.close();
      },
    });
    vi.stubGlobal('fetch', vi.fn().mockResolvedValue(new Response(body, { status: 200 })));

    await expect(fetchViaHttps('https://blobs.test/x', 4000)).rejects.toThrow(/larger than 4000 bytes/);
  });

  it.each(['http://blobs.test/x', 'http://10.0.0.1/x', 'ftp://blobs.test/x', 'file:///etc/passwd'])('refuses %s', async (url) => {
    const fetchMock = vi.fn();
    vi.stubGlobal('fetch', fetchMock);

    await expect(fetchViaHttps(url, 1024)).rejects.toThrow(/expected https/);
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it.each(['http://127.0.0.1:4566/v2/blob', 'http://localhost:5000/v2/blob', 'http://[::1]:5000/v2/blob'])(
    'allows plain http to the loopback host of a local ECR emulator: %s',
    async (url) => {
      const fetchMock = vi.fn().mockResolvedValue(new Response('payload', { status: 200 }));
      vi.stubGlobal('fetch', fetchMock);

      await expect(fetchViaHttps(url, 1024)).resolves.toEqual(new Uint8Array(Buffer.from('payload')));
      expect(fetchMock).toHaveBeenCalledWith(url);
    },
  );
});
