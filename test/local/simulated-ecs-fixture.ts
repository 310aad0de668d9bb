/** The service the simulated-ECS tests drive (`useFreshService`: settled and healthy before each test), and their helpers. */
import { DescribeServiceDeploymentsCommand, DescribeServicesCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { beforeEach } from 'vitest';
import { DeploymentTarget } from '../../lambdas/adapters/deployment-target';
import { SimulatedAccount, type RolloutBehaviour, type SimulatedServiceSpec } from '../../local/simulated-account';
import { sentimentService } from '../fixtures/catalog';

export const entry = sentimentService({ health: { alarms: ['sentiment-p99-latency'] } });
export const CLUSTER = entry.cluster;
export const SERVICE = entry.service;
export const taskDefinitionArn = (revision: number) => `arn:aws:ecs:us-east-1:123456789012:task-definition/${SERVICE}-task:${revision}`;

export let account: SimulatedAccount;
export let target: DeploymentTarget;

export function start(
  spec: Partial<SimulatedServiceSpec> = {},
  running: RolloutBehaviour = { result: 'completes', settlesAfterSeconds: 60 },
) {
  account = new SimulatedAccount();
  target = new DeploymentTarget(account.ecs as never);
  const digest = account.pushImage(entry.repository, 'v1.2.0', running);
  account.createService(
    {
      cluster: CLUSTER,
      service: SERVICE,
      container: entry.container,
      desiredCount: 2,
      repositoryName: entry.repository,
      alarms: ['sentiment-p99-latency'],
      ...spec,
    },
    { uri: `${account.repositoryUri(entry.repository)}@${digest}`, versionTag: 'v1.2.0' },
  );
}

/** Registers a revision of a new image that behaves as told, and returns its ARN. */
export async function revision(tag: string, behaviour: RolloutBehaviour): Promise<string> {
  const digest = account.pushImage(entry.repository, tag, behaviour);
  const imageUri = `${account.repositoryUri(entry.repository)}@${digest}`;
  const release = { repositoryName: entry.repository, repositoryUri: '', tag, digest, imageUri };
  const { newTaskDefinitionArn } = await target.registerRevision(entry, release, await target.revisionInUse(entry));
  return newTaskDefinitionArn;
}

export async function service() {
  const { services } = await account.ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: [SERVICE] }));
  return services[0];
}

export async function serviceDeployment(arn?: string) {
  const { serviceDeployments } = await account.ecs.send(
    new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn ?? (await service()).currentServiceDeployment] }),
  );
  return serviceDeployments[0];
}

export const update = (taskDefinition: string, extra: Record<string, unknown> = {}) =>
  account.ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: SERVICE, taskDefinition, ...extra }));

/** Makes `next` the account the helpers drive (a test that sets up its own service). */
export function useAccount(next: SimulatedAccount): void {
  account = next;
}

export function useFreshService(): void {
  beforeEach(() => start());
}
