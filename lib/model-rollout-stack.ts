import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { ServiceCatalog } from '../lambdas/contract/catalog';
import { AlertRouting } from './alert-routing';
import { createHash } from 'node:crypto';
import { ApproverPolicy } from './approver-policy';
import type { RolloutConfig } from './config';
import { DeploymentLedgerTable } from './deployment-ledger';
import { PrivateNetwork } from './private-network';
import { RolloutPipeline } from './rollout-pipeline';

export interface ModelRolloutStackProps extends StackProps {
  /** The validated configuration; the stack reads the alert addresses from it. */
  readonly config: RolloutConfig;
  /** The services the pipeline may release to, key files already read (see `toServiceCatalog`). */
  readonly catalog: ServiceCatalog;
  /** PEM of the pinned AWS Signer root certificate (see `readSignerRootCertificate`). @default - none */
  readonly signerRootCertificates?: string;
}

/** The whole app: the release pipeline, the ledger it keeps, and the alerts that tell people what it did. */
export class ModelRolloutStack extends Stack {
  /** The private subnets, security groups and VPC endpoints the functions run with. */
  public readonly network: PrivateNetwork;
  /** Every deployment decision, digest and service lock. */
  public readonly ledger: DeploymentLedgerTable;
  /** Starts one execution per pushed image and releases it, health-gated, with rollback. */
  public readonly pipeline: RolloutPipeline;
  /** Routes every outcome (and every execution that ended unexpectedly) to the SNS topic of its severity. */
  public readonly alerts: AlertRouting;
  /** What operators' roles attach to answer a gray release waiting for them (`model-rollout approve` and the like). */
  /** For operators of every service: approve, reject, promote or abort any gray release. */
  public readonly approverPolicy: ApproverPolicy;
  /** For the operators of one gray service (by its name): its waits only. */
  public readonly serviceApproverPolicies: Readonly<Record<string, ApproverPolicy>>;

  constructor(scope: Construct, id: string, props: ModelRolloutStackProps) {
    super(scope, id, props);

    this.network = new PrivateNetwork(this, 'Network', { network: props.config.network, catalog: props.catalog });
    this.ledger = new DeploymentLedgerTable(this, 'Ledger');
    this.pipeline = new RolloutPipeline(this, 'Pipeline', {
      catalog: props.catalog,
      signerRootCertificates: props.signerRootCertificates,
      ledger: this.ledger,
      network: this.network,
      concurrencyPerFunction: props.config.concurrencyPerFunction,
      reconcileEvery: Duration.minutes(props.config.reconcileEveryMinutes),
    });
    this.network.restrictEndpointsTo(
      Object.fromEntries(Object.entries(this.pipeline.functions).map(([name, fn]) => [name, fn.role!])) as Record<
        keyof RolloutPipeline['functions'],
        IRole
      >,
    );
    this.alerts = new AlertRouting(this, 'Alerts', {
      stateMachine: this.pipeline.stateMachine,
      outcomeBus: this.pipeline.outcomeBus,
      subscriptions: props.config.alerts,
      deadLetterQueues: {
        'push events that could not start an execution': this.pipeline.triggerDeadLetterQueue,
        'events the crash finaliser or the reconciliation could not handle': this.pipeline.eventDeadLetterQueue,
      },
    });
    this.approverPolicy = new ApproverPolicy(this, 'ApproverPolicy', { ledger: this.ledger });
    // One more per gray service, answering that service's waits only, for the team that runs it.
    this.serviceApproverPolicies = Object.fromEntries(
      props.catalog
        .filter((entry) => entry.release.strategy === 'gray')
        .map((entry) => [entry.name, this.serviceApproverPolicy(entry.name)]),
    );

    new CfnOutput(this, 'StateMachineArn', {
      description: 'The rollout state machine: one execution per image pushed to a configured repository',
      value: this.pipeline.stateMachine.stateMachineArn,
    });
    // `model-rollout history|rollback|quarantine --stack NAME` find the table and the state machine by these output keys.
    new CfnOutput(this, 'LedgerTableName', {
      description: 'The deployment ledger: every deployment decision, quarantined digests, service locks',
      value: this.ledger.table.tableName,
    });
    new CfnOutput(this, 'ApproverPolicyArn', {
      description: "Attach to operators' roles: model-rollout approve, reject, promote and abort answer a gray release waiting for them",
      value: this.approverPolicy.managedPolicyArn,
    });
    new CfnOutput(this, 'CriticalTopicArn', {
      description: 'Alerts that need someone now: failed rollbacks, executions that ended unexpectedly',
      value: this.alerts.topics.critical.topicArn,
    });
    new CfnOutput(this, 'WarningTopicArn', {
      description: 'Rejected releases, failed deployments, rollbacks',
      value: this.alerts.topics.warning.topicArn,
    });
    new CfnOutput(this, 'InfoTopicArn', {
      description: 'Successful releases',
      value: this.alerts.topics.info.topicArn,
    });
  }

  /**
   * The approver policy of one service, and its output. Named after the service (its letters and digits, and a hash of
   * the whole name, so that `a-b` and `ab` differ), never by its place in the catalog: a service added or removed must
   * not rename another's policy, which CloudFormation would replace under the roles it is attached to.
   */
  private serviceApproverPolicy(service: string): ApproverPolicy {
    const suffix = `${service.replace(/[^A-Za-z0-9]/g, '')}${createHash('sha256').update(service).digest('hex').slice(0, 8)}`;
    const policy = new ApproverPolicy(this, `ApproverPolicy${suffix}`, { ledger: this.ledger, services: [service] });
    new CfnOutput(this, `ApproverPolicyArn${suffix}`, {
      // CloudFormation's limit for an output's description: 1,024 characters.
      description:
        `Attach to the roles of ${service}'s operators: model-rollout approve, reject, promote and abort for ${service} only`.slice(
          0,
          1024,
        ),
      value: policy.managedPolicyArn,
    });
    return policy;
  }
}
