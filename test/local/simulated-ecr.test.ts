/**
 * The simulated account's ECR (images, cosign signatures, signature referrers, managed signing status), driven through
 * the real ImageRegistry adapter (the code that talks to AWS in production), never through its own internals.
 */
import { createHash, verify } from 'node:crypto';
import { BatchGetImageCommand, DescribeImageSigningStatusCommand, ListImageReferrersCommand } from '@aws-sdk/client-ecr';
import { describe, expect, it } from 'vitest';
import { NOTATION_JWS_MEDIA_TYPE, NOTATION_SIGNATURE_ARTIFACT_TYPE, SIGSTORE_BUNDLE_MEDIA_TYPE } from '../../lambdas/signature/artifacts';
import { createCosignSignature } from '../../local/cosign-signer';
import { SimulatedAccount } from '../../local/simulated-account';
import {
  key,
  entry,
  COMPLETES_AT_ONCE,
  account,
  runningDigest,
  useFreshAccount,
  push,
  artifactsOf,
  readCosign,
  sha256,
  signatureReferrer,
  commands,
} from './simulated-account-fixture';

useFreshAccount();

describe('SimulatedAccount', () => {
  describe('ECR images', () => {
    it('gives a pushed image the sha256 digest of its manifest, as a registry does', async () => {
      const release = push('v1.3.0', COMPLETES_AT_ONCE);

      const { images, failures } = await account.ecr.send(
        new BatchGetImageCommand({ repositoryName: entry.repository, imageIds: [{ imageTag: 'v1.3.0' }] }),
      );

      expect(failures).toEqual([]);
      expect(images).toHaveLength(1);
      const manifest: string = images[0].imageManifest;
      expect(release.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(release.digest).toBe(`sha256:${createHash('sha256').update(manifest).digest('hex')}`);
      expect(images[0].imageId).toEqual({ imageTag: 'v1.3.0', imageDigest: release.digest });
      expect(JSON.parse(manifest).annotations).toEqual({ 'org.opencontainers.image.ref.name': 'models/sentiment:v1.3.0' });
    });

    it('gives different images different digests', () => {
      expect(push('v1.3.0', COMPLETES_AT_ONCE).digest).not.toBe(push('v1.3.1', COMPLETES_AT_ONCE).digest);
    });

    it('builds repository URIs from the account and Region', () => {
      expect(new SimulatedAccount({ account: '210987654321', region: 'eu-west-1' }).repositoryUri('models/x')).toBe(
        '210987654321.dkr.ecr.eu-west-1.amazonaws.com/models/x',
      );
    });
  });

  describe('cosign signatures, read through ImageRegistry', () => {
    it('serves a signature pushed with pushSignature, with the signed payload naming the image', async () => {
      const release = push('v1.3.0', COMPLETES_AT_ONCE);
      const signature = createCosignSignature({
        privateKey: key.privateKeyPem,
        repositoryUri: release.repositoryUri,
        digest: release.digest,
      });
      account.pushSignature(entry.repository, signature);

      const read = await readCosign(entry.repository, release.digest);

      expect(read?.manifest).toBe(signature.manifest);
      expect(read?.layers).toHaveLength(1);
      const [layer] = read!.layers;
      const payload = Buffer.from(layer.payload);
      expect(layer.digest).toBe(`sha256:${createHash('sha256').update(payload).digest('hex')}`);
      expect(JSON.parse(payload.toString('utf8'))).toEqual({
        critical: {
          identity: { 'docker-reference': release.repositoryUri },
          image: { 'docker-manifest-digest': release.digest },
          type: 'cosign container image signature',
        },
        optional: null,
      });
      expect(verify('sha256', payload, key.publicKeyPem, Buffer.from(layer.signatureBase64, 'base64'))).toBe(true);
      expect(commands()).toEqual(['BatchGetImage', 'ListImageReferrers', 'GetDownloadUrlForLayer']);
      expect(account.calls[0].input).toMatchObject({
        repositoryName: entry.repository,
        imageIds: [{ imageTag: `${release.digest.replace(':', '-')}.sig` }],
      });
    });

    it('serves the payload of a signature made for another digest unchanged (the verifier must catch it)', async () => {
      const release = push('v1.3.0', COMPLETES_AT_ONCE);
      const signature = createCosignSignature({
        privateKey: key.privateKeyPem,
        repositoryUri: release.repositoryUri,
        digest: release.digest,
        payloadDigest: runningDigest,
      });
      account.pushSignature(entry.repository, signature);

      const read = await readCosign(entry.repository, release.digest);

      expect(JSON.parse(Buffer.from(read!.layers[0].payload).toString('utf8')).critical.image['docker-manifest-digest']).toBe(
        runningDigest,
      );
    });

    it('reads a missing signature as null', async () => {
      const release = push('v1.3.0', COMPLETES_AT_ONCE);

      await expect(artifactsOf(release.digest)).resolves.toEqual({ cosign: null, referrers: [], unreadable: [], signingInProgress: false });
      expect(commands()).toEqual(['BatchGetImage', 'ListImageReferrers']);
    });

    it("does not serve one image's signature for another", async () => {
      const signed = push('v1.3.0', COMPLETES_AT_ONCE);
      const unsigned = push('v1.3.1', COMPLETES_AT_ONCE);
      account.pushSignature(
        entry.repository,
        createCosignSignature({ privateKey: key.privateKeyPem, repositoryUri: signed.repositoryUri, digest: signed.digest }),
      );

      await expect(readCosign(entry.repository, unsigned.digest)).resolves.toBeNull();
    });

    it('fails like ECR for a repository that does not exist', async () => {
      await expect(readCosign('models/unknown', runningDigest)).rejects.toMatchObject({ name: 'RepositoryNotFoundException' });
    });

    it('refuses to fetch a blob it does not hold', async () => {
      await expect(
        account.fetchBlob(`https://simulated-ecr.invalid/v2/models/sentiment/blobs/sha256:${'0'.repeat(64)}`),
      ).rejects.toThrowError(/no blob at/);
    });
  });

  describe('late cosign signatures (appearsAfterSeconds)', () => {
    it('shows a signature only once simulated time reaches its arrival', async () => {
      const release = push('v1.3.0', COMPLETES_AT_ONCE);
      const signature = createCosignSignature({
        privateKey: key.privateKeyPem,
        repositoryUri: release.repositoryUri,
        digest: release.digest,
      });
      account.pushSignature(entry.repository, signature, { appearsAfterSeconds: 120 });

      await expect(readCosign(entry.repository, release.digest)).resolves.toBeNull();
      account.advance(119);
      await expect(readCosign(entry.repository, release.digest)).resolves.toBeNull();
      const payloadDigest = JSON.parse(signature.manifest).layers[0].digest;
      await expect(account.fetchBlob(`https://simulated-ecr.invalid/v2/${entry.repository}/blobs/${payloadDigest}`)).rejects.toThrow(
        /no blob/,
      );

      account.advance(1);
      await expect(readCosign(entry.repository, release.digest)).resolves.toMatchObject({
        manifest: signature.manifest,
        layers: [{ digest: payloadDigest }],
      });
    });
  });

  describe('push events (ECR Image Action on the default bus)', () => {
    const pushesSeen = () =>
      account.takeEvents().map((e) => ({ time: e.time, tag: e.detail['image-tag'] ?? null, digest: e.detail['image-digest'] }));

    it('sends one per completed push, when it completes: a late signature at its arrival, an untagged referrer with no image-tag', () => {
      const release = push('v1.3.0', COMPLETES_AT_ONCE);
      account.takeEvents(); // the running image's and the release's own pushes
      const signature = createCosignSignature({
        privateKey: key.privateKeyPem,
        repositoryUri: release.repositoryUri,
        digest: release.digest,
      });
      account.pushSignature(entry.repository, signature, { appearsAfterSeconds: 40 });
      const referrer = account.pushReferrer(signatureReferrer(release.digest));
      const start = account.clock().getTime();
      const at = (seconds: number) => new Date(start + seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

      expect(pushesSeen()).toEqual([{ time: at(0), tag: null, digest: referrer }]);
      expect(account.nextChange()?.getTime()).toBe(start + 40_000);
      account.advance(39);
      expect(pushesSeen()).toEqual([]);
      account.advance(1);
      expect(pushesSeen()).toEqual([{ time: at(40), tag: signature.signatureTag, digest: expect.stringMatching(/^sha256:/) }]);
      // Nothing of ECR's is on its way any more (what comes next is the fixture's ECS, later).
      expect(account.nextChange()?.getTime() ?? Number.POSITIVE_INFINITY).toBeGreaterThan(start + 40_000);
    });

    it('sends the documented shape, and none for a signature ECR managed signing stores itself', () => {
      const release = push('v1.3.0', COMPLETES_AT_ONCE);
      const [event] = account.takeEvents().filter((e) => e.detail['image-tag'] === 'v1.3.0');
      expect(event).toMatchObject({
        'detail-type': 'ECR Image Action',
        source: 'aws.ecr',
        resources: [],
        detail: { result: 'SUCCESS', 'repository-name': entry.repository, 'image-digest': release.digest, 'action-type': 'PUSH' },
      });
      account.pushReferrer({ ...signatureReferrer(release.digest), storedByManagedSigning: true });
      expect(account.takeEvents()).toEqual([]);
    });
  });

  describe('signature referrers, read through ImageRegistry', () => {
    it('lists a pushed referrer for its subject only, and serves its manifest by digest and its envelope', async () => {
      const release = push('v1.3.0', COMPLETES_AT_ONCE);
      const other = push('v1.3.1', COMPLETES_AT_ONCE);
      const referrer = signatureReferrer(release.digest);
      const manifestDigest = account.pushReferrer(referrer);

      expect(manifestDigest).toBe(sha256(referrer.manifest));
      await expect(artifactsOf(release.digest)).resolves.toEqual({
        cosign: null,
        referrers: [
          {
            artifactType: NOTATION_SIGNATURE_ARTIFACT_TYPE,
            manifestDigest,
            mediaType: NOTATION_JWS_MEDIA_TYPE,
            envelope: referrer.envelope,
          },
        ],
        unreadable: [],
        signingInProgress: false,
      });
      expect(commands()).toEqual(['BatchGetImage', 'ListImageReferrers', 'BatchGetImage', 'GetDownloadUrlForLayer']);
      await expect(artifactsOf(other.digest)).resolves.toMatchObject({ referrers: [], unreadable: [] });
    });

    it('answers ListImageReferrers as ECR does: filtered by artifact type, ACTIVE only by default', async () => {
      const release = push('v1.3.0', COMPLETES_AT_ONCE);
      const notation = account.pushReferrer(signatureReferrer(release.digest));
      const bundle = account.pushReferrer(
        signatureReferrer(release.digest, { artifactType: SIGSTORE_BUNDLE_MEDIA_TYPE, layerMediaType: SIGSTORE_BUNDLE_MEDIA_TYPE }),
      );
      const sbom = account.pushReferrer({ ...signatureReferrer(release.digest), artifactType: 'application/spdx+json' });
      const archived = account.pushReferrer({ ...signatureReferrer(release.digest), artifactStatus: 'ARCHIVED' });
      const list = (filter?: object) =>
        account.ecr.send(
          new ListImageReferrersCommand({
            repositoryName: entry.repository,
            subjectId: { imageDigest: release.digest },
            ...(filter ? { filter } : {}),
          }),
        );

      const all = await list();
      expect(all.referrers.map((r: any) => r.digest)).toEqual([notation, bundle, sbom]);
      expect(all.referrers[0]).toEqual({
        digest: notation,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        artifactType: NOTATION_SIGNATURE_ARTIFACT_TYPE,
        size: expect.any(Number),
        artifactStatus: 'ACTIVE',
      });
      expect((await list({ artifactTypes: [SIGSTORE_BUNDLE_MEDIA_TYPE] })).referrers.map((r: any) => r.digest)).toEqual([bundle]);
      expect((await list({ artifactStatus: 'ANY' })).referrers.map((r: any) => r.digest)).toEqual([notation, bundle, sbom, archived]);
      // The adapter asks for signature types only: the SBOM is never requested.
      await expect(artifactsOf(release.digest)).resolves.toMatchObject({
        referrers: [{ manifestDigest: notation }, { manifestDigest: bundle }],
      });
    });

    it('pages ListImageReferrers (20 per page by default), and the adapter follows every page', async () => {
      const release = push('v1.3.0', COMPLETES_AT_ONCE);
      const digests = Array.from({ length: 23 }, () => account.pushReferrer(signatureReferrer(release.digest)));

      const first = await account.ecr.send(
        new ListImageReferrersCommand({ repositoryName: entry.repository, subjectId: { imageDigest: release.digest } }),
      );
      expect(first.referrers).toHaveLength(20);
      expect(first.nextToken).toEqual(expect.any(String));
      account.calls.length = 0;

      const { referrers } = await artifactsOf(release.digest);

      expect(referrers.map((r) => r.manifestDigest)).toEqual(digests);
      expect(commands().filter((c) => c === 'ListImageReferrers')).toHaveLength(2);
    });

    it('serves a referrer blob as stored, so a tampered envelope reaches the adapter (which reports it unreadable)', async () => {
      const release = push('v1.3.0', COMPLETES_AT_ONCE);
      const referrer = signatureReferrer(release.digest);
      const [envelopeDigest] = [...referrer.blobs.keys()].slice(1);
      referrer.blobs.set(envelopeDigest!, new Uint8Array(Buffer.from('tampered')));
      const manifestDigest = account.pushReferrer(referrer);

      await expect(artifactsOf(release.digest)).resolves.toMatchObject({
        referrers: [],
        unreadable: [{ manifestDigest, problem: expect.stringContaining('bytes') }],
      });
    });

    it('shows a late referrer only once simulated time reaches its arrival', async () => {
      const release = push('v1.3.0', COMPLETES_AT_ONCE);
      const manifestDigest = account.pushReferrer({ ...signatureReferrer(release.digest), appearsAfterSeconds: 45 });

      await expect(artifactsOf(release.digest)).resolves.toMatchObject({ referrers: [], unreadable: [] });
      const early = await account.ecr.send(
        new BatchGetImageCommand({ repositoryName: entry.repository, imageIds: [{ imageDigest: manifestDigest }] }),
      );
      expect(early).toEqual({
        images: [],
        failures: [{ imageId: { imageDigest: manifestDigest }, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' }],
      });

      account.advance(45);
      await expect(artifactsOf(release.digest)).resolves.toMatchObject({ referrers: [{ manifestDigest }], unreadable: [] });
    });

    it('fails ListImageReferrers when told to, and the adapter lets the failure through', async () => {
      const release = push('v1.3.0', COMPLETES_AT_ONCE);
      account.failNext('ListImageReferrers', 'AccessDeniedException');

      await expect(artifactsOf(release.digest)).rejects.toMatchObject({ name: 'AccessDeniedException' });
      await expect(artifactsOf(release.digest)).resolves.toMatchObject({ referrers: [] });
    });
  });

  describe('ECR managed signing status', () => {
    const PROFILE = 'arn:aws:signer:us-east-1:123456789012:/signing-profiles/release';

    it('reports IN_PROGRESS for inProgressForSeconds, then the final status', async () => {
      const release = push('v1.3.0', COMPLETES_AT_ONCE);
      account.setSigningStatus(entry.repository, release.digest, {
        signingProfileArn: PROFILE,
        inProgressForSeconds: 30,
        then: 'COMPLETE',
      });

      await expect(artifactsOf(release.digest, true)).resolves.toMatchObject({ signingInProgress: true });
      account.advance(29);
      await expect(artifactsOf(release.digest, true)).resolves.toMatchObject({ signingInProgress: true });
      account.advance(1);
      await expect(artifactsOf(release.digest, true)).resolves.toMatchObject({ signingInProgress: false });
      const answer = await account.ecr.send(
        new DescribeImageSigningStatusCommand({ repositoryName: entry.repository, imageId: { imageDigest: release.digest } }),
      );
      expect(answer.signingStatuses).toEqual([{ signingProfileArn: PROFILE, status: 'COMPLETE' }]);
    });

    it('reports a failed signing with a failure code', async () => {
      const release = push('v1.3.0', COMPLETES_AT_ONCE);
      account.setSigningStatus(entry.repository, release.digest, {
        signingProfileArn: PROFILE,
        inProgressForSeconds: 0,
        then: 'FAILED',
      });

      const answer = await account.ecr.send(
        new DescribeImageSigningStatusCommand({ repositoryName: entry.repository, imageId: { imageDigest: release.digest } }),
      );

      expect(answer.signingStatuses).toEqual([
        expect.objectContaining({ signingProfileArn: PROFILE, status: 'FAILED', failureCode: expect.any(String) }),
      ]);
    });

    it('answers an empty list for an image nothing signs, and ImageNotFoundException for an unknown digest', async () => {
      const release = push('v1.3.0', COMPLETES_AT_ONCE);

      const answer = await account.ecr.send(
        new DescribeImageSigningStatusCommand({ repositoryName: entry.repository, imageId: { imageDigest: release.digest } }),
      );
      expect(answer.signingStatuses).toEqual([]);
      await expect(
        account.ecr.send(
          new DescribeImageSigningStatusCommand({
            repositoryName: entry.repository,
            imageId: { imageDigest: `sha256:${'1'.repeat(64)}` },
          }),
        ),
      ).rejects.toMatchObject({ name: 'ImageNotFoundException' });
      await expect(artifactsOf(release.digest, true)).resolves.toMatchObject({ signingInProgress: false });
    });

    it('is asked only when the caller wants the signing status', async () => {
      const release = push('v1.3.0', COMPLETES_AT_ONCE);

      await artifactsOf(release.digest, false);
      expect(commands()).not.toContain('DescribeImageSigningStatus');
      await artifactsOf(release.digest, true);
      expect(commands()).toContain('DescribeImageSigningStatus');
    });
  });
});
