/**
 * The executions each local world has started, by name, with each one's status: what StartExecution and
 * DescribeExecution answer from. Step Functions refuses a name used before by an open or closed execution (for 90 days
 * after it closed) with ExecutionAlreadyExists, whatever the input, unless an open one has the very same input
 * (StartExecution API reference, "name": https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html).
 */
import { DescribeExecutionCommand, ExecutionAlreadyExists, ExecutionDoesNotExist } from '@aws-sdk/client-sfn';
import { executionArnOf } from '../lambdas/adapters/executions';

type Json = any;
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';

/** What the names are kept for: the world's state machine. */
interface NamingWorld {
  pipeline: { stateMachineArn: string };
}

const executionNames = new WeakMap<NamingWorld, Map<string, { status: ExecutionStatus; input: string }>>();
let executionCounter = 0;

/** The name of an execution started without one: local-NNNN, counted across the process. */
export function nextExecutionName(): string {
  return `local-${String(++executionCounter).padStart(4, '0')}`;
}

/** Takes `name` for a new running execution; ExecutionAlreadyExists when the world used it before. */
export function claimExecutionName(world: NamingWorld, name: string, executionArn: string, input: Json): void {
  const names = executionNames.get(world) ?? new Map();
  executionNames.set(world, names);
  if (names.has(name)) throw new ExecutionAlreadyExists({ message: `Execution Already Exists: '${executionArn}'`, $metadata: {} });
  names.set(name, { status: 'RUNNING', input: JSON.stringify(input) });
}

/** Records how the execution `name` ended. */
export function closeExecution(world: NamingWorld, name: string, status: Exclude<ExecutionStatus, 'RUNNING'>): void {
  executionNames.get(world)!.get(name)!.status = status;
}

/** StartExecution's idempotent case: an open execution of that name with the very same input; its ARN, else null. */
export function openExecutionWithInput(world: NamingWorld, name: string, input: Json): string | null {
  const known = executionNames.get(world)?.get(name);
  return known?.status === 'RUNNING' && known.input === JSON.stringify(input) ? executionArnOf(world.pipeline.stateMachineArn, name) : null;
}

/** DescribeExecution of one of the world's executions, by ARN: its status, as the local run knows it. */
export function describeLocalExecution(world: NamingWorld, executionArn: string) {
  const name = executionArn.slice(executionArn.lastIndexOf(':') + 1);
  const known = executionArn === executionArnOf(world.pipeline.stateMachineArn, name) ? executionNames.get(world)?.get(name) : undefined;
  if (known === undefined) throw new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${executionArn}'`, $metadata: {} });
  return { executionArn, stateMachineArn: world.pipeline.stateMachineArn, name, status: known.status };
}

/** The local Step Functions as a function sees it: DescribeExecution only (the finaliser confirms an execution's end). */
export function describingStepFunctions(world: NamingWorld) {
  return {
    send: async (command: unknown) => {
      if (!(command instanceof DescribeExecutionCommand))
        throw new Error(`The crash finaliser does not call ${(command as object).constructor.name}`);
      return describeLocalExecution(world, command.input.executionArn!);
    },
  };
}
