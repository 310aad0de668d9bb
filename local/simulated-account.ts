/**
 * A simulated AWS account for the local run and the workflow tests: ECR repositories holding images and their
 * signatures (cosign `.sig` tags and OCI 1.1 signature referrers, possibly arriving late, and ECR managed signing
 * status), KMS signing keys, AWS Signer revocations, ECS services whose deployments settle the way a scenario says,
 * CloudWatch alarms, and a clock. It answers the very SDK commands the adapters send (through `send`), so the real
 * adapter and handler code runs.
 */
import { createHash, createPublicKey } from 'node:crypto';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  DescribeImageSigningStatusCommand,
  DescribeRepositoriesCommand,
  GetDownloadUrlForLayerCommand,
  ListImageReferrersCommand,
} from '@aws-sdk/client-ecr';
import {
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type ContainerDefinition,
  type Tag,
} from '@aws-sdk/client-ecs';
import { GetPublicKeyCommand } from '@aws-sdk/client-kms';
import { GetRevocationStatusCommand } from '@aws-sdk/client-signer';

/** How ECS treats a deployment of an image, decided by the scenario. */
export interface RolloutBehaviour {
  /** `completes`: tasks start and stay up; `fails`: the circuit breaker fails the deployment; `stalls`: never finishes. */
  result: 'completes' | 'fails' | 'stalls';
  /** Simulated seconds from UpdateService until the deployment settles. */
  settlesAfterSeconds: number;
  /** A CloudWatch alarm that goes to ALARM once this image serves traffic (e.g. latency or error rate). */
  tripsAlarm?: string;
}

export interface SimulatedServiceSpec {
  cluster: string;
  service: string;
  container: string;
  desiredCount: number;
  repositoryName: string;
  /** Alarms that exist in the account for this service (initially OK). */
  alarms: string[];
}

/** When something pushed becomes visible: `appearsAfterSeconds` of simulated time after the push (0: at once). */
export interface Arrival {
  /** Simulated seconds from the push until the registry shows it (a late signature, or one ECR is still making). */
  appearsAfterSeconds?: number;
}

/** An OCI 1.1 referrer (a signature, an SBOM...) of an image, as `oras attach`, `notation sign` or cosign v3 push it. */
export interface SimulatedReferrer extends Arrival {
  repositoryName: string;
  /** The image it refers to (the manifest's `subject`). */
  subjectDigest: string;
  artifactType: string;
  /** The referrer manifest, exactly as the registry serves it; its digest is the sha256 of this text. */
  manifest: string;
  /** The blobs its manifest points to, by digest (served as stored: a wrong one stays wrong). */
  blobs: Map<string, Uint8Array>;
  /** The referrer's artifactStatus in ListImageReferrers; default ACTIVE. */
  artifactStatus?: 'ACTIVE' | 'ARCHIVED' | 'ACTIVATING';
}

/** ECR managed signing of one image by one signing profile: IN_PROGRESS for a while, then COMPLETE or FAILED. */
export interface SimulatedSigning {
  signingProfileArn: string;
  /** Simulated seconds from now during which the status is IN_PROGRESS. */
  inProgressForSeconds: number;
  /** The status once that time has passed. */
  then: 'COMPLETE' | 'FAILED';
}

/** A KMS key, as GetPublicKey reports it. */
export interface SimulatedKmsKey {
  /** `arn:aws:kms:<region>:<account>:key/<key-id>` */
  keyArn: string;
  /** Alias names (`alias/release-signing`); each can also be asked for by its alias ARN. */
  aliases?: string[];
  /** The public key, DER SubjectPublicKeyInfo (what GetPublicKey returns). */
  publicKeyDer: Uint8Array;
  /** Default SIGN_VERIFY. */
  keyUsage?: 'SIGN_VERIFY' | 'ENCRYPT_DECRYPT';
  /** Default Enabled. Disabled answers DisabledException; PendingDeletion answers KMSInvalidStateException. */
  keyState?: 'Enabled' | 'Disabled' | 'PendingDeletion';
}

interface StoredImage {
  manifest: string;
  mediaType: string;
  /** Simulated epoch milliseconds from which the registry shows it. */
  visibleFrom: number;
}
interface StoredReferrer {
  subjectDigest: string;
  digest: string;
  artifactType: string;
  size: number;
  annotations?: Record<string, string>;
  artifactStatus: 'ACTIVE' | 'ARCHIVED' | 'ACTIVATING';
}
interface Repository {
  imagesByDigest: Map<string, StoredImage>;
  digestByTag: Map<string, string>;
  referrers: StoredReferrer[];
}
interface Deployment {
  id: string;
  status: 'PRIMARY' | 'ACTIVE';
  taskDefinition: string;
  createdAt: Date;
  behaviour: RolloutBehaviour;
  serviceDeploymentArn: string;
}
interface ServiceState {
  spec: SimulatedServiceSpec;
  arn: string;
  desiredCount: number;
  deployments: Deployment[];
  settled: Map<string, 'completed' | 'failed'>;
}
type TaskDefinition = {
  taskDefinitionArn: string;
  family: string;
  revision: number;
  containerDefinitions: ContainerDefinition[];
  status: string;
  [key: string]: unknown;
};

/** The AWS error shape the SDK raises, so adapters classify simulated failures exactly like real ones. */
class SimulatedAwsError extends Error {
  readonly $fault = 'client';
  constructor(readonly name: string, message: string) {
    super(message);
  }
}

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const BLOB_HOST = 'https://simulated-ecr.invalid';
/** ListImageReferrers' page size when the caller does not ask for one (ECR's default). */
const REFERRERS_PAGE_SIZE = 20;

export class SimulatedAccount {
  readonly account: string;
  readonly region: string;
  private now: Date;
  private readonly repositories = new Map<string, Repository>();
  private readonly blobs = new Map<string, { bytes: Uint8Array; visibleFrom: number }>();
  private readonly signings = new Map<string, { signingProfileArn: string; completesAt: number; then: 'COMPLETE' | 'FAILED' }[]>();
  private readonly kmsKeys: Required<SimulatedKmsKey>[] = [];
  private readonly revocations = new Map<string, number>();
  private readonly taskDefinitions = new Map<string, TaskDefinition>();
  private readonly taskDefinitionTags = new Map<string, Tag[]>();
  private readonly services = new Map<string, ServiceState>();
  private readonly alarms = new Map<string, 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'>();
  private readonly behaviourByDigest = new Map<string, RolloutBehaviour>();
  private readonly scheduledFailures = new Map<string, (string | null)[]>();
  private sequence = 0;
  /** Every command the account answered, in order: what the pipeline did, for tests and the report. */
  readonly calls: { command: string; input: unknown }[] = [];

  constructor(options: { account?: string; region?: string; start?: Date } = {}) {
    this.account = options.account ?? '123456789012';
    this.region = options.region ?? 'us-east-1';
    this.now = options.start ?? new Date('2026-11-20T01:16:47Z');
  }

  // ---- time
  readonly clock = (): Date => new Date(this.now);
  advance(seconds: number): void {
    this.now = new Date(this.now.getTime() + seconds * 1000);
  }

  // ---- ECR
  repositoryUri(repositoryName: string): string {
    return `${this.account}.dkr.ecr.${this.region}.amazonaws.com/${repositoryName}`;
  }

  /**
   * Stores an image under a tag and returns its digest (derived from the manifest, as in a real registry). Its config
   * carries `labels` (the model metadata), with `org.opencontainers.image.version` set to the tag unless given.
   */
  pushImage(repositoryName: string, tag: string, behaviour: RolloutBehaviour, labels: Record<string, string> = {}): string {
    const config = Buffer.from(JSON.stringify({ architecture: 'arm64', os: 'linux', config: { Labels: { 'org.opencontainers.image.version': tag, ...labels } } }));
    const configDigest = this.storeBlob(config);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [],
      annotations: { 'org.opencontainers.image.ref.name': `${repositoryName}:${tag}` },
    });
    const digest = this.storeManifest(repositoryName, tag, manifest, OCI_MANIFEST);
    this.behaviourByDigest.set(digest, behaviour);
    return digest;
  }

  /** Adds a tag to an image already pushed (`docker tag` + push of the same image: no new digest). */
  tagImage(repositoryName: string, tag: string, digest: string): void {
    this.repository(repositoryName).digestByTag.set(tag, digest);
  }

  /**
   * Holds an image under a digest chosen by the caller (no content): for signature fixtures, which sign made-up digests,
   * when a call needs the image itself to exist (e.g. DescribeImageSigningStatus).
   */
  holdImageAt(repositoryName: string, digest: string): void {
    const repository = this.repositoryCreatedOnPush(repositoryName);
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, layers: [] });
    repository.imagesByDigest.set(digest, { manifest, mediaType: OCI_MANIFEST, visibleFrom: Number.NEGATIVE_INFINITY });
  }

  /**
   * Stores a cosign signature manifest (and its payload blobs) under its `sha256-<hex>.sig` tag; with
   * `appearsAfterSeconds`, the tag only exists once that much simulated time has passed (a late signature).
   */
  pushSignature(
    repositoryName: string,
    signature: { signatureTag: string; manifest: string; manifestMediaType: string; blobs: Map<string, Uint8Array> },
    arrival: Arrival = {},
  ): void {
    const visibleFrom = this.arrivalTime(arrival);
    for (const [digest, bytes] of signature.blobs) this.storeBlobAt(digest, bytes, visibleFrom);
    this.storeManifest(repositoryName, signature.signatureTag, signature.manifest, signature.manifestMediaType, visibleFrom);
  }

  /**
   * Stores an OCI 1.1 referrer of `subjectDigest` (manifest and blobs), listed by ListImageReferrers and served by
   * BatchGetImage by digest; with `appearsAfterSeconds`, only once that much simulated time has passed. Returns the
   * referrer manifest's digest.
   */
  pushReferrer(referrer: SimulatedReferrer): string {
    const visibleFrom = this.arrivalTime(referrer);
    for (const [digest, bytes] of referrer.blobs) this.storeBlobAt(digest, bytes, visibleFrom);
    const digest = this.storeManifest(referrer.repositoryName, null, referrer.manifest, OCI_MANIFEST, visibleFrom);
    let annotations: Record<string, string> | undefined;
    try {
      annotations = JSON.parse(referrer.manifest)?.annotations;
    } catch {
      annotations = undefined; // a broken manifest is still listed, as a registry would
    }
    this.repositories.get(referrer.repositoryName)!.referrers.push({
      subjectDigest: referrer.subjectDigest,
      digest,
      artifactType: referrer.artifactType,
      size: Buffer.byteLength(referrer.manifest),
      annotations,
      artifactStatus: referrer.artifactStatus ?? 'ACTIVE',
    });
    return digest;
  }

  /**
   * ECR managed signing for an image: DescribeImageSigningStatus answers IN_PROGRESS for `inProgressForSeconds` of
   * simulated time, then `then`. Call once per signing profile. (Push the signature it produces with pushReferrer and
   * the same `appearsAfterSeconds` to simulate the whole of managed signing.)
   */
  setSigningStatus(repositoryName: string, digest: string, signing: SimulatedSigning): void {
    const key = `${repositoryName}@${digest}`;
    const statuses = (this.signings.get(key) ?? []).filter((s) => s.signingProfileArn !== signing.signingProfileArn);
    statuses.push({ signingProfileArn: signing.signingProfileArn, completesAt: this.now.getTime() + signing.inProgressForSeconds * 1000, then: signing.then });
    this.signings.set(key, statuses);
  }

  readonly fetchBlob = async (url: string): Promise<Uint8Array> => {
    const digest = url.startsWith(BLOB_HOST) ? url.split('/').pop() : undefined;
    const blob = digest ? this.visibleBlob(digest) : undefined;
    if (!blob) throw new Error(`simulated registry: no blob at ${url}`);
    return blob;
  };

  // ---- KMS
  /** Creates a KMS key GetPublicKey answers for by key ARN, key id, alias name or alias ARN. */
  registerKmsKey(key: SimulatedKmsKey): void {
    this.kmsKeys.push({ aliases: [], keyUsage: 'SIGN_VERIFY', keyState: 'Enabled', ...key });
  }

  // ---- AWS Signer
  /**
   * Revokes a signing profile version ARN, signing job ARN or certificate hash: GetRevocationStatus reports it for
   * signatures made at or after `effectiveFrom` (default: all of them, as revoking a signing job does).
   */
  revokeSignerEntity(entity: string, options: { effectiveFrom?: Date } = {}): void {
    this.revocations.set(entity, options.effectiveFrom?.getTime() ?? Number.NEGATIVE_INFINITY);
  }

  // ---- ECS
  /** Creates a service running `image` (revision 1 of its family), settled and healthy. */
  createService(spec: SimulatedServiceSpec, runningImage: { uri: string; versionTag?: string }): void {
    const family = `${spec.service}-task`;
    const taskDefinitionArn = this.registerTaskDefinition({
      family,
      taskRoleArn: `arn:aws:iam::${this.account}:role/${spec.service}-task`,
      executionRoleArn: `arn:aws:iam::${this.account}:role/${spec.service}-execution`,
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '1024',
      memory: '4096',
      containerDefinitions: [
        { name: spec.container, image: runningImage.uri, essential: true, portMappings: [{ containerPort: 8080 }] },
        { name: 'log-router', image: 'public.ecr.aws/aws-observability/aws-for-fluent-bit:stable', essential: false },
      ],
    }, runningImage.versionTag ? [{ key: 'model-rollout:version', value: runningImage.versionTag }] : []);
    const state: ServiceState = {
      spec,
      arn: `arn:aws:ecs:${this.region}:${this.account}:service/${spec.cluster}/${spec.service}`,
      desiredCount: spec.desiredCount,
      deployments: [],
      settled: new Map(),
    };
    const initial = this.newDeployment(state, taskDefinitionArn, { result: 'completes', settlesAfterSeconds: 0 });
    state.settled.set(initial.id, 'completed');
    state.deployments = [initial];
    this.services.set(`${spec.cluster}/${spec.service}`, state);
    for (const alarm of spec.alarms) this.alarms.set(alarm, 'OK');
  }

  /**
   * Schedules the outcome of the next call of `command` (e.g. `UpdateService`, `BatchGetImage`, `PutEvents`):
   * an AWS error name to fail with, or null to let that call succeed. Calls to schedule are consumed in order.
   */
  failNext(command: string, errorName: string | null): void {
    this.scheduledFailures.set(command, [...(this.scheduledFailures.get(command) ?? []), errorName]);
  }

  /** Throws the failure scheduled for `command`, if any (also used for calls the local run answers itself, like PutEvents). */
  throwScheduledFailure(command: string): void {
    const errorName = this.scheduledFailures.get(command)?.shift();
    if (errorName) throw new SimulatedAwsError(errorName, `simulated ${command} failure: ${errorName}`);
  }

  /** The image (by tag) the service's primary deployment runs, and whether that deployment finished. */
  runningImage(cluster: string, service: string): { image: string; rolloutState: string } {
    this.settleAll();
    const state = this.serviceState(cluster, service);
    const primary = state.deployments.find((d) => d.status === 'PRIMARY')!;
    const container = this.taskDefinitions.get(primary.taskDefinition)!.containerDefinitions.find((c) => c.name === state.spec.container)!;
    return { image: container.image!, rolloutState: this.rolloutState(state, primary).rolloutState };
  }

  setAlarm(name: string, value: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'): void {
    this.alarms.set(name, value);
  }

  // ---- the SDK clients' `send`
  readonly ecr = { send: async (command: unknown): Promise<any> => this.answer(command) };
  readonly ecs = { send: async (command: unknown): Promise<any> => this.answer(command) };
  readonly cloudwatch = { send: async (command: unknown): Promise<any> => this.answer(command) };
  readonly kms = { send: async (command: unknown): Promise<any> => this.answer(command) };
  readonly signer = { send: async (command: unknown): Promise<any> => this.answer(command) };

  private answer(command: unknown): unknown {
    const input = (command as { input: any }).input;
    const name = (command as object).constructor.name.replace(/Command$/, '');
    this.calls.push({ command: name, input });
    this.throwScheduledFailure(name);
    // Whoever looks first sees the account as simulated time left it (deployments settled, alarms tripped).
    this.settleAll();
    if (command instanceof BatchGetImageCommand) return this.batchGetImage(input);
    if (command instanceof GetDownloadUrlForLayerCommand) return this.getDownloadUrlForLayer(input);
    if (command instanceof ListImageReferrersCommand) return this.listImageReferrers(input);
    if (command instanceof DescribeRepositoriesCommand) return this.describeRepositories(input);
    if (command instanceof DescribeImagesCommand) return this.describeImages(input);
    if (command instanceof DescribeImageSigningStatusCommand) return this.describeImageSigningStatus(input);
    if (command instanceof GetPublicKeyCommand) return this.getPublicKey(input);
    if (command instanceof GetRevocationStatusCommand) return this.getRevocationStatus(input);
    if (command instanceof DescribeServicesCommand) return this.describeServices(input);
    if (command instanceof DescribeTaskDefinitionCommand) return this.describeTaskDefinition(input);
    if (command instanceof RegisterTaskDefinitionCommand) return this.registerTaskDefinitionCommand(input);
    if (command instanceof UpdateServiceCommand) return this.updateService(input);
    if (command instanceof DescribeServiceDeploymentsCommand) return this.describeServiceDeployments(input);
    if (command instanceof DescribeAlarmsCommand) return this.describeAlarms(input);
    throw new Error(`The simulated account does not answer ${(command as object).constructor.name}`);
  }

  private batchGetImage(input: { repositoryName: string; imageIds: { imageTag?: string; imageDigest?: string }[] }) {
    const repository = this.repository(input.repositoryName);
    const images = [];
    const failures = [];
    for (const imageId of input.imageIds) {
      const digest = imageId.imageDigest ?? repository.digestByTag.get(imageId.imageTag ?? '');
      const stored = digest ? repository.imagesByDigest.get(digest) : undefined;
      const image = stored && this.isVisible(stored.visibleFrom) ? stored : undefined;
      if (digest && image) {
        images.push({ registryId: this.account, repositoryName: input.repositoryName, imageId: { ...imageId, imageDigest: digest }, imageManifest: image.manifest, imageManifestMediaType: image.mediaType });
      } else {
        failures.push({ imageId, failureCode: imageId.imageTag ? 'ImageTagDoesNotExist' : 'ImageNotFound', failureReason: 'Requested image not found' });
      }
    }
    return { images, failures };
  }

  private getDownloadUrlForLayer(input: { repositoryName: string; layerDigest: string }) {
    if (!this.visibleBlob(input.layerDigest)) {
      throw new SimulatedAwsError('LayersNotFoundException', `The layer ${input.layerDigest} does not exist in ${input.repositoryName}`);
    }
    return { layerDigest: input.layerDigest, downloadUrl: `${BLOB_HOST}/v2/${input.repositoryName}/blobs/${input.layerDigest}` };
  }

  /** Pages through the subject's visible referrers; the nextToken is the index of the next one. */
  private listImageReferrers(input: {
    repositoryName: string;
    subjectId: { imageDigest: string };
    filter?: { artifactTypes?: string[]; artifactStatus?: string };
    nextToken?: string;
    maxResults?: number;
  }) {
    const repository = this.repository(input.repositoryName);
    const wantedStatus = input.filter?.artifactStatus ?? 'ACTIVE';
    const matching = repository.referrers.filter(
      (r) =>
        r.subjectDigest === input.subjectId.imageDigest &&
        this.isVisible(repository.imagesByDigest.get(r.digest)!.visibleFrom) &&
        (!input.filter?.artifactTypes?.length || input.filter.artifactTypes.includes(r.artifactType)) &&
        (wantedStatus === 'ANY' || r.artifactStatus === wantedStatus),
    );
    const start = input.nextToken === undefined ? 0 : Number(input.nextToken);
    if (!Number.isInteger(start) || start < 0 || start > matching.length) {
      throw new SimulatedAwsError('InvalidParameterException', `Invalid parameter: nextToken '${input.nextToken}' is not valid`);
    }
    const end = start + (input.maxResults ?? REFERRERS_PAGE_SIZE);
    return {
      referrers: matching.slice(start, end).map((r) => ({
        digest: r.digest,
        mediaType: OCI_MANIFEST,
        artifactType: r.artifactType,
        size: r.size,
        ...(r.annotations ? { annotations: r.annotations } : {}),
        artifactStatus: r.artifactStatus,
      })),
      ...(end < matching.length ? { nextToken: String(end) } : {}),
    };
  }

  private describeRepositories(input: { repositoryNames?: string[] }) {
    const names = input.repositoryNames ?? [...this.repositories.keys()];
    for (const name of names) {
      if (!this.repositories.has(name)) {
        throw new SimulatedAwsError('RepositoryNotFoundException', `The repository with name '${name}' does not exist in the registry with id '${this.account}'`);
      }
    }
    return {
      repositories: names.map((name) => ({
        repositoryName: name,
        repositoryArn: `arn:aws:ecr:${this.region}:${this.account}:repository/${name}`,
        registryId: this.account,
        repositoryUri: this.repositoryUri(name),
      })),
    };
  }

  /** Tagged images with their tags, in one page (the adapter follows nextToken; no repository here needs a second). */
  private describeImages(input: { repositoryName: string; filter?: { tagStatus?: string } }) {
    const repository = this.repository(input.repositoryName);
    const tagsByDigest = new Map<string, string[]>();
    for (const [tag, digest] of repository.digestByTag) tagsByDigest.set(digest, [...(tagsByDigest.get(digest) ?? []), tag]);
    const imageDetails = [...repository.imagesByDigest.entries()]
      .filter(([digest, image]) => this.isVisible(image.visibleFrom) && (input.filter?.tagStatus !== 'TAGGED' || tagsByDigest.has(digest)))
      .map(([digest, image]) => ({ registryId: this.account, repositoryName: input.repositoryName, imageDigest: digest, imageTags: tagsByDigest.get(digest), imageManifestMediaType: image.mediaType }));
    return { imageDetails };
  }

  /** One status per signing profile set with setSigningStatus; none (an empty list) for an image nothing signs. */
  private describeImageSigningStatus(input: { repositoryName: string; imageId: { imageDigest?: string; imageTag?: string } }) {
    const repository = this.repository(input.repositoryName);
    const digest = input.imageId.imageDigest ?? repository.digestByTag.get(input.imageId.imageTag ?? '');
    const image = digest ? repository.imagesByDigest.get(digest) : undefined;
    if (!digest || !image || !this.isVisible(image.visibleFrom)) {
      throw new SimulatedAwsError('ImageNotFoundException', `The image requested does not exist in the specified repository.`);
    }
    const now = this.now.getTime();
    return {
      registryId: this.account,
      repositoryName: input.repositoryName,
      imageId: { imageDigest: digest },
      signingStatuses: (this.signings.get(`${input.repositoryName}@${digest}`) ?? []).map((s) => {
        const status = now < s.completesAt ? 'IN_PROGRESS' : s.then;
        return {
          signingProfileArn: s.signingProfileArn,
          status,
          ...(status === 'FAILED' ? { failureCode: 'SigningFailed', failureReason: 'simulated managed signing failure' } : {}),
        };
      }),
    };
  }

  private getPublicKey(input: { KeyId: string }) {
    const key = this.kmsKeys.find(
      (k) =>
        k.keyArn === input.KeyId ||
        k.keyArn.split('/').pop() === input.KeyId ||
        k.aliases.some((alias) => alias === input.KeyId || `arn:aws:kms:${this.region}:${this.account}:${alias}` === input.KeyId),
    );
    if (!key) throw new SimulatedAwsError('NotFoundException', `Key '${input.KeyId}' does not exist`);
    if (key.keyState === 'Disabled') throw new SimulatedAwsError('DisabledException', `${key.keyArn} is disabled.`);
    if (key.keyState === 'PendingDeletion') throw new SimulatedAwsError('KMSInvalidStateException', `${key.keyArn} is pending deletion.`);
    return {
      KeyId: key.keyArn,
      PublicKey: key.publicKeyDer,
      KeySpec: kmsKeySpec(key.publicKeyDer),
      KeyUsage: key.keyUsage,
      ...(key.keyUsage === 'SIGN_VERIFY' ? { SigningAlgorithms: kmsSigningAlgorithms(key.publicKeyDer) } : {}),
    };
  }

  private getRevocationStatus(input: { signatureTimestamp: Date; platformId: string; profileVersionArn: string; jobArn: string; certificateHashes: string[] }) {
    const signedAt = new Date(input.signatureTimestamp).getTime();
    const asked = [input.profileVersionArn, input.jobArn, ...input.certificateHashes];
    return { revokedEntities: asked.filter((entity) => this.revocations.has(entity) && signedAt >= this.revocations.get(entity)!) };
  }

  private describeServices(input: { cluster: string; services: string[] }) {
    const services = [];
    const failures = [];
    for (const name of input.services) {
      const state = this.services.get(`${input.cluster}/${name}`);
      if (!state) {
        failures.push({ arn: `arn:aws:ecs:${this.region}:${this.account}:service/${input.cluster}/${name}`, reason: 'MISSING' });
        continue;
      }
      const primary = state.deployments.find((d) => d.status === 'PRIMARY')!;
      services.push({
        serviceArn: state.arn,
        serviceName: state.spec.service,
        clusterArn: `arn:aws:ecs:${this.region}:${this.account}:cluster/${input.cluster}`,
        status: 'ACTIVE',
        desiredCount: state.desiredCount,
        runningCount: this.rolloutState(state, primary).runningCount,
        taskDefinition: primary.taskDefinition,
        currentServiceDeployment: primary.serviceDeploymentArn,
        deployments: state.deployments.map((d) => ({
          id: d.id,
          status: d.status,
          taskDefinition: d.taskDefinition,
          desiredCount: state.desiredCount,
          createdAt: d.createdAt,
          ...this.rolloutState(state, d),
        })),
      });
    }
    return { services, failures };
  }

  private describeServiceDeployments(input: { serviceDeploymentArns: string[] }) {
    const serviceDeployments = [];
    for (const state of this.services.values()) {
      for (const d of state.deployments) {
        if (!input.serviceDeploymentArns.includes(d.serviceDeploymentArn)) continue;
        const settled = state.settled.get(d.id);
        serviceDeployments.push({
          serviceDeploymentArn: d.serviceDeploymentArn,
          serviceArn: state.arn,
          targetServiceRevision: { arn: d.taskDefinition },
          status: settled === 'completed' ? 'SUCCESSFUL' : settled === 'failed' ? 'FAILED' : 'IN_PROGRESS',
        });
      }
    }
    return { serviceDeployments, failures: [] };
  }

  private describeTaskDefinition(input: { taskDefinition: string; include?: string[] }) {
    const taskDefinition = this.taskDefinitions.get(input.taskDefinition);
    if (!taskDefinition) throw new SimulatedAwsError('ClientException', `Unable to describe task definition ${input.taskDefinition}.`);
    return { taskDefinition: structuredClone(taskDefinition), tags: input.include?.includes('TAGS') ? this.taskDefinitionTags.get(input.taskDefinition) ?? [] : undefined };
  }

  private registerTaskDefinitionCommand(input: Record<string, unknown> & { tags?: Tag[] }) {
    const { tags, ...definition } = input;
    const arn = this.registerTaskDefinition(definition, tags ?? []);
    return { taskDefinition: structuredClone(this.taskDefinitions.get(arn)), tags };
  }

  private updateService(input: { cluster: string; service: string; taskDefinition: string }) {
    const state = this.serviceState(input.cluster, input.service);
    const taskDefinition = this.taskDefinitions.get(input.taskDefinition);
    if (!taskDefinition) throw new SimulatedAwsError('ClientException', `TaskDefinition not found: ${input.taskDefinition}`);
    const image = taskDefinition.containerDefinitions.find((c) => c.name === state.spec.container)?.image ?? '';
    const behaviour = this.behaviourByDigest.get(image.split('@')[1] ?? '') ?? { result: 'completes', settlesAfterSeconds: 60 };
    for (const d of state.deployments) d.status = 'ACTIVE';
    state.deployments.push(this.newDeployment(state, input.taskDefinition, behaviour));
    return { service: { serviceArn: state.arn, taskDefinition: input.taskDefinition } };
  }

  private describeAlarms(input: { AlarmNames?: string[] }) {
    const names = input.AlarmNames ?? [...this.alarms.keys()];
    return {
      MetricAlarms: names
        .filter((name) => this.alarms.has(name))
        .map((name) => ({ AlarmName: name, StateValue: this.alarms.get(name), StateReason: `simulated: ${this.alarms.get(name)}` })),
      CompositeAlarms: [],
    };
  }

  // ---- internals
  private storeBlob(bytes: Uint8Array): string {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    this.storeBlobAt(digest, bytes, Number.NEGATIVE_INFINITY);
    return digest;
  }

  /** Blobs are stored under the digest the caller names (a tampered one keeps its claimed digest); the earliest arrival wins. */
  private storeBlobAt(digest: string, bytes: Uint8Array, visibleFrom: number): void {
    const existing = this.blobs.get(digest);
    this.blobs.set(digest, { bytes, visibleFrom: Math.min(visibleFrom, existing?.visibleFrom ?? Number.POSITIVE_INFINITY) });
  }

  private visibleBlob(digest: string): Uint8Array | undefined {
    const blob = this.blobs.get(digest);
    return blob && this.isVisible(blob.visibleFrom) ? blob.bytes : undefined;
  }

  private storeManifest(repositoryName: string, tag: string | null, manifest: string, mediaType: string, visibleFrom = Number.NEGATIVE_INFINITY): string {
    const repository = this.repositoryCreatedOnPush(repositoryName);
    const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
    const earliest = Math.min(visibleFrom, repository.imagesByDigest.get(digest)?.visibleFrom ?? Number.POSITIVE_INFINITY);
    repository.imagesByDigest.set(digest, { manifest, mediaType, visibleFrom: earliest });
    if (tag !== null) repository.digestByTag.set(tag, digest);
    return digest;
  }

  /** The repository, created empty by the first push to it (as ECR's create-on-push would). */
  private repositoryCreatedOnPush(repositoryName: string): Repository {
    const repository = this.repositories.get(repositoryName) ?? { imagesByDigest: new Map(), digestByTag: new Map(), referrers: [] };
    this.repositories.set(repositoryName, repository);
    return repository;
  }

  private repository(repositoryName: string): Repository {
    const repository = this.repositories.get(repositoryName);
    if (!repository) throw new SimulatedAwsError('RepositoryNotFoundException', `The repository '${repositoryName}' does not exist`);
    return repository;
  }

  private arrivalTime(arrival: Arrival): number {
    return arrival.appearsAfterSeconds ? this.now.getTime() + arrival.appearsAfterSeconds * 1000 : Number.NEGATIVE_INFINITY;
  }

  private isVisible(visibleFrom: number): boolean {
    return this.now.getTime() >= visibleFrom;
  }

  private registerTaskDefinition(definition: Record<string, unknown>, tags: Tag[]): string {
    const family = String(definition.family);
    const revision = [...this.taskDefinitions.values()].filter((t) => t.family === family).length + 1;
    const taskDefinitionArn = `arn:aws:ecs:${this.region}:${this.account}:task-definition/${family}:${revision}`;
    this.taskDefinitions.set(taskDefinitionArn, {
      ...structuredClone(definition),
      family,
      revision,
      taskDefinitionArn,
      containerDefinitions: structuredClone(definition.containerDefinitions as ContainerDefinition[]),
      status: 'ACTIVE',
      requiresAttributes: [{ name: 'com.amazonaws.ecs.capability.task-iam-role' }],
      compatibilities: ['EC2', 'FARGATE'],
      registeredAt: this.clock(),
      registeredBy: `arn:aws:iam::${this.account}:role/simulated`,
    });
    this.taskDefinitionTags.set(taskDefinitionArn, tags);
    return taskDefinitionArn;
  }

  private newDeployment(state: ServiceState, taskDefinition: string, behaviour: RolloutBehaviour): Deployment {
    const id = `ecs-svc/${String(++this.sequence).padStart(19, '0')}`;
    return {
      id,
      status: 'PRIMARY',
      taskDefinition,
      createdAt: this.clock(),
      behaviour,
      serviceDeploymentArn: `arn:aws:ecs:${this.region}:${this.account}:service-deployment/${state.spec.cluster}/${state.spec.service}/${id.split('/')[1]}`,
    };
  }

  private settleAll(): void {
    for (const state of this.services.values()) this.settle(state);
  }

  /** Deployments settle lazily, when simulated time has passed their settle time; a completed one replaces the others. */
  private settle(state: ServiceState): void {
    for (const d of state.deployments) {
      if (d.status !== 'PRIMARY' || state.settled.has(d.id) || d.behaviour.result === 'stalls') continue;
      if (this.now.getTime() < d.createdAt.getTime() + d.behaviour.settlesAfterSeconds * 1000) continue;
      if (d.behaviour.result === 'fails') {
        state.settled.set(d.id, 'failed');
        continue;
      }
      state.settled.set(d.id, 'completed');
      state.deployments = [d];
      for (const alarm of state.spec.alarms) this.alarms.set(alarm, 'OK');
      if (d.behaviour.tripsAlarm) this.alarms.set(d.behaviour.tripsAlarm, 'ALARM');
    }
  }

  private rolloutState(state: ServiceState, d: Deployment) {
    const settled = state.settled.get(d.id);
    if (settled === 'completed') {
      return { rolloutState: 'COMPLETED', rolloutStateReason: 'ECS deployment completed.', runningCount: state.desiredCount, failedTasks: 0 };
    }
    if (settled === 'failed') {
      return { rolloutState: 'FAILED', rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.', runningCount: 0, failedTasks: state.desiredCount * 3 };
    }
    return { rolloutState: 'IN_PROGRESS', rolloutStateReason: 'ECS deployment in progress.', runningCount: Math.max(0, state.desiredCount - 1), failedTasks: 0 };
  }

  private serviceState(cluster: string, service: string): ServiceState {
    const state = this.services.get(`${cluster}/${service}`);
    if (!state) throw new SimulatedAwsError('ServiceNotFoundException', `Service not found: ${cluster}/${service}`);
    return state;
  }
}

/** GetPublicKey's KeySpec for a public key. */
function kmsKeySpec(spkiDer: Uint8Array): string {
  const key = createPublicKey({ key: Buffer.from(spkiDer), format: 'der', type: 'spki' });
  if (key.asymmetricKeyType === 'rsa') return `RSA_${key.asymmetricKeyDetails?.modulusLength}`;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return { prime256v1: 'ECC_NIST_P256', secp384r1: 'ECC_NIST_P384', secp521r1: 'ECC_NIST_P521', secp256k1: 'ECC_SECG_P256K1' }[curve ?? ''] ?? 'UNKNOWN';
}

/** GetPublicKey's SigningAlgorithms for a SIGN_VERIFY key of that key spec. */
function kmsSigningAlgorithms(spkiDer: Uint8Array): string[] {
  const spec = kmsKeySpec(spkiDer);
  if (spec.startsWith('RSA_')) {
    return ['RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512', 'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512'];
  }
  return [{ ECC_NIST_P256: 'ECDSA_SHA_256', ECC_NIST_P384: 'ECDSA_SHA_384', ECC_NIST_P521: 'ECDSA_SHA_512', ECC_SECG_P256K1: 'ECDSA_SHA_256' }[spec] ?? 'ECDSA_SHA_256'];
}
