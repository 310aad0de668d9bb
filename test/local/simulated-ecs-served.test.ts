/**
 * What a simulated ECS service's tasks served, minute by minute (what the simulated ALB asks for past minutes), and
 * UpdateService's desiredCount: a scale, not a deployment. Through the SDK commands the pipeline sends.
 */
import { UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { beforeEach, describe, expect, it } from 'vitest';
import { account, CLUSTER, entry, revision, SERVICE, service, start, taskDefinitionArn, update } from './simulated-ecs-fixture';

const CANARY = 'sentiment-canary';
let t0: Date;
let stableImage: string;
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const served = (name: string, seconds: number) => account.services.ecs.servedAt(CLUSTER, name, at(seconds));
const imageOfRevision = (arn: string) =>
  account.services.ecs.describeTaskDefinition({ taskDefinition: arn }).taskDefinition.containerDefinitions[0].image;

beforeEach(() => {
  start();
  t0 = account.clock();
  stableImage = account.runningImage(CLUSTER, SERVICE).image;
});

describe('what a service served', () => {
  it('is its image on all its tasks from its creation, nothing before', () => {
    expect(served(SERVICE, 0)).toEqual({ image: stableImage, tasks: 2 });
    expect(served(SERVICE, -1)).toBeUndefined();
  });

  it('stays the old image while a rollout runs, and is the new one from the moment it completed, read long after', async () => {
    const next = await revision('v1.3.0', { result: 'completes', settlesAfterSeconds: 90 });
    await update(next);
    account.advance(30 * 60);
    expect(served(SERVICE, 89)).toEqual({ image: stableImage, tasks: 2 });
    expect(served(SERVICE, 90)).toEqual({ image: imageOfRevision(next), tasks: 2 });
  });

  it('stays the old image when the rollout fails (the circuit breaker launches nothing more)', async () => {
    await update(await revision('v1.3.0', { result: 'fails', settlesAfterSeconds: 60 }));
    account.advance(600);
    expect(served(SERVICE, 300)).toEqual({ image: stableImage, tasks: 2 });
  });
});

describe('UpdateService desiredCount', () => {
  it('scales the running deployment at once, starting no service deployment; 0 tasks serve nothing', async () => {
    const before = (await service()).currentServiceDeployment;
    account.advance(60);
    await account.ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: SERVICE, desiredCount: 0 }));
    const described = await service();
    expect(described).toMatchObject({ desiredCount: 0, runningCount: 0, currentServiceDeployment: before });
    expect(described.deployments).toHaveLength(1);
    expect(served(SERVICE, 59)).toEqual({ image: stableImage, tasks: 2 });
    expect(served(SERVICE, 60)).toEqual({ image: null, tasks: 0 });
  });

  it('with a new revision, is the count the new deployment comes up with', async () => {
    const next = await revision('v1.3.0', { result: 'completes', settlesAfterSeconds: 90 });
    await update(next, { desiredCount: 5 });
    account.advance(120);
    expect(await service()).toMatchObject({ desiredCount: 5, runningCount: 5, taskDefinition: next });
    expect(served(SERVICE, 90)).toEqual({ image: imageOfRevision(next), tasks: 5 });
  });

  it.each([[-1], [1.5]])('refuses %s with InvalidParameterException, changing nothing', async (count) => {
    await expect(
      account.ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: SERVICE, desiredCount: count })),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    expect((await service()).desiredCount).toBe(2);
  });
});

describe('a second service of the same revision (a canary)', () => {
  beforeEach(() => {
    account.createService(
      { cluster: CLUSTER, service: CANARY, container: entry.container, desiredCount: 0, repositoryName: entry.repository, alarms: [] },
      { taskDefinitionArn: taskDefinitionArn(1) },
    );
  });

  it('runs the stable service’s task definition, registering none, and serves nothing at 0 tasks', async () => {
    const { services } = account.services.ecs.describeServices({ cluster: CLUSTER, services: [CANARY] });
    expect(services[0]).toMatchObject({ taskDefinition: taskDefinitionArn(1), desiredCount: 0, runningCount: 0 });
    expect(() => account.services.ecs.describeTaskDefinition({ taskDefinition: taskDefinitionArn(2) })).toThrow(
      'Unable to describe task definition.',
    );
    expect(served(CANARY, 0)).toEqual({ image: null, tasks: 0 });
  });

  it('serves the release once scaled to it, while the stable service keeps serving its own', async () => {
    const next = await revision('v1.3.0', { result: 'completes', settlesAfterSeconds: 90 });
    await account.ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: CANARY, taskDefinition: next, desiredCount: 3 }));
    account.advance(600);
    expect(served(CANARY, 60)).toEqual({ image: null, tasks: 0 });
    expect(served(CANARY, 120)).toEqual({ image: imageOfRevision(next), tasks: 3 });
    expect(served(SERVICE, 120)).toEqual({ image: stableImage, tasks: 2 });
  });
});
