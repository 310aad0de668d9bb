/**
 * The account the simulated-account tests drive through the real adapters: a fresh account before each test
 * (`useFreshAccount`), running `v1.2.0` of the sentiment model, and the helpers the tests share.
 */
import { createHash } from 'node:crypto';
import { beforeEach } from 'vitest';
import { AlarmMonitor } from '../../lambdas/adapters/alarm-monitor';
import { DeploymentTarget } from '../../lambdas/adapters/deployment-target';
import { ImageRegistry } from '../../lambdas/adapters/image-registry';
import type { Release } from '../../lambdas/contract/steps';
import { NOTATION_JWS_MEDIA_TYPE, NOTATION_SIGNATURE_ARTIFACT_TYPE } from '../../lambdas/signature/artifacts';
import { generateSigningKeyPair } from '../../local/cosign-signer';
import { SimulatedAccount, type RolloutBehaviour } from '../../local/simulated-account';
import { sentimentService } from '../fixtures/catalog';
export const key = generateSigningKeyPair();
export const ALARMS = ['sentiment-5xx-rate', 'sentiment-p99-latency'];
export const DESIRED_COUNT = 3;

export const entry = sentimentService({ signing: { publicKeys: [key.publicKeyPem] }, health: { alarms: ALARMS } });

export const COMPLETES_AT_ONCE: RolloutBehaviour = { result: 'completes', settlesAfterSeconds: 0 };

export let account: SimulatedAccount;
export let target: DeploymentTarget;
export let alarms: AlarmMonitor;
export let registry: ImageRegistry;
export let runningDigest: string;

/** A fresh account running `v1.2.0` of the sentiment model, settled and healthy, with its two alarms OK, before each test. */
export function useFreshAccount(): void {
  beforeEach(() => {
    account = new SimulatedAccount();
    target = new DeploymentTarget(account.ecs as never);
    alarms = new AlarmMonitor(account.cloudwatch as never);
    registry = new ImageRegistry(account.ecr as never, account.fetchBlob);
    runningDigest = account.pushImage(entry.repository, 'v1.2.0', COMPLETES_AT_ONCE);
    account.createService(
      {
        cluster: entry.cluster,
        service: entry.service,
        container: entry.container,
        desiredCount: DESIRED_COUNT,
        repositoryName: entry.repository,
        alarms: ALARMS,
      },
      { uri: `${account.repositoryUri(entry.repository)}@${runningDigest}`, versionTag: 'v1.2.0' },
    );
    account.calls.length = 0; // only what each test does
  });
}

/** Pushes `tag` with `behaviour` and returns the Release the pipeline would build for it. */
export function push(tag: string, behaviour: RolloutBehaviour): Release {
  const digest = account.pushImage(entry.repository, tag, behaviour);
  const repositoryUri = account.repositoryUri(entry.repository);
  return { repositoryName: entry.repository, repositoryUri, tag, digest, imageUri: `${repositoryUri}@${digest}` };
}

/** Registers a revision for `release` and updates the service to it, as the pipeline's deploy steps do. */
export async function deploy(release: Release): Promise<string> {
  const { newTaskDefinitionArn } = await target.registerRevision(entry, release, await target.revisionInUse(entry));
  await target.updateService(entry, newTaskDefinitionArn);
  return newTaskDefinitionArn;
}

/** What the signature check reads for `digest`, through the real ImageRegistry. */
export const artifactsOf = (digest: string, signingStatus = false) =>
  registry.readSignatureArtifacts(entry.repository, digest, { signingStatus });
export const readCosign = async (repositoryName: string, digest: string) =>
  (await registry.readSignatureArtifacts(repositoryName, digest, { signingStatus: false })).cosign;

export const sha256 = (bytes: Uint8Array | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** A signature referrer of `subjectDigest` as `notation sign` (or cosign v3, for a bundle) pushes it. */
export function signatureReferrer(
  subjectDigest: string,
  options: { artifactType?: string; layerMediaType?: string; envelope?: string } = {},
) {
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
    repositoryName: entry.repository,
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

export const taskDefinitionArn = (revision: number) => `arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment-task:${revision}`;
export const commands = () => account.calls.map((call) => call.command);
