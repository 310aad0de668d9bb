/**
 * Where the operators' ledger commands (`history`, `rollback`, `quarantine`, `status`, `approve`…) find the deployment
 * ledger table and the state machine: given explicitly (`--table`, `--state-machine`), or read from the deployed stack's
 * outputs (`--stack`, or the `stackName` of `--config`). Also the AWS clients they use, created on first use with the
 * SDK's default credential, Region and endpoint resolution, so that tests can pass their own.
 */
import { parseArgs } from 'node:util';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DeploymentLedger } from '../lambdas/adapters/ledger';
import { ConfigError, loadConfig, type RolloutConfig } from '../lib/config';
import { UsageError } from './io';

/** The stack outputs the commands and their users read, by OutputKey. The stack defines outputs with exactly these keys. */
export const STACK_OUTPUTS = {
  tableName: 'LedgerTableName',
  stateMachineArn: 'StateMachineArn',
  /** The managed policy to attach to operators' roles (approve, reject, promote, abort); read by people, not the commands. */
  approverPolicyArn: 'ApproverPolicyArn',
} as const;
/** The outputs a command finds its resources by. */
export type StackResource = 'tableName' | 'stateMachineArn';

/** The AWS clients the ledger commands use. */
export interface AwsClients {
  readonly dynamoDb: DynamoDBClient;
  readonly sfn: SFNClient;
  readonly cloudFormation: CloudFormationClient;
  /** Who the caller is (GetCallerIdentity): the `by` of an operator's decision. */
  readonly sts: STSClient;
}

/** Clients with the SDK's default resolution (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL...), each created on first use. */
export function defaultClients(region?: string): AwsClients {
  let dynamoDb: DynamoDBClient | undefined;
  let sfn: SFNClient | undefined;
  let cloudFormation: CloudFormationClient | undefined;
  let sts: STSClient | undefined;
  return {
    get dynamoDb() {
      dynamoDb ??= new DynamoDBClient({ region });
      return dynamoDb;
    },
    get sfn() {
      sfn ??= new SFNClient({ region });
      return sfn;
    },
    get cloudFormation() {
      cloudFormation ??= new CloudFormationClient({ region });
      return cloudFormation;
    },
    get sts() {
      sts ??= new STSClient({ region });
      return sts;
    },
  };
}

/** The deployment ledger in `tableName`, through the document client the adapter expects. */
export function openLedger(dynamoDb: DynamoDBClient, tableName: string): DeploymentLedger {
  return new DeploymentLedger(DynamoDBDocumentClient.from(dynamoDb, { marshallOptions: { removeUndefinedValues: true } }), tableName);
}

/** The options every ledger command takes (for `node:util` parseArgs). */
const LOCATION_OPTIONS = {
  service: { type: 'string' },
  config: { type: 'string' },
  stack: { type: 'string' },
  table: { type: 'string' },
  'state-machine': { type: 'string' },
  region: { type: 'string' },
} as const;

/** The usage text's explanation of those options. */
type ExtraOptions = Record<string, { type: 'string' } | { type: 'boolean'; default: boolean }>;

/** The values of a ledger command's arguments: the location options plus the command's own; a bad one is a UsageError. */
export function parseLocationArgs<Extra extends ExtraOptions>(args: string[], extra: Extra) {
  try {
    return parseArgs({ args, strict: true, allowPositionals: false, options: { ...LOCATION_OPTIONS, ...extra } }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export const LOCATION_USAGE = `Where the ledger is (--config, --stack or --table):
  --config FILE            the outputs of the configuration's stack (stackName); --service must be one of its services
  --stack NAME             the deployed stack's outputs ${STACK_OUTPUTS.tableName} and ${STACK_OUTPUTS.stateMachineArn}
  --table NAME             the ledger table itself (with --state-machine ARN where the command starts an execution);
                           each wins over the stack's output
  --region REGION          default: the configuration's region, else the SDK's
AWS credentials, Region and endpoints come from the SDK's usual sources (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL...).`;

/** The service a command is about, and where its ledger and state machine are to be found. */
export interface Location {
  service: string;
  /** The stack whose outputs name what is not given explicitly; null when everything is explicit. */
  stackName: string | null;
  tableName: string | null;
  stateMachineArn: string | null;
  region: string | undefined;
}

/**
 * Understands the location options. With `--config`, the service must be one of the configuration's services.
 * @throws UsageError when --service is missing or unknown, the configuration is invalid, or nothing says where the ledger is
 */
export function parseLocation(values: {
  service?: string;
  config?: string;
  stack?: string;
  table?: string;
  'state-machine'?: string;
  region?: string;
}): Location {
  const service = values.service;
  if (service === undefined || service === '') throw new UsageError('--service NAME is required');
  if (values.config !== undefined && values.stack !== undefined) {
    throw new UsageError('give --config FILE or --stack NAME, not both (the configuration names the stack)');
  }
  let config: RolloutConfig | null = null;
  if (values.config !== undefined) {
    try {
      config = loadConfig(values.config);
    } catch (error) {
      if (error instanceof ConfigError) throw new UsageError(error.message);
      throw error;
    }
    if (!config.services.some((s) => s.name === service)) {
      throw new UsageError(
        `service ${JSON.stringify(service)} is not in ${values.config} (services: ${config.services.map((s) => s.name).join(', ')})`,
      );
    }
  }
  const stackName = values.stack ?? config?.stackName ?? null;
  const tableName = values.table ?? null;
  if (stackName === null && tableName === null) {
    throw new UsageError('say where the ledger is: --config FILE, --stack NAME or --table NAME');
  }
  return { service, stackName, tableName, stateMachineArn: values['state-machine'] ?? null, region: values.region ?? config?.region };
}

/** The stack does not exist, or lacks an output the command needs (it was deployed by an older version). */
export class StackResourcesError extends Error {
  readonly name = 'StackResourcesError';
}

/**
 * The named resources: those given explicitly as they are, the others from the stack's outputs (one DescribeStacks
 * call, made only when something is missing).
 * @throws UsageError when a resource is neither given nor findable (no stack named)
 * @throws StackResourcesError when the stack has no such output
 */
export async function findResources<K extends StackResource>(
  location: Location,
  wanted: readonly K[],
  cloudFormation: () => CloudFormationClient,
): Promise<Record<K, string>> {
  const explicit: Record<StackResource, string | null> = { tableName: location.tableName, stateMachineArn: location.stateMachineArn };
  const missing = wanted.filter((resource) => explicit[resource] === null);
  let outputs = new Map<string, string>();
  if (missing.length > 0) {
    if (location.stackName === null) {
      const flags: Record<StackResource, string> = { tableName: '--table NAME', stateMachineArn: '--state-machine ARN' };
      throw new UsageError(
        `give ${missing.map((resource) => flags[resource]).join(' and ')}, or --stack NAME / --config FILE to read it from the stack`,
      );
    }
    outputs = await stackOutputs(location.stackName, cloudFormation());
  }
  const found = {} as Record<K, string>;
  for (const resource of wanted) {
    const value = explicit[resource] ?? outputs.get(STACK_OUTPUTS[resource]);
    if (value === undefined || value === '') {
      throw new StackResourcesError(`stack ${location.stackName} has no output ${STACK_OUTPUTS[resource]}: deploy the current version`);
    }
    found[resource] = value;
  }
  return found;
}

async function stackOutputs(stackName: string, cloudFormation: CloudFormationClient): Promise<Map<string, string>> {
  const { Stacks: stacks = [] } = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
  const stack = stacks[0];
  // DescribeStacks answers a ValidationError for a stack that does not exist; an empty answer means the same.
  if (stack === undefined) throw new StackResourcesError(`stack ${stackName} does not exist`);
  return new Map(
    (stack.Outputs ?? []).flatMap((o) => (o.OutputKey && o.OutputValue !== undefined ? [[o.OutputKey, o.OutputValue] as const] : [])),
  );
}
