import { Duration, Stack } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { ServiceCatalog } from '../lambdas/contract/catalog';
import { executionTimeoutSeconds } from '../lambdas/decisions/time-budget';
import {
  DEFAULT_CONCURRENCY_PER_FUNCTION,
  DEFAULT_RECONCILE_EVERY_MINUTES,
  requireConcurrency,
  requireServices,
  requireSignerRoots,
} from './config';
import type { DeploymentLedgerTable } from './deployment-ledger';
import { PipelineFunctions } from './pipeline/functions';
import { deadLetterQueue, environmentEncryptionKey, logsEncryptionKey, queueEncryptionKey } from './pipeline/keys-and-queues';
import { outcomeBus, rolloutStateMachine } from './pipeline/state-machine';
import { lambdaTask, lambdaWaitTask } from './pipeline/lambda-task';
import { pushTriggers } from './pipeline/push-triggers';
import { acknowledgeStateMachineRole, restrictOutcomeBus } from './pipeline/state-machine-role';
import type { PrivateNetwork } from './private-network';
import { definition, PIPELINE_FUNCTIONS } from './runbook';
import { crashFinaliserRule } from './stages/crash-finaliser';
import { publishForPeople } from './stages/outcomes';
import { healthEventRules } from './stages/rollout/health-events';
import { signaturePushRules } from './stages/signature';
import { reconciliationRule } from './stages/reconciliation';
import type { StageContext } from './stages/stage';
import { type FunctionName, type RuleTargetName, STEP_FUNCTIONS } from './state-names';

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
 * The release pipeline: an ECR push starts an execution that reads top to bottom like the runbook it replaces
 * (lib/runbook.ts: check the release against policy, record it in the ledger, verify its signature, wait for the
 * service lock, roll it out, roll back to the last known good version when it is not healthy). Every path ends by
 * recording its outcome in the ledger and publishing it as one EventBridge event (routed to people by AlertRouting).
 * Around it: a rule that finalises executions that crashed, and a schedule that releases what no push event announced.
 * This construct only assembles: keys and queues, the stages' functions (lib/pipeline/functions.ts), the definition,
 * the state machine and the rules.
 */
export class RolloutPipeline extends Construct {
  public readonly catalog: ServiceCatalog;
  public readonly stateMachine: sfn.StateMachine;
  public readonly functions: Record<FunctionName, nodejs.NodejsFunction>;
  /** Each function's own role policy (customer-managed): everything the function may do, and nothing else. */
  public readonly policies: Record<FunctionName, iam.ManagedPolicy>;
  /** Further policies of a function whose permissions do not fit one (many services), in order. */
  public readonly overflowPolicies: Partial<Record<FunctionName, iam.ManagedPolicy[]>>;
  /** Customer-managed key (rotated yearly) of every log group: the functions' and the executions'. */
  public readonly logsKey: kms.Key;
  /** Customer-managed key (rotated yearly) of both dead-letter queues. */
  public readonly queueKey: kms.Key;
  /**
   * Customer-managed key (rotated yearly) for the functions' environment variables, which hold the pinned AWS Signer
   * root (a trust anchor), the ledger table name and the state machine ARN. Lambda decrypts them through a grant to each
   * function's role, which it creates when the function is deployed: the roles need no KMS permission of their own.
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
  /**
   * Wake the executions waiting on a service: its ECS deployment events, its alarms' events, and pushes to its
   * repository that may bring a late signature.
   */
  public readonly waitEvents: readonly events.Rule[];
  /** Starts the pipeline for the newest allowed tag of each repository when the ledger never saw it. */
  public readonly reconciliation: events.Rule;
  /** Events the finaliser, the reconciliation and the health wait could not be invoked for or failed on, kept 14 days. */
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
    const rootCertificates = props.signerRootCertificates ?? '';
    const concurrency = props.concurrencyPerFunction ?? DEFAULT_CONCURRENCY_PER_FUNCTION;
    // The configuration's own rules, for a pipeline built from a catalog directly.
    requireServices(catalog);
    requireSignerRoots(catalog, rootCertificates);
    requireConcurrency(concurrency);

    this.logsKey = logsEncryptionKey(this);
    this.environmentKey = environmentEncryptionKey(this);
    this.queueKey = queueEncryptionKey(this);
    this.triggerDeadLetterQueue = deadLetterQueue(
      this,
      'TriggerDeadLetterQueue',
      this.queueKey,
      'push events that could not start an execution',
    );
    this.eventDeadLetterQueue = deadLetterQueue(
      this,
      'EventDeadLetterQueue',
      this.queueKey,
      'events the crash finaliser, the reconciliation and the health wait could not handle',
    );

    const pipelineFunctions = new PipelineFunctions(this, {
      specs: PIPELINE_FUNCTIONS,
      catalogJson: JSON.stringify(catalog),
      rootCertificates,
      concurrency,
      network: props.network,
      ledger: props.ledger,
      logsKey: this.logsKey,
      environmentKey: this.environmentKey,
      queueKey: this.queueKey,
      eventDeadLetterQueue: this.eventDeadLetterQueue,
    });
    this.functions = pipelineFunctions.functions;
    this.policies = pipelineFunctions.policies;
    this.overflowPolicies = pipelineFunctions.overflowPolicies;

    this.outcomeBus = outcomeBus(this);
    ({ stateMachine: this.stateMachine, executionLogGroup: this.executionLogGroup } = rolloutStateMachine(this, {
      definition: definition(this.stageContext(), this.outcomeBus),
      timeout: props.executionTimeout ?? Duration.seconds(executionTimeoutSeconds(catalog)),
      logsKey: this.logsKey,
    }));
    this.triggers = pushTriggers(this, catalog, this.stateMachine, this.triggerDeadLetterQueue);
    this.trigger = this.triggers[0]!;
    this.crashFinaliser = crashFinaliserRule(this, this.stateMachine, this.eventTarget('finalise-execution'));
    const awaitHealth = this.eventTarget('await-health');
    this.waitEvents = [...healthEventRules(this, catalog, awaitHealth), ...signaturePushRules(this, catalog, awaitHealth)];
    this.reconciliation = reconciliationRule(
      this,
      props.reconcileEvery ?? Duration.minutes(DEFAULT_RECONCILE_EVERY_MINUTES),
      this.eventTarget('reconcile'),
    );
    this.writePermissions(pipelineFunctions);
  }

  /** Every function's permissions (now that the state machine they name exists), the outcome bus's, the acknowledgements. */
  private writePermissions(pipelineFunctions: PipelineFunctions): void {
    const stack = Stack.of(this);
    pipelineFunctions.grantAll({
      catalog: this.catalog,
      stateMachine: this.stateMachine,
      // The stack's own account and region: literal values when the configuration pins them, pseudo parameters otherwise.
      arn: (service, resource) => `arn:${stack.partition}:${service}:${stack.region}:${stack.account}:${resource}`,
    });
    restrictOutcomeBus(this.outcomeBus, this.stateMachine);
    pipelineFunctions.writePolicies(this.catalog.length);
    acknowledgeStateMachineRole(this.stateMachine, Object.fromEntries(STEP_FUNCTIONS.map((name) => [name, this.functions[name]])));
  }

  /** An event function as a rule's target: failed deliveries retried for 6 hours, then kept in the event DLQ. */
  private eventTarget(name: RuleTargetName): targets.LambdaFunction {
    return new targets.LambdaFunction(this.functions[name], {
      deadLetterQueue: this.eventDeadLetterQueue,
      retryAttempts: 8,
      maxEventAge: Duration.hours(6),
    });
  }

  /** What the stages build their states with: Lambda Tasks invoking this pipeline's functions. */
  private stageContext(): StageContext {
    const specs = new Map(PIPELINE_FUNCTIONS.map((spec) => [spec.name, spec]));
    return {
      scope: this,
      invoke: (stateName, step, payload, resultPath) =>
        lambdaTask(this, stateName, this.functions[step], specs.get(step)!, payload, resultPath),
      invokeAndWait: (stateName, step, payload, resultPath, timeout) =>
        lambdaWaitTask(this, stateName, this.functions[step], payload, resultPath, timeout),
      publishForPeople: (stateName, detailType, detailPath) => publishForPeople(this, stateName, this.outcomeBus, detailType, detailPath),
    };
  }
}
