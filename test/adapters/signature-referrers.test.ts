import { BatchGetImageCommand, GetDownloadUrlForLayerCommand, ListImageReferrersCommand } from '@aws-sdk/client-ecr';
import { describe, expect, it, vi } from 'vitest';
import { TransientAwsError } from '../../lambdas/errors';
import {
  MAX_ENVELOPE_BYTES,
  NOTATION_COSE_MEDIA_TYPE,
  NOTATION_JWS_MEDIA_TYPE,
  NOTATION_SIGNATURE_ARTIFACT_TYPE,
  SIGNATURE_ARTIFACT_TYPES,
  SIGSTORE_BUNDLE_MEDIA_TYPE,
} from '../../lambdas/signature/artifacts';
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
  awsError,
  throttling,
  type Referrer,
  makeReferrer,
  listed,
  serve,
  read,
  inputsOf,
  emptyRegistryPerTest,
} from '../fixtures/ecr-registry';

emptyRegistryPerTest();

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
