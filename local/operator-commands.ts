/**
 * What operators and schedules do beside the pushes, in the local run: the `model-rollout` CLI (rollback, quarantine,
 * history, status, and the decisions on a gray release) against the local ledger and Step Functions, and the scheduled
 * reconciliation.
 */
import { DescribeExecutionCommand, SendTaskSuccessCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { main as modelRollout } from '../cli/main';
import type { AwsClients } from '../cli/stack-resources';
import type { CatalogEntry } from '../lambdas/contract/catalog';
import { describeLocalExecution, openExecutionWithInput } from './execution-names';
import { localReconciliation } from './functions';
import { authorizeRuleInvoke, authorizing, dynamoDbAs } from './iam/authorize';
import type { PrincipalName } from './iam/policies';
import type { LedgerDatabase } from './ledger-database';
import type { LocalWorld } from './workflow';

type Sender = { send: (command: any) => Promise<any> };

/** An operator command's answer: the command as typed, its exit status and what it printed. */
export interface CommandAnswer {
  command: string;
  exitCode: number;
  output: string[];
}

/**
 * The local Step Functions as the CLI and the reconciliation reach it: DescribeExecution, and StartExecution, which
 * runs the execution at once through `start` (returning its ARN) unless one of that name and input is still open.
 */
export function localStepFunctions(world: LocalWorld, start: (name: string, input: unknown) => Promise<string>): Sender {
  return {
    send: async (command: unknown) => {
      if (command instanceof DescribeExecutionCommand) return describeLocalExecution(world, command.input.executionArn!);
      if (!(command instanceof StartExecutionCommand))
        throw new Error(`The local run's Step Functions does not answer ${(command as object).constructor.name}`);
      const input = JSON.parse(command.input.input!);
      // The same name and input as an execution still running: Step Functions answers with that one, starting nothing.
      const open = openExecutionWithInput(world, command.input.name!, input);
      if (open) return { executionArn: open, startDate: world.account.clock() };
      return { executionArn: await start(command.input.name!, input), startDate: world.account.clock() };
    },
  };
}

/** The commands that answer a gray release's wait. */
const DECISIONS = ['approve', 'reject', 'promote', 'abort'];

/** Who the CLI runs as in the local run: an operator's role session in the simulated account. */
export const localOperatorArn = (world: LocalWorld) => `arn:aws:sts::${world.account.account}:assumed-role/operator/local-operator`;

/** STS as the CLI reaches it: GetCallerIdentity, the local operator. */
function localSts(world: LocalWorld): Sender {
  return {
    send: async (command: unknown) => {
      if (!(command instanceof GetCallerIdentityCommand))
        throw new Error(`The local run's STS does not answer ${(command as object).constructor.name}`);
      const arn = localOperatorArn(world);
      return { Arn: arn, Account: world.account.account, UserId: 'AROALOCALOPERATOR:local-operator' };
    },
  };
}

/** Step Functions as the operator reaches it: the local one, where an operator's decision answers a wait's task token. */
function operatorStepFunctions(world: LocalWorld, stepFunctions: Sender): Sender {
  return {
    send: async (command: unknown) =>
      command instanceof SendTaskSuccessCommand ? world.tokens.sendTaskSuccess(command.input) : stepFunctions.send(command),
  };
}

/** Runs `model-rollout <args>` for the service as an operator would, on the local ledger and Step Functions. */
export async function runCli(
  world: LocalWorld,
  database: LedgerDatabase,
  stepFunctions: Sender,
  entry: CatalogEntry,
  args: string[],
): Promise<CommandAnswer> {
  const output: string[] = [];
  const io = {
    stdout: (l: string) => output.push(l),
    stderr: (l: string) => output.push(l),
    now: world.account.clock,
    sleep: (s: number) => world.time.sleep(s),
    user: () => 'local-operator',
    columns: () => 150,
  };
  // A decision on a gray release runs as an operator whose role has the service's own approvers' policy (the stack's
  // for all services when the service has none), authorized as AWS would; the other commands read what an operator's
  // own IAM allows, which is not the stack's to model.
  const deciding = DECISIONS.includes(args[0]!);
  const operator: PrincipalName = `operator:${entry.name}` in world.pipeline.iam.principals ? `operator:${entry.name}` : 'operator';
  const operatorDynamoDb = deciding ? dynamoDbAs(world, operator, database.endpoint) : undefined;
  const clients = {
    dynamoDb: operatorDynamoDb ?? database.dynamoDb,
    sfn: deciding ? authorizing(world, operator, operatorStepFunctions(world, stepFunctions)) : operatorStepFunctions(world, stepFunctions),
    sts: localSts(world),
    cloudFormation: undefined,
  } as unknown as AwsClients;
  const location = ['--service', entry.name, '--table', database.tableName, '--state-machine', world.pipeline.stateMachineArn];
  const exitCode = await modelRollout([...args, ...location], io, clients).finally(() => operatorDynamoDb?.destroy());
  return { command: `model-rollout ${[...args, '--service', entry.name].join(' ')}`, exitCode, output };
}

/**
 * EventBridge's schedule invoking the reconciliation for the service, which acts as its function's role (the CLI's
 * commands run as an operator, not authorized here).
 */
export async function runReconciliation(world: LocalWorld, stepFunctions: Sender, entry: CatalogEntry): Promise<CommandAnswer> {
  await authorizeRuleInvoke(world, 'reconcile');
  const reconcile = localReconciliation(
    world,
    stepFunctions,
    world.pipeline.catalog.filter((s) => s.name === entry.name),
  );
  const { services } = await reconcile();
  return {
    command: 'scheduled reconciliation',
    exitCode: 0,
    output: services.map((s) => `${s.service}: ${s.action}${s.tag ? ` ${s.tag}` : ''}`),
  };
}
