import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { ALERT_EVENT, LOCK_POLL_SECONDS, OUTCOMES, ServiceCatalog, TERMINAL_ERRORS } from '../lambdas/contract';
import { leaseSeconds } from '../lambdas/decisions/turn';
import { ERROR_NAMES } from '../lambdas/errors';
import type { DeploymentLedgerTable } from './deployment-ledger';
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

/** Lambda errors that mean "the invocation did not happen or did not finish", worth retrying with backoff. */
const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.ClientExecutionTimeoutException',
];

/** The Lambda environment holds at most 4 KB; the catalog must fit beside the other variables. */
const MAX_CATALOG_BYTES = 3500;

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
  public readonly trigger: events.Rule;
  public readonly triggerDeadLetterQueue: sqs.Queue;
  public readonly executionLogGroup: logs.LogGroup;
  /** Finalises, in the ledger, executions that ended FAILED, TIMED_OUT or ABORTED. */
  public readonly crashFinaliser: events.Rule;
  /** Starts the pipeline for the newest allowed tag of each repository when the ledger never saw it. */
  public readonly reconciliation: events.Rule;
  /** Events the finaliser and the reconciliation could not be invoked for, kept 14 days. */
  public readonly eventDeadLetterQueue: sqs.Queue;

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
    const catalogJson = JSON.stringify(catalog);
    if (Buffer.byteLength(catalogJson) > MAX_CATALOG_BYTES) {
      throw new Error(
        `RolloutPipeline: the service catalog is ${Buffer.byteLength(catalogJson)} bytes, above the ${MAX_CATALOG_BYTES} bytes ` +
          'that fit in a Lambda environment; split the services over several stacks.',
      );
    }

    this.functions = this.createFunctions(catalogJson, rootCertificates, props.ledger);
    this.grantStepPermissions(catalog);
    this.grantLedgerAccess(props.ledger);

    this.executionLogGroup = new logs.LogGroup(this, 'ExecutionLogs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const longestDeadline = Math.max(...catalog.map((s) => s.health.deadlineSeconds));
    const longestSignatureWait = Math.max(...catalog.map((s) => s.trust.lateSignatureSeconds));
    const longestLease = Math.max(...catalog.map((s) => leaseSeconds(s.health)));
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment: 'Checks, records, verifies, deploys and health-gates one model-serving release, one at a time per service; rolls back to the last known good version when it is unhealthy.',
      definitionBody: sfn.DefinitionBody.fromChainable(this.definition()),
      timeout: props.executionTimeout ?? Duration.seconds(longestSignatureWait + longestLease + 2 * longestDeadline + 30 * 60),
      tracingEnabled: true,
      logs: { destination: this.executionLogGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });

    this.triggerDeadLetterQueue = new sqs.Queue(this, 'TriggerDeadLetterQueue', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.trigger = new events.Rule(this, 'ImagePushed', {
      description: 'Starts a rollout for every tagged image pushed to a configured repository (not cosign signature tags).',
      eventPattern: {
        source: ['aws.ecr'],
        detailType: ['ECR Image Action'],
        detail: {
          'action-type': ['PUSH'],
          result: ['SUCCESS'],
          'repository-name': [...new Set(catalog.map((s) => s.repositoryName))],
          // A missing image-tag (untagged push) never matches anything-but, so untagged pushes are ignored too.
          'image-tag': events.Match.anythingButPrefix('sha256-'),
        },
      },
      targets: [
        new targets.SfnStateMachine(this.stateMachine, {
          deadLetterQueue: this.triggerDeadLetterQueue,
          retryAttempts: 8,
          maxEventAge: Duration.hours(2),
        }),
      ],
    });

    this.eventDeadLetterQueue = new sqs.Queue(this, 'EventDeadLetterQueue', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    const eventTarget = (name: EventFunctionName) =>
      new targets.LambdaFunction(this.functions[name], { deadLetterQueue: this.eventDeadLetterQueue, retryAttempts: 8, maxEventAge: Duration.hours(6) });
    this.crashFinaliser = new events.Rule(this, 'ExecutionEnded', {
      description: 'Finalises the ledger record of every rollout execution that ended FAILED, TIMED_OUT or ABORTED, and frees its service lock',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        // All failures, not only the unexpected ones: a record already final is left alone, so this costs one lookup.
        detail: { stateMachineArn: [this.stateMachine.stateMachineArn], status: ['FAILED', 'TIMED_OUT', 'ABORTED'] },
      },
      targets: [eventTarget('finalise-execution')],
    });

    this.functions.reconcile.addEnvironment('STATE_MACHINE_ARN', this.stateMachine.stateMachineArn);
    this.stateMachine.grantStartExecution(this.functions.reconcile);
    this.reconciliation = new events.Rule(this, 'Reconciliation', {
      description: 'Releases the newest allowed tag of each configured repository when no push event announced it',
      schedule: events.Schedule.rate(props.reconcileEvery ?? Duration.minutes(15)),
      targets: [eventTarget('reconcile')],
    });
  }

  private createFunctions(catalogJson: string, rootCertificates: string, ledger: DeploymentLedgerTable): Record<FunctionName, nodejs.NodejsFunction> {
    const needsCatalog: readonly FunctionName[] = ['check-release', 'finalise-execution', 'reconcile'];
    const needsLedger: readonly FunctionName[] = ['record-release', 'take-turn', 'record-outcome', 'finalise-execution', 'reconcile'];
    const entries = [...STEP_FUNCTIONS, ...EVENT_FUNCTIONS].map((name) => {
      const fn = new nodejs.NodejsFunction(this, toPascalCase(name), {
        entry: path.join(__dirname, '..', 'lambdas', 'functions', `${name}.ts`),
        handler: 'handler',
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: 256,
        timeout: Duration.seconds(30),
        tracing: lambda.Tracing.ACTIVE,
        logGroup: new logs.LogGroup(this, `${toPascalCase(name)}Logs`, {
          retention: logs.RetentionDays.ONE_YEAR,
          removalPolicy: RemovalPolicy.RETAIN,
        }),
        environment: {
          POWERTOOLS_SERVICE_NAME: 'model-rollout',
          NODE_OPTIONS: '--enable-source-maps',
          ...(needsCatalog.includes(name) ? { SERVICE_CATALOG: catalogJson } : {}),
          ...(needsLedger.includes(name) ? { LEDGER_TABLE_NAME: ledger.table.tableName } : {}),
          ...(name === 'verify-signature' && rootCertificates !== '' ? { SIGNER_ROOT_CERTIFICATES: rootCertificates } : {}),
        },
        bundling: {
          minify: true,
          sourceMap: true,
          target: 'node24',
          // Error names are matched by Retry/Catch; keep class and function names through minification.
          keepNames: true,
          // The Node.js 24 runtime ships AWS SDK v3; bundle everything else (Powertools, zod, semver).
          externalModules: ['@aws-sdk/*'],
        },
      });
      return [name, fn] as const;
    });
    return Object.fromEntries(entries) as Record<FunctionName, nodejs.NodejsFunction>;
  }

  /** Each ledger function gets the item operations it performs, on the table (and its execution index) only. */
  private grantLedgerAccess(ledger: DeploymentLedgerTable): void {
    const { table, key } = ledger;
    const tableAndIndex = [table.tableArn, `${table.tableArn}/index/*`];
    const access: Record<string, { actions: string[]; writes: boolean }> = {
      'record-release': { actions: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'], writes: true },
      'take-turn': { actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], writes: true },
      'record-outcome': { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], writes: true },
      'finalise-execution': { actions: ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], writes: true },
      reconcile: { actions: ['dynamodb:GetItem'], writes: false },
    };
    for (const [name, { actions, writes }] of Object.entries(access)) {
      const fn = this.functions[name as FunctionName];
      fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources: tableAndIndex }));
      if (writes) key.grantEncryptDecrypt(fn);
      else key.grantDecrypt(fn);
    }
  }

  /** Each step may touch only the configured services, repositories and alarms; wildcards only where AWS has no resource type. */
  private grantStepPermissions(catalog: ServiceCatalog): void {
    const stack = Stack.of(this);
    // The stack's own account and region: literal values when the configuration pins them, pseudo parameters otherwise.
    const arn = (service: string, resource: string) => `arn:${stack.partition}:${service}:${stack.region}:${stack.account}:${resource}`;
    const serviceArns = catalog.map((s) => arn('ecs', `service/${s.cluster}/${s.service}`));
    const serviceDeploymentArns = catalog.map((s) => arn('ecs', `service-deployment/${s.cluster}/${s.service}/*`));
    const repositoryArns = [...new Set(catalog.map((s) => arn('ecr', `repository/${s.repositoryName}`)))];
    const alarmArns = [...new Set(catalog.flatMap((s) => s.health.alarms))].map((name) => arn('cloudwatch', `alarm:${name}`));
    const allow = (fn: lambda.IFunction, actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
      fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources, conditions }));
    // DescribeTaskDefinition and RegisterTaskDefinition support no resource-level permissions.
    const taskDefinitionReads = ['ecs:DescribeTaskDefinition'];

    allow(this.functions['check-release'], ['ecs:DescribeServices'], serviceArns);
    allow(this.functions['check-release'], taskDefinitionReads, ['*']);

    this.grantSignatureReads(catalog, repositoryArns, arn);
    // The model metadata: the image manifest and its config blob's labels.
    allow(this.functions['record-release'], ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], repositoryArns);
    allow(this.functions.reconcile, ['ecr:DescribeImages'], repositoryArns);

    allow(this.functions['register-revision'], ['ecs:DescribeServices'], serviceArns);
    allow(this.functions['register-revision'], [...taskDefinitionReads, 'ecs:RegisterTaskDefinition'], ['*']);
    allow(this.functions['register-revision'], ['ecs:TagResource'], [arn('ecs', 'task-definition/*')], {
      StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' },
    });
    // The copied revision keeps the service's task and execution roles, which ECS must be allowed to receive.
    allow(this.functions['register-revision'], ['iam:PassRole'], [`arn:${stack.partition}:iam::${stack.account}:role/*`], {
      StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
    });

    allow(this.functions['update-service'], ['ecs:UpdateService'], serviceArns);

    allow(this.functions['check-health'], ['ecs:DescribeServices'], serviceArns);
    allow(this.functions['check-health'], ['ecs:DescribeServiceDeployments'], serviceDeploymentArns);
    if (alarmArns.length > 0) {
      allow(this.functions['check-health'], ['cloudwatch:DescribeAlarms'], alarmArns);
    }
  }

  /**
   * The verify step reads signatures (legacy tags and OCI referrers) and ECR managed signing status from the configured
   * repositories only, public halves of the configured KMS keys only, and revocation status from AWS Signer.
   */
  private grantSignatureReads(catalog: ServiceCatalog, repositoryArns: string[], arn: (service: string, resource: string) => string): void {
    const verify = this.functions['verify-signature'];
    // ListImageReferrers has no action of its own: ecr:BatchGetImage authorises it.
    verify.addToRolePolicy(new iam.PolicyStatement({
      actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:DescribeImageSigningStatus'],
      resources: repositoryArns,
    }));
    const kmsKeys = [...new Set(catalog.flatMap((s) => s.trust.kmsKeys))];
    const keyArns = kmsKeys.filter((key) => /^arn:[^:]+:kms:[^:]+:\d{12}:key\//.test(key));
    // An alias is authorised on the key it points to, which synth cannot know: allow any key, but only when asked for by
    // one of the configured aliases (kms:RequestAlias).
    const aliases = kmsKeys.filter((key) => !keyArns.includes(key)).map((alias) => alias.replace(/^arn:[^:]+:kms:[^:]+:\d{12}:/, ''));
    if (keyArns.length > 0) {
      verify.addToRolePolicy(new iam.PolicyStatement({ actions: ['kms:GetPublicKey'], resources: keyArns }));
    }
    if (aliases.length > 0) {
      verify.addToRolePolicy(new iam.PolicyStatement({
        actions: ['kms:GetPublicKey'],
        resources: [arn('kms', 'key/*')],
        // kms:RequestAlias is single-valued: StringEquals with a list matches any one of them.
        conditions: { StringEquals: { 'kms:RequestAlias': aliases } },
      }));
    }
    // GetRevocationStatus is authorised on the signing profile and on the signing job; job ids are only known from the
    // signature, so any job of the profile's account and Region.
    const profiles = [...new Set(catalog.flatMap((s) => s.trust.signingProfiles).map(signingProfileArnOf))];
    if (profiles.length > 0) {
      const jobs = [...new Set(profiles.map((profile) => profile.replace(/:\/signing-profiles\/.*$/, ':/signing-jobs/*')))];
      verify.addToRolePolicy(new iam.PolicyStatement({ actions: ['signer:GetRevocationStatus'], resources: [...profiles, ...jobs] }));
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
      entries: [{ source: ALERT_EVENT.source, detailType: ALERT_EVENT.detailType, detail: sfn.TaskInput.fromJsonPathAt('$.outcome') }],
      resultPath: sfn.JsonPath.DISCARD,
      taskTimeout: sfn.Timeout.duration(Duration.seconds(30)),
    });
    publish.addRetry({ errors: [sfn.Errors.ALL], interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 5, jitterStrategy: sfn.JitterType.FULL });
    const fail = (id: string, error: string, causePath = '$.outcome.cause') => new sfn.Fail(this, id, { stateName: id, error, causePath });
    publish.addCatch(fail(STATES.alertNotPublished, 'AlertPublishFailed'), { resultPath: '$.publishFailure' });
    // Before the alert: what the ledger says must not depend on an alert getting out. If the ledger cannot be written,
    // the execution fails unexpectedly, which alerts as critical and makes the crash finaliser try again.
    const recordInLedger = this.invoke(STATES.recordInLedger, 'record-outcome', { 'outcome.$': '$.outcome' }, sfn.JsonPath.DISCARD);
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
    const recordDeployed = recordOutcome(STATES.recordDeployed, OUTCOMES.succeeded, null, '$.health.reason', { serviceNowRuns: '$.deployment.newTaskDefinitionArn' }).next(recordInLedger);
    const recordRejectedByPolicy = recordOutcome(STATES.recordRejectedByPolicy, OUTCOMES.rejected, TERMINAL_ERRORS.rejectedByPolicy, '$.policy.reason', beforeChecks).next(recordInLedger);
    const recordDuplicate = recordOutcome(STATES.recordDuplicate, OUTCOMES.duplicate, null, '$.ledger.reason', beforeChecks).next(recordInLedger);
    const recordRefused = recordOutcome(STATES.recordRefused, OUTCOMES.rejected, TERMINAL_ERRORS.refused, '$.ledger.reason', beforeChecks).next(recordInLedger);
    const recordSignatureRejected = recordOutcome(STATES.recordSignatureRejected, OUTCOMES.rejected, TERMINAL_ERRORS.signatureRejected, '$.signature.reason').next(recordInLedger);
    const recordSuperseded = recordOutcome(STATES.recordSuperseded, OUTCOMES.superseded, null, '$.turn.reason').next(recordInLedger);
    const recordSupersededOnArrival = recordOutcome(STATES.recordSupersededOnArrival, OUTCOMES.superseded, null, '$.ledger.reason', beforeChecks).next(recordInLedger);
    const recordDeploymentFailed = recordOutcome(STATES.recordDeploymentFailed, OUTCOMES.deploymentFailed, TERMINAL_ERRORS.deploymentFailed, '$.failure.Cause').next(recordInLedger);
    const recordRolledBack = recordOutcome(STATES.recordRolledBack, OUTCOMES.rolledBack, TERMINAL_ERRORS.rolledBack, '$.rollback.reason', { serviceNowRuns: '$.deployment.rollbackTaskDefinitionArn' }).next(recordInLedger);
    const recordRollbackFailed = recordOutcome(STATES.recordRollbackFailed, OUTCOMES.rollbackFailed, TERMINAL_ERRORS.rollbackFailed, {
      format: 'Rollback to {} failed ({}). It was rolling back because: {}',
      args: ['$.deployment.rollbackTaskDefinitionArn', '$.rollbackFailure.Cause', '$.failure.Cause'],
    }, { serviceNowRuns: 'unknown' }).next(recordInLedger);

    // ---- Rollback: back to the last known good revision (the ledger's), then wait until it is stable.
    const rollBack = this.invoke(STATES.rollBack, 'update-service', {
      'service.$': '$.service',
      'taskDefinitionArn.$': '$.deployment.rollbackTaskDefinitionArn',
      'failure.$': '$.failure',
    }, '$.rollback');
    const checkRollback = this.healthLoop({
      wait: STATES.waitForRollback,
      check: STATES.checkRollback,
      decide: STATES.isRollbackStable,
      taskDefinitionPath: '$.deployment.rollbackTaskDefinitionArn',
      deadlinePath: '$.rollback.deadline',
      checkAlarms: false,
      resultPath: '$.rollbackHealth',
      onHealthy: recordRolledBack,
      onUnhealthy: { note: STATES.noteRollbackUnstable, error: 'RollbackUnstable', resultPath: '$.rollbackFailure', next: recordRollbackFailed },
    });
    for (const step of [rollBack, checkRollback.check]) {
      step.addCatch(recordRollbackFailed, { errors: [sfn.Errors.ALL], resultPath: '$.rollbackFailure' });
    }
    rollBack.next(checkRollback.loop);

    // ---- Rollout: pin the digest in a new revision, update the service, poll health until the deadline.
    const registerRevision = this.invoke(STATES.registerRevision, 'register-revision', {
      'service.$': '$.service',
      'release.$': '$.release',
      'lastKnownGood.$': '$.turn.lastKnownGood',
    }, '$.deployment');
    registerRevision.addCatch(recordDeploymentFailed, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
    const updateService = this.invoke(STATES.updateService, 'update-service', {
      'service.$': '$.service',
      'taskDefinitionArn.$': '$.deployment.newTaskDefinitionArn',
    }, '$.rollout');
    const checkHealth = this.healthLoop({
      wait: STATES.waitForHealth,
      check: STATES.checkHealth,
      decide: STATES.isHealthy,
      taskDefinitionPath: '$.deployment.newTaskDefinitionArn',
      deadlinePath: '$.rollout.deadline',
      checkAlarms: true,
      resultPath: '$.health',
      onHealthy: recordDeployed,
      onUnhealthy: { note: STATES.noteUnhealthy, error: 'ServiceUnhealthy', resultPath: '$.failure', next: rollBack },
    });
    // From UpdateService on, any failure may have changed the service: always roll back.
    for (const step of [updateService, checkHealth.check]) {
      step.addCatch(rollBack, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
    }
    const rollout = registerRevision.next(updateService).next(checkHealth.loop);

    // ---- One rollout per service: wait for the lock; a higher version waiting or deployed meanwhile supersedes this one.
    const takeTurn = this.invoke(STATES.takeTurn, 'take-turn', {
      'service.$': '$.service',
      'trigger.$': '$.trigger',
      'key.$': '$.ledger.key',
      'executionArn.$': '$$.Execution.Id',
    }, '$.turn');
    takeTurn.addCatch(recordDeploymentFailed, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
    const waitForTurn = new sfn.Wait(this, STATES.waitForTurn, { stateName: STATES.waitForTurn, time: sfn.WaitTime.duration(Duration.seconds(LOCK_POLL_SECONDS)) });
    waitForTurn.next(takeTurn);
    const turn = takeTurn.next(
      new sfn.Choice(this, STATES.isItsTurn, { stateName: STATES.isItsTurn })
        .when(sfn.Condition.stringEquals('$.turn.verdict', 'acquired'), rollout)
        .when(sfn.Condition.stringEquals('$.turn.verdict', 'wait'), waitForTurn)
        .otherwise(recordSuperseded),
    );

    // ---- Gates: nothing in ECS changes before both pass. A verification that errors is a rejection (fail closed).
    const verifySignature = this.invoke(STATES.verifySignature, 'verify-signature', {
      'release.$': '$.release',
      'trust.$': '$.service.trust',
      // A signature pushed after the image is waited for, counting from the start of the execution.
      'waitingSince.$': '$$.Execution.StartTime',
    }, '$.signature');
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
    const recordRelease = this.invoke(STATES.recordRelease, 'record-release', {
      'subject.$': '$.subject',
      'trigger.$': '$.trigger',
      'release.$': '$.release',
      'service.$': '$.service',
      'running.$': '$.running',
      'policy.$': '$.policy',
      'executionArn.$': '$$.Execution.Id',
      'startedAt.$': '$$.Execution.StartTime',
    }, '$.ledger');

    // No payload and no ResultPath: the step receives the start event as it is, and its result becomes the state.
    const checkRelease = this.invoke(STATES.checkRelease, 'check-release', undefined, undefined);
    return checkRelease.next(recordRelease).next(
      new sfn.Choice(this, STATES.isReleaseAllowed, { stateName: STATES.isReleaseAllowed })
        // A lower version arriving while a higher one is being deployed lost a race: superseded, not a policy rejection.
        .when(sfn.Condition.stringEquals('$.ledger.verdict', 'superseded'), recordSupersededOnArrival)
        .when(sfn.Condition.stringEquals('$.policy.verdict', 'accepted'),
          new sfn.Choice(this, STATES.isReleaseNew, { stateName: STATES.isReleaseNew })
            .when(sfn.Condition.stringEquals('$.ledger.verdict', 'duplicate'), recordDuplicate)
            .when(sfn.Condition.stringEquals('$.ledger.verdict', 'refused'), recordRefused)
            .otherwise(verifySignature.next(
              new sfn.Choice(this, STATES.isSignatureTrusted, { stateName: STATES.isSignatureTrusted })
                .when(sfn.Condition.stringEquals('$.signature.verdict', 'verified'), turn)
                .when(sfn.Condition.stringEquals('$.signature.verdict', 'pending'), waitForSignature)
                .otherwise(recordSignatureRejected),
            )))
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
    checkAlarms: boolean;
    resultPath: string;
    onHealthy: sfn.IChainable;
    onUnhealthy: { note: string; error: string; resultPath: string; next: sfn.IChainable };
  }): { loop: sfn.Wait; check: tasks.LambdaInvoke } {
    const wait = new sfn.Wait(this, props.wait, { stateName: props.wait, time: sfn.WaitTime.secondsPath('$.service.health.pollSeconds') });
    const check = this.invoke(props.check, 'check-health', {
      'service.$': '$.service',
      'taskDefinitionArn.$': props.taskDefinitionPath,
      'deadline.$': props.deadlinePath,
      checkAlarms: props.checkAlarms,
    }, props.resultPath);
    const note = new sfn.Pass(this, props.onUnhealthy.note, {
      stateName: props.onUnhealthy.note,
      parameters: { Error: props.onUnhealthy.error, 'Cause.$': `${props.resultPath}.reason` },
      resultPath: props.onUnhealthy.resultPath,
    }).next(props.onUnhealthy.next);
    const verdict = `${props.resultPath}.verdict`;
    wait.next(check).next(
      new sfn.Choice(this, props.decide, { stateName: props.decide })
        .when(sfn.Condition.stringEquals(verdict, 'healthy'), props.onHealthy)
        .when(sfn.Condition.stringEquals(verdict, 'progressing'), wait)
        .otherwise(note),
    );
    return { loop: wait, check };
  }

  /** A Lambda step: the payload is the result (no invocation wrapper), service errors and throttling retried with jitter. */
  private invoke(stateName: string, step: StepFunctionName, payload: Record<string, unknown> | undefined, resultPath: string | undefined): tasks.LambdaInvoke {
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
      errors: [...LAMBDA_SERVICE_ERRORS, ERROR_NAMES.transientAws, sfn.Errors.TIMEOUT],
      interval: Duration.seconds(2),
      backoffRate: 2,
      maxAttempts: 6,
      maxDelay: Duration.seconds(60),
      jitterStrategy: sfn.JitterType.FULL,
    });
    return task;
  }
}

/** A profile version ARN (`…/signing-profiles/<name>/<version>`) → its profile ARN; a profile ARN stays as it is. */
function signingProfileArnOf(arn: string): string {
  return arn.replace(/(:\/signing-profiles\/[^/]+)\/[^/]+$/, '$1');
}

function toPascalCase(kebab: string): string {
  return kebab.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase());
}
