/**
 * The simulated account stands in for ECR, ECS and CloudWatch in the local run and the workflow tests, so it is driven
 * here through the real adapters (the code that talks to AWS in production), never through its own internals.
 */
import { createHash, verify } from 'node:crypto';
import { BatchGetImageCommand } from '@aws-sdk/client-ecr';
import { beforeEach, describe, expect, it } from 'vitest';
import { AlarmMonitor } from '../../lambdas/adapters/alarm-monitor';
import { DeploymentTarget, DIGEST_TAG, VERSION_TAG } from '../../lambdas/adapters/deployment-target';
import { ImageRegistry } from '../../lambdas/adapters/image-registry';
import type { Release } from '../../lambdas/contract';
import { ServiceNotFoundError, TransientAwsError } from '../../lambdas/errors';
import { createCosignSignature, generateSigningKeyPair } from '../../local/cosign-signer';
import { SimulatedAccount, type RolloutBehaviour } from '../../local/simulated-account';
import { sentimentService } from '../fixtures/catalog';

const key = generateSigningKeyPair();
const ALARMS = ['sentiment-5xx-rate', 'sentiment-p99-latency'];
const DESIRED_COUNT = 3;

const entry = sentimentService({ trustedKeys: [key.publicKeyPem], health: { alarms: ALARMS } });

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
    { cluster: entry.cluster, service: entry.service, container: entry.container, desiredCount: DESIRED_COUNT, repositoryName: entry.repositoryName, alarms: ALARMS },
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
  const { newTaskDefinitionArn } = await target.registerRevision(entry, release);
  await target.updateService(entry, newTaskDefinitionArn);
  return newTaskDefinitionArn;
}

const taskDefinitionArn = (revision: number) => `arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment-task:${revision}`;
const commands = () => account.calls.map((call) => call.command);

describe('SimulatedAccount', () => {
  describe('ECR images', () => {
    it("gives a pushed image the sha256 digest of its manifest, as a registry does", async () => {
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
      const signature = createCosignSignature({ privateKey: key.privateKeyPem, repositoryUri: release.repositoryUri, digest: release.digest });
      account.pushSignature(entry.repositoryName, signature);

      const read = await registry.readCosignSignature(entry.repositoryName, release.digest);

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
      expect(commands()).toEqual(['BatchGetImage', 'GetDownloadUrlForLayer']);
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

      const read = await registry.readCosignSignature(entry.repositoryName, release.digest);

      expect(JSON.parse(Buffer.from(read!.layers[0].payload).toString('utf8')).critical.image['docker-manifest-digest']).toBe(runningDigest);
    });

    it('reads a missing signature as null', async () => {
      const release = push('v1.3.0', COMPLETES_AT_ONCE);

      await expect(registry.readCosignSignature(entry.repositoryName, release.digest)).resolves.toBeNull();
      expect(commands()).toEqual(['BatchGetImage']);
    });

    it("does not serve one image's signature for another", async () => {
      const signed = push('v1.3.0', COMPLETES_AT_ONCE);
      const unsigned = push('v1.3.1', COMPLETES_AT_ONCE);
      account.pushSignature(
        entry.repositoryName,
        createCosignSignature({ privateKey: key.privateKeyPem, repositoryUri: signed.repositoryUri, digest: signed.digest }),
      );

      await expect(registry.readCosignSignature(entry.repositoryName, unsigned.digest)).resolves.toBeNull();
    });

    it('fails like ECR for a repository that does not exist', async () => {
      await expect(registry.readCosignSignature('models/unknown', runningDigest)).rejects.toMatchObject({ name: 'RepositoryNotFoundException' });
    });

    it('refuses to fetch a blob it does not hold', async () => {
      await expect(account.fetchBlob(`https://simulated-ecr.invalid/v2/models/sentiment/blobs/sha256:${'0'.repeat(64)}`)).rejects.toThrowError(
        /no blob at/,
      );
    });
  });

  describe('ECS services, through DeploymentTarget', () => {
    it('runs revision 1 of the service with the version tag it was created with', async () => {
      await expect(target.describeRunning(entry)).resolves.toEqual({ taskDefinitionArn: taskDefinitionArn(1), version: 'v1.2.0' });
      expect(account.runningImage(entry.cluster, entry.service)).toEqual({
        image: `${account.repositoryUri(entry.repositoryName)}@${runningDigest}`,
        rolloutState: 'COMPLETED',
      });
    });

    it.each([
      ['the image tag when there is no version tag', ':v1.1.0', 'v1.1.0'],
      ['null for an image pinned by digest, without a version tag', `@sha256:${'a'.repeat(64)}`, null],
    ])('reads %s', async (_case, reference, version) => {
      const other = new SimulatedAccount();
      other.createService(
        { cluster: 'c', service: 's', container: 'model', desiredCount: 1, repositoryName: 'models/s', alarms: [] },
        { uri: `${other.repositoryUri('models/s')}${reference}` },
      );

      await expect(new DeploymentTarget(other.ecs as never).describeRunning({ ...entry, cluster: 'c', service: 's' })).resolves.toEqual({
        taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/s-task:1',
        version,
      });
    });

    it('answers a service that does not exist as ECS does, which the adapter reports as ServiceNotFoundError', async () => {
      const missing = { ...entry, service: 'translation' };

      await expect(target.describeRunning(missing)).rejects.toBeInstanceOf(ServiceNotFoundError);
      await expect(target.updateService(missing, taskDefinitionArn(1))).rejects.toBeInstanceOf(ServiceNotFoundError);
    });

    it('registers a copy of the running revision with only the model image replaced, and tags it', async () => {
      const release = push('v1.3.0', COMPLETES_AT_ONCE);

      await expect(target.registerRevision(entry, release)).resolves.toEqual({
        previousTaskDefinitionArn: taskDefinitionArn(1),
        newTaskDefinitionArn: taskDefinitionArn(2),
      });

      const registered = account.calls.find((call) => call.command === 'RegisterTaskDefinition')!.input as any;
      expect(registered.containerDefinitions.map((c: any) => [c.name, c.image])).toEqual([
        ['model', release.imageUri],
        ['log-router', 'public.ecr.aws/aws-observability/aws-for-fluent-bit:stable'],
      ]);
      expect(registered.tags).toEqual([
        { key: VERSION_TAG, value: 'v1.3.0' },
        { key: DIGEST_TAG, value: release.digest },
      ]);
    });

    it('keeps an updated deployment IN_PROGRESS until settlesAfterSeconds have passed, then COMPLETED with one deployment', async () => {
      const release = push('v1.3.0', { result: 'completes', settlesAfterSeconds: 90 });
      const newArn = await deploy(release);

      await expect(target.observeDeployment(entry, newArn)).resolves.toEqual({
        targetTaskDefinitionArn: newArn,
        primary: { taskDefinitionArn: newArn, rolloutState: 'IN_PROGRESS', rolloutStateReason: 'ECS deployment in progress.', runningCount: DESIRED_COUNT - 1, desiredCount: DESIRED_COUNT, failedTasks: 0 },
        deploymentCount: 2,
        serviceDeploymentStatus: 'IN_PROGRESS',
      });

      account.advance(89);
      await expect(target.observeDeployment(entry, newArn)).resolves.toMatchObject({ primary: { rolloutState: 'IN_PROGRESS' }, deploymentCount: 2 });

      account.advance(1);
      await expect(target.observeDeployment(entry, newArn)).resolves.toEqual({
        targetTaskDefinitionArn: newArn,
        primary: { taskDefinitionArn: newArn, rolloutState: 'COMPLETED', rolloutStateReason: 'ECS deployment completed.', runningCount: DESIRED_COUNT, desiredCount: DESIRED_COUNT, failedTasks: 0 },
        deploymentCount: 1,
        serviceDeploymentStatus: 'SUCCESSFUL',
      });
      await expect(target.describeRunning(entry)).resolves.toEqual({ taskDefinitionArn: newArn, version: 'v1.3.0' });
      expect(account.runningImage(entry.cluster, entry.service)).toEqual({ image: release.imageUri, rolloutState: 'COMPLETED' });
    });

    it('fails a deployment whose behaviour is `fails` once it settles, leaving the previous revision ACTIVE beside it', async () => {
      const newArn = await deploy(push('v1.3.0', { result: 'fails', settlesAfterSeconds: 120 }));

      await expect(target.observeDeployment(entry, newArn)).resolves.toMatchObject({ primary: { rolloutState: 'IN_PROGRESS' } });
      account.advance(120);

      await expect(target.observeDeployment(entry, newArn)).resolves.toEqual({
        targetTaskDefinitionArn: newArn,
        primary: {
          taskDefinitionArn: newArn,
          rolloutState: 'FAILED',
          rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.',
          runningCount: 0,
          desiredCount: DESIRED_COUNT,
          failedTasks: DESIRED_COUNT * 3,
        },
        deploymentCount: 2,
        serviceDeploymentStatus: 'FAILED',
      });
    });

    it('never settles a deployment whose behaviour is `stalls`', async () => {
      const newArn = await deploy(push('v1.3.0', { result: 'stalls', settlesAfterSeconds: 0 }));
      account.advance(24 * 3600);

      await expect(target.observeDeployment(entry, newArn)).resolves.toMatchObject({
        primary: { rolloutState: 'IN_PROGRESS' },
        deploymentCount: 2,
        serviceDeploymentStatus: 'IN_PROGRESS',
      });
    });

    it('rolls back: a deployment of the previous revision replaces a failed one once it completes', async () => {
      const badArn = await deploy(push('v1.3.0', { result: 'fails', settlesAfterSeconds: 60 }));
      account.advance(60);
      await expect(target.observeDeployment(entry, badArn)).resolves.toMatchObject({ primary: { rolloutState: 'FAILED' } });

      await target.updateService(entry, taskDefinitionArn(1)); // v1.2.0 was pushed to settle at once
      await expect(target.observeDeployment(entry, taskDefinitionArn(1))).resolves.toMatchObject({
        primary: { taskDefinitionArn: taskDefinitionArn(1), rolloutState: 'COMPLETED' },
        deploymentCount: 1,
      });
    });
  });

  describe('CloudWatch alarms, through AlarmMonitor', () => {
    it('starts with the service alarms OK and reports an unknown alarm as MISSING', async () => {
      await expect(alarms.states([...ALARMS, 'no-such-alarm'])).resolves.toEqual([
        { name: 'sentiment-5xx-rate', state: 'OK' },
        { name: 'sentiment-p99-latency', state: 'OK' },
        { name: 'no-such-alarm', state: 'MISSING' },
      ]);
    });

    it('turns the tripsAlarm alarm to ALARM once the deployment completes, and back to OK when another deployment completes', async () => {
      const badArn = await deploy(push('v1.3.0', { result: 'completes', settlesAfterSeconds: 30, tripsAlarm: 'sentiment-p99-latency' }));
      await target.observeDeployment(entry, badArn);
      await expect(alarms.states(ALARMS)).resolves.toEqual([
        { name: 'sentiment-5xx-rate', state: 'OK' },
        { name: 'sentiment-p99-latency', state: 'OK' },
      ]);

      account.advance(30);
      await expect(target.observeDeployment(entry, badArn)).resolves.toMatchObject({ primary: { rolloutState: 'COMPLETED' } });
      await expect(alarms.states(ALARMS)).resolves.toEqual([
        { name: 'sentiment-5xx-rate', state: 'OK' },
        { name: 'sentiment-p99-latency', state: 'ALARM' },
      ]);

      const goodArn = await deploy(push('v1.3.1', { result: 'completes', settlesAfterSeconds: 30 }));
      await target.observeDeployment(entry, goodArn);
      await expect(alarms.states(ALARMS)).resolves.toContainEqual({ name: 'sentiment-p99-latency', state: 'ALARM' });

      account.advance(30);
      await expect(target.observeDeployment(entry, goodArn)).resolves.toMatchObject({ primary: { rolloutState: 'COMPLETED' } });
      await expect(alarms.states(ALARMS)).resolves.toEqual([
        { name: 'sentiment-5xx-rate', state: 'OK' },
        { name: 'sentiment-p99-latency', state: 'OK' },
      ]);
    });

    // Regression: deployments once settled only inside DescribeServices, so an alarm read right after `advance` saw OK.
    it('trips the alarm once the deployment has completed in simulated time, whoever looks first', async () => {
      await deploy(push('v1.3.0', { result: 'completes', settlesAfterSeconds: 30, tripsAlarm: 'sentiment-p99-latency' }));
      account.advance(30);

      await expect(alarms.states(['sentiment-p99-latency'])).resolves.toEqual([{ name: 'sentiment-p99-latency', state: 'ALARM' }]);
    });

    it('lets a scenario set an alarm directly', async () => {
      account.setAlarm('sentiment-5xx-rate', 'INSUFFICIENT_DATA');

      await expect(alarms.states(['sentiment-5xx-rate'])).resolves.toEqual([{ name: 'sentiment-5xx-rate', state: 'INSUFFICIENT_DATA' }]);
    });
  });

  describe('scheduled failures (failNext)', () => {
    it('fails exactly the next call of the command with the AWS error named, then answers normally', async () => {
      const { newTaskDefinitionArn } = await target.registerRevision(entry, push('v1.3.0', { result: 'completes', settlesAfterSeconds: 60 }));
      account.failNext('UpdateService', 'AccessDeniedException');

      const error = await target.updateService(entry, newTaskDefinitionArn).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ name: 'AccessDeniedException', $fault: 'client', message: 'simulated UpdateService failure: AccessDeniedException' });
      expect(error).not.toBeInstanceOf(TransientAwsError); // a client error keeps its own name for the Catch
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
      await expect(target.updateService(entry, taskDefinitionArn(1))).rejects.toMatchObject({ name: 'AccessDeniedException' });
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
