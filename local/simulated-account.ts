/**
 * A simulated AWS account for the local run and the workflow tests. One module per AWS service, mirroring the
 * adapters, each written from that service's documentation (see the comment at the top of each):
 * `simulated/ecr.ts` (images, signatures, referrers, managed signing), `simulated/ecs.ts` (services, deployments,
 * service deployments, task definitions, ECS's own rollback), `simulated/cloudwatch.ts` (alarms),
 * `simulated/kms.ts` (signing keys), `simulated/signer.ts` (revocation), `simulated/elbv2.ts` (listeners, rules and
 * their weighted forward actions, target groups and target health, with ECS registering its services' tasks:
 * `simulated/ecs-tasks.ts`); and what the tasks answer over HTTP (`simulated/health-endpoints.ts`). This facade answers the very SDK commands
 * the adapters send (through `send`), records every call, injects the failures a scenario asks for, and keeps the
 * one clock all of them read.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  DescribeImageSigningStatusCommand,
  DescribeRepositoriesCommand,
  GetDownloadUrlForLayerCommand,
  ListImageReferrersCommand,
} from '@aws-sdk/client-ecr';
import {
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import {
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTargetHealthCommand,
  ModifyListenerCommand,
  ModifyRuleCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetPublicKeyCommand } from '@aws-sdk/client-kms';
import { GetRevocationStatusCommand } from '@aws-sdk/client-signer';
import { SimulatedAlbMetrics } from './simulated/alb-metrics';
import { injectedError, type InjectedFailure } from './simulated/aws-error';
import { SimulatedCloudWatch, type AlarmValue } from './simulated/cloudwatch';
import { SimulatedEcr, type Arrival, type SimulatedReferrer, type SimulatedSigning } from './simulated/ecr';
import { SimulatedEcs, type RolloutBehaviour, type RunningImage, type SimulatedServiceSpec } from './simulated/ecs';
import type { AwsEvent } from './simulated/ecs-model';
import { SimulatedElbv2 } from './simulated/elbv2';
import { SimulatedHealthEndpoints } from './simulated/health-endpoints';
import { SimulatedKms, type SimulatedKmsKey } from './simulated/kms';
import { SimulatedSigner } from './simulated/signer';

export type { Arrival, SimulatedReferrer, SimulatedSigning } from './simulated/ecr';
export type { RolloutBehaviour, RunningImage, SimulatedServiceSpec, DeploymentController } from './simulated/ecs';
export type { SimulatedKmsKey } from './simulated/kms';
export type { SimulatedTargetHealth, TargetRef, WeightedTargetGroup } from './simulated/elbv2';
export type { InjectedFailure } from './simulated/aws-error';

/** Every SDK command the simulated account answers, by the name `awsFailures` and `calls` use. */
const ANSWERS = {
  BatchGetImage: (a: SimulatedAccount, input: any) => a.services.ecr.batchGetImage(input),
  GetDownloadUrlForLayer: (a: SimulatedAccount, input: any) => a.services.ecr.getDownloadUrlForLayer(input),
  ListImageReferrers: (a: SimulatedAccount, input: any) => a.services.ecr.listImageReferrers(input),
  DescribeRepositories: (a: SimulatedAccount, input: any) => a.services.ecr.describeRepositories(input),
  DescribeImages: (a: SimulatedAccount, input: any) => a.services.ecr.describeImages(input),
  DescribeImageSigningStatus: (a: SimulatedAccount, input: any) => a.services.ecr.describeImageSigningStatus(input),
  GetPublicKey: (a: SimulatedAccount, input: any) => a.services.kms.getPublicKey(input),
  GetRevocationStatus: (a: SimulatedAccount, input: any) => a.services.signer.getRevocationStatus(input),
  DescribeServices: (a: SimulatedAccount, input: any) => a.services.ecs.describeServices(input),
  DescribeTaskDefinition: (a: SimulatedAccount, input: any) => a.services.ecs.describeTaskDefinition(input),
  RegisterTaskDefinition: (a: SimulatedAccount, input: any) => a.services.ecs.registerTaskDefinitionCommand(input),
  UpdateService: (a: SimulatedAccount, input: any) => a.services.ecs.updateService(input),
  DescribeServiceDeployments: (a: SimulatedAccount, input: any) => a.services.ecs.describeServiceDeployments(input),
  DescribeAlarms: (a: SimulatedAccount, input: any) => a.services.cloudWatch.describeAlarms(input),
  GetMetricData: (a: SimulatedAccount, input: any) => a.services.albMetrics.getMetricData(input),
  DescribeRules: (a: SimulatedAccount, input: any) => a.services.elbv2.describeRules(input),
  ModifyRule: (a: SimulatedAccount, input: any) => a.services.elbv2.modifyRule(input),
  DescribeListeners: (a: SimulatedAccount, input: any) => a.services.elbv2.describeListeners(input),
  ModifyListener: (a: SimulatedAccount, input: any) => a.services.elbv2.modifyListener(input),
  DescribeTargetHealth: (a: SimulatedAccount, input: any) => a.services.elbv2.describeTargetHealth(input),
} as const;

const COMMAND_CLASSES: readonly [new (...args: never[]) => unknown, keyof typeof ANSWERS][] = [
  [BatchGetImageCommand, 'BatchGetImage'],
  [GetDownloadUrlForLayerCommand, 'GetDownloadUrlForLayer'],
  [ListImageReferrersCommand, 'ListImageReferrers'],
  [DescribeRepositoriesCommand, 'DescribeRepositories'],
  [DescribeImagesCommand, 'DescribeImages'],
  [DescribeImageSigningStatusCommand, 'DescribeImageSigningStatus'],
  [GetPublicKeyCommand, 'GetPublicKey'],
  [GetRevocationStatusCommand, 'GetRevocationStatus'],
  [DescribeServicesCommand, 'DescribeServices'],
  [DescribeTaskDefinitionCommand, 'DescribeTaskDefinition'],
  [RegisterTaskDefinitionCommand, 'RegisterTaskDefinition'],
  [UpdateServiceCommand, 'UpdateService'],
  [DescribeServiceDeploymentsCommand, 'DescribeServiceDeployments'],
  [DescribeAlarmsCommand, 'DescribeAlarms'],
  [GetMetricDataCommand, 'GetMetricData'],
  [DescribeRulesCommand, 'DescribeRules'],
  [ModifyRuleCommand, 'ModifyRule'],
  [DescribeListenersCommand, 'DescribeListeners'],
  [ModifyListenerCommand, 'ModifyListener'],
  [DescribeTargetHealthCommand, 'DescribeTargetHealth'],
];

/** Commands the simulated account answers (and records in `calls`). */
export const ANSWERED_COMMANDS: readonly string[] = Object.keys(ANSWERS);

/**
 * Commands a failure may be injected into: those the account answers, and the state machine's own PutEvents (answered
 * by the local run).
 */
export const INJECTABLE_COMMANDS: readonly string[] = [...ANSWERED_COMMANDS, 'PutEvents'];

/** Failures to inject, per command: each entry the outcome of the next call (null lets that call succeed). */
export type FailurePlan = Record<string, string | InjectedFailure | null | (string | InjectedFailure | null)[]>;

/** One execution's share of the account: the failures injected into its calls only, and the calls it made. */
interface ExecutionScope {
  failures: Map<string, (InjectedFailure | null)[]>;
  calls: { command: string; input: unknown }[];
}

/** What one execution did to the account (see SimulatedAccount.asExecution). */
export interface ExecutionCalls<T> {
  result: T;
  /** The commands the account answered for this execution, in order. */
  calls: { command: string; input: unknown }[];
  /** Injected failures this execution's calls never reached, per command: a scenario knob that had no effect. */
  unusedFailures: Record<string, number>;
}

const DEFAULT_REDEPLOY: RolloutBehaviour = { result: 'completes', settlesAfterSeconds: 60 };

export class SimulatedAccount {
  readonly account: string;
  readonly region: string;
  private now: Date;
  /** The simulated services, one per AWS service. */
  readonly services: {
    ecr: SimulatedEcr;
    ecs: SimulatedEcs;
    cloudWatch: SimulatedCloudWatch;
    kms: SimulatedKms;
    signer: SimulatedSigner;
    /** CloudWatch's ALB per-target-group metrics (GetMetricData), from a traffic model. */
    albMetrics: SimulatedAlbMetrics;
    elbv2: SimulatedElbv2;
    /** The tasks' HTTP endpoints (the health probe's GET and clock). */
    healthEndpoints: SimulatedHealthEndpoints;
  };
  private readonly behaviourByDigest = new Map<string, RolloutBehaviour>();
  private readonly scheduledFailures = new Map<string, (InjectedFailure | null)[]>();
  /** The execution whose calls are being answered: its async context, so executions side by side stay apart. */
  private readonly execution = new AsyncLocalStorage<ExecutionScope>();
  /** Every command the account answered, in order: what the pipeline did, for tests and the report. */
  readonly calls: { command: string; input: unknown }[] = [];
  /** Events the services put on the default bus (ECS deployments, alarms) that nobody has taken yet. */
  private readonly pendingEvents: AwsEvent[] = [];
  /** Events a rule delivered to a function (each one Lambda invocation), in order: for the bench and the tests. */
  readonly deliveredEvents: AwsEvent[] = [];
  /** Delivered events the function failed on (in AWS: retried, then kept in the dead-letter queue). */
  readonly failedDeliveries: { event: AwsEvent; error: string }[] = [];

  constructor(options: { account?: string; region?: string; start?: Date } = {}) {
    this.account = options.account ?? '123456789012';
    this.region = options.region ?? 'us-east-1';
    this.now = options.start ?? new Date('2026-11-20T01:16:47Z');
    const emit = (event: AwsEvent) => this.pendingEvents.push(event);
    const cloudWatch = new SimulatedCloudWatch(this.clock, `arn:aws:cloudwatch:${this.region}:${this.account}`, emit);
    const ecr = new SimulatedEcr(this.clock, this.account, this.region, emit);
    const elbv2 = new SimulatedElbv2({ clock: this.clock, account: this.account, region: this.region });
    const ecs = new SimulatedEcs({
      clock: this.clock,
      account: this.account,
      region: this.region,
      behaviourOf: (image) => this.behaviourByDigest.get(ecr.resolveImage(image) ?? '') ?? DEFAULT_REDEPLOY,
      setAlarm: (name, value) => cloudWatch.setAlarm(name, value),
      emit,
      loadBalancing: {
        has: (targetGroupArn) => elbv2.hasTargetGroup(targetGroupArn),
        register: (targetGroupArn, targets, at, settled) => elbv2.registerTaskTargets(targetGroupArn, targets, at, settled),
        deregister: (targetGroupArn, targets, at) => elbv2.deregisterTargets(targetGroupArn, targets, at),
      },
    });
    this.services = {
      ecr,
      cloudWatch,
      ecs,
      kms: new SimulatedKms(this.account, this.region),
      signer: new SimulatedSigner(),
      albMetrics: new SimulatedAlbMetrics(this.clock),
      elbv2,
      healthEndpoints: new SimulatedHealthEndpoints((ip) => ecs.taskAt(ip)),
    };
  }

  // ---- time
  readonly clock = (): Date => new Date(this.now);
  advance(seconds: number): void {
    this.now = new Date(this.now.getTime() + seconds * 1000);
  }

  // ---- ECR
  repositoryUri(repositoryName: string): string {
    return this.services.ecr.repositoryUri(repositoryName);
  }

  /** Pushes an image (see SimulatedEcr.pushImage) and records how ECS will treat a deployment of it. */
  pushImage(repositoryName: string, tag: string, behaviour: RolloutBehaviour, labels: Record<string, string> = {}): string {
    const digest = this.services.ecr.pushImage(repositoryName, tag, labels);
    this.behaviourByDigest.set(digest, behaviour);
    return digest;
  }

  tagImage(repositoryName: string, tag: string, digest: string): void {
    this.services.ecr.tagImage(repositoryName, tag, digest);
  }

  holdImageAt(repositoryName: string, digest: string): void {
    this.services.ecr.holdImageAt(repositoryName, digest);
  }

  pushSignature(
    repositoryName: string,
    signature: { signatureTag: string; manifest: string; manifestMediaType: string; blobs: Map<string, Uint8Array> },
    arrival: Arrival = {},
  ): void {
    this.services.ecr.pushSignature(repositoryName, signature, arrival);
  }

  pushReferrer(referrer: SimulatedReferrer): string {
    return this.services.ecr.pushReferrer(referrer);
  }

  setSigningStatus(repositoryName: string, digest: string, signing: SimulatedSigning): void {
    this.services.ecr.setSigningStatus(repositoryName, digest, signing);
  }

  readonly fetchBlob = (url: string): Promise<Uint8Array> => this.services.ecr.fetchBlob(url);

  // ---- KMS, AWS Signer
  registerKmsKey(key: SimulatedKmsKey): void {
    this.services.kms.registerKmsKey(key);
  }

  revokeSignerEntity(entity: string, options: { effectiveFrom?: Date } = {}): void {
    this.services.signer.revokeSignerEntity(entity, options);
  }

  // ---- ECS, CloudWatch
  /**
   * Creates a service running `image` (or a task definition registered before), settled and healthy, with its alarms
   * OK; `deploying` starts a deployment of another image before the pipeline first looks.
   */
  createService(
    spec: SimulatedServiceSpec,
    running: RunningImage | { taskDefinitionArn: string },
    deploying?: { uri: string; behaviour: RolloutBehaviour },
  ): void {
    for (const alarm of spec.alarms) this.services.cloudWatch.setAlarm(alarm, 'OK');
    this.services.ecs.createService(spec, running, deploying);
    // The service existed before the pipeline did: what it announced while being set up was never the pipeline's to hear.
    this.pendingEvents.length = 0;
  }

  /** The image (by URI) the service's primary deployment runs, and whether that deployment finished. */
  runningImage(cluster: string, service: string): { image: string; rolloutState: string; taskDefinitionArn: string } {
    return this.services.ecs.runningImage(cluster, service);
  }

  setAlarm(name: string, value: AlarmValue): void {
    this.services.cloudWatch.setAlarm(name, value);
  }

  // ---- events on the default bus
  /**
   * Lets simulated time act on every service (as a look at any of them would), then takes the events the services
   * have put on the default bus since the last take, oldest first.
   */
  takeEvents(): AwsEvent[] {
    this.services.ecs.settleAll();
    this.services.ecr.settle();
    const taken = this.pendingEvents.splice(0).sort((a, b) => a.time.localeCompare(b.time));
    return this.losesEvents ? [] : taken;
  }

  /** A scenario's knob: the events the services put on the bus never reach any rule. */
  losesEvents = false;

  /** When simulated time next changes a service by itself (a deployment settles, a bake ends, an alarm trips); null: never. */
  nextChange(): Date | null {
    const changes = [this.services.ecs.nextChangeAt(), this.services.ecr.nextPushAt()].filter((at) => at !== null);
    return changes.length === 0 ? null : new Date(Math.min(...changes));
  }

  // ---- injected failures
  /**
   * Schedules the outcome of the next call of `command` (e.g. `UpdateService`, `BatchGetImage`, `PutEvents`): an AWS
   * error name to fail with (its fault kind as AWS gives it: see simulated/aws-error.ts), a failure that takes effect
   * and then loses its response (`{ error, applied: true }`), or null to let that call succeed. Consumed in order.
   */
  failNext(command: string, failure: string | InjectedFailure | null): void {
    scheduleFailures(this.scheduledFailures, { [command]: failure });
  }

  /**
   * Runs `run` as one execution: the failures planned here are taken by its own calls only (never by an execution
   * running beside it, nor by an operator's command), and its calls are recorded apart. Returns what `run` returned,
   * the commands answered for it, and the failures it never reached.
   */
  async asExecution<T>(failures: FailurePlan, run: () => Promise<T>): Promise<ExecutionCalls<T>> {
    const scope: ExecutionScope = { failures: new Map(), calls: [] };
    scheduleFailures(scope.failures, failures);
    const result = await this.execution.run(scope, run);
    const unusedFailures = Object.fromEntries(
      [...scope.failures].map(([command, list]) => [command, list.filter((f) => f !== null).length] as const).filter(([, n]) => n > 0),
    );
    return { result, calls: scope.calls, unusedFailures };
  }

  /**
   * Runs `run` as no execution's: a function invoked by an event rather than by this execution's states (the health
   * wait woken by an ECS event) takes none of the execution's injected failures and adds nothing to its calls.
   */
  outsideExecutions<T>(run: () => Promise<T>): Promise<T> {
    return this.execution.exit(run);
  }

  /**
   * Throws the failure scheduled for `command`, if any (for calls the local run answers itself, like PutEvents); a
   * failure that takes effect runs `takeEffect` first.
   */
  throwScheduledFailure(command: string, takeEffect?: () => void): void {
    const failure = this.takeScheduledFailure(command);
    if (!failure) return;
    if (failure.applied) takeEffect?.();
    throw injectedError(failure, command);
  }

  // ---- the SDK clients' `send`
  readonly ecr = { send: async (command: unknown): Promise<any> => this.answer(command) };
  readonly ecs = { send: async (command: unknown): Promise<any> => this.answer(command) };
  readonly cloudwatch = { send: async (command: unknown): Promise<any> => this.answer(command) };
  readonly kms = { send: async (command: unknown): Promise<any> => this.answer(command) };
  readonly signer = { send: async (command: unknown): Promise<any> => this.answer(command) };
  readonly elbv2 = { send: async (command: unknown): Promise<any> => this.answer(command) };

  private answer(command: unknown): unknown {
    const input = (command as { input: any }).input;
    const name = COMMAND_CLASSES.find(([type]) => command instanceof type)?.[1];
    if (!name) throw new Error(`The simulated account does not answer ${(command as object).constructor.name}`);
    this.calls.push({ command: name, input });
    this.execution.getStore()?.calls.push({ command: name, input });
    const failure = this.takeScheduledFailure(name);
    if (failure && !failure.applied) throw injectedError(failure, name);
    // Whoever looks first sees the account as simulated time left it (deployments settled, alarms tripped).
    this.services.ecs.settleAll();
    const output = ANSWERS[name](this, input);
    if (failure) throw injectedError(failure, name);
    return output;
  }

  /** The current execution's next planned outcome for `command`, else the account-wide one (failNext). */
  private takeScheduledFailure(command: string): InjectedFailure | null {
    const planned = this.execution.getStore()?.failures.get(command);
    if (planned && planned.length > 0) return planned.shift() ?? null;
    return this.scheduledFailures.get(command)?.shift() ?? null;
  }
}

function scheduleFailures(queues: Map<string, (InjectedFailure | null)[]>, plan: FailurePlan): void {
  for (const [command, failures] of Object.entries(plan)) {
    if (!INJECTABLE_COMMANDS.includes(command)) {
      throw new Error(`The simulated account cannot fail "${command}": it answers ${INJECTABLE_COMMANDS.join(', ')}`);
    }
    const scheduled = [failures].flat().map((failure) => (typeof failure === 'string' ? { error: failure, applied: false } : failure));
    queues.set(command, [...(queues.get(command) ?? []), ...scheduled]);
  }
}
