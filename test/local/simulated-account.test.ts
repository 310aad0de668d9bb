/**
 * The simulated account stands in for ECR, ECS and CloudWatch in the local run and the workflow tests, so it is driven
 * here through the real adapters (the code that talks to AWS in production), never through its own internals.
 */
import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { BatchGetImageCommand, DescribeImageSigningStatusCommand, ListImageReferrersCommand } from '@aws-sdk/client-ecr';
import { UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { GetPublicKeyCommand } from '@aws-sdk/client-kms';
import { beforeEach, describe, expect, it } from 'vitest';
import { AlarmMonitor } from '../../lambdas/adapters/alarm-monitor';
import { DeploymentTarget } from '../../lambdas/adapters/deployment-target';
import { ImageRegistry } from '../../lambdas/adapters/image-registry';
import { KeyStore } from '../../lambdas/adapters/key-store';
import { SigningAuthority } from '../../lambdas/adapters/signing-authority';
import type { Release } from '../../lambdas/contract/steps';
import { TransientAwsError } from '../../lambdas/errors';
import { NOTATION_JWS_MEDIA_TYPE, NOTATION_SIGNATURE_ARTIFACT_TYPE, SIGSTORE_BUNDLE_MEDIA_TYPE } from '../../lambdas/signature/artifacts';
import type { TrustedKey } from '../../lambdas/signature/keys';
import { createCosignSignature, generateSigningKeyPair } from '../../local/cosign-signer';
import { SimulatedAccount, type RolloutBehaviour } from '../../local/simulated-account';
import { sentimentService } from '../fixtures/catalog';

const key = generateSigningKeyPair();
const ALARMS = ['sentiment-5xx-rate', 'sentiment-p99-latency'];
const DESIRED_COUNT = 3;

const entry = sentimentService({ trust: { publicKeys: [key.publicKeyPem] }, health: { alarms: ALARMS } });

const COMPLETES_AT_ONCE: RolloutBehaviour = { result: 'completes', settlesAfterSeconds: 0 };

let account: SimulatedAccount;
let target: DeploymentTarget;
let alarms: AlarmMonitor;
let registry: ImageRegistry;
let runningDigest: string;

/** A fresh account running `v1.2.0` of the sentiment model, settled and healthy, with its two alarms OK. */
beforeEach(() => {
  account = new SimulatedAccount();
  target = new DeploymentTarget(account.ecs as never);
  alarms = new AlarmMonitor(account.cloudwatch as never);
  registry = new ImageRegistry(account.ecr as never, account.fetchBlob);
  runningDigest = account.pushImage(entry.repositoryName, 'v1.2.0', COMPLETES_AT_ONCE);
  account.createService(
    {
      cluster: entry.cluster,
      service: entry.service,
      container: entry.container,
      desiredCount: DESIRED_COUNT,
      repositoryName: entry.repositoryName,
      alarms: ALARMS,
    },
    { uri: `${account.repositoryUri(entry.repositoryName)}@${runningDigest}`, versionTag: 'v1.2.0' },
  );
  account.calls.length = 0; // only what each test does
});

/** Pushes `tag` with `behaviour` and returns the Release the pipeline would build for it. */
function push(tag: string, behaviour: RolloutBehaviour): Release {
  const digest = account.pushImage(entry.repositoryName, tag, behaviour);
  const repositoryUri = account.repositoryUri(entry.repositoryName);
  return { repositoryName: entry.repositoryName, repositoryUri, tag, digest, imageUri: `${repositoryUri}@${digest}` };
}

/** Registers a revision for `release` and updates the service to it, as the pipeline's deploy steps do. */
async function deploy(release: Release): Promise<string> {
  const { newTaskDefinitionArn } = await target.registerRevision(entry, release, await target.revisionInUse(entry));
  await target.updateService(entry, newTaskDefinitionArn);
  return newTaskDefinitionArn;
}

/** What the signature check reads for `digest`, through the real ImageRegistry. */
const artifactsOf = (digest: string, signingStatus = false) =>
  registry.readSignatureArtifacts(entry.repositoryName, digest, { signingStatus });
const readCosign = async (repositoryName: string, digest: string) =>
  (await registry.readSignatureArtifacts(repositoryName, digest, { signingStatus: false })).cosign;

const sha256 = (bytes: Uint8Array | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** A signature referrer of `subjectDigest` as `notation sign` (or cosign v3, for a bundle) pushes it. */
function signatureReferrer(subjectDigest: string, options: { artifactType?: string; layerMediaType?: string; envelope?: string } = {}) {
  const artifactType = options.artifactType ?? NOTATION_SIGNATURE_ARTIFACT_TYPE;
  const envelope = new Uint8Array(Buffer.from(options.envelope ?? `{"payload":"e30","signature":"${Math.random()}"}`));
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType,
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256('{}'), size: 2 },
    layers: [{ mediaType: options.layerMediaType ?? NOTATION_JWS_MEDIA_TYPE, digest: sha256(envelope), size: envelope.length }],
    subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: subjectDigest, size: 512 },
  });
  return {
    repositoryName: entry.repositoryName,
    subjectDigest,
    artifactType,
    manifest,
    blobs: new Map([
      [sha256('{}'), new Uint8Array(Buffer.from('{}'))],
      [sha256(envelope), envelope],
    ]),
    envelope,
  };
}

const taskDefinitionArn = (revision: number) => `arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment-task:${revision}`;
const commands = () => account.calls.map((call) => call.command);

describe('SimulatedAccount', () => {
  describe('ECR images', () => {
    it('gives a pushed image the sha256 digest of its manifest, as a registry does', async () => {
      const release = push('v1.3.0', COMPLETES_AT_ONCE);

      const { images, failures } = await account.ecr.send(
        new BatchGetImageCommand({ repositoryName: entry.repositoryName, imageIds: [{ imageTag: 'v1.3.0' }] }),
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
      account.pushSignature(entry.repositoryName, signature);

      const read = await readCosign(entry.repositoryName, release.digest);

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
        repositoryName: entry.repositoryName,
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
      account.pushSignature(entry.repositoryName, signature);

      const read = await readCosign(entry.repositoryName, release.digest);

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
        entry.repositoryName,
        createCosignSignature({ privateKey: key.privateKeyPem, repositoryUri: signed.repositoryUri, digest: signed.digest }),
      );

      await expect(readCosign(entry.repositoryName, unsigned.digest)).resolves.toBeNull();
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
      account.pushSignature(entry.repositoryName, signature, { appearsAfterSeconds: 120 });

      await expect(readCosign(entry.repositoryName, release.digest)).resolves.toBeNull();
      account.advance(119);
      await expect(readCosign(entry.repositoryName, release.digest)).resolves.toBeNull();
      const payloadDigest = JSON.parse(signature.manifest).layers[0].digest;
      await expect(account.fetchBlob(`https://simulated-ecr.invalid/v2/${entry.repositoryName}/blobs/${payloadDigest}`)).rejects.toThrow(
        /no blob/,
      );

      account.advance(1);
      await expect(readCosign(entry.repositoryName, release.digest)).resolves.toMatchObject({
        manifest: signature.manifest,
        layers: [{ digest: payloadDigest }],
      });
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
            repositoryName: entry.repositoryName,
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
        new ListImageReferrersCommand({ repositoryName: entry.repositoryName, subjectId: { imageDigest: release.digest } }),
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
        new BatchGetImageCommand({ repositoryName: entry.repositoryName, imageIds: [{ imageDigest: manifestDigest }] }),
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
      account.setSigningStatus(entry.repositoryName, release.digest, {
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
        new DescribeImageSigningStatusCommand({ repositoryName: entry.repositoryName, imageId: { imageDigest: release.digest } }),
      );
      expect(answer.signingStatuses).toEqual([{ signingProfileArn: PROFILE, status: 'COMPLETE' }]);
    });

    it('reports a failed signing with a failure code', async () => {
      const release = push('v1.3.0', COMPLETES_AT_ONCE);
      account.setSigningStatus(entry.repositoryName, release.digest, {
        signingProfileArn: PROFILE,
        inProgressForSeconds: 0,
        then: 'FAILED',
      });

      const answer = await account.ecr.send(
        new DescribeImageSigningStatusCommand({ repositoryName: entry.repositoryName, imageId: { imageDigest: release.digest } }),
      );

      expect(answer.signingStatuses).toEqual([
        expect.objectContaining({ signingProfileArn: PROFILE, status: 'FAILED', failureCode: expect.any(String) }),
      ]);
    });

    it('answers an empty list for an image nothing signs, and ImageNotFoundException for an unknown digest', async () => {
      const release = push('v1.3.0', COMPLETES_AT_ONCE);

      const answer = await account.ecr.send(
        new DescribeImageSigningStatusCommand({ repositoryName: entry.repositoryName, imageId: { imageDigest: release.digest } }),
      );
      expect(answer.signingStatuses).toEqual([]);
      await expect(
        account.ecr.send(
          new DescribeImageSigningStatusCommand({
            repositoryName: entry.repositoryName,
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

  describe('KMS keys, through KeyStore', () => {
    const KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const pair = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    const publicKeyDer = new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' }));

    it.each([
      ['its key ARN', KEY_ARN],
      ['its key id', '1234abcd-12ab-34cd-56ef-1234567890ab'],
      ['an alias name', 'alias/release-signing'],
      ['an alias ARN', 'arn:aws:kms:us-east-1:123456789012:alias/release-signing'],
    ])('answers GetPublicKey for a registered key asked for by %s, with the key ARN', async (_, keyId) => {
      account.registerKmsKey({ keyArn: KEY_ARN, aliases: ['alias/release-signing'], publicKeyDer });

      const key = (await new KeyStore(account.kms as never).trustedKmsKey(keyId)) as TrustedKey;

      expect(key).toMatchObject({ kind: 'kms-key', id: KEY_ARN });
      expect(key.key.export({ type: 'spki', format: 'der' })).toEqual(Buffer.from(publicKeyDer));
      expect(account.calls).toEqual([{ command: 'GetPublicKey', input: { KeyId: keyId } }]);
    });

    it('describes the key as KMS does', async () => {
      account.registerKmsKey({ keyArn: KEY_ARN, publicKeyDer });

      await expect(account.kms.send(new GetPublicKeyCommand({ KeyId: KEY_ARN }))).resolves.toEqual({
        KeyId: KEY_ARN,
        PublicKey: publicKeyDer,
        KeySpec: 'ECC_NIST_P384',
        KeyUsage: 'SIGN_VERIFY',
        SigningAlgorithms: ['ECDSA_SHA_384'],
      });
    });

    it.each([
      ['an unknown key', {}, 'alias/unknown', /NotFoundException/],
      ['a disabled key', { keyState: 'Disabled' as const }, KEY_ARN, /is disabled \(DisabledException\)/],
      ['a key pending deletion', { keyState: 'PendingDeletion' as const }, KEY_ARN, /KMSInvalidStateException/],
      ['an encryption key', { keyUsage: 'ENCRYPT_DECRYPT' as const }, KEY_ARN, /key usage ENCRYPT_DECRYPT/],
    ])('answers for %s so that KeyStore explains why it cannot be used', async (_, overrides, keyId, problem) => {
      account.registerKmsKey({ keyArn: KEY_ARN, publicKeyDer, ...overrides });

      await expect(new KeyStore(account.kms as never).trustedKmsKey(keyId)).resolves.toMatch(problem);
    });

    it('fails GetPublicKey when told to', async () => {
      account.registerKmsKey({ keyArn: KEY_ARN, publicKeyDer });
      account.failNext('GetPublicKey', 'ThrottlingException');
      const store = new KeyStore(account.kms as never);

      await expect(store.trustedKmsKey(KEY_ARN)).rejects.toBeInstanceOf(TransientAwsError);
      await expect(store.trustedKmsKey(KEY_ARN)).resolves.toMatchObject({ id: KEY_ARN });
    });
  });

  describe('AWS Signer revocation, through SigningAuthority', () => {
    const query = {
      signatureTimestamp: '2026-11-20T01:00:00.000Z',
      platformId: 'Notation-OCI-SHA384-ECDSA',
      profileVersionArn: 'arn:aws:signer:us-east-1:123456789012:/signing-profiles/release/v1',
      jobArn: 'arn:aws:signer:us-east-1:123456789012:/signing-jobs/job-1',
      certificateHashes: ['aa'.repeat(96), 'bb'.repeat(96)],
    };

    it('reports nothing revoked until an entity is revoked, then only the revoked entities asked about', async () => {
      const authority = new SigningAuthority(account.signer as never);
      await expect(authority.revokedEntities(query)).resolves.toEqual([]);

      account.revokeSignerEntity(query.jobArn);
      account.revokeSignerEntity('arn:aws:signer:us-east-1:123456789012:/signing-jobs/another-job');

      await expect(authority.revokedEntities(query)).resolves.toEqual([query.jobArn]);
      expect(account.calls.at(-1)).toEqual({
        command: 'GetRevocationStatus',
        input: expect.objectContaining({ signatureTimestamp: new Date(query.signatureTimestamp) }),
      });
    });

    it('revokes a profile from its effective time: older signatures stay valid', async () => {
      const authority = new SigningAuthority(account.signer as never);
      account.revokeSignerEntity(query.profileVersionArn, { effectiveFrom: new Date('2026-11-20T01:00:00.001Z') });

      await expect(authority.revokedEntities(query)).resolves.toEqual([]);
      await expect(authority.revokedEntities({ ...query, signatureTimestamp: '2026-11-20T01:00:00.001Z' })).resolves.toEqual([
        query.profileVersionArn,
      ]);
    });

    it('fails GetRevocationStatus when told to', async () => {
      account.failNext('GetRevocationStatus', 'AccessDeniedException');

      await expect(new SigningAuthority(account.signer as never).revokedEntities(query)).rejects.toMatchObject({
        name: 'AccessDeniedException',
      });
    });
  });

  // ECS itself is tested against its documentation in simulated-ecs.test.ts.
  describe('CloudWatch alarms, through AlarmMonitor', () => {
    it('starts with the service alarms OK and reports an unknown alarm as MISSING', async () => {
      await expect(alarms.states([...ALARMS, 'no-such-alarm'])).resolves.toMatchObject([
        { name: 'sentiment-5xx-rate', state: 'OK' },
        { name: 'sentiment-p99-latency', state: 'OK' },
        { name: 'no-such-alarm', state: 'MISSING' },
      ]);
    });

    it('turns the tripsAlarm alarm to ALARM once the deployment completes, and back to OK when another deployment completes', async () => {
      const badArn = await deploy(push('v1.3.0', { result: 'completes', settlesAfterSeconds: 30, tripsAlarm: 'sentiment-p99-latency' }));
      await target.observeDeployment(entry, badArn);
      await expect(alarms.states(ALARMS)).resolves.toMatchObject([
        { name: 'sentiment-5xx-rate', state: 'OK' },
        { name: 'sentiment-p99-latency', state: 'OK' },
      ]);

      account.advance(30);
      await expect(target.observeDeployment(entry, badArn)).resolves.toMatchObject({ primary: { rolloutState: 'COMPLETED' } });
      await expect(alarms.states(ALARMS)).resolves.toMatchObject([
        { name: 'sentiment-5xx-rate', state: 'OK' },
        { name: 'sentiment-p99-latency', state: 'ALARM' },
      ]);

      const goodArn = await deploy(push('v1.3.1', { result: 'completes', settlesAfterSeconds: 30 }));
      await target.observeDeployment(entry, goodArn);
      await expect(alarms.states(ALARMS)).resolves.toContainEqual(
        expect.objectContaining({ name: 'sentiment-p99-latency', state: 'ALARM' }),
      );

      account.advance(30);
      await expect(target.observeDeployment(entry, goodArn)).resolves.toMatchObject({ primary: { rolloutState: 'COMPLETED' } });
      await expect(alarms.states(ALARMS)).resolves.toMatchObject([
        { name: 'sentiment-5xx-rate', state: 'OK' },
        { name: 'sentiment-p99-latency', state: 'OK' },
      ]);
    });

    // Regression: deployments once settled only inside DescribeServices, so an alarm read right after `advance` saw OK.
    it('trips the alarm once the deployment has completed in simulated time, whoever looks first', async () => {
      await deploy(push('v1.3.0', { result: 'completes', settlesAfterSeconds: 30, tripsAlarm: 'sentiment-p99-latency' }));
      account.advance(30);

      await expect(alarms.states(['sentiment-p99-latency'])).resolves.toMatchObject([{ name: 'sentiment-p99-latency', state: 'ALARM' }]);
    });

    it('reports when each alarm last changed state, as StateTransitionedTimestamp does', async () => {
      const created = account.clock();
      account.advance(45);
      account.setAlarm('sentiment-5xx-rate', 'ALARM');
      account.advance(15);
      account.setAlarm('sentiment-5xx-rate', 'ALARM'); // no change of state: the timestamp stays

      await expect(alarms.states(ALARMS)).resolves.toEqual([
        { name: 'sentiment-5xx-rate', state: 'ALARM', since: new Date(created.getTime() + 45_000) },
        { name: 'sentiment-p99-latency', state: 'OK', since: created },
      ]);
    });

    it('moves only StateUpdatedTimestamp when the evaluation state changes: the state value did not', async () => {
      account.setAlarm('sentiment-5xx-rate', 'ALARM');
      const raised = account.clock();
      account.advance(60);
      account.services.cloudWatch.setEvaluationState('sentiment-5xx-rate', 'PARTIAL_DATA');

      const { MetricAlarms } = account.services.cloudWatch.describeAlarms({ AlarmNames: ['sentiment-5xx-rate'] });
      expect(MetricAlarms[0]).toMatchObject({
        StateValue: 'ALARM',
        StateTransitionedTimestamp: raised,
        StateUpdatedTimestamp: account.clock(),
        EvaluationState: 'PARTIAL_DATA',
      });
      await expect(alarms.states(['sentiment-5xx-rate'])).resolves.toEqual([{ name: 'sentiment-5xx-rate', state: 'ALARM', since: raised }]);
    });

    it('lets a scenario set an alarm directly', async () => {
      account.setAlarm('sentiment-5xx-rate', 'INSUFFICIENT_DATA');

      await expect(alarms.states(['sentiment-5xx-rate'])).resolves.toMatchObject([
        { name: 'sentiment-5xx-rate', state: 'INSUFFICIENT_DATA' },
      ]);
    });
  });

  describe('scheduled failures (failNext)', () => {
    it('fails exactly the next call of the command with the AWS error named, then answers normally', async () => {
      const { newTaskDefinitionArn } = await target.registerRevision(
        entry,
        push('v1.3.0', { result: 'completes', settlesAfterSeconds: 60 }),
        await target.revisionInUse(entry),
      );
      account.failNext('UpdateService', 'AccessDeniedException');

      const error = await account.ecs
        .send(new UpdateServiceCommand({ cluster: entry.cluster, service: entry.service, taskDefinition: newTaskDefinitionArn }))
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toMatchObject({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'simulated UpdateService failure: AccessDeniedException',
      });
      await expect(target.observeDeployment(entry, newTaskDefinitionArn)).resolves.toMatchObject({
        primary: { taskDefinitionArn: taskDefinitionArn(1), rolloutState: 'COMPLETED' },
        deploymentCount: 1,
      }); // nothing deployed

      await expect(target.updateService(entry, newTaskDefinitionArn)).resolves.toBeUndefined();
      await expect(target.observeDeployment(entry, newTaskDefinitionArn)).resolves.toMatchObject({
        primary: { taskDefinitionArn: newTaskDefinitionArn, rolloutState: 'IN_PROGRESS' },
        deploymentCount: 2,
      });
      expect(commands().filter((c) => c === 'UpdateService')).toHaveLength(2);
    });

    it('lets null schedule a success, so only the second call fails', async () => {
      account.failNext('DescribeAlarms', null);
      account.failNext('DescribeAlarms', 'ThrottlingException');

      await expect(alarms.states(ALARMS)).resolves.toHaveLength(2);
      // The adapter turns throttling into the error the state machine retries.
      await expect(alarms.states(ALARMS)).rejects.toBeInstanceOf(TransientAwsError);
      await expect(alarms.states(ALARMS)).resolves.toHaveLength(2);
      expect(commands()).toEqual(['DescribeAlarms', 'DescribeAlarms', 'DescribeAlarms']);
    });

    it('leaves other commands alone', async () => {
      account.failNext('UpdateService', 'AccessDeniedException');

      await expect(target.describeRunning(entry)).resolves.toMatchObject({ version: 'v1.2.0' });
      // The adapter reports the refusal as such: nothing changed.
      await expect(target.updateService(entry, taskDefinitionArn(1))).rejects.toMatchObject({
        name: 'UpdateRefusedError',
        message: expect.stringContaining('AccessDeniedException'),
      });
    });

    it.each([
      ['ServerException', 'server', 500, true],
      ['ServiceUnavailableException', 'server', 503, true],
      ['ThrottlingException', 'client', 400, true],
      ['TooManyRequestsException', 'client', 429, true],
      ['AccessDeniedException', 'client', 400, false],
    ] as const)('gives %s the fault kind AWS gives it (%s, %i), so it is retried as in AWS: %s', async (name, fault, status, transient) => {
      account.failNext('DescribeAlarms', name);
      const raw = await account.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: ALARMS })).catch((e: unknown) => e);
      expect(raw).toMatchObject({ name, $fault: fault, $metadata: { httpStatusCode: status } });

      account.failNext('DescribeAlarms', name);
      const classified = await alarms.states(ALARMS).catch((e: unknown) => e);
      expect(classified instanceof TransientAwsError).toBe(transient);
    });

    it('can let a call take effect and then lose its response', async () => {
      const { newTaskDefinitionArn } = await target.registerRevision(
        entry,
        push('v1.3.0', { result: 'completes', settlesAfterSeconds: 60 }),
        await target.revisionInUse(entry),
      );
      account.failNext('UpdateService', { error: 'TimeoutError', applied: true });

      const raw = await account.ecs
        .send(new UpdateServiceCommand({ cluster: entry.cluster, service: entry.service, taskDefinition: newTaskDefinitionArn }))
        .catch((e: unknown) => e);
      expect(raw).toMatchObject({ name: 'TimeoutError', message: expect.stringContaining('took effect') });
      // ...and it did: the service is deploying the new revision.
      await expect(target.runs(entry, newTaskDefinitionArn)).resolves.toBe(true);
    });

    it('refuses to schedule a failure for a command it does not answer', () => {
      expect(() => account.failNext('UpdateServices', 'AccessDeniedException')).toThrow(
        /cannot fail "UpdateServices": it answers .*UpdateService/,
      );
    });

    it('fails a command the local run answers itself through throwScheduledFailure', () => {
      account.failNext('PutEvents', 'InternalException');

      expect(() => account.throwScheduledFailure('PutEvents')).toThrowError('simulated PutEvents failure: InternalException');
      expect(() => account.throwScheduledFailure('PutEvents')).not.toThrow();
    });
  });

  describe('calls', () => {
    it('records every command answered, in order, with its input — failed ones too', async () => {
      const release = push('v1.3.0', COMPLETES_AT_ONCE);
      account.failNext('DescribeAlarms', 'AccessDeniedException');

      await target.describeRunning(entry);
      const newArn = await deploy(release);
      await target.observeDeployment(entry, newArn);
      await expect(alarms.states(ALARMS)).rejects.toMatchObject({ name: 'AccessDeniedException' });

      expect(commands()).toEqual([
        'DescribeServices',
        'DescribeTaskDefinition',
        'DescribeServices',
        'DescribeTaskDefinition',
        'RegisterTaskDefinition',
        'UpdateService',
        'DescribeServices',
        'DescribeServiceDeployments',
        'DescribeAlarms',
      ]);
      expect(account.calls[5].input).toEqual({ cluster: entry.cluster, service: entry.service, taskDefinition: newArn });
      expect(account.calls[8].input).toMatchObject({ AlarmNames: ALARMS });
    });
  });

  describe('clock', () => {
    it('starts at the given time and moves only when advanced', () => {
      const clocked = new SimulatedAccount({ start: new Date('2026-01-01T00:00:00Z') });
      const before = clocked.clock();
      before.setFullYear(2000); // a copy: callers cannot move the account's time

      expect(clocked.clock().toISOString()).toBe('2026-01-01T00:00:00.000Z');
      clocked.advance(90);
      expect(clocked.clock().toISOString()).toBe('2026-01-01T00:01:30.000Z');
    });
  });
});
