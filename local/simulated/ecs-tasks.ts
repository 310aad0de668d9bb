/**
 * A service's tasks, one by one, and their place in the service's load balancer target groups. What AWS says:
 *
 * - A service with `loadBalancers` has ECS register its tasks with those target groups and deregister them: "Amazon ECS
 *   requires the service-linked IAM role which provides the permissions needed to register and deregister targets with
 *   your load balancer when tasks are created and stopped" (AmazonECS/latest/developerguide/alb.html, considerations).
 * - Tasks in awsvpc network mode "are associated with an elastic network interface, not an Amazon EC2 instance", so
 *   their target groups have target type `ip` (same page): the target is the task's private IPv4 address, on the
 *   container port the service's `loadBalancers` entry names, which "must correspond to a containerPort in the task
 *   definition" (API_LoadBalancer).
 * - A task registered is healthy after its first health check (elbv2-targets.ts); a task stopping is deregistered and
 *   drains for the target group's deregistration delay, ECS waiting for the load balancer
 *   (AmazonECS/latest/developerguide/load-balancer-connection-draining.html: default 300 s).
 *
 * - ECS counts a task of a load-balanced service healthy only once the load balancer reports its target healthy
 *   (load-balancer-healthcheck.html: "The Amazon ECS agent … waits for the load balancer to report on the container
 *   health"), so a deployment completes, or a scale-out reaches its steady state, with its new tasks' targets healthy.
 *
 * The simulation's choices: a deployment's running tasks change all at once (ecs-deployments.ts), so a task is counted
 * running when its deployment completes or its scale-out runs, and only then does its target appear, healthy (as if
 * registered one health-check interval before: elbv2-targets.ts registerRunningTask; its `initial` time is never seen,
 * and a deployment a scenario settles faster than the interval is not refused, though AWS could not complete it so
 * fast); scale-in stops the newest tasks first; a stopped
 * task no longer answers, even while its target drains. Private IPs are deterministic: `10.<n ÷ 254>.<service>.<n mod
 * 254 + 1>` for the service's n-th task (counting from 0) and the service's number in order of creation (from 1). Only
 * the target groups the simulated ELB has are registered with.
 */
import type { ServiceState } from './ecs-model';

/** A task ECS runs for a service (as far as the load balancer and the health probe see it). */
export interface SimulatedTask {
  /** Its private IPv4 address (the awsvpc network interface's). */
  ip: string;
  /** The deployment that started it. */
  deploymentId: string;
  taskDefinition: string;
  /** Epoch ms. */
  startedAt: number;
}

/** What ECS asks of Elastic Load Balancing for its tasks. */
export interface TaskRegistrar {
  /** Whether the target group exists (in the simulated ELB). */
  has(targetGroupArn: string): boolean;
  /** Registers the targets of tasks counted running at `at` (ms), healthy from then; `settled`: ran before the simulation began. */
  register(targetGroupArn: string, targets: { id: string; port: number }[], at: number, settled: boolean): void;
  deregister(targetGroupArn: string, targets: { id: string; port: number }[], at: number): void;
}

/** The private IP of a service's n-th task (from 0), the service being the `serviceNumber`-th created (from 1). */
export function taskIp(serviceNumber: number, n: number): string {
  if (!(serviceNumber >= 1 && serviceNumber <= 255)) throw new Error(`simulated ECS: service number ${serviceNumber} has no subnet`);
  return `10.${Math.floor(n / 254)}.${serviceNumber}.${(n % 254) + 1}`;
}

/**
 * Brings the service's tasks in line with its deployments' running counts at `at` (ms): starts the missing ones and
 * registers them with the service's target groups, stops the extra ones and deregisters them.
 */
export function reconcileTasks(state: ServiceState, at: number, registrar: TaskRegistrar | undefined, settled = false): void {
  const stopped: SimulatedTask[] = [];
  const started: SimulatedTask[] = [];
  for (const task of state.tasks) {
    if (!state.deployments.some((d) => d.id === task.deploymentId)) stopped.push(task);
  }
  for (const d of state.deployments) {
    const own = state.tasks.filter((t) => t.deploymentId === d.id);
    stopped.push(...own.slice(d.runningCount).reverse());
    for (let i = own.length; i < d.runningCount; i++) {
      const ip = taskIp(state.serviceNumber, state.tasksStarted++);
      started.push({ ip, deploymentId: d.id, taskDefinition: d.taskDefinition, startedAt: at });
    }
  }
  state.tasks = [...state.tasks.filter((t) => !stopped.includes(t)), ...started];
  if (!registrar) return;
  for (const lb of state.spec.loadBalancers ?? []) {
    if (!registrar.has(lb.targetGroupArn)) continue;
    const targets = (tasks: SimulatedTask[]) => tasks.map((t) => ({ id: t.ip, port: lb.containerPort }));
    if (stopped.length > 0) registrar.deregister(lb.targetGroupArn, targets(stopped), at);
    if (started.length > 0) registrar.register(lb.targetGroupArn, targets(started), at, settled);
  }
}

/** Registers the service's running tasks with one more target group, healthy (a set-up change: see SimulatedEcs). */
export function registerRunningTasks(
  state: ServiceState,
  loadBalancer: { targetGroupArn: string; containerPort: number },
  at: number,
  registrar: TaskRegistrar | undefined,
): void {
  if (!registrar?.has(loadBalancer.targetGroupArn) || state.tasks.length === 0) return;
  registrar.register(
    loadBalancer.targetGroupArn,
    state.tasks.map((t) => ({ id: t.ip, port: loadBalancer.containerPort })),
    at,
    true,
  );
}
