/**
 * Asks a task's health endpoint over plain HTTP inside the VPC (the probe function reaches the task's private IP on its
 * port; no TLS: the tasks behind an internal ALB listen in plain HTTP). Times each request from before it is sent to
 * the end of the response body, with a per-request timeout.
 */
import type { ProbeSettings } from '../contract/release-strategy';
import type { ProbeAttempt } from '../decisions/health-probe';
import type { HealthEndpoint as HealthEndpointPort } from '../steps/ports/health-endpoint';

type Fetch = (
  url: string,
  init: { signal: AbortSignal; redirect: 'manual' },
) => Promise<{ status: number; arrayBuffer(): Promise<ArrayBuffer> }>;

export class HealthEndpoint implements HealthEndpointPort {
  /**
   * @param fetch the runtime's fetch (Node's global), injected so tests answer without a network
   * @param now a monotonic clock in milliseconds
   */
  constructor(
    private readonly fetch: Fetch = globalThis.fetch,
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
      // A redirect is an answer of its own (its status is judged), never followed to somewhere else.
      const response = await this.fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
      await response.arrayBuffer();
      return { status: response.status, latencyMs: this.now() - started, error: null };
    } catch (error) {
      const latencyMs = this.now() - started;
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      const reason = timedOut ? `timed out after ${timeoutMs} ms` : `${(error as Error).cause ?? (error as Error).message}`;
      return { status: null, latencyMs, error: reason };
    }
  }
}
