/**
 * The tasks' own HTTP endpoints, as a GET from inside the VPC meets them (not an AWS API: what the probe function's
 * `HttpGet` reaches, lambdas/adapters/health-endpoint.ts). A request to `http://<ip>:<port><path>` finds the running
 * ECS task with that private IP (ecs-tasks.ts), and answers as that task's image behaves: a status after `latencyMs`,
 * or, when that is longer than the request's timeout, a `TimeoutError` once the timeout has passed (as `httpGet` does).
 * No running task at that IP, or none of its container ports: the connection is refused (`ECONNREFUSED`, as Node
 * reports it), after 1 ms. Every path answers alike (the scenario describes the image's /health).
 *
 * `now` is a monotonic clock in milliseconds that only answers move, by their latency (no real waiting). Requests sent
 * side by side overlap as they would: each ends `latencyMs` after it was sent, and they end in that order (each answer
 * is delivered in a later turn of the event loop than the requests sent with it, the earliest-ending first), so a
 * probe of several tasks at once measures each task's own latency, not the sum.
 */
import type { HttpGet } from '../../lambdas/adapters/health-endpoint';

/** How an image's tasks answer their health endpoint. */
export interface HealthAnswer {
  status: number;
  latencyMs: number;
}

/** What a running image answers when the scenario does not say: 200 in 20 ms. */
export const DEFAULT_HEALTH_ANSWER: HealthAnswer = { status: 200, latencyMs: 20 };

/** How long a refused connection takes to fail (a simulation choice: a reset from inside the VPC, at once). */
const REFUSED_AFTER_MS = 1;

/** A task a request may reach. */
export interface ReachableTask {
  /** The image its container runs, as the task definition names it. */
  image: string;
  containerPorts: number[];
}

interface InFlight {
  endsAt: number;
  order: number;
  deliver: () => void;
}

export class SimulatedHealthEndpoints {
  private clockMs = 0;
  private sent = 0;
  private readonly inFlight: InFlight[] = [];
  private deliveryScheduled = false;
  private answerOf: (image: string) => HealthAnswer = () => DEFAULT_HEALTH_ANSWER;

  /** @param taskAt the running task with that private IP, if any */
  constructor(private readonly taskAt: (ip: string) => ReachableTask | undefined) {}

  /** How each image's tasks answer (by the image as the task definition names it); default 200 in 20 ms. */
  answerAs(answerOf: (image: string) => HealthAnswer | undefined): void {
    this.answerOf = (image) => answerOf(image) ?? DEFAULT_HEALTH_ANSWER;
  }

  /** The monotonic clock the probe times its requests by (ms). */
  readonly now = (): number => this.clockMs;

  /** One GET, answered as described above. */
  readonly get: HttpGet = (url, timeoutMs) =>
    new Promise((resolve, reject) => {
      const { hostname, port } = new URL(url);
      const portNumber = port === '' ? 80 : Number(port);
      const task = this.taskAt(hostname);
      const sentAt = this.clockMs;
      const answer = (tookMs: number, deliver: () => void) => {
        this.inFlight.push({ endsAt: sentAt + tookMs, order: this.sent++, deliver });
        this.scheduleDelivery();
      };
      if (!task?.containerPorts.includes(portNumber)) {
        const refused = Object.assign(new Error(`connect ECONNREFUSED ${hostname}:${portNumber}`), { code: 'ECONNREFUSED' });
        answer(REFUSED_AFTER_MS, () => reject(refused));
        return;
      }
      const { status, latencyMs } = this.answerOf(task.image);
      if (latencyMs > timeoutMs) {
        const timedOut = Object.assign(new Error(`timed out after ${timeoutMs} ms`), { name: 'TimeoutError' });
        answer(timeoutMs, () => reject(timedOut));
        return;
      }
      answer(latencyMs, () => resolve({ status }));
    });

  /** Delivers the earliest-ending answer in a later turn, once every request sent beside it is in flight. */
  private scheduleDelivery(): void {
    if (this.deliveryScheduled) return;
    this.deliveryScheduled = true;
    setImmediate(() => {
      this.deliveryScheduled = false;
      this.inFlight.sort((a, b) => a.endsAt - b.endsAt || a.order - b.order);
      const next = this.inFlight.shift();
      if (!next) return;
      this.clockMs = Math.max(this.clockMs, next.endsAt);
      next.deliver();
      if (this.inFlight.length > 0) this.scheduleDelivery();
    });
  }
}
