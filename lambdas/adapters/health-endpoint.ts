/**
 * Asks a task's health endpoint over plain HTTP inside the VPC (the probe function reaches the task's private IP on its
 * port; no TLS: the tasks behind an internal ALB listen in plain HTTP). Times each request from before it is sent to
 * the end of the response body, with a per-request timeout. Node's `http`, not `fetch`: fetch refuses the ports the
 * Fetch standard calls bad (6000, 6665–6669, 10080, …), on which a model server may well listen.
 */
import { request } from 'node:http';
import type { ProbeSettings } from '../contract/release-strategy';
import type { ProbeAttempt } from '../decisions/health-probe';
import type { HealthEndpoint as HealthEndpointPort } from '../steps/ports/health-endpoint';

/** One GET: the status of the answer once its body has arrived; rejects on no answer (a TimeoutError after timeoutMs). */
export type HttpGet = (url: string, timeoutMs: number) => Promise<{ status: number }>;

/** An HTTP GET that never follows a redirect (a redirect is an answer of its own, judged by its status). */
export const httpGet: HttpGet = (url, timeoutMs) =>
  new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET' }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0 }));
      response.on('error', reject);
    });
    const timer = setTimeout(
      () => req.destroy(Object.assign(new Error(`timed out after ${timeoutMs} ms`), { name: 'TimeoutError' })),
      timeoutMs,
    );
    req.on('error', reject);
    req.on('close', () => clearTimeout(timer));
    req.end();
  });

export class HealthEndpoint implements HealthEndpointPort {
  /**
   * @param get one GET request, injected so tests answer without a network
   * @param now a monotonic clock in milliseconds
   */
  constructor(
    private readonly get: HttpGet = httpGet,
    private readonly now: () => number = () => performance.now(),
  ) {}

  async probe(address: string, settings: ProbeSettings): Promise<ProbeAttempt[]> {
    // An IPv6 address goes in brackets in a URL.
    const host = address.includes(':') ? `[${address}]` : address;
    const url = `http://${host}:${settings.port}${settings.path}`;
    const attempts: ProbeAttempt[] = [];
    for (let i = 0; i < settings.attempts; i++) attempts.push(await this.attempt(url, settings.timeoutMs));
    return attempts;
  }

  private async attempt(url: string, timeoutMs: number): Promise<ProbeAttempt> {
    const started = this.now();
    try {
      const { status } = await this.get(url, timeoutMs);
      return { status, latencyMs: this.now() - started, error: null };
    } catch (error) {
      const latencyMs = this.now() - started;
      const reason = (error as Error).name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : (error as Error).message;
      return { status: null, latencyMs, error: reason };
    }
  }
}
