/**
 * The tasks' health endpoints as the probe's GET meets them (local/simulated/health-endpoints.ts): the running task at
 * the URL's IP answers as its image does, on its container port; otherwise the connection is refused. `now` moves only
 * by the answers' latency, and requests side by side overlap.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { HealthEndpoint } from '../../lambdas/adapters/health-endpoint';
import { SimulatedAccount } from '../../local/simulated-account';
import type { SimulatedHealthEndpoints } from '../../local/simulated/health-endpoints';
import { entry } from './simulated-ecs-fixture';

let account: SimulatedAccount;
let endpoints: SimulatedHealthEndpoints;
const images: Record<string, string> = {};

const failureOf = (call: Promise<unknown>) =>
  call.then(
    () => null,
    (error: unknown) => error,
  );

/** A service running `tag` with `desiredCount` tasks (the n-th service created has tasks 10.0.n.1, 10.0.n.2, …). */
function runService(service: string, tag: string, desiredCount: number) {
  const digest = account.pushImage(entry.repository, tag, { result: 'completes', settlesAfterSeconds: 60 });
  images[tag] = `${account.repositoryUri(entry.repository)}@${digest}`;
  account.createService(
    { cluster: entry.cluster, service, container: entry.container, desiredCount, repositoryName: entry.repository, alarms: [] },
    { uri: images[tag], versionTag: tag },
  );
}

beforeEach(() => {
  account = new SimulatedAccount();
  endpoints = account.services.healthEndpoints;
  runService('sentiment', 'v1.2.0', 2);
  runService('sentiment-canary', 'v1.3.0', 1);
});

describe('a GET to a task', () => {
  it("answers 200 in 20 ms by default, on the task's container port, whatever the path", async () => {
    expect(endpoints.now()).toBe(0);
    expect(await endpoints.get('http://10.0.1.2:8080/health', 1000)).toEqual({ status: 200 });
    expect(endpoints.now()).toBe(20);
    expect(await endpoints.get('http://10.0.2.1:8080/', 1000)).toEqual({ status: 200 });
    expect(endpoints.now()).toBe(40);
  });

  it("answers as the task's image does", async () => {
    endpoints.answerAs((image) => (image === images['v1.3.0'] ? { status: 503, latencyMs: 350 } : undefined));
    expect(await endpoints.get('http://10.0.2.1:8080/health', 1000)).toEqual({ status: 503 });
    expect(endpoints.now()).toBe(350);
    expect(await endpoints.get('http://10.0.1.1:8080/health', 1000)).toEqual({ status: 200 });
    expect(endpoints.now()).toBe(370);
  });

  it('fails with a TimeoutError once the timeout has passed when the image answers later', async () => {
    endpoints.answerAs(() => ({ status: 200, latencyMs: 1500 }));
    expect(await failureOf(endpoints.get('http://10.0.1.1:8080/health', 1000))).toMatchObject({
      name: 'TimeoutError',
      message: 'timed out after 1000 ms',
    });
    expect(endpoints.now()).toBe(1000);
  });

  it('is refused where no running task listens: another IP, another port, a task stopped', async () => {
    for (const url of ['http://10.0.9.1:8080/health', 'http://10.0.1.1:9090/health', 'http://10.0.1.1/health']) {
      const [host] = url.slice('http://'.length).split('/');
      expect(await failureOf(endpoints.get(url, 1000))).toMatchObject({
        code: 'ECONNREFUSED',
        message: `connect ECONNREFUSED ${host.includes(':') ? host : `${host}:80`}`,
      });
    }
    account.services.ecs.updateService({ cluster: entry.cluster, service: 'sentiment', desiredCount: 1 });
    expect(await failureOf(endpoints.get('http://10.0.1.2:8080/health', 1000))).toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe('the probe asking several tasks at once', () => {
  it("measures each task's own latency, however the answers interleave", async () => {
    endpoints.answerAs((image) => (image === images['v1.3.0'] ? { status: 200, latencyMs: 350 } : { status: 200, latencyMs: 20 }));
    const probe = new HealthEndpoint(endpoints.get, endpoints.now);
    const settings = { path: '/health', port: 8080, expectStatus: 200, maxLatencyMs: 200, attempts: 3, timeoutMs: 1000, warmup: false };
    const [slow, fast, other] = await Promise.all(['10.0.2.1', '10.0.1.1', '10.0.1.2'].map((ip) => probe.probe(ip, settings)));
    expect(slow.map((a) => a.latencyMs)).toEqual([350, 350, 350]);
    expect(fast.map((a) => a.latencyMs)).toEqual([20, 20, 20]);
    expect(other.map((a) => a.latencyMs)).toEqual([20, 20, 20]);
    // The three tasks were asked side by side: the clock moved by the slowest task's three answers.
    expect(endpoints.now()).toBe(1050);
  });
});
