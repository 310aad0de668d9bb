/**
 * The pipeline's functions, made from the stages' specs: one function per spec, each with its own role and
 * customer-managed policies, in the private subnets behind the functions' security group, with reserved concurrency and
 * an encrypted log group. Every permission goes through `allow`; `writePolicies` writes them once all are known.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { LEDGER_TABLE } from '../../lambdas/contract/ledger-records';
import { SERVICE_CATALOG_FILE } from '../../lambdas/shared/environment';
import { ConfigError } from '../config';
import type { DeploymentLedgerTable } from '../deployment-ledger';
import { acknowledge, render } from '../nag';
import { packStatements, worstCaseLength } from '../policy-packing';
import type { PrivateNetwork } from '../private-network';
import type { GrantContext, Permission, PipelineFunctionSpec } from '../stages/stage';
import { type FunctionName, RULE_TARGETS } from '../state-names';

/** Managed policies IAM attaches to one role by default ("IAM object quotas"; adjustable to 20). */
const MANAGED_POLICIES_PER_ROLE = 10;

const NETWORK_INTERFACE_REASON =
  "Lambda manages the function's network interfaces in the VPC with this role: DescribeNetworkInterfaces supports no resource-level permissions and the interfaces do not exist at synth (the statement of AWSLambdaVPCAccessExecutionRole, without its logs:* on every log group).";

export interface PipelineFunctionsProps {
  readonly specs: readonly PipelineFunctionSpec[];
  readonly catalogJson: string;
  readonly rootCertificates: string;
  readonly concurrency: number | 'none';
  readonly network: PrivateNetwork;
  readonly ledger: DeploymentLedgerTable;
  readonly logsKey: kms.IKey;
  readonly environmentKey: kms.IKey;
  readonly queueKey: kms.IKey;
  /** Where the event functions' failed events go. */
  readonly eventDeadLetterQueue: sqs.IQueue;
}

export class PipelineFunctions {
  public readonly functions = {} as Record<FunctionName, nodejs.NodejsFunction>;
  /** Each function's own role policy (customer-managed): everything the function may do, and nothing else. */
  public readonly policies = {} as Record<FunctionName, iam.ManagedPolicy>;
  /** Further policies of a function whose permissions do not fit one (many services), in order. */
  public readonly overflowPolicies: Partial<Record<FunctionName, iam.ManagedPolicy[]>> = {};
  private readonly grants = new Map<FunctionName, Permission[]>();
  private policiesWritten = false;

  constructor(
    private readonly scope: Construct,
    private readonly props: PipelineFunctionsProps,
  ) {
    const catalog = props.specs.some((spec) => spec.readsCatalog) ? catalogFile(props.catalogJson) : undefined;
    for (const spec of props.specs) this.create(spec, catalog);
  }

  /** Grants each function what its spec says (and its ledger access), now that the state machine exists. */
  grantAll(context: GrantContext): void {
    for (const spec of this.props.specs) {
      if (spec.readsStateMachineArn) this.functions[spec.name].addEnvironment('STATE_MACHINE_ARN', context.stateMachine.stateMachineArn);
      for (const permission of spec.permissions(context)) this.allow(spec.name, permission);
      if (this.usesLedger(spec)) this.grantLedgerAccess(spec);
    }
  }

  /** Records a permission of `name`'s function; writePolicies puts it in that function's policies. */
  allow(name: FunctionName, permission: Permission): void {
    if (this.policiesWritten)
      throw new Error(`RolloutPipeline: ${name} granted ${permission.actions.join(', ')} after its policies were written`);
    // On no resource, nothing is granted (e.g. a gray release's canary services, in a configuration without one).
    if (permission.resources.length === 0) return;
    // Each wildcard says why on the permission that holds it, so an action allowed on `*` elsewhere cannot borrow it.
    const wildcard = permission.resources.find((resource) => resource.includes('*'));
    if (wildcard !== undefined && permission.whyWildcard === undefined)
      throw new Error(
        `RolloutPipeline: ${name} is allowed ${permission.actions.join(', ')} on ${wildcard}, and the permission does not say why.`,
      );
    this.grants.set(name, [...(this.grants.get(name) ?? []), permission]);
  }

  /**
   * Writes each function's permissions into its customer-managed policy and, when they do not fit IAM's 6,144
   * characters (a stack of many services), into further policies attached to the same role (`<Function>Policy2`, …),
   * statements split by resources, never widened. A role takes at most 10 managed policies by default (IAM quotas):
   * a configuration that would need more fails the synth with a ConfigError naming the function and the count. Then
   * acknowledges every wildcard with the reason its permission gave.
   */
  writePolicies(serviceCount: number): void {
    this.policiesWritten = true;
    const stack = Stack.of(this.scope);
    const sizeOf = (statement: iam.PolicyStatement) => worstCaseLength(stack.resolve(statement.toStatementJson()));
    for (const [name, permissions] of this.grants) {
      const statements = permissions.map(
        ({ actions, resources, conditions }) => new iam.PolicyStatement({ actions: [...actions], resources: [...resources], conditions }),
      );
      const [first = [], ...overflow] = packStatements(statements, sizeOf);
      if (overflow.length + 1 > MANAGED_POLICIES_PER_ROLE) {
        throw new ConfigError(
          `The ${name} function would need ${overflow.length + 1} IAM policies for this configuration's ${serviceCount} services; ` +
            `a role takes at most ${MANAGED_POLICIES_PER_ROLE} managed policies (IAM quota): split the services over several stacks.`,
        );
      }
      this.policies[name].addStatements(...first);
      const fn = this.functions[name];
      this.overflowPolicies[name] = overflow.map((chunk, index) => {
        const policy = new iam.ManagedPolicy(this.scope, `${toPascalCase(name)}Policy${index + 2}`, {
          description: `What the model-rollout ${name} function may do (continued: one policy holds at most 6,144 characters)`,
          roles: [fn.role!],
          statements: chunk,
        });
        fn.node.addDependency(policy);
        return policy;
      });
      this.acknowledgeWildcards(name, permissions);
    }
  }

  private create(spec: PipelineFunctionSpec, catalog: string | undefined): void {
    const { name } = spec;
    const { scope, props } = this;
    const id = toPascalCase(name);
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
      encryptionKey: props.logsKey,
    });
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `model-rollout ${name} function`,
    });
    // A customer-managed policy, not CDK's inline default policy: one reviewable document per function.
    this.policies[name] = new iam.ManagedPolicy(scope, `${id}Policy`, {
      description: `What the model-rollout ${name} function may do`,
      roles: [role],
    });
    const isEventHandler = (RULE_TARGETS as readonly string[]).includes(name);
    const fn = new nodejs.NodejsFunction(scope, id, {
      entry: path.join(__dirname, '..', '..', 'lambdas', 'functions', `${name}.ts`),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(30),
      environmentEncryption: props.environmentKey,
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      // Every permission is in the policies above: CDK must not add statements of its own to an inline policy.
      role: role.withoutPolicyUpdates(),
      vpc: props.network.vpc,
      vpcSubnets: props.network.subnets,
      securityGroups: [props.network.functionSecurityGroup, ...this.taskSecurityGroup(spec)],
      // Two reconciliations at once would only race each other for the same releases (and, unreserved, the execution
      // names they share keep that race harmless).
      reservedConcurrentExecutions: props.concurrency === 'none' ? undefined : name === 'reconcile' ? 1 : props.concurrency,
      // Events the handler failed on after Lambda's own two retries are kept, not dropped.
      deadLetterQueue: isEventHandler ? props.eventDeadLetterQueue : undefined,
      environment: this.environmentOf(spec),
      bundling: bundlingOf(spec.readsCatalog ? catalog : undefined),
    });
    // Lambda checks the network interface permissions when it creates the function.
    fn.node.addDependency(this.policies[name]);
    this.functions[name] = fn;
    this.allowRuntime(name, logGroup, isEventHandler);
  }

  /**
   * A function that connects to the services' tasks (reachesTasks) gets a security group of its own, with egress to
   * those task security groups on those ports only, and an ingress rule in each that admits it there: the tasks are
   * opened to this function alone, and the functions' shared group stays limited to AWS's endpoints.
   */
  private taskSecurityGroup(spec: PipelineFunctionSpec): ec2.SecurityGroup[] {
    const ports = spec.reachesTasks?.(JSON.parse(this.props.catalogJson)) ?? [];
    if (ports.length === 0) return [];
    const id = toPascalCase(spec.name);
    const group = new ec2.SecurityGroup(this.scope, `${id}TaskAccess`, {
      vpc: this.props.network.vpc,
      allowAllOutbound: false,
      description: `model-rollout ${spec.name}: to the configured task ports only`,
    });
    const unique = [...new Map(ports.map((p) => [`${p.taskSecurityGroupId}:${p.port}`, p])).values()];
    for (const { service, taskSecurityGroupId, port } of unique) {
      group.addEgressRule(ec2.Peer.securityGroupId(taskSecurityGroupId), ec2.Port.tcp(port), `${spec.name} to ${service}'s tasks`);
      // Named by what it opens, not by its place in the catalog: a rule's group and port cannot change in place
      // (CloudFormation replaces it), so a service added or removed before it must not rename another's.
      const opens = createHash('sha256').update(`${taskSecurityGroupId}:${port}`).digest('hex').slice(0, 12);
      new ec2.CfnSecurityGroupIngress(this.scope, `${id}TaskIngress${opens}`, {
        groupId: taskSecurityGroupId,
        ipProtocol: 'tcp',
        fromPort: port,
        toPort: port,
        sourceSecurityGroupId: group.securityGroupId,
        description: `model-rollout ${spec.name} to ${service}'s tasks`,
      });
    }
    return [group];
  }

  /** Whether the function gets its ledger access in this configuration. */
  private usesLedger(spec: PipelineFunctionSpec): boolean {
    return spec.ledger !== undefined && (spec.usesLedger?.(JSON.parse(this.props.catalogJson)) ?? true);
  }

  private environmentOf(spec: PipelineFunctionSpec): Record<string, string> {
    const { ledger, rootCertificates } = this.props;
    return {
      POWERTOOLS_SERVICE_NAME: 'model-rollout',
      NODE_OPTIONS: '--enable-source-maps',
      // Named even where this configuration grants no access: the function loads the same way in every stack.
      ...(spec.ledger ? { LEDGER_TABLE_NAME: ledger.table.tableName } : {}),
      ...(spec.readsSignerRoots && rootCertificates !== '' ? { SIGNER_ROOT_CERTIFICATES: rootCertificates } : {}),
    };
  }

  /** What Lambda itself does with the function's role: logs, network interfaces, traces, and the event DLQ. */
  private allowRuntime(name: FunctionName, logGroup: logs.LogGroup, isEventHandler: boolean): void {
    const { props } = this;
    this.allow(name, { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] });
    this.allow(name, {
      actions: [
        'ec2:CreateNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DeleteNetworkInterface',
        'ec2:AssignPrivateIpAddresses',
        'ec2:UnassignPrivateIpAddresses',
      ],
      resources: ['*'],
      whyWildcard: NETWORK_INTERFACE_REASON,
    });
    this.allow(name, {
      actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
      resources: ['*'],
      whyWildcard: 'X-Ray has no resource types.',
    });
    if (isEventHandler) {
      this.allow(name, { actions: ['sqs:SendMessage'], resources: [props.eventDeadLetterQueue.queueArn] });
      this.allow(name, {
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [props.queueKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `sqs.${Stack.of(this.scope).region}.amazonaws.com` } },
      });
    } else {
      const reason = `The state machine invokes ${name} synchronously: a failed invocation is retried and caught by the state machine, which records the failure; there is no asynchronous event to keep.`;
      acknowledge(this.functions[name], 'NIST.800.53.R5-LambdaDLQ', reason);
      acknowledge(this.functions[name], 'Serverless-LambdaDLQ', reason);
    }
  }

  /**
   * The item operations the function performs on the table (the crash finaliser also queries the execution index),
   * and the ledger key only through DynamoDB.
   */
  private grantLedgerAccess({ name, ledger: access }: PipelineFunctionSpec): void {
    if (!access) return;
    const { table, key } = this.props.ledger;
    this.allow(name, { actions: access.actions, resources: [table.tableArn] });
    // Only Query reads an index; the item actions stay on the table.
    if (access.queriesIndex) {
      this.allow(name, { actions: ['dynamodb:Query'], resources: [`${table.tableArn}/index/${LEDGER_TABLE.executionIndex.name}`] });
    }
    this.allow(name, {
      actions: access.writes ? ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt'],
      resources: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this.scope).region}.amazonaws.com` } },
    });
  }

  /**
   * Every wildcard in the function's policies is acknowledged on that policy with the reason its permission gave; an
   * action allowed on a wildcard without a reason fails the synth.
   */
  private acknowledgeWildcards(name: FunctionName, permissions: readonly Permission[]): void {
    const reasons = new Map(
      permissions.flatMap((p) => (p.whyWildcard ? p.actions.map((action) => [action, p.whyWildcard!] as const) : [])),
    );
    for (const policy of [this.policies[name], ...(this.overflowPolicies[name] ?? [])]) {
      const byResource = new Map<string, string[]>();
      const { Statement } = Stack.of(this.scope).resolve(policy.document) as {
        Statement: { Action: string | string[]; Resource: unknown }[];
      };
      for (const statement of Statement) {
        for (const resource of [statement.Resource]
          .flat()
          .map(render)
          .filter((r) => r.includes('*'))) {
          byResource.set(resource, [...(byResource.get(resource) ?? []), ...[statement.Action].flat()]);
        }
      }
      for (const [resource, actions] of byResource) {
        const why = actions.map((action) => {
          const reason = reasons.get(action);
          if (reason === undefined)
            throw new Error(`RolloutPipeline: ${name} is allowed ${action} on ${resource}, and no permission says why.`);
          return `${action}: ${reason}`;
        });
        acknowledge(policy, `AwsSolutions-IAM5[Resource::${resource}]`, `${name}: ${[...new Set(why)].join(' ')}`);
      }
    }
  }
}

export function toPascalCase(kebab: string): string {
  return kebab.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase());
}

function bundlingOf(catalog: string | undefined): nodejs.BundlingOptions {
  return {
    minify: true,
    sourceMap: true,
    target: 'node24',
    // Error names are matched by Retry/Catch; keep class and function names through minification.
    keepNames: true,
    // Everything is bundled, the AWS SDK too: the functions run the SDK versions package-lock.json pins, not the
    // runtime's (CDK would otherwise leave `@aws-sdk/*` to the runtime).
    externalModules: [],
    // ES modules first, so that esbuild drops what the SDK clients export but a function never uses (zod and
    // Powertools declare `exports`, which esbuild follows whatever this says).
    mainFields: ['module', 'main'],
    // The service catalog goes into the code package of the functions that read it, as a file beside index.js: not
    // their environment, whose 4 KB would hold four services, nor esbuild's command line, which the operating system
    // caps (lambdas/shared/environment.ts reads it).
    commandHooks: catalog === undefined ? undefined : copyIntoBundle(catalog, SERVICE_CATALOG_FILE),
  };
}

/**
 * The catalog as a file bundling can copy: written once per catalog into the temporary folder (the catalog's JSON is
 * known only here, and the bundling runs while the functions are constructed).
 */
function catalogFile(catalogJson: string): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'model-rollout-catalog-'));
  const file = path.join(folder, SERVICE_CATALOG_FILE);
  fs.writeFileSync(file, catalogJson);
  return file;
}

/** Bundling hooks that copy `file` into the bundle's folder as `name`, after esbuild wrote index.js there. */
function copyIntoBundle(file: string, name: string): nodejs.ICommandHooks {
  const quoted = (text: string) => `'${text.replace(/'/g, "'\\''")}'`;
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (_inputDir: string, outputDir: string) => [`cp ${quoted(file)} ${quoted(path.join(outputDir, name))}`],
  };
}
