/**
 * ECS task definitions: registered revisions of a family, with their tags; ACTIVE until deregistered. An INACTIVE task
 * definition can still be described, but no service may be updated to it
 * (developerguide/deregister-task-definition-v2.html).
 */
import type { ContainerDefinition, Tag } from '@aws-sdk/client-ecs';
import { SimulatedAwsError } from './aws-error';
import type { EcsDependencies, SimulatedServiceSpec, TaskDefinition } from './ecs-model';

export class TaskDefinitions {
  private readonly taskDefinitions = new Map<string, TaskDefinition>();
  private readonly taskDefinitionTags = new Map<string, Tag[]>();

  constructor(private readonly deps: Pick<EcsDependencies, 'clock' | 'account' | 'region'>) {}

  /** A service's task definition of `family`, running `image` in its container beside a log router. */
  familyDefinition(spec: SimulatedServiceSpec, family: string, image: string): Record<string, unknown> {
    return {
      family,
      taskRoleArn: `arn:aws:iam::${this.deps.account}:role/${spec.service}-task`,
      executionRoleArn: `arn:aws:iam::${this.deps.account}:role/${spec.service}-execution`,
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '1024',
      memory: '4096',
      containerDefinitions: [
        { name: spec.container, image, essential: true, portMappings: [{ containerPort: 8080 }] },
        { name: 'log-router', image: 'public.ecr.aws/aws-observability/aws-for-fluent-bit:stable', essential: false },
      ],
    };
  }

  /** Registers the next revision of the definition's family; its ARN. */
  register(definition: Record<string, unknown>, tags: Tag[]): string {
    const family = String(definition.family);
    const revision = [...this.taskDefinitions.values()].filter((t) => t.family === family).length + 1;
    const taskDefinitionArn = `arn:aws:ecs:${this.deps.region}:${this.deps.account}:task-definition/${family}:${revision}`;
    this.taskDefinitions.set(taskDefinitionArn, {
      ...structuredClone(definition),
      family,
      revision,
      taskDefinitionArn,
      containerDefinitions: structuredClone(definition.containerDefinitions as ContainerDefinition[]),
      status: 'ACTIVE',
      requiresAttributes: [{ name: 'com.amazonaws.ecs.capability.task-iam-role' }],
      compatibilities: ['EC2', 'FARGATE'],
      registeredAt: this.deps.clock(),
      registeredBy: `arn:aws:iam::${this.deps.account}:role/simulated`,
    });
    this.taskDefinitionTags.set(taskDefinitionArn, structuredClone(tags));
    return taskDefinitionArn;
  }

  /** DescribeTaskDefinition: a copy, with its tags when asked for (`include: ['TAGS']`). */
  describe(input: { taskDefinition: string; include?: string[] }) {
    const taskDefinition = this.taskDefinitions.get(input.taskDefinition);
    if (!taskDefinition) throw new SimulatedAwsError('ClientException', 'Unable to describe task definition.');
    return {
      taskDefinition: structuredClone(taskDefinition),
      tags: input.include?.includes('TAGS') ? structuredClone(this.taskDefinitionTags.get(input.taskDefinition) ?? []) : undefined,
    };
  }

  /** A copy of a registered task definition. */
  copyOf(taskDefinitionArn: string): TaskDefinition | undefined {
    return structuredClone(this.taskDefinitions.get(taskDefinitionArn));
  }

  /** Marks a task definition INACTIVE (DeregisterTaskDefinition). */
  deregister(taskDefinitionArn: string): void {
    const taskDefinition = this.taskDefinitions.get(taskDefinitionArn);
    if (!taskDefinition) throw new Error(`simulated ECS: no task definition ${taskDefinitionArn}`);
    taskDefinition.status = 'INACTIVE';
  }

  /** The image a registered task definition runs in `container` ('' when it has no such container). */
  imageOf(taskDefinitionArn: string, container: string): string {
    return this.taskDefinitions.get(taskDefinitionArn)!.containerDefinitions.find((c) => c.name === container)?.image ?? '';
  }

  /**
   * The image a registered task definition runs in `container`, and the container ports it maps (what a request to the
   * task's IP can reach: awsvpc tasks answer on their container ports).
   */
  containerOf(taskDefinitionArn: string, container: string): { image: string; containerPorts: number[] } {
    const found = this.taskDefinitions.get(taskDefinitionArn)!.containerDefinitions.find((c) => c.name === container);
    const containerPorts = (found?.portMappings ?? []).flatMap((m) => (m.containerPort === undefined ? [] : [m.containerPort]));
    return { image: found?.image ?? '', containerPorts };
  }

  /** A task definition ARN, or `family:revision`, or `family` (its latest ACTIVE revision); must be ACTIVE to deploy. */
  resolve(reference: string): string {
    const byArn = this.taskDefinitions.get(reference);
    const found =
      byArn ??
      [...this.taskDefinitions.values()].find((t) => `${t.family}:${t.revision}` === reference) ??
      [...this.taskDefinitions.values()].filter((t) => t.family === reference && t.status === 'ACTIVE').pop();
    if (!found) throw new SimulatedAwsError('ClientException', 'Unable to describe task definition.');
    if (found.status !== 'ACTIVE') throw new SimulatedAwsError('ClientException', `TaskDefinition is inactive: ${found.taskDefinitionArn}`);
    return found.taskDefinitionArn;
  }
}
