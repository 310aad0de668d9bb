/**
 * What a service's tasks served, over simulated time: the image most of its running tasks ran, and how many ran. The
 * simulated ALB traffic asks it for past minutes (an analysis window ends a metric lag before now), so each change of
 * the running tasks is recorded when it happens: a deployment's tasks coming up, a deployment failing or rolling back,
 * a scale. Changes are applied in time order (a service is settled before any call changes it), so the record is too.
 *
 * Which image a service serves when its deployments run different ones: the image run by the most tasks; on a tie, the
 * PRIMARY deployment's. A rolling deployment keeps the old tasks until the new ones are up, then stops them
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html), and this simulation moves a
 * deployment's tasks all at once (ecs-deployments.ts), so in practice one deployment has the tasks. No task running:
 * no image (a target group with no targets answers nothing).
 */
import type { ServiceState } from './ecs-model';

/** One change of what a service serves, from `at` (epoch ms) on. */
export interface Served {
  at: number;
  /** The image (as the task definition names it) of most running tasks; null when none runs. */
  image: string | null;
  tasks: number;
}

/** Records what the service serves from `at` on, if that changed; `imageOf` gives a task definition's image. */
export function recordServed(state: ServiceState, at: number, imageOf: (taskDefinitionArn: string) => string): void {
  const tasksByImage = new Map<string, number>();
  for (const d of state.deployments) {
    if (d.runningCount > 0)
      tasksByImage.set(imageOf(d.taskDefinition), (tasksByImage.get(imageOf(d.taskDefinition)) ?? 0) + d.runningCount);
  }
  const primary = state.deployments.find((d) => d.status === 'PRIMARY');
  const primaryImage = primary ? imageOf(primary.taskDefinition) : null;
  const most = Math.max(0, ...tasksByImage.values());
  const tied = [...tasksByImage].filter(([, tasks]) => tasks === most).map(([image]) => image);
  const image = most === 0 ? null : tied.includes(primaryImage ?? '') ? primaryImage : tied[0];
  const tasks = [...tasksByImage.values()].reduce((sum, n) => sum + n, 0);
  const last = state.served[state.served.length - 1];
  if (last && last.at === at) state.served.pop();
  const before = state.served[state.served.length - 1];
  if (before && before.image === image && before.tasks === tasks) return;
  state.served.push({ at, image, tasks });
}

/** What the service served at `at` (epoch ms); undefined before it existed. */
export function servedAt(state: ServiceState, at: number): Served | undefined {
  return state.served.findLast((s) => s.at <= at);
}
