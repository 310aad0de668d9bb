/**
 * The configuration as the rest of the app sees it (defaults applied). The JSON file has the same shape; fields marked
 * `@default` may be left out of it. Unknown keys are rejected everywhere so that a typo cannot silently fall back to a
 * default.
 */
import type { Environment } from '../../lambdas/contract/catalog';
import type { EndpointName } from '../endpoints';

/** The whole configuration file. */
export interface RolloutConfig {
  /** CloudFormation stack name: a letter, then letters, digits and hyphens (at most 128 characters). */
  readonly stackName: string;
  /**
   * 12-digit AWS account to deploy to. Set together with `region` to pin the stack's environment.
   * @default - environment-agnostic stack (the CLI's credentials decide where it deploys)
   */
  readonly account?: string;
  /**
   * AWS Region to deploy to, e.g. `us-east-1`. Set together with `account`.
   * @default - environment-agnostic stack
   */
  readonly region?: string;
  /** Who is e-mailed for each alert severity. */
  readonly alerts: AlertAddresses;
  /**
   * The AWS Signer Notation root certificate (PEM or DER file, relative to the configuration file's folder), pinned:
   * Notation signatures must chain to it. Required when any service trusts a signing profile. Download it from
   * https://d2hvyiie56hcat.cloudfront.net/aws-signer-notation-root.cert and check its fingerprint (README).
   * @default - none (no service may trust a signing profile)
   */
  readonly signerRootCertificate?: string;
  /**
   * Minutes between two reconciliations: each compares the newest allowed tag in every configured repository with the
   * ledger and releases what no push event announced (1 to 1440).
   * @default 15
   */
  readonly reconcileEveryMinutes: number;
  /**
   * Reserved concurrency of each step's function and of the crash finaliser (1 to 100): an execution runs one step at a
   * time, so this many executions can be at the same step at once; more are throttled and retried by the state machine.
   * The reconciliation always has 1 (two at once would only race each other). `"none"` reserves nothing, for accounts
   * whose concurrency quota leaves nothing to reserve (Lambda keeps 100 of it unreserved).
   * @default 5
   */
  readonly concurrencyPerFunction: number | 'none';
  /** The existing VPC every function runs in, and how the functions reach AWS from it. */
  readonly network: NetworkConfig;
  /** The services a pushed image can be released to; at least one. */
  readonly services: readonly ServiceConfig[];
}

/**
 * An existing VPC, named by its attributes (synth looks nothing up). The functions run in its private subnets and reach
 * AWS only through VPC endpoints: no NAT gateway, no internet route.
 */
export interface NetworkConfig {
  /** e.g. `vpc-0123456789abcdef0`. */
  readonly vpcId: string;
  /** The VPC's IPv4 CIDR block: the functions' security group allows HTTPS to it and nothing else in the VPC. */
  readonly vpcCidrBlock: string;
  /** One per private subnet, in the same order, e.g. `eu-west-1a`. */
  readonly availabilityZones: readonly string[];
  /** The private subnets the functions (and created interface endpoints) are placed in, one per availability zone. */
  readonly privateSubnetIds: readonly string[];
  /**
   * The private subnets' route tables, in the same order: created gateway endpoints (S3, DynamoDB) add their routes
   * there. Required unless `endpoints` is `existing` or both gateway endpoints are listed in `existingEndpoints`.
   * @default []
   */
  readonly privateRouteTableIds: readonly string[];
  /**
   * `create`: the stack creates every VPC endpoint the pipeline needs (except those in `existingEndpoints`).
   * `existing`: the VPC already has them all; the stack creates none.
   * @default "create"
   */
  readonly endpoints: 'create' | 'existing';
  /** With `create`: endpoints the VPC already has (e.g. `s3`), which the stack must not create twice. @default [] */
  readonly existingEndpoints: readonly EndpointName[];
  /**
   * Security groups of endpoints the stack does not create: the stack adds one rule to each, HTTPS in from the
   * functions' security group. @default []
   */
  readonly endpointSecurityGroupIds: readonly string[];
  /**
   * The Region's AWS-managed prefix lists of S3 and DynamoDB (`aws ec2 describe-managed-prefix-lists`): the functions'
   * security group allows HTTPS to them, the destinations of the gateway endpoints' routes.
   */
  readonly gatewayPrefixLists: { readonly s3: string; readonly dynamodb: string };
}

/** E-mail addresses subscribed to each severity's SNS topic. SNS asks each address to confirm first. */
export interface AlertAddresses {
  /** Rollbacks that failed and executions that ended unexpectedly: someone must act now. @default [] */
  readonly critical: readonly string[];
  /** Rejected releases, failed deployments, successful rollbacks. @default [] */
  readonly warning: readonly string[];
  /** Successful releases. @default [] */
  readonly info: readonly string[];
}

/** One ECS service that images pushed to one ECR repository are released to. */
export interface ServiceConfig {
  /** Unique name used in alerts, logs and the execution output. */
  readonly name: string;
  /** Decides the tag policy: development tags never reach `production`. */
  readonly environment: Environment;
  /**
   * ECR repository name (not URI), e.g. `models/sentiment`. A repository feeds at most one service, because this
   * version starts exactly one execution per push.
   */
  readonly repository: string;
  /** ECS cluster name or ARN. */
  readonly cluster: string;
  /** ECS service name inside the cluster. */
  readonly service: string;
  /** Name of the container in the task definition whose image is replaced. */
  readonly container: string;
  /**
   * Family of the service's task definition (`family` in RegisterTaskDefinition): the only family the pipeline may
   * register revisions of (IAM scopes ecs:RegisterTaskDefinition to `task-definition/<family>:*`).
   */
  readonly taskDefinitionFamily: string;
  /**
   * ARN of the task role the service's task definition names: the only task role the pipeline may pass to ECS.
   * @default - none: a task definition that names a task role is refused
   */
  readonly taskRoleArn?: string;
  /**
   * ARN of the task execution role the service's task definition names: the only execution role the pipeline may pass.
   * @default - none: a task definition that names an execution role is refused
   */
  readonly executionRoleArn?: string;
  readonly signing: SigningConfig;
  readonly health: HealthConfig;
  /**
   * How a release reaches the service's traffic. When the block is given, `strategy` is required.
   * @default { "strategy": "rolling" }
   */
  readonly release: ReleaseConfig;
}

/**
 * Who may sign images for the service: any mix of cosign public keys, KMS keys and AWS Signer signing profiles, at
 * least one. An image needs valid signatures by `threshold` distinct trusted signers.
 */
export interface SigningConfig {
  /**
   * PEM files holding public keys (what `cosign public-key` prints): EC P-256 / P-384 or RSA, relative to the
   * configuration file's folder. List two while rotating keys. @default []
   */
  readonly publicKeys: readonly string[];
  /**
   * KMS asymmetric signing keys (`cosign sign --key awskms:///…`): key ARN, alias ARN or `alias/<name>` (in the stack's
   * account and Region). @default []
   */
  readonly kmsKeys: readonly string[];
  /**
   * AWS Signer signing profile ARNs (`arn:aws:signer:<region>:<account>:/signing-profiles/<name>`), or profile version
   * ARNs to trust one version only: Notation signatures, including ECR managed signing. Needs `signerRootCertificate`.
   * @default []
   */
  readonly signingProfiles: readonly string[];
  /** Distinct trusted signers that must have signed: 1 to the number of signers listed. @default 1 */
  readonly threshold: number;
  /** Seconds to wait for a signature pushed after the image (or for ECR managed signing): 0–1800. @default 180 */
  readonly lateSignatureSeconds: number;
  /** Seconds between two looks for a late signature: 5–300. @default 15 */
  readonly pollSeconds: number;
}

/** When a release counts as healthy, and how long it may take to get there. */
export interface HealthConfig {
  /** Minutes a rollout (and, separately, a rollback) may take to become healthy: 1–120. @default 15 */
  readonly deadlineMinutes: number;
  /**
   * 5–300, and shorter than the deadline. No longer how often health is checked: the health wait is woken by ECS and
   * alarm events, and looks itself only every quarter of the deadline. Kept so that existing configurations parse,
   * and as a margin of the service lock's lease (lambdas/decisions/time-budget.ts). @default 30
   */
  readonly pollSeconds: number;
  /** CloudWatch alarm names that must be OK before a release counts as healthy. @default [] */
  readonly alarms: readonly string[];
}

/**
 * `rolling`: ECS's own rolling deployment of the service, judged by `health`. `gray`: the release goes to a canary
 * service first and takes traffic in steps, each analysed before the next (configured and checked, not yet run: synth
 * refuses it until the gray release states are built).
 */
export type ReleaseConfig = RollingReleaseConfig | GrayReleaseConfig;

export interface RollingReleaseConfig {
  readonly strategy: 'rolling';
}

/**
 * A gray release: the stable service keeps serving while a canary service of the same task definition family runs the
 * release behind the same weighted ALB forward action, and takes `steps[].weight` percent of the requests, step by step.
 */
export interface GrayReleaseConfig {
  readonly strategy: 'gray';
  readonly traffic: TrafficConfig;
  /**
   * The traffic steps: weights are whole percents, strictly increasing, the last one 100; each step bakes at least one
   * analysis interval.
   * @default five steps of 5, 10, 30, 60 and 100 percent, 30 minutes each, none with an approval
   */
  readonly steps: readonly TrafficStepConfig[];
  /** Approvals a human gives with `model-rollout approve`. The whole block may be left out. */
  readonly approval: ApprovalConfig;
  /**
   * Minutes the previous version stays on the stable service, idle, after the 100 % step passed (a quick way back): 0
   * to 20160.
   * @default 60
   */
  readonly keepPreviousMinutes: number;
  readonly canary: CanaryConfig;
  /** When a step's analysis passes, fails or cannot tell. Every field has a default. */
  readonly analysis: AnalysisConfig;
  /** The HTTP check each canary task must answer before and during its traffic. */
  readonly probe: ProbeConfig;
}

/**
 * Where the weighted forward action lives and what it weighs: exactly one of `listenerRuleArn` and `listenerArn`.
 * Application Load Balancers only: a Network Load Balancer's forward action takes a single target group.
 */
export type TrafficConfig = ListenerRuleTrafficConfig | ListenerTrafficConfig;

export interface ListenerRuleTrafficConfig extends TrafficTargetsConfig {
  /** The listener rule whose forward action weighs the two target groups (`arn:aws:elasticloadbalancing:…:listener-rule/app/…`). */
  readonly listenerRuleArn: string;
  readonly listenerArn?: undefined;
}

export interface ListenerTrafficConfig extends TrafficTargetsConfig {
  /** The listener whose default action weighs the two target groups (`arn:aws:elasticloadbalancing:…:listener/app/…`). */
  readonly listenerArn: string;
  readonly listenerRuleArn?: undefined;
}

export interface TrafficTargetsConfig {
  /** The target group of the stable service (`arn:aws:elasticloadbalancing:…:targetgroup/<name>/<id>`). */
  readonly stableTargetGroupArn: string;
  /** The canary service's target group: another one than the stable service's. */
  readonly canaryTargetGroupArn: string;
  /** Name of the canary ECS service, in the same cluster as `service` and not `service` itself. */
  readonly canaryService: string;
  /** The tasks' security group (`sg-…`): the stack opens it to the probe on `probe.port`. */
  readonly taskSecurityGroupId: string;
}

export interface TrafficStepConfig {
  /** Percent of the requests the canary gets in this step (a whole number from 1 to 100); the stable service the rest. */
  readonly weight: number;
  /** Minutes the step is observed before it may pass: 1 to 20160, and at least `analysis.intervalMinutes`. */
  readonly bakeMinutes: number;
  /** Whether a human must approve before the release goes past this step. @default false */
  readonly approval: boolean;
}

export interface ApprovalConfig {
  /**
   * Whether a human must approve before the canary gets any traffic.
   * @default - true when the service's environment is "production", else false
   */
  readonly beforeFirstStep: boolean;
  /** Minutes an approval waits for an answer: 1 to 20160. @default 240 */
  readonly timeoutMinutes: number;
  /** What ends an approval nobody answered in time. @default "rollback" */
  readonly onTimeout: 'rollback' | 'continue';
}

export interface CanaryConfig {
  /**
   * The canary runs ceil(stable desired count × weight / 100) tasks, and at least this many: 1 to 100.
   * @default 1
   */
  readonly minTasks: number;
}

/**
 * Each step is analysed every `intervalMinutes` over the last `windowMinutes` of ALB metrics of both target groups, the
 * window ending `metricLagSeconds` before now.
 */
export interface AnalysisConfig {
  /** Minutes between two analyses while a step bakes: 1 to 60. @default 5 */
  readonly intervalMinutes: number;
  /** Minutes of metrics one analysis looks at: 1 to 60. @default 5 */
  readonly windowMinutes: number;
  /** How long ALB metrics take to arrive: 0 to 900 seconds. @default 180 */
  readonly metricLagSeconds: number;
  /** Fewer canary requests in a window than this, and the analysis is inconclusive: 1 to 1000000. @default 200 */
  readonly minRequests: number;
  /** The canary's 5XX + connection error rate, in percent, above which it fails: 0 to 100. @default 1 */
  readonly maxErrorRatePercent: number;
  /** Percentage points the canary's error rate may exceed the stable service's: 0 to 100. @default 0.5 */
  readonly maxErrorRateIncrease: number;
  /** The canary's p99 target response time, in milliseconds, above which it fails: 1 to 600000. @default 2000 */
  readonly maxP99Ms: number;
  /** The canary fails when its p99 is above the stable service's p99 times this: 1 to 10. @default 1.25 */
  readonly maxP99Ratio: number;
  /** Failed analyses a step tolerates; one more aborts the release: 0 to 20. @default 0 */
  readonly failureLimit: number;
  /** Inconclusive analyses a step tolerates; one more does `onInconclusive`: 0 to 20. @default 2 */
  readonly inconclusiveLimit: number;
  /** `pause`: wait for a human (`model-rollout promote` or `abort`); `rollback`: abort the release. @default "pause" */
  readonly onInconclusive: 'pause' | 'rollback';
  /** CloudWatch alarm names that must be OK: ALARM fails the step, no data makes it inconclusive. @default [] */
  readonly alarms: readonly string[];
}

/** `GET <path>` on each canary task; it passes with `expectStatus` within `maxLatencyMs`. */
export interface ProbeConfig {
  /** Path of the health endpoint. @default "/health" */
  readonly path: string;
  /** Port every canary task answers the probe on: 1 to 65535 (no default: it is the container's). */
  readonly port: number;
  /** The HTTP status a healthy task answers: 100 to 599. @default 200 */
  readonly expectStatus: number;
  /** The slowest answer that still counts as healthy: 1 to 10000 ms. @default 200 */
  readonly maxLatencyMs: number;
  /** Requests sent to each task: 1 to 10, and at least 2 with `warmup`. @default 5 */
  readonly attempts: number;
  /** How long one request may take before it counts as failed: 1 to 10000 ms, at least `maxLatencyMs`. @default 1000 */
  readonly timeoutMs: number;
  /** Whether each task's first answer is discarded (connection set-up, a model server's first /health). @default true */
  readonly warmup: boolean;
}
