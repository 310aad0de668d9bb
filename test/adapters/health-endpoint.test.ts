import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthEndpoint } from '../../lambdas/adapters/health-endpoint';
import type { ProbeSettings } from '../../lambdas/contract/release-strategy';

const SETTINGS: ProbeSettings = {
  path: '/health',
  port: 0,
  expectStatus: 200,
  maxLatencyMs: 200,
  attempts: 3,
  timeoutMs: 300,
  warmup: true,
};

describe('HealthEndpoint with scripted answers', () => {
  it('sends the attempts one after the other to http://<ip>:<port><path> and times each', async () => {
    const urls: string[] = [];
    let clock = 0;
    const latencies = [120, 30, 45];
    const get = async (url: string) => {
      urls.push(url);
      clock += latencies[urls.length - 1]!;
      return { status: 200 };
    };
    const attempts = await new HealthEndpoint(get, () => clock).probe('10.0.1.7', { ...SETTINGS, port: 8080 });
    expect(urls).toEqual(Array(3).fill('http://10.0.1.7:8080/health'));
    expect(attempts).toEqual(latencies.map((latencyMs) => ({ status: 200, latencyMs, error: null })));
  });

  it('puts an IPv6 address in brackets', async () => {
    const urls: string[] = [];
    const get = async (url: string) => {
      urls.push(url);
      return { status: 200 };
    };
    await new HealthEndpoint(get).probe('fd00::7', { ...SETTINGS, port: 8080, attempts: 1 });
    expect(urls).toEqual(['http://[fd00::7]:8080/health']);
  });
});

describe('HealthEndpoint against a local server (127.0.0.1 only)', () => {
  let server: Server;
  let port: number;
  const answers: { status: number; delayMs: number }[] = [];
  beforeAll(async () => {
    server = createServer((request, response) => {
      const { status, delayMs } = answers.shift() ?? { status: 200, delayMs: 0 };
      setTimeout(() => response.writeHead(status, { location: '/elsewhere' }).end(request.url), delayMs);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reports each status, a redirect as itself, and a request that outlives timeoutMs as no answer', async () => {
    answers.push({ status: 200, delayMs: 0 }, { status: 302, delayMs: 0 }, { status: 200, delayMs: 1000 });
    const attempts = await new HealthEndpoint().probe('127.0.0.1', { ...SETTINGS, port });
    expect(attempts.map((a) => a.status)).toEqual([200, 302, null]);
    expect(attempts[2]).toMatchObject({ error: 'timed out after 300 ms' });
    expect(attempts[2]!.latencyMs).toBeGreaterThanOrEqual(290);
  });

  it('asks a port that fetch would refuse as a bad port (6665, an IRC port)', async () => {
    const ircPort = createServer((_, response) => response.writeHead(200).end());
    await new Promise<void>((resolve) => ircPort.listen(6665, '127.0.0.1', resolve));
    try {
      const [attempt] = await new HealthEndpoint().probe('127.0.0.1', { ...SETTINGS, port: 6665, attempts: 1 });
      expect(attempt).toMatchObject({ status: 200, error: null });
    } finally {
      await new Promise<void>((resolve) => ircPort.close(() => resolve()));
    }
  });

  it('reports a refused connection as no answer, with why', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const [attempt] = await new HealthEndpoint().probe('127.0.0.1', { ...SETTINGS, port: closedPort, attempts: 1 });
    expect(attempt).toMatchObject({ status: null, error: expect.stringContaining('ECONNREFUSED') });
  });
});
