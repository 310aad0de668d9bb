/**
 * ECS registering a service's tasks with its load balancer target groups, as local/simulated/ecs-tasks.ts cites: each
 * task an `ip` target (its private IP, the container port), healthy by the time ECS counts the task running (ECS waits
 * for the load balancer's health check before it counts a task healthy); a stopped task's target draining for the
 * deregistration delay (300 s), then gone.
 */
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { beforeEach, describe, expect, it } from 'vitest';
import { DeploymentTarget } from '../../lambdas/adapters/deployment-target';
import { SimulatedAccount } from '../../local/simulated-account';
import { taskIp } from '../../local/simulated/ecs-tasks';
import { type GrayReleaseAlb, grayReleaseAlb } from '../fixtures/gray-release-alb';
import { entry } from './simulated-ecs-fixture';

let account: SimulatedAccount;
let alb: GrayReleaseAlb;
let target: DeploymentTarget;

const HEALTHY = { State: 'healthy' };
const DRAINING = { State: 'draining', Reason: 'Target.DeregistrationInProgress', Description: 'Target deregistration is in progress' };

type LoadBalancer = { targetGroupArn: string; containerName: string; containerPort: number };
const behind = (targetGroupArn: string): LoadBalancer => ({ targetGroupArn, containerName: entry.container, containerPort: 8080 });

/** The target group's targets as DescribeTargetHealth describes them: `<ip>:<port>` → TargetHealth. */
async function targets(targetGroupArn: string): Promise<Record<string, object>> {
  const { TargetHealthDescriptions } = await account.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
  return Object.fromEntries(
    TargetHealthDescriptions.map((d: { Target: { Id: string; Port: number }; TargetHealth: object }) => [
      `${d.Target.Id}:${d.Target.Port}`,
      d.TargetHealth,
    ]),
  );
}

function createService(loadBalancers: LoadBalancer[], desiredCount = 2) {
  const digest = account.pushImage(entry.repository, 'v1.2.0', { result: 'completes', settlesAfterSeconds: 60 });
  account.createService(
    {
      cluster: entry.cluster,
      service: entry.service,
      container: entry.container,
      desiredCount,
      repositoryName: entry.repository,
      alarms: [],
      loadBalancers,
    },
    { uri: `${account.repositoryUri(entry.repository)}@${digest}`, versionTag: 'v1.2.0' },
  );
}

async function newRevision(tag: string): Promise<string> {
  const digest = account.pushImage(entry.repository, tag, { result: 'completes', settlesAfterSeconds: 90 });
  const imageUri = `${account.repositoryUri(entry.repository)}@${digest}`;
  const release = { repositoryName: entry.repository, repositoryUri: '', tag, digest, imageUri };
  return (await target.registerRevision(entry, release, await target.revisionInUse(entry))).newTaskDefinitionArn;
}

beforeEach(() => {
  account = new SimulatedAccount();
  alb = grayReleaseAlb(account);
  target = new DeploymentTarget(account.ecs as never);
});

describe('the tasks of a service with loadBalancers', () => {
  it('are in its target group as ip targets on the container port, healthy, when the service ran before the simulation', async () => {
    createService([behind(alb.stable)]);
    expect(await targets(alb.stable)).toEqual({ '10.0.1.1:8080': HEALTHY, '10.0.1.2:8080': HEALTHY });
    expect(await targets(alb.canary)).toEqual({});
  });

  it('are healthy targets once the deployment that runs them completes (ECS waited for their health check); the old ones drain for 300 s', async () => {
    createService([behind(alb.stable)]);
    await target.scaleService(entry, 2, await newRevision('v1.3.0'));
    account.advance(89);
    expect(await targets(alb.stable)).toEqual({ '10.0.1.1:8080': HEALTHY, '10.0.1.2:8080': HEALTHY });
    account.advance(1);
    expect(await targets(alb.stable)).toEqual({
      '10.0.1.1:8080': DRAINING,
      '10.0.1.2:8080': DRAINING,
      '10.0.1.3:8080': HEALTHY,
      '10.0.1.4:8080': HEALTHY,
    });
    account.advance(300);
    expect(await targets(alb.stable)).toEqual({ '10.0.1.3:8080': HEALTHY, '10.0.1.4:8080': HEALTHY });
  });

  it('register, healthy, when a scale-out runs them, and drain at once on a scale-in, the newest first', async () => {
    createService([behind(alb.canary)], 1);
    await target.scaleService(entry, 3);
    expect(Object.keys(await targets(alb.canary))).toEqual(['10.0.1.1:8080']);
    account.advance(59);
    expect(Object.keys(await targets(alb.canary))).toEqual(['10.0.1.1:8080']);
    account.advance(1);
    expect(await targets(alb.canary)).toEqual({ '10.0.1.1:8080': HEALTHY, '10.0.1.2:8080': HEALTHY, '10.0.1.3:8080': HEALTHY });
    account.advance(30);
    await target.scaleService(entry, 1);
    expect(await targets(alb.canary)).toEqual({ '10.0.1.1:8080': HEALTHY, '10.0.1.2:8080': DRAINING, '10.0.1.3:8080': DRAINING });
    expect(account.services.ecs.taskIps(entry.cluster, entry.service)).toEqual(['10.0.1.1']);
    account.advance(300);
    expect(await targets(alb.canary)).toEqual({ '10.0.1.1:8080': HEALTHY });
  });

  it('register with every target group the service names, and with one attached later (healthy: a set-up change)', async () => {
    createService([behind(alb.stable), behind(alb.canary)]);
    expect(Object.keys(await targets(alb.canary))).toEqual(['10.0.1.1:8080', '10.0.1.2:8080']);
    account.services.ecs.attachTargetGroup(entry.cluster, entry.service, behind(alb.other));
    // The third group is not used by the listener: its targets are `unused`, as DescribeTargetHealth reports them.
    expect(Object.keys(await targets(alb.other))).toEqual(['10.0.1.1:8080', '10.0.1.2:8080']);
  });

  it('still run, unregistered, when their loadBalancers name a target group the simulated ELB does not have', async () => {
    createService([behind('arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/elsewhere/0123456789abcdef')]);
    await target.scaleService(entry, 3);
    account.advance(60);
    expect(account.services.ecs.taskIps(entry.cluster, entry.service)).toEqual(['10.0.1.1', '10.0.1.2', '10.0.1.3']);
    expect(await targets(alb.stable)).toEqual({});
  });
});

describe("tasks' private IPs", () => {
  it('are 10.0.<service>.<task> for the first 254 tasks of a service, and go on in 10.1, 10.2, …', () => {
    expect([taskIp(1, 0), taskIp(2, 0), taskIp(1, 253), taskIp(1, 254), taskIp(3, 600)]).toEqual([
      '10.0.1.1',
      '10.0.2.1',
      '10.0.1.254',
      '10.1.1.1',
      '10.2.3.93',
    ]);
  });
});
