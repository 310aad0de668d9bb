/**
 * A simulated AWS account for the local run and the workflow tests: ECR repositories holding images and their
 * cosign signatures, ECS services whose deployments settle the way a scenario says, CloudWatch alarms, and a clock.
 * It answers the very SDK commands the adapters send (through `send`), so the real adapter and handler code runs.
 */
import { createHash } from 'node:crypto';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { BatchGetImageCommand, GetDownloadUrlForLayerCommand } from '@aws-sdk/client-ecr';
import {
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type ContainerDefinition,
  type Tag,
} from '@aws-sdk/client-ecs';

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

interface StoredImage {
  manifest: string;
  mediaType: string;
}
interface Repository {
  imagesByDigest: Map<string, StoredImage>;
  digestByTag: Map<string, string>;
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

export class SimulatedAccount {
  readonly account: string;
  readonly region: string;
  private now: Date;
  private readonly repositories = new Map<string, Repository>();
  private readonly blobs = new Map<string, Uint8Array>();
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

  /** Stores an image under a tag and returns its digest (derived from the manifest, as in a real registry). */
  pushImage(repositoryName: string, tag: string, behaviour: RolloutBehaviour): string {
    const config = Buffer.from(JSON.stringify({ architecture: 'arm64', os: 'linux', config: { Labels: { 'org.opencontainers.image.version': tag } } }));
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

  /** Stores a cosign signature manifest (and its payload blobs) under its `sha256-<hex>.sig` tag. */
  pushSignature(repositoryName: string, signature: { signatureTag: string; manifest: string; manifestMediaType: string; blobs: Map<string, Uint8Array> }): void {
    for (const [digest, bytes] of signature.blobs) this.blobs.set(digest, bytes);
    this.storeManifest(repositoryName, signature.signatureTag, signature.manifest, signature.manifestMediaType);
  }

  readonly fetchBlob = async (url: string): Promise<Uint8Array> => {
    const digest = url.startsWith(BLOB_HOST) ? url.split('/').pop() : undefined;
    const blob = digest ? this.blobs.get(digest) : undefined;
    if (!blob) throw new Error(`simulated registry: no blob at ${url}`);
    return blob;
  };

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

  private answer(command: unknown): unknown {
    const input = (command as { input: any }).input;
    const name = (command as object).constructor.name.replace(/Command$/, '');
    this.calls.push({ command: name, input });
    this.throwScheduledFailure(name);
    // Whoever looks first sees the account as simulated time left it (deployments settled, alarms tripped).
    this.settleAll();
    if (command instanceof BatchGetImageCommand) return this.batchGetImage(input);
    if (command instanceof GetDownloadUrlForLayerCommand) return this.getDownloadUrlForLayer(input);
    if (command instanceof DescribeServicesCommand) return this.describeServices(input);
    if (command instanceof DescribeTaskDefinitionCommand) return this.describeTaskDefinition(input);
    if (command instanceof RegisterTaskDefinitionCommand) return this.registerTaskDefinitionCommand(input);
    if (command instanceof UpdateServiceCommand) return this.updateService(input);
    if (command instanceof DescribeServiceDeploymentsCommand) return this.describeServiceDeployments(input);
    if (command instanceof DescribeAlarmsCommand) return this.describeAlarms(input);
    throw new Error(`The simulated account does not answer ${(command as object).constructor.name}`);
  }

  private batchGetImage(input: { repositoryName: string; imageIds: { imageTag?: string; imageDigest?: string }[] }) {
    const repository = this.repositories.get(input.repositoryName);
    if (!repository) throw new SimulatedAwsError('RepositoryNotFoundException', `The repository '${input.repositoryName}' does not exist`);
    const images = [];
    const failures = [];
    for (const imageId of input.imageIds) {
      const digest = imageId.imageDigest ?? repository.digestByTag.get(imageId.imageTag ?? '');
      const image = digest ? repository.imagesByDigest.get(digest) : undefined;
      if (digest && image) {
        images.push({ registryId: this.account, repositoryName: input.repositoryName, imageId: { ...imageId, imageDigest: digest }, imageManifest: image.manifest, imageManifestMediaType: image.mediaType });
      } else {
        failures.push({ imageId, failureCode: imageId.imageTag ? 'ImageTagDoesNotExist' : 'ImageNotFound', failureReason: 'Requested image not found' });
      }
    }
    return { images, failures };
  }

  private getDownloadUrlForLayer(input: { repositoryName: string; layerDigest: string }) {
    if (!this.blobs.has(input.layerDigest)) {
      throw new SimulatedAwsError('LayersNotFoundException', `The layer ${input.layerDigest} does not exist in ${input.repositoryName}`);
    }
    return { layerDigest: input.layerDigest, downloadUrl: `${BLOB_HOST}/v2/${input.repositoryName}/blobs/${input.layerDigest}` };
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
    this.blobs.set(digest, bytes);
    return digest;
  }

  private storeManifest(repositoryName: string, tag: string, manifest: string, mediaType: string): string {
    const repository = this.repositories.get(repositoryName) ?? { imagesByDigest: new Map(), digestByTag: new Map() };
    this.repositories.set(repositoryName, repository);
    const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
    repository.imagesByDigest.set(digest, { manifest, mediaType });
    repository.digestByTag.set(tag, digest);
    return digest;
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
