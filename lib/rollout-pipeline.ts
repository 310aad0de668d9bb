import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { ServiceCatalog } from '../lambdas/contract/catalog';
import { LEDGER_TABLE } from '../lambdas/contract/ledger-records';
import { ALERT_EVENT, OUTCOMES, TERMINAL_ERRORS } from '../lambdas/contract/outcomes';
import { LOCK_POLL_SECONDS } from '../lambdas/contract/steps';
import { leaseSeconds } from '../lambdas/decisions/turn';
import { SERVICE_CATALOG_FILE } from '../lambdas/shared/environment';
import { ERROR_NAMES } from '../lambdas/errors';
import { ConfigError } from './config';
import type { DeploymentLedgerTable } from './deployment-ledger';
import { acknowledge, render } from './nag';
import { chunkByPatternSize } from './event-patterns';
import { packStatements, worstCaseLength } from './policy-packing';
import type { PrivateNetwork } from './private-network';
import { EVENT_FUNCTIONS, type EventFunctionName, STATES, STEP_FUNCTIONS, type StepFunctionName } from './state-names';

type FunctionName = StepFunctionName | EventFunctionName;

export interface RolloutPipelineProps {
  /** The services the pipeline may change, with their repositories, trusted keys and health criteria. */
  readonly catalog: ServiceCatalog;
  /**
   * PEM of the pinned AWS Signer root certificate(s) Notation signatures must chain to.
   * @default - none: no Notation signature verifies, so no service may trust a signing profile
   */
  readonly signerRootCertificates?: string;
  /** Where every deployment decision, digest and service lock is kept. */
  readonly ledger: DeploymentLedgerTable;
  /** The private subnets and the security group every function runs in. */
  readonly network: PrivateNetwork;
  /**
   * Reserved concurrency of each step's function and of the crash finaliser; the reconciliation always has 1. `none`
   * reserves nothing for any function (an account whose concurrency quota leaves nothing to reserve: Lambda keeps 100
   * unreserved).
   * @default 5
   */
  readonly concurrencyPerFunction?: number | 'none';
  /**
   * How often the reconciliation compares each repository's newest allowed tag with the ledger.
   * @default Duration.minutes(15)
   */
  readonly reconcileEvery?: Duration;
  /**
   * Upper bound of one execution, whatever happens inside it.
   * @default - the longest wait for a late signature, the longest service lease (waiting for the service), twice the
   * longest health deadline (rollout, then rollback), plus 30 minutes
   */
  readonly executionTimeout?: Duration;
}

/**
 * Why an action is allowed on a wildcard resource: AWS offers no narrower one for it (the README's permissions table
 * says the same). Only these actions may appear on a wildcard in a function's policy.
 */
const NETWORK_INTERFACE_REASON =
  "Lambda manages the function's network interfaces in the VPC with this role: DescribeNetworkInterfaces supports no resource-level permissions and the interfaces do not exist at synth (the statement of AWSLambdaVPCAccessExecutionRole, without its logs:* on every log group).";
const WILDCARD_REASONS: Readonly<Record<string, string>> = {
  'ec2:CreateNetworkInterface': NETWORK_INTERFACE_REASON,
  'ec2:DescribeNetworkInterfaces': NETWORK_INTERFACE_REASON,
  'ec2:DeleteNetworkInterface': NETWORK_INTERFACE_REASON,
  'ec2:AssignPrivateIpAddresses': NETWORK_INTERFACE_REASON,
  'ec2:UnassignPrivateIpAddresses': NETWORK_INTERFACE_REASON,
  'xray:PutTraceSegments': 'X-Ray has no resource types.',
  'xray:PutTelemetryRecords': 'X-Ray has no resource types.',
  'ecs:DescribeTaskDefinition': 'supports no resource-level permissions.',
  'ecs:RegisterTaskDefinition':
    'ECS numbers a revision when it is registered; the ARN pattern is limited to the configured task definition families.',
  'ecs:TagResource':
    "the new revision's ARN exists only once it is registered; limited to the configured families, and by the condition ecs:CreateAction = RegisterTaskDefinition to tagging the revision being registered.",
  'ecs:DescribeServiceDeployments':
    'ECS names each service deployment when the service is updated; the ARN pattern is limited to the configured service.',
  'kms:GetPublicKey':
    'the key a configured alias points to is unknown at synth; the condition kms:RequestAlias limits it to the configured aliases.',
  'states:DescribeExecution':
    "executions are named when they start: the reconciliation's pattern is limited to this state machine's executions named reconcile-*, the crash finaliser's (which confirms any execution's end) to this state machine's executions.",
  'signer:GetRevocationStatus':
    "signing job IDs are known only from the signature being verified; the ARN pattern is limited to the trusted profiles' account and Region.",
};

/** Lambda errors that mean "the invocation did not happen or did not finish", worth retrying with backoff. */
const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.ClientExecutionTimeoutException',
];

/**
 * What a function that timed out reports: Step Functions documents unhandled errors, function timeouts among them, as
 * `Lambda.Unknown` (https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html); Lambda now
 * names a timeout `Sandbox.Timedout` (https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html),
 * the errorType the state machine then sees. `States.Timeout` is the Task's own TimeoutSeconds running out.
 */
const TIMEOUT_ERRORS = ['Sandbox.Timedout', 'Lambda.Unknown', sfn.Errors.TIMEOUT];

/** Managed policies IAM attaches to one role by default ("IAM object quotas"; adjustable to 20). */
const MANAGED_POLICIES_PER_ROLE = 10;

/**
 * Steps that may run again on the same input and end the same way, so a timeout (which may have come after the step's
 * work was done) is retried with backoff like a service error: the reads, and the ledger writes, each a conditional
 * write that an execution repeating itself passes (take-turn re-takes a lock it already holds). Not
 * register-revision (each call registers one more revision) nor update-service (the rollout and the rollback): a
 * timeout says nothing about whether ECS took the change, so it goes to the state's Catch instead (a failed rollout
 * is rolled back, a failed rollback is reported as such) rather than repeating a write whose first attempt may have
 * taken effect.
 */
const RETRIED_ON_TIMEOUT: ReadonlySet<StepFunctionName> = new Set<StepFunctionName>([
  'check-release',
  'record-release',
  'verify-signature',
  'take-turn',
  'check-health',
  'record-outcome',
]);

/**
 * The release pipeline: an ECR push starts an execution that reads top to bottom like the runbook it replaces —
 * check the release against policy, record it in the ledger (a duplicate or a quarantined digest stops here), verify
 * its signature, wait for the service lock (a higher version arriving meanwhile supersedes it), register a revision
 * pinned to the digest, update the service, wait for health, and roll back to the last known good version when it is
 * not healthy. Every path ends by recording its outcome in the ledger and publishing it as one EventBridge event
 * (routed to people by AlertRouting). Around it: a rule that finalises executions that crashed, and a schedule that
 * releases what no push event announced.
 */
export class RolloutPipeline extends Construct {
  public readonly catalog: ServiceCatalog;
  public readonly stateMachine: sfn.StateMachine;
  public readonly functions: Record<FunctionName, nodejs.NodejsFunction>;
  /** Each function's own role policy (customer-managed): everything the function may do, and nothing else. */
  public readonly policies: Record<FunctionName, iam.ManagedPolicy>;
  /** Further policies of a function whose permissions do not fit one (many services), in order. */
  public readonly overflowPolicies: Partial<Record<FunctionName, iam.ManagedPolicy[]>> = {};
  /** Every permission of each function, until writePolicies puts them in its policies. */
  private readonly grants = new Map<FunctionName, iam.PolicyStatement[]>();
  private policiesWritten = false;
  /** Customer-managed key (rotated yearly) of every log group: the functions' and the executions'. */
  public readonly logsKey: kms.Key;
  /** Customer-managed key (rotated yearly) of both dead-letter queues. */
  public readonly queueKey: kms.Key;
  /**
   * Customer-managed key (rotated yearly) for the functions' environment variables, which hold the pinned AWS Signer
   * root (a trust anchor), the ledger table name and the state machine ARN. Lambda decrypts them through a grant to each function's
   * role, which it creates when the function is deployed: the roles need no KMS permission of their own.
   */
  public readonly environmentKey: kms.Key;
  /** The rule that starts an execution for a push (the first, when the repositories need several: `triggers`). */
  public readonly trigger: events.Rule;
  /** Every rule that starts executions for pushes: one per group of repositories whose pattern fits EventBridge's quota. */
  public readonly triggers: readonly events.Rule[];
  public readonly triggerDeadLetterQueue: sqs.Queue;
  public readonly executionLogGroup: logs.LogGroup;
  /** Finalises, in the ledger, executions that ended FAILED, TIMED_OUT or ABORTED. */
  public readonly crashFinaliser: events.Rule;
  /** Starts the pipeline for the newest allowed tag of each repository when the ledger never saw it. */
  public readonly reconciliation: events.Rule;
  /** Events the finaliser and the reconciliation could not be invoked for or failed on, kept 14 days. */
  public readonly eventDeadLetterQueue: sqs.Queue;
  /**
   * The stack's own event bus, where the state machine publishes each outcome (AlertRouting's rules listen there): only
   * the state machine's role may put events on it, and only of the pipeline's source.
   */
  public readonly outcomeBus: events.EventBus;

  constructor(scope: Construct, id: string, props: RolloutPipelineProps) {
    super(scope, id);
    const { catalog } = props;
    this.catalog = catalog;
    if (catalog.length === 0) {
      throw new Error('RolloutPipeline: the catalog names no service; configure at least one.');
    }
    const rootCertificates = props.signerRootCertificates ?? '';
    const needsRoot = catalog.filter((s) => s.trust.signingProfiles.length > 0).map((s) => s.name);
    if (needsRoot.length > 0 && rootCertificates.trim() === '') {
      throw new Error(
        `RolloutPipeline: service(s) ${needsRoot.join(', ')} trust AWS Signer signing profiles, but no signerRootCertificates ` +
          'were given: Notation signatures could never verify.',
      );
    }
    const concurrency = props.concurrencyPerFunction ?? 5;
    if (concurrency !== 'none' && (!Number.isInteger(concurrency) || concurrency < 1)) {
      throw new Error(`RolloutPipeline: concurrencyPerFunction ${concurrency} is not a whole number of at least 1: no function could run.`);
    }
    const catalogJson = JSON.stringify(catalog);

    this.logsKey = this.logsEncryptionKey();
    this.environmentKey = new kms.Key(this, 'EnvironmentKey', {
      description: "Encrypts the model-rollout functions' environment variables (the pinned AWS Signer root among them)",
      enableKeyRotation: true,
    });
    this.queueKey = new kms.Key(this, 'QueueKey', {
      description: 'Encrypts the model-rollout dead-letter queues',
      enableKeyRotation: true,
    });
    // EventBridge writes events it could not deliver to the queues, encrypted. Rules of this account only; not this
    // stack's rules by ARN, which would make the key depend on the rules that depend on the queues through the key.
    this.queueKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: {
          ArnLike: { 'aws:SourceArn': `arn:${Stack.of(this).partition}:events:${Stack.of(this).region}:${Stack.of(this).account}:rule/*` },
        },
      }),
    );
    this.triggerDeadLetterQueue = this.deadLetterQueue('TriggerDeadLetterQueue', 'push events that could not start an execution');
    this.eventDeadLetterQueue = this.deadLetterQueue(
      'EventDeadLetterQueue',
      'events the crash finaliser and the reconciliation could not handle',
    );

    const { functions, policies } = this.createFunctions(catalogJson, rootCertificates, concurrency, props);
    this.functions = functions;
    this.policies = policies;
    this.grantStepPermissions(catalog);
    this.grantLedgerAccess(props.ledger);

    this.executionLogGroup = new logs.LogGroup(this, 'ExecutionLogs', {
      // Under /aws/vendedlogs/, as Step Functions advises: CloudWatch Logs then needs no resource policy entry per log
      // group, which otherwise fills the account's 5,120-character resource policy limit
      // (https://docs.aws.amazon.com/step-functions/latest/dg/bp-cwl.html). Kept on stack deletion (RETAIN): a stack of
      // the same name deployed again needs this log group deleted first, or a new stack name.
      logGroupName: `/aws/vendedlogs/states/${Stack.of(this).stackName}-executions`,
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
      encryptionKey: this.logsKey,
    });
    this.outcomeBus = new events.EventBus(this, 'OutcomeBus', {
      // Named after the stack, so that its policy can name it without referring to itself.
      eventBusName: `${Stack.of(this).stackName}-outcomes`,
      description: 'model-rollout outcomes: only the rollout state machine publishes here',
    });
    const longestDeadline = Math.max(...catalog.map((s) => s.health.deadlineSeconds));
    const longestSignatureWait = Math.max(...catalog.map((s) => s.trust.lateSignatureSeconds));
    const longestLease = Math.max(...catalog.map((s) => leaseSeconds(s.health)));
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment:
        'Checks, records, verifies, deploys and health-gates one model-serving release, one at a time per service; rolls back to the last known good version when it is unhealthy.',
      definitionBody: sfn.DefinitionBody.fromChainable(this.definition()),
      timeout: props.executionTimeout ?? Duration.seconds(longestSignatureWait + longestLease + 2 * longestDeadline + 30 * 60),
      tracingEnabled: true,
      logs: { destination: this.executionLogGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });

    // The trigger's pattern as CloudFormation receives it; many repositories are spread over several rules, each
    // within EventBridge's pattern size quota.
    const pushesTo = (repositories: readonly string[]) => ({
      source: ['aws.ecr'],
      'detail-type': ['ECR Image Action'],
      detail: {
        'action-type': ['PUSH'],
        result: ['SUCCESS'],
        'repository-name': [...repositories],
        // Only tags the release policy can accept, which all start with "v" (lambdas/decisions/tag-policy.ts): cosign
        // `sha256-….sig` signatures, attestations, `latest` and untagged pushes (a multi-arch image's child manifests;
        // a missing image-tag never matches a prefix) start nothing. One short prefix: the pattern stays small.
        'image-tag': [{ prefix: 'v' }],
      },
    });
    const repositoryGroups = chunkByPatternSize([...new Set(catalog.map((s) => s.repositoryName))], pushesTo);
    this.triggers = repositoryGroups.map((repositories, index) => {
      const rule = new events.Rule(this, index === 0 ? 'ImagePushed' : `ImagePushed${index + 1}`, {
        description:
          'Starts a rollout for every image pushed to a configured repository under a tag the release policy can accept (vX.Y.Z…).',
        // Replaced below by the whole pattern, written in CloudFormation's own form: the form whose size was measured.
        eventPattern: { source: ['aws.ecr'] },
        targets: [
          new targets.SfnStateMachine(this.stateMachine, {
            deadLetterQueue: this.triggerDeadLetterQueue,
            retryAttempts: 8,
            maxEventAge: Duration.hours(2),
          }),
        ],
      });
      (rule.node.defaultChild as events.CfnRule).eventPattern = pushesTo(repositories);
      return rule;
    });
    this.trigger = this.triggers[0]!;
    const eventsRole = this.stateMachine.node.findChild('EventsRole');
    acknowledge(
      eventsRole,
      'NIST.800.53.R5-IAMNoInlinePolicy',
      "The role EventBridge assumes to start an execution for a push; CDK writes its one statement (states:StartExecution on this state machine) into the role's own default policy.",
    );

    const eventTarget = (name: EventFunctionName) =>
      new targets.LambdaFunction(this.functions[name], {
        deadLetterQueue: this.eventDeadLetterQueue,
        retryAttempts: 8,
        maxEventAge: Duration.hours(6),
      });
    this.crashFinaliser = new events.Rule(this, 'ExecutionEnded', {
      description:
        'Finalises the ledger record of every rollout execution that ended FAILED, TIMED_OUT or ABORTED, and frees its service lock',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        // All failures, not only the unexpected ones: a record already final is left alone, so this costs one lookup.
        detail: { stateMachineArn: [this.stateMachine.stateMachineArn], status: ['FAILED', 'TIMED_OUT', 'ABORTED'] },
      },
      targets: [eventTarget('finalise-execution')],
    });

    this.functions.reconcile.addEnvironment('STATE_MACHINE_ARN', this.stateMachine.stateMachineArn);
    this.allow('reconcile', ['states:StartExecution'], [this.stateMachine.stateMachineArn]);
    // Whether the execution of a taken name still runs (a closed one's name stays taken for 90 days). The Service
    // Authorization Reference (AWS Step Functions) marks two resource types required for DescribeExecution, execution*
    // and express*, and "you must include an ARN or pattern for each required resource type": both, for the
    // reconciliation's own executions only (this state machine is Standard; the express pattern matches nothing else).
    const ownExecutions = (resource: 'execution' | 'express', names: string) =>
      Stack.of(this).formatArn({
        service: 'states',
        resource,
        resourceName: `${this.stateMachine.stateMachineName}:${names}`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    this.allow(
      'reconcile',
      ['states:DescribeExecution'],
      [ownExecutions('execution', 'reconcile-*'), ownExecutions('express', 'reconcile-*')],
    );
    // The crash finaliser frees a lock only once Step Functions confirms the execution ended (an event can be replayed,
    // or the execution redriven since): any execution of this state machine.
    this.functions['finalise-execution'].addEnvironment('STATE_MACHINE_ARN', this.stateMachine.stateMachineArn);
    this.allow('finalise-execution', ['states:DescribeExecution'], [ownExecutions('execution', '*'), ownExecutions('express', '*')]);
    this.restrictOutcomeBus();
    this.writePolicies();
    this.acknowledgeStateMachineRole();
    this.acknowledgeWildcardResources();
    this.reconciliation = new events.Rule(this, 'Reconciliation', {
      description: 'Releases the newest allowed tag of each configured repository when no push event announced it',
      schedule: events.Schedule.rate(props.reconcileEvery ?? Duration.minutes(15)),
      targets: [eventTarget('reconcile')],
    });
  }

  /**
   * Outcome events page people, so nobody but the state machine may publish them. Within an account an Allow of either
   * the caller's identity policy or the bus policy suffices ("Policy evaluation for requests within a single account",
   * IAM user guide): the bus policy can only deny. It denies every principal but the state machine's role (for a role,
   * aws:PrincipalArn is the role's ARN, not the session's: IAM global condition keys), and every source but the
   * pipeline's. events:source is multivalued (one value per entry: Service Authorization Reference, Amazon EventBridge),
   * so a set operator: one entry of another source denies the call. The role's own policy says the same, so neither
   * policy alone is the only guard.
   */
  private restrictOutcomeBus(): void {
    const role = this.stateMachine.role;
    const otherSources = { 'ForAnyValue:StringNotEquals': { 'events:source': ALERT_EVENT.source } };
    // The bus's own Policy property, not CDK's one AWS::Events::EventBusPolicy per statement: those are identified by
    // their statement ID across the account and Region, so a second stack's would collide with the first's.
    const busArn = Stack.of(this).formatArn({
      service: 'events',
      resource: 'event-bus',
      resourceName: `${Stack.of(this).stackName}-outcomes`,
    });
    const deny = (sid: string, conditions: Record<string, unknown>) =>
      new iam.PolicyStatement({
        sid,
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [busArn],
        conditions,
      });
    (this.outcomeBus.node.defaultChild as events.CfnEventBus).policy = new iam.PolicyDocument({
      statements: [
        deny('OnlyTheRolloutStateMachinePublishes', { ArnNotEquals: { 'aws:PrincipalArn': role.roleArn } }),
        deny('OnlyOutcomeEvents', otherSources),
      ],
    }).toJSON();
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        actions: ['events:PutEvents'],
        resources: [this.outcomeBus.eventBusArn],
        conditions: otherSources,
      }),
    );
  }

  /**
   * One function per step and event handler, each with its own role and customer-managed policy, in the private
   * subnets behind the functions' security group, with reserved concurrency and an encrypted log group.
   */
  private createFunctions(
    catalogJson: string,
    rootCertificates: string,
    concurrency: number | 'none',
    props: RolloutPipelineProps,
  ): { functions: Record<FunctionName, nodejs.NodejsFunction>; policies: Record<FunctionName, iam.ManagedPolicy> } {
    const needsCatalog: readonly FunctionName[] = ['check-release', 'finalise-execution', 'reconcile'];
    const needsLedger: readonly FunctionName[] = ['record-release', 'take-turn', 'record-outcome', 'finalise-execution', 'reconcile'];
    const { network, ledger } = props;
    const functions = {} as Record<FunctionName, nodejs.NodejsFunction>;
    const policies = {} as Record<FunctionName, iam.ManagedPolicy>;
    for (const name of [...STEP_FUNCTIONS, ...EVENT_FUNCTIONS]) {
      const id = toPascalCase(name);
      const logGroup = new logs.LogGroup(this, `${id}Logs`, {
        retention: logs.RetentionDays.ONE_YEAR,
        removalPolicy: RemovalPolicy.RETAIN,
        encryptionKey: this.logsKey,
      });
      const role = new iam.Role(this, `${id}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `model-rollout ${name} function`,
      });
      // A customer-managed policy, not CDK's inline default policy: one reviewable document per function.
      const policy = new iam.ManagedPolicy(this, `${id}Policy`, {
        description: `What the model-rollout ${name} function may do`,
        roles: [role],
      });
      policies[name] = policy;
      const isEventHandler = (EVENT_FUNCTIONS as readonly string[]).includes(name);
      const fn = new nodejs.NodejsFunction(this, id, {
        entry: path.join(__dirname, '..', 'lambdas', 'functions', `${name}.ts`),
        handler: 'handler',
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: 256,
        timeout: Duration.seconds(30),
        environmentEncryption: this.environmentKey,
        tracing: lambda.Tracing.ACTIVE,
        logGroup,
        // Every permission is in the policy above: CDK must not add statements of its own to an inline policy.
        role: role.withoutPolicyUpdates(),
        vpc: network.vpc,
        vpcSubnets: network.subnets,
        securityGroups: [network.functionSecurityGroup],
        // Two reconciliations at once would only race each other for the same releases (and, unreserved, the execution
        // names they share keep that race harmless).
        reservedConcurrentExecutions: concurrency === 'none' ? undefined : name === 'reconcile' ? 1 : concurrency,
        // Events the handler failed on after Lambda's own two retries are kept, not dropped.
        deadLetterQueue: isEventHandler ? this.eventDeadLetterQueue : undefined,
        environment: {
          POWERTOOLS_SERVICE_NAME: 'model-rollout',
          NODE_OPTIONS: '--enable-source-maps',
          ...(needsLedger.includes(name) ? { LEDGER_TABLE_NAME: ledger.table.tableName } : {}),
          ...(name === 'verify-signature' && rootCertificates !== '' ? { SIGNER_ROOT_CERTIFICATES: rootCertificates } : {}),
        },
        bundling: {
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
          // their environment, whose 4 KB would hold four services, nor esbuild's command line, which the operating
          // system caps (lambdas/shared/environment.ts reads it).
          commandHooks: needsCatalog.includes(name) ? copyIntoBundle(catalogFile(catalogJson), SERVICE_CATALOG_FILE) : undefined,
        },
      });
      // Lambda checks the network interface permissions when it creates the function.
      fn.node.addDependency(policy);
      functions[name] = fn;

      this.allow(name, ['logs:CreateLogStream', 'logs:PutLogEvents'], [logGroup.logGroupArn]);
      this.allow(
        name,
        [
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        ['*'],
      );
      this.allow(name, ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], ['*']);
      if (isEventHandler) {
        this.allow(name, ['sqs:SendMessage'], [this.eventDeadLetterQueue.queueArn]);
        this.allow(name, ['kms:Decrypt', 'kms:GenerateDataKey'], [this.queueKey.keyArn], {
          StringEquals: { 'kms:ViaService': `sqs.${Stack.of(this).region}.amazonaws.com` },
        });
      } else {
        acknowledge(
          fn,
          'NIST.800.53.R5-LambdaDLQ',
          `The state machine invokes ${name} synchronously: a failed invocation is retried and caught by the state machine, which records the failure; there is no asynchronous event to keep.`,
        );
        acknowledge(
          fn,
          'Serverless-LambdaDLQ',
          `The state machine invokes ${name} synchronously: a failed invocation is retried and caught by the state machine, which records the failure; there is no asynchronous event to keep.`,
        );
      }
    }
    return { functions, policies };
  }

  /** An SQS dead-letter queue: 14 days, encrypted with the queue key, TLS only. */
  private deadLetterQueue(id: string, holds: string): sqs.Queue {
    const queue = new sqs.Queue(this, id, {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.queueKey,
      enforceSSL: true,
    });
    acknowledge(
      queue,
      'AwsSolutions-SQS3',
      `This queue is itself a dead-letter queue (${holds}); a dead-letter queue of a dead-letter queue would only move the same messages.`,
    );
    acknowledge(
      queue,
      'Serverless-SQSRedrivePolicy',
      `This queue is itself a dead-letter queue (${holds}); a redrive policy would only move the same messages to another queue.`,
    );
    return queue;
  }

  /** The log groups' key: CloudWatch Logs may use it for this account's log groups in this Region only. */
  private logsEncryptionKey(): kms.Key {
    const stack = Stack.of(this);
    const key = new kms.Key(this, 'LogsKey', {
      description: 'Encrypts the model-rollout log groups (functions and executions)',
      enableKeyRotation: true,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*` },
        },
      }),
    );
    return key;
  }

  /** Records a permission of `name`'s function; writePolicies puts it in that function's policies. */
  private allow(name: FunctionName, actions: string[], resources: string[], conditions?: Record<string, unknown>): void {
    if (this.policiesWritten) throw new Error(`RolloutPipeline: ${name} granted ${actions.join(', ')} after its policies were written`);
    const statements = this.grants.get(name) ?? [];
    statements.push(new iam.PolicyStatement({ actions, resources, conditions }));
    this.grants.set(name, statements);
  }

  /**
   * Writes each function's permissions into its customer-managed policy and, when they do not fit IAM's 6,144
   * characters (a stack of many services), into further policies attached to the same role (`<Function>Policy2`, …),
   * statements split by resources, never widened. A role takes at most 10 managed policies by default (IAM quotas):
   * a configuration that would need more fails the synth with a ConfigError naming the function and the count.
   */
  private writePolicies(): void {
    this.policiesWritten = true;
    const stack = Stack.of(this);
    const sizeOf = (statement: iam.PolicyStatement) => worstCaseLength(stack.resolve(statement.toStatementJson()));
    for (const [name, statements] of this.grants) {
      const [first = [], ...overflow] = packStatements(statements, sizeOf);
      if (overflow.length + 1 > MANAGED_POLICIES_PER_ROLE) {
        throw new ConfigError(
          `The ${name} function would need ${overflow.length + 1} IAM policies for this configuration's ${this.catalog.length} services; ` +
            `a role takes at most ${MANAGED_POLICIES_PER_ROLE} managed policies (IAM quota): split the services over several stacks.`,
        );
      }
      this.policies[name].addStatements(...first);
      const fn = this.functions[name];
      this.overflowPolicies[name] = overflow.map((chunk, index) => {
        const policy = new iam.ManagedPolicy(this, `${toPascalCase(name)}Policy${index + 2}`, {
          description: `What the model-rollout ${name} function may do (continued: one policy holds at most 6,144 characters)`,
          roles: [fn.role!],
          statements: chunk,
        });
        fn.node.addDependency(policy);
        return policy;
      });
    }
  }

  /**
   * Every wildcard in a function's policy is acknowledged on that policy with the reason AWS leaves no narrower
   * resource (WILDCARD_REASONS); an action allowed on a wildcard without a reason there fails the synth.
   */
  private acknowledgeWildcardResources(): void {
    const everyPolicy = (Object.entries(this.policies) as [FunctionName, iam.ManagedPolicy][]).flatMap(([name, policy]) =>
      [policy, ...(this.overflowPolicies[name] ?? [])].map((one) => [name, one] as const),
    );
    for (const [name, policy] of everyPolicy) {
      const byResource = new Map<string, string[]>();
      const { Statement } = Stack.of(this).resolve(policy.document) as { Statement: { Action: string | string[]; Resource: unknown }[] };
      for (const statement of Statement) {
        for (const resource of [statement.Resource]
          .flat()
          .map(render)
          .filter((r) => r.includes('*'))) {
          byResource.set(resource, [...(byResource.get(resource) ?? []), ...[statement.Action].flat()]);
        }
      }
      for (const [resource, actions] of byResource) {
        const reasons = actions.map((action) => {
          const reason = WILDCARD_REASONS[action];
          if (reason === undefined)
            throw new Error(`RolloutPipeline: ${name} is allowed ${action} on ${resource}, which WILDCARD_REASONS does not explain.`);
          return `${action}: ${reason}`;
        });
        acknowledge(policy, `AwsSolutions-IAM5[Resource::${resource}]`, `${name}: ${[...new Set(reasons)].join(' ')}`);
      }
    }
  }

  /** The state machine's role is CDK's: what the tasks, logging and tracing need, in CDK's inline default policy. */
  private acknowledgeStateMachineRole(): void {
    const role = this.stateMachine.role;
    const stack = Stack.of(this);
    for (const name of STEP_FUNCTIONS) {
      const logicalId = stack.getLogicalId(this.functions[name].node.defaultChild as lambda.CfnFunction);
      acknowledge(
        role,
        `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
        `The state machine's task invokes the ${name} function; CDK's LambdaInvoke grant also names its versions (:*), of which the pipeline publishes none.`,
      );
    }
    acknowledge(
      role,
      'AwsSolutions-IAM5[Resource::*]',
      'X-Ray (xray:PutTraceSegments and related) and the execution log delivery (logs:CreateLogDelivery and related) support no resource-level permissions.',
    );
    acknowledge(
      role,
      'NIST.800.53.R5-IAMNoInlinePolicy',
      "CDK writes the state machine role's grants (invoke the pipeline's functions, put the outcome event, logs, X-Ray) into this role's own default policy; nothing else uses it.",
    );
  }

  /**
   * Each ledger function gets the item operations it performs on the table (the crash finaliser also queries the
   * execution index), and the ledger key only through DynamoDB.
   */
  private grantLedgerAccess(ledger: DeploymentLedgerTable): void {
    const { table, key } = ledger;
    const executionIndex = `${table.tableArn}/index/${LEDGER_TABLE.executionIndex.name}`;
    // Only Query reads an index; the item actions stay on the table.
    const access: Partial<Record<FunctionName, { actions: string[]; writes: boolean; queriesIndex?: boolean }>> = {
      'record-release': { actions: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'], writes: true },
      'take-turn': { actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], writes: true },
      'record-outcome': { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], writes: true },
      'finalise-execution': {
        actions: ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        writes: true,
        queriesIndex: true,
      },
      reconcile: { actions: ['dynamodb:GetItem'], writes: false },
    };
    const viaDynamoDb = { StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com` } };
    for (const [name, { actions, writes, queriesIndex }] of Object.entries(access) as [
      FunctionName,
      NonNullable<(typeof access)[FunctionName]>,
    ][]) {
      this.allow(name, actions, [table.tableArn]);
      if (queriesIndex) this.allow(name, ['dynamodb:Query'], [executionIndex]);
      this.allow(name, writes ? ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt'], [key.keyArn], viaDynamoDb);
    }
  }

  /** Each step may touch only the configured services, repositories and alarms; wildcards only where AWS has no resource type. */
  private grantStepPermissions(catalog: ServiceCatalog): void {
    const stack = Stack.of(this);
    // The stack's own account and region: literal values when the configuration pins them, pseudo parameters otherwise.
    const arn = (service: string, resource: string) => `arn:${stack.partition}:${service}:${stack.region}:${stack.account}:${resource}`;
    const serviceArns = catalog.map((s) => arn('ecs', `service/${clusterNameOf(s.cluster)}/${s.service}`));
    const serviceDeploymentArns = catalog.map((s) => arn('ecs', `service-deployment/${clusterNameOf(s.cluster)}/${s.service}/*`));
    const repositoryArns = [...new Set(catalog.map((s) => arn('ecr', `repository/${s.repositoryName}`)))];
    const alarmArns = [...new Set(catalog.flatMap((s) => s.health.alarms))].map((name) => arn('cloudwatch', `alarm:${name}`));
    const allow = this.allow.bind(this);
    // DescribeTaskDefinition supports no resource-level permissions (Service Authorization Reference, Amazon ECS).
    const taskDefinitionReads = ['ecs:DescribeTaskDefinition'];

    allow('check-release', ['ecs:DescribeServices'], serviceArns);
    allow('check-release', taskDefinitionReads, ['*']);

    this.grantSignatureReads(catalog, repositoryArns, arn);
    // The model metadata: the image manifest and its config blob's labels.
    allow('record-release', ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], repositoryArns);
    allow('reconcile', ['ecr:DescribeImages'], repositoryArns);

    allow('register-revision', ['ecs:DescribeServices'], serviceArns);
    // RegisterTaskDefinition requires the task-definition resource type (task-definition/<family>:<revision>): any
    // revision of the configured families. The step refuses another family before it calls ECS (FamilyNotConfiguredError).
    const revisionArns = [...new Set(catalog.map((s) => arn('ecs', `task-definition/${s.taskDefinitionFamily}:*`)))];
    allow('register-revision', taskDefinitionReads, ['*']);
    allow('register-revision', ['ecs:RegisterTaskDefinition'], revisionArns);
    allow('register-revision', ['ecs:TagResource'], revisionArns, {
      StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' },
    });
    // The copied revision keeps the service's task and execution roles: only the configured ones, and only to ECS tasks.
    // The step refuses a task definition naming any other role before it calls ECS (RoleNotConfiguredError).
    const passRoles = [...new Set(catalog.flatMap((s) => [s.taskRoleArn, s.executionRoleArn]).filter((r): r is string => r !== null))];
    if (passRoles.length > 0) {
      allow('register-revision', ['iam:PassRole'], passRoles, { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
    }

    // Rolling back first reads what the service runs (ECS may already have rolled back by itself). Actions on the same
    // resources share a statement: with many services, each list of ARNs is written once.
    allow('update-service', ['ecs:UpdateService', 'ecs:DescribeServices'], serviceArns);

    allow('check-health', ['ecs:DescribeServices'], serviceArns);
    // Two required resource types (Service Authorization Reference): the service deployment and its service. A policy
    // that names only the deployments is denied every call.
    allow('check-health', ['ecs:DescribeServiceDeployments'], [...serviceArns, ...serviceDeploymentArns]);
    if (alarmArns.length > 0) {
      allow('check-health', ['cloudwatch:DescribeAlarms'], alarmArns);
    }
  }

  /**
   * The verify step reads signatures (legacy tags and OCI referrers) and ECR managed signing status from the configured
   * repositories only, public halves of the configured KMS keys only, and revocation status from AWS Signer.
   */
  private grantSignatureReads(catalog: ServiceCatalog, repositoryArns: string[], arn: (service: string, resource: string) => string): void {
    // ListImageReferrers has no action of its own: ecr:BatchGetImage authorises it.
    this.allow('verify-signature', ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:DescribeImageSigningStatus'], repositoryArns);
    const kmsKeys = [...new Set(catalog.flatMap((s) => s.trust.kmsKeys))];
    const keyArns = kmsKeys.filter((key) => /^arn:[^:]+:kms:[^:]+:\d{12}:key\//.test(key));
    // An alias is authorised on the key it points to, which synth cannot know: allow any key, but only when asked for by
    // one of the configured aliases (kms:RequestAlias).
    const aliases = kmsKeys.filter((key) => !keyArns.includes(key)).map((alias) => alias.replace(/^arn:[^:]+:kms:[^:]+:\d{12}:/, ''));
    if (keyArns.length > 0) {
      this.allow('verify-signature', ['kms:GetPublicKey'], keyArns);
    }
    if (aliases.length > 0) {
      // kms:RequestAlias is single-valued: StringEquals with a list matches any one of them.
      this.allow('verify-signature', ['kms:GetPublicKey'], [arn('kms', 'key/*')], { StringEquals: { 'kms:RequestAlias': aliases } });
    }
    // GetRevocationStatus is authorised on the signing profile and on the signing job; job ids are only known from the
    // signature, so any job of the profile's account and Region.
    const profiles = [...new Set(catalog.flatMap((s) => s.trust.signingProfiles).map(signingProfileArnOf))];
    if (profiles.length > 0) {
      const jobs = [...new Set(profiles.map((profile) => profile.replace(/:\/signing-profiles\/.*$/, ':/signing-jobs/*')))];
      this.allow('verify-signature', ['signer:GetRevocationStatus'], [...profiles, ...jobs]);
    }
  }

  /** The runbook, as states. JSONPath only: the local run executes this very definition. */
  private definition(): sfn.IChainable {
    // A reason is a JSONPath, or a sentence formatted from several. The Fail states' cause (the reason with the subject
    // in front) is computed here, not in their CausePath, because the local runner cannot evaluate intrinsics there; and
    // since an intrinsic cannot be an argument of States.Format, the cause formats the reason's own parts again.
    const recordOutcome = (
      id: string,
      outcome: { status: string; severity: string },
      error: string | null,
      reason: string | { format: string; args: string[] },
      { signatureChecked = true, serviceNowRuns }: { signatureChecked?: boolean; serviceNowRuns?: string | 'unknown' } = {},
    ) => {
      const { format, args } = typeof reason === 'string' ? { format: '{}', args: [reason] } : reason;
      const subject = ['$.subject.repository', '$.subject.tag', '$.subject.digest', '$.subject.service'];
      return new sfn.Pass(this, id, {
        stateName: id,
        parameters: {
          status: outcome.status,
          severity: outcome.severity,
          error,
          'service.$': '$.subject.service',
          'environment.$': '$.subject.environment',
          'repository.$': '$.subject.repository',
          'tag.$': '$.subject.tag',
          'digest.$': '$.subject.digest',
          'trigger.$': '$.trigger',
          'reason.$': typeof reason === 'string' ? reason : `States.Format('${format}', ${args.join(', ')})`,
          'cause.$': `States.Format('{} {} ({}) for service {}: ${format}', ${[...subject, ...args].join(', ')})`,
          // Why the image was (or was not) trusted: format, signer, signature digest, time. Not checked before the policy passed.
          ...(signatureChecked ? { 'signature.$': '$.signature' } : {}),
          // The ledger record this outcome finalises (null when the repository is not configured), and what ECS runs now.
          'ledger.$': '$.ledger.key',
          ...(serviceNowRuns === undefined
            ? { serviceState: 'unchanged' }
            : serviceNowRuns === 'unknown'
              ? { serviceState: 'unknown' }
              : { serviceState: 'changed', 'taskDefinitionAfter.$': serviceNowRuns }),
          'execution.$': '$$.Execution.Id',
          // Lets AlertRouting route only this stack's outcomes when several stacks share an account and region.
          'stateMachine.$': '$$.StateMachine.Id',
        },
        resultPath: '$.outcome',
      });
    };

    // ---- Outcomes: every path records one in the ledger, publishes it, then ends in the state that names it.
    const publish = new tasks.EventBridgePutEvents(this, STATES.publishOutcome, {
      stateName: STATES.publishOutcome,
      entries: [
        {
          eventBus: this.outcomeBus,
          source: ALERT_EVENT.source,
          detailType: ALERT_EVENT.detailType,
          detail: sfn.TaskInput.fromJsonPathAt('$.outcome'),
        },
      ],
      resultPath: sfn.JsonPath.DISCARD,
      taskTimeout: sfn.Timeout.duration(Duration.seconds(30)),
    });
    publish.addRetry({
      errors: [sfn.Errors.ALL],
      interval: Duration.seconds(2),
      backoffRate: 2,
      maxAttempts: 5,
      jitterStrategy: sfn.JitterType.FULL,
    });
    const fail = (id: string, error: string, causePath = '$.outcome.cause') => new sfn.Fail(this, id, { stateName: id, error, causePath });
    publish.addCatch(fail(STATES.alertNotPublished, 'AlertPublishFailed'), { resultPath: '$.publishFailure' });
    // Before the alert: what the ledger says must not depend on an alert getting out. If the ledger cannot be written,
    // the execution fails unexpectedly, which alerts as critical and makes the crash finaliser try again.
    // Its result is the outcome told in words (a Lambda error's JSON Cause replaced by its message): what the alert
    // publishes and the Fail state's cause, the same text as the ledger's.
    const recordInLedger = this.invoke(STATES.recordInLedger, 'record-outcome', { 'outcome.$': '$.outcome' }, '$.outcome');
    recordInLedger.addCatch(fail(STATES.ledgerNotUpdated, 'LedgerNotUpdated', '$.ledgerFailure.Cause'), { resultPath: '$.ledgerFailure' });
    const route = new sfn.Choice(this, STATES.routeByOutcome, { stateName: STATES.routeByOutcome });
    const outcomeIs = (error: string) => sfn.Condition.stringEquals('$.outcome.error', error);
    const statusIs = (status: string) => sfn.Condition.stringEquals('$.outcome.status', status);
    const succeed = (id: string) => new sfn.Succeed(this, id, { stateName: id, outputPath: '$.outcome' });
    recordInLedger.next(publish).next(
      route
        .when(statusIs(OUTCOMES.succeeded.status), succeed(STATES.releaseDeployed))
        // Not failures: nothing was wrong with the release, there was simply nothing (more) to do.
        .when(statusIs(OUTCOMES.duplicate.status), succeed(STATES.releaseDuplicate))
        .when(statusIs(OUTCOMES.superseded.status), succeed(STATES.releaseSuperseded))
        .when(outcomeIs(TERMINAL_ERRORS.rejectedByPolicy), fail(STATES.releaseRejectedByPolicy, TERMINAL_ERRORS.rejectedByPolicy))
        .when(outcomeIs(TERMINAL_ERRORS.refused), fail(STATES.releaseRefused, TERMINAL_ERRORS.refused))
        .when(outcomeIs(TERMINAL_ERRORS.signatureRejected), fail(STATES.signatureRejected, TERMINAL_ERRORS.signatureRejected))
        .when(outcomeIs(TERMINAL_ERRORS.deploymentFailed), fail(STATES.deploymentFailed, TERMINAL_ERRORS.deploymentFailed))
        .when(outcomeIs(TERMINAL_ERRORS.rolledBack), fail(STATES.releaseRolledBack, TERMINAL_ERRORS.rolledBack))
        .when(outcomeIs(TERMINAL_ERRORS.rollbackFailed), fail(STATES.rollbackFailed, TERMINAL_ERRORS.rollbackFailed))
        // Unreachable while every Record state sets a known error; failing loudly beats reporting success.
        .otherwise(fail(STATES.unknownOutcome, 'UnknownOutcome')),
    );
    const beforeChecks = { signatureChecked: false };
    const recordDeployed = recordOutcome(STATES.recordDeployed, OUTCOMES.succeeded, null, '$.health.reason', {
      serviceNowRuns: '$.deployment.newTaskDefinitionArn',
    }).next(recordInLedger);
    const recordRejectedByPolicy = recordOutcome(
      STATES.recordRejectedByPolicy,
      OUTCOMES.rejected,
      TERMINAL_ERRORS.rejectedByPolicy,
      '$.policy.reason',
      beforeChecks,
    ).next(recordInLedger);
    // The tag policy's rule that needs the ledger: a release or hotfix tag that already named another image.
    const recordTagReused = recordOutcome(
      STATES.recordTagReused,
      OUTCOMES.rejected,
      TERMINAL_ERRORS.rejectedByPolicy,
      '$.ledger.reason',
      beforeChecks,
    ).next(recordInLedger);
    const recordDuplicate = recordOutcome(STATES.recordDuplicate, OUTCOMES.duplicate, null, '$.ledger.reason', beforeChecks).next(
      recordInLedger,
    );
    const recordRefused = recordOutcome(
      STATES.recordRefused,
      OUTCOMES.rejected,
      TERMINAL_ERRORS.refused,
      '$.ledger.reason',
      beforeChecks,
    ).next(recordInLedger);
    const recordSignatureRejected = recordOutcome(
      STATES.recordSignatureRejected,
      OUTCOMES.rejected,
      TERMINAL_ERRORS.signatureRejected,
      '$.signature.reason',
    ).next(recordInLedger);
    const recordSuperseded = recordOutcome(STATES.recordSuperseded, OUTCOMES.superseded, null, '$.turn.reason').next(recordInLedger);
    const recordSupersededOnArrival = recordOutcome(
      STATES.recordSupersededOnArrival,
      OUTCOMES.superseded,
      null,
      '$.ledger.reason',
      beforeChecks,
    ).next(recordInLedger);
    const recordDeploymentFailed = recordOutcome(
      STATES.recordDeploymentFailed,
      OUTCOMES.deploymentFailed,
      TERMINAL_ERRORS.deploymentFailed,
      '$.failure.Cause',
    ).next(recordInLedger);
    const recordUpdateNotApplied = recordOutcome(
      STATES.recordUpdateNotApplied,
      OUTCOMES.deploymentFailed,
      TERMINAL_ERRORS.deploymentFailed,
      '$.rollback.reason',
    ).next(recordInLedger);
    const recordRolledBack = recordOutcome(STATES.recordRolledBack, OUTCOMES.rolledBack, TERMINAL_ERRORS.rolledBack, '$.rollback.reason', {
      serviceNowRuns: '$.deployment.rollbackTaskDefinitionArn',
    }).next(recordInLedger);
    const recordRollbackFailed = recordOutcome(
      STATES.recordRollbackFailed,
      OUTCOMES.rollbackFailed,
      TERMINAL_ERRORS.rollbackFailed,
      {
        format: 'Rollback to {} failed ({}). It was rolling back because: {}',
        args: ['$.deployment.rollbackTaskDefinitionArn', '$.rollbackFailure.Cause', '$.failure.Cause'],
      },
      { serviceNowRuns: 'unknown' },
    ).next(recordInLedger);

    // No good version to return to (the ledger knows none, and the previous revision's own release failed): nothing is
    // rolled back onto a known-bad version; the alert says so (critical), and what the service runs now.
    const recordNoKnownGoodVersion = recordOutcome(
      STATES.recordNoKnownGoodVersion,
      OUTCOMES.rollbackFailed,
      TERMINAL_ERRORS.rollbackFailed,
      {
        format: '{} {} The release {} failed because: {}',
        args: ['$.deployment.rollbackTarget.reason', '$.rollback.reason', '$.subject.tag', '$.failure.Cause'],
      },
      { serviceNowRuns: 'unknown' },
    ).next(recordInLedger);

    // ---- Rollback: back to the last known good revision (the ledger's), then wait until it is stable.
    // It looks at the service first: a failed update that never reached it leaves nothing to roll back, and a service
    // ECS already rolled back to the target gets no competing update.
    const rollBack = this.invoke(
      STATES.rollBack,
      'update-service',
      {
        'service.$': '$.service',
        'taskDefinitionArn.$': '$.deployment.rollbackTaskDefinitionArn',
        'releasedTaskDefinitionArn.$': '$.deployment.newTaskDefinitionArn',
        'failure.$': '$.failure',
      },
      '$.rollback',
    );
    const checkRollback = this.healthLoop({
      wait: STATES.waitForRollback,
      check: STATES.checkRollback,
      decide: STATES.isRollbackStable,
      taskDefinitionPath: '$.deployment.rollbackTaskDefinitionArn',
      deadlinePath: '$.rollback.deadline',
      startedAtPath: '$.rollback.startedAt',
      checkAlarms: false,
      resultPath: '$.rollbackHealth',
      onHealthy: recordRolledBack,
      onUnhealthy: {
        note: STATES.noteRollbackUnstable,
        error: 'RollbackUnstable',
        resultPath: '$.rollbackFailure',
        next: recordRollbackFailed,
      },
    });
    for (const step of [rollBack, checkRollback.check]) {
      step.addCatch(recordRollbackFailed, { errors: [sfn.Errors.ALL], resultPath: '$.rollbackFailure' });
    }
    // With no known good version the rollback step only looks at the service: a failed update that never reached it is
    // still "deployment failed", and otherwise nothing is rolled back onto a known-bad version.
    rollBack.next(
      new sfn.Choice(this, STATES.didUpdateReachService, { stateName: STATES.didUpdateReachService })
        .when(sfn.Condition.stringEquals('$.rollback.action', 'unchanged'), recordUpdateNotApplied)
        .otherwise(
          new sfn.Choice(this, STATES.hasRollbackTarget, { stateName: STATES.hasRollbackTarget })
            .when(sfn.Condition.stringEquals('$.rollback.action', 'no-target'), recordNoKnownGoodVersion)
            .otherwise(checkRollback.loop),
        ),
    );

    // ---- Rollout: pin the digest in a new revision, update the service, poll health until the deadline.
    const registerRevision = this.invoke(
      STATES.registerRevision,
      'register-revision',
      {
        'service.$': '$.service',
        'release.$': '$.release',
        'lastKnownGood.$': '$.turn.lastKnownGood',
        'knownBad.$': '$.turn.knownBad',
      },
      '$.deployment',
    );
    registerRevision.addCatch(recordDeploymentFailed, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
    const updateService = this.invoke(
      STATES.updateService,
      'update-service',
      {
        'service.$': '$.service',
        'taskDefinitionArn.$': '$.deployment.newTaskDefinitionArn',
      },
      '$.rollout',
    );
    const checkHealth = this.healthLoop({
      wait: STATES.waitForHealth,
      check: STATES.checkHealth,
      decide: STATES.isHealthy,
      taskDefinitionPath: '$.deployment.newTaskDefinitionArn',
      deadlinePath: '$.rollout.deadline',
      startedAtPath: '$.rollout.startedAt',
      checkAlarms: true,
      resultPath: '$.health',
      onHealthy: recordDeployed,
      onUnhealthy: { note: STATES.noteUnhealthy, error: 'ServiceUnhealthy', resultPath: '$.failure', next: rollBack },
    });
    // A refused update changed nothing. Any other failure from UpdateService on may have changed the service: roll back
    // (when there is a good version), which first looks whether a failed update reached the service at all.
    updateService.addCatch(recordDeploymentFailed, {
      errors: [ERROR_NAMES.updateRefused, ERROR_NAMES.serviceNotFound],
      resultPath: '$.failure',
    });
    const noteUpdateUncertain = new sfn.Pass(this, STATES.noteUpdateUncertain, {
      stateName: STATES.noteUpdateUncertain,
      parameters: { 'Error.$': '$.failure.Error', 'Cause.$': '$.failure.Cause', updateUncertain: true },
      resultPath: '$.failure',
    }).next(rollBack);
    updateService.addCatch(noteUpdateUncertain, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
    checkHealth.check.addCatch(rollBack, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
    const rollout = registerRevision.next(updateService).next(checkHealth.loop);

    // ---- One rollout per service: wait for the lock; a higher version waiting or deployed meanwhile supersedes this one.
    const takeTurn = this.invoke(
      STATES.takeTurn,
      'take-turn',
      {
        'service.$': '$.service',
        'trigger.$': '$.trigger',
        'key.$': '$.ledger.key',
        'executionArn.$': '$$.Execution.Id',
      },
      '$.turn',
    );
    takeTurn.addCatch(recordDeploymentFailed, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
    const waitForTurn = new sfn.Wait(this, STATES.waitForTurn, {
      stateName: STATES.waitForTurn,
      time: sfn.WaitTime.duration(Duration.seconds(LOCK_POLL_SECONDS)),
    });
    waitForTurn.next(takeTurn);
    // Another verified image bound the release tag while this one waited: the same policy rejection as on arrival.
    const noteTagBoundMeanwhile = new sfn.Pass(this, STATES.noteTagBoundMeanwhile, {
      stateName: STATES.noteTagBoundMeanwhile,
      parameters: { 'key.$': '$.ledger.key', verdict: 'rejected', code: 'release-tag-reused', 'reason.$': '$.turn.reason' },
      resultPath: '$.ledger',
    }).next(recordTagReused);
    const turn = takeTurn.next(
      new sfn.Choice(this, STATES.isItsTurn, { stateName: STATES.isItsTurn })
        .when(sfn.Condition.stringEquals('$.turn.verdict', 'acquired'), rollout)
        .when(sfn.Condition.stringEquals('$.turn.verdict', 'wait'), waitForTurn)
        .when(sfn.Condition.stringEquals('$.turn.verdict', 'rejected'), noteTagBoundMeanwhile)
        .otherwise(recordSuperseded),
    );

    // ---- Gates: nothing in ECS changes before both pass. A verification that errors is a rejection (fail closed).
    const verifySignature = this.invoke(
      STATES.verifySignature,
      'verify-signature',
      {
        'release.$': '$.release',
        'trust.$': '$.service.trust',
        // A signature pushed after the image is waited for, counting from the start of the execution.
        'waitingSince.$': '$$.Execution.StartTime',
      },
      '$.signature',
    );
    const noteVerificationError = new sfn.Pass(this, STATES.noteVerificationError, {
      stateName: STATES.noteVerificationError,
      parameters: {
        verdict: 'rejected',
        code: 'verification-error',
        'digest.$': '$.release.digest',
        evidence: [],
        'reason.$': "States.Format('The signature could not be verified, so the image is rejected: {}', $.failure.Cause)",
      },
      resultPath: '$.signature',
    }).next(recordSignatureRejected);
    verifySignature.addCatch(noteVerificationError, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
    // The verify step itself says how long a missing signature is worth waiting for (pending until then).
    const waitForSignature = new sfn.Wait(this, STATES.waitForSignature, {
      stateName: STATES.waitForSignature,
      time: sfn.WaitTime.secondsPath('$.service.trust.signaturePollSeconds'),
    });
    waitForSignature.next(verifySignature);

    // ---- The record comes first, before any decision can end the execution: every release is in the ledger.
    const recordRelease = this.invoke(
      STATES.recordRelease,
      'record-release',
      {
        'subject.$': '$.subject',
        'trigger.$': '$.trigger',
        'release.$': '$.release',
        'service.$': '$.service',
        'running.$': '$.running',
        'policy.$': '$.policy',
        'executionArn.$': '$$.Execution.Id',
        'startedAt.$': '$$.Execution.StartTime',
      },
      '$.ledger',
    );

    // No payload and no ResultPath: the step receives the start event as it is, and its result becomes the state.
    const checkRelease = this.invoke(STATES.checkRelease, 'check-release', undefined, undefined);
    return checkRelease.next(recordRelease).next(
      new sfn.Choice(this, STATES.isReleaseAllowed, { stateName: STATES.isReleaseAllowed })
        // A lower version arriving while a higher one is being deployed lost a race: superseded, not a policy rejection.
        .when(sfn.Condition.stringEquals('$.ledger.verdict', 'superseded'), recordSupersededOnArrival)
        .when(
          sfn.Condition.stringEquals('$.policy.verdict', 'accepted'),
          new sfn.Choice(this, STATES.isReleaseNew, { stateName: STATES.isReleaseNew })
            .when(sfn.Condition.stringEquals('$.ledger.verdict', 'duplicate'), recordDuplicate)
            .when(sfn.Condition.stringEquals('$.ledger.verdict', 'refused'), recordRefused)
            .when(sfn.Condition.stringEquals('$.ledger.verdict', 'rejected'), recordTagReused)
            .otherwise(
              verifySignature.next(
                new sfn.Choice(this, STATES.isSignatureTrusted, { stateName: STATES.isSignatureTrusted })
                  .when(sfn.Condition.stringEquals('$.signature.verdict', 'verified'), turn)
                  .when(sfn.Condition.stringEquals('$.signature.verdict', 'pending'), waitForSignature)
                  .otherwise(recordSignatureRejected),
              ),
            ),
        )
        .otherwise(recordRejectedByPolicy),
    );
  }

  /**
   * Waits one poll interval, checks health and decides: healthy goes on, progressing waits again (the check itself
   * turns "not healthy by the deadline" into unhealthy), unhealthy notes why in `Error`/`Cause` form and goes on.
   * One shape for the rollout and for the rollback.
   */
  private healthLoop(props: {
    wait: string;
    check: string;
    decide: string;
    taskDefinitionPath: string;
    deadlinePath: string;
    startedAtPath: string;
    checkAlarms: boolean;
    resultPath: string;
    onHealthy: sfn.IChainable;
    onUnhealthy: { note: string; error: string; resultPath: string; next: sfn.IChainable };
  }): { loop: sfn.Wait; check: tasks.LambdaInvoke } {
    const wait = new sfn.Wait(this, props.wait, { stateName: props.wait, time: sfn.WaitTime.secondsPath('$.service.health.pollSeconds') });
    const check = this.invoke(
      props.check,
      'check-health',
      {
        'service.$': '$.service',
        'taskDefinitionArn.$': props.taskDefinitionPath,
        'deadline.$': props.deadlinePath,
        'updateStartedAt.$': props.startedAtPath,
        checkAlarms: props.checkAlarms,
      },
      props.resultPath,
    );
    const note = new sfn.Pass(this, props.onUnhealthy.note, {
      stateName: props.onUnhealthy.note,
      parameters: { Error: props.onUnhealthy.error, 'Cause.$': `${props.resultPath}.reason` },
      resultPath: props.onUnhealthy.resultPath,
    }).next(props.onUnhealthy.next);
    const verdict = `${props.resultPath}.verdict`;
    wait
      .next(check)
      .next(
        new sfn.Choice(this, props.decide, { stateName: props.decide })
          .when(sfn.Condition.stringEquals(verdict, 'healthy'), props.onHealthy)
          .when(sfn.Condition.stringEquals(verdict, 'progressing'), wait)
          .otherwise(note),
      );
    return { loop: wait, check };
  }

  /** A Lambda step: the payload is the result (no invocation wrapper); service errors, throttling and (idempotent steps only) timeouts retried with jitter. */
  private invoke(
    stateName: string,
    step: StepFunctionName,
    payload: Record<string, unknown> | undefined,
    resultPath: string | undefined,
  ): tasks.LambdaInvoke {
    const task = new tasks.LambdaInvoke(this, stateName, {
      stateName,
      lambdaFunction: this.functions[step],
      payload: payload && sfn.TaskInput.fromObject(payload),
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
      resultPath,
      taskTimeout: sfn.Timeout.duration(Duration.seconds(60)),
    });
    task.addRetry({
      errors: [...LAMBDA_SERVICE_ERRORS, ERROR_NAMES.transientAws, ...(RETRIED_ON_TIMEOUT.has(step) ? TIMEOUT_ERRORS : [])],
      interval: Duration.seconds(2),
      backoffRate: 2,
      maxAttempts: 6,
      maxDelay: Duration.seconds(60),
      jitterStrategy: sfn.JitterType.FULL,
    });
    return task;
  }
}

/** `arn:aws:ecs:<region>:<account>:cluster/<name>` → `<name>`; a name stays as it is (the configuration takes either). */
function clusterNameOf(cluster: string): string {
  return cluster.replace(/^arn:[^:]+:ecs:[^:]*:\d*:cluster\//, '');
}

/** A profile version ARN (`…/signing-profiles/<name>/<version>`) → its profile ARN; a profile ARN stays as it is. */
function signingProfileArnOf(arn: string): string {
  return arn.replace(/(:\/signing-profiles\/[^/]+)\/[^/]+$/, '$1');
}

function toPascalCase(kebab: string): string {
  return kebab.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase());
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
