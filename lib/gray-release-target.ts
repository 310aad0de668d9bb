/**
 * What a gray release needs in the user's own stack, next to the stable ECS service: a canary target group mirroring the
 * stable one, a canary service of the same task definition without a desired count, and one listener rule (or the
 * listener's default action) forwarding to both groups at rest: stable 100, canary 0. The pipeline moves the weights and
 * scales the canary. A `cdk deploy` mid-rollout that resets the rule to this resting state (aws/aws-cdk#36649) sends all
 * traffic back to stable, which the pipeline sees as drift and ends as an abort; one that updates the canary service
 * leaves its task count alone, as the template has none (aws/aws-cdk#13130).
 */
import { CfnOutput, Stack } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct, type IConstruct } from 'constructs';
import type { GrayRelease, TrafficRoute } from '../lambdas/contract/release-strategy';

/** What the configuration's `release.traffic` holds for one gray-released service. */
export type GrayReleaseTraffic = GrayRelease['traffic'];

/** The forward action's weights at rest, which the user's template declares and an aborted release returns to. */
export const WEIGHTS_AT_REST = { stable: 100, canary: 0 } as const;

/** The highest listener rule priority ELB accepts (the lowest is 1). */
const MAX_RULE_PRIORITY = 50_000;

/** Port, protocol and health check: what the canary target group copies from the stable one. */
export interface TargetGroupSettings {
  readonly port: number;
  readonly protocol: elbv2.ApplicationProtocol;
  /** @default - ELB's default (HTTP1) */
  readonly protocolVersion?: elbv2.ApplicationProtocolVersion;
  readonly healthCheck: elbv2.HealthCheck;
}

export interface GrayReleaseTargetProps {
  /** The stable service, already registered to its target group (not to the listener: this construct routes it). */
  readonly stableService: ecs.FargateService | ecs.Ec2Service;
  /**
   * The stable service's target group.
   * @default - the one target group the stable service is registered to; required when it is registered to several
   */
  readonly stableTargetGroup?: elbv2.IApplicationTargetGroup;
  /**
   * The stable target group's port, protocol and health check, for the canary target group.
   * @default - read from the stable target group; required when it is imported, as CDK cannot read an imported one's
   */
  readonly targetGroupSettings?: TargetGroupSettings;
  /** The (internal) ALB listener whose rule, or default action, weighs the two target groups. */
  readonly listener: elbv2.IApplicationListener;
  /** The listener rule's priority, 1–50000. @default - none: required unless `defaultAction` */
  readonly priority?: number;
  /** The listener rule's conditions. @default - none: required unless `defaultAction` */
  readonly conditions?: elbv2.ListenerCondition[];
  /**
   * Weigh the listener's default action instead of a rule; the listener must be created in this app.
   * @default false
   */
  readonly defaultAction?: boolean;
  /** @default - a name CloudFormation generates */
  readonly canaryServiceName?: string;
  /**
   * The canary service's minimum healthy percent during a deployment.
   * @default 100 - a canary deployment starts the new tasks before it stops any running one
   */
  readonly minHealthyPercent?: number;
  /** @default 200 */
  readonly maxHealthyPercent?: number;
  /**
   * The canary service's deployment circuit breaker.
   * @default - on, without rollback: the pipeline, not ECS, decides what the canary runs and aborts on a failed deployment
   */
  readonly circuitBreaker?: ecs.DeploymentCircuitBreaker;
  /**
   * The tasks' security group, which the pipeline stack opens to its probe on the probe port.
   * @default - the stable service's first security group
   */
  readonly taskSecurityGroup?: ec2.ISecurityGroup;
}

/** A GrayReleaseTarget given props it cannot build a correct set-up from; the message names the value. */
export class GrayReleaseTargetError extends Error {
  // Hard-coded so that it survives minification.
  readonly name = 'GrayReleaseTargetError';
}

/**
 * Service properties the canary takes from the stable service as they are (the same values, so a later change of the
 * stable service reaches both): network, capacity and placement. Not taken: the desired count (the canary has none),
 * the deployment settings (its own), Cloud Map and Service Connect (which would send it traffic the weights bypass).
 */
const MIRRORED_SERVICE_PROPERTIES = [
  'launchType',
  'capacityProviderStrategy',
  'platformVersion',
  'networkConfiguration',
  'placementConstraints',
  'placementStrategies',
  'availabilityZoneRebalancing',
  'healthCheckGracePeriodSeconds',
  'enableExecuteCommand',
  'enableEcsManagedTags',
  'propagateTags',
] as const satisfies readonly (keyof ecs.CfnService)[];

/** Where the stable service receives its traffic: its target group and the container behind it. */
interface StableAttachment {
  readonly targetGroup: elbv2.IApplicationTargetGroup;
  readonly containerName: string;
  readonly containerPort: number;
}

/**
 * The canary target group, the canary service and the weighted route of one gray-released service, in the user's
 * stack. Not made here, by design: the probe's ingress rule. The model-rollout stack adds it to `taskSecurityGroup`
 * (from its probe's security group, on `probe.port`), as the probe is its function.
 *
 * The canary service has no `DesiredCount` in the template, so a `cdk deploy` never rescales it mid-rollout (ECS keeps
 * the current count when an update omits it). ECS creates such a service with one task: until the first gray release
 * stops it, the canary runs one task of the stable revision, with weight 0.
 */
export class GrayReleaseTarget extends Construct {
  /** The values of the configuration's `release.traffic`, as the contract names them. */
  public readonly traffic: GrayReleaseTraffic;
  public readonly stableTargetGroup: elbv2.IApplicationTargetGroup;
  public readonly canaryTargetGroup: elbv2.ApplicationTargetGroup;
  public readonly canaryService: ecs.FargateService | ecs.Ec2Service;
  /** The weighted listener rule; absent when the listener's default action is weighted instead. */
  public readonly listenerRule?: elbv2.ApplicationListenerRule;
  public readonly taskSecurityGroup: ec2.ISecurityGroup;
  /** The container port both target groups send traffic to: `probe.port`, unless the health endpoint listens elsewhere. */
  public readonly probePort: number;

  constructor(scope: Construct, id: string, props: GrayReleaseTargetProps) {
    super(scope, id);
    checkRoute(this, props);
    checkStableService(this, props.stableService);
    const stable = findStableAttachment(this, props);
    this.stableTargetGroup = stable.targetGroup;
    this.probePort = stable.containerPort;
    this.taskSecurityGroup = props.taskSecurityGroup ?? firstSecurityGroup(this, props.stableService);

    this.canaryTargetGroup = new elbv2.ApplicationTargetGroup(this, 'CanaryTargetGroup', {
      vpc: props.stableService.cluster.vpc,
      ...targetGroupSettings(this, stable.targetGroup, props.targetGroupSettings),
    });
    this.canaryService = createCanaryService(this, props);
    this.canaryTargetGroup.addTarget(
      this.canaryService.loadBalancerTarget({ containerName: stable.containerName, containerPort: stable.containerPort }),
    );

    const action = elbv2.ListenerAction.weightedForward([
      { targetGroup: this.stableTargetGroup, weight: WEIGHTS_AT_REST.stable },
      { targetGroup: this.canaryTargetGroup, weight: WEIGHTS_AT_REST.canary },
    ]);
    let route: TrafficRoute;
    if (props.defaultAction) {
      // Without a priority, addAction sets the listener's default action (checkRoute made sure the listener has one to set).
      (props.listener as elbv2.ApplicationListener).addAction(id, { action });
      route = { kind: 'listener-default-action', arn: props.listener.listenerArn };
    } else {
      const { listener, priority, conditions } = props;
      this.listenerRule = new elbv2.ApplicationListenerRule(this, 'WeightedRule', { listener, priority: priority!, conditions, action });
      route = { kind: 'listener-rule', arn: this.listenerRule.listenerRuleArn };
    }
    this.traffic = {
      route,
      stableTargetGroupArn: this.stableTargetGroup.targetGroupArn,
      canaryTargetGroupArn: this.canaryTargetGroup.targetGroupArn,
      canaryService: this.canaryService.serviceName,
      taskSecurityGroupId: this.taskSecurityGroup.securityGroupId,
    };
    this.addOutputs();
    this.node.addValidation({ validate: () => otherRoutesTo(this, this.stableTargetGroup, props) });
  }

  /** One output per field of the configuration's `release` it goes into, named after it (`TrafficListenerRuleArn`). */
  private addOutputs(): void {
    const { route } = this.traffic;
    const outputs: [field: string, value: string, what: string][] = [
      // The configuration names the route by its kind: a rule's ARN, or a listener's (its default action).
      route.kind === 'listener-rule'
        ? ['traffic.listenerRuleArn', route.arn, 'the listener rule whose weights the pipeline moves']
        : ['traffic.listenerArn', route.arn, 'the listener whose default action the pipeline weighs'],
      ['traffic.stableTargetGroupArn', this.traffic.stableTargetGroupArn, "the stable service's target group"],
      ['traffic.canaryTargetGroupArn', this.traffic.canaryTargetGroupArn, "the canary service's target group"],
      ['traffic.canaryService', this.traffic.canaryService, "the canary ECS service, in the stable service's cluster"],
      [
        'traffic.taskSecurityGroupId',
        this.traffic.taskSecurityGroupId,
        "the tasks' security group, opened to the probe by the model-rollout stack",
      ],
      ['probe.port', String(this.probePort), 'the container port behind both target groups'],
    ];
    for (const [field, value, what] of outputs) {
      const id = field.replace(/(^|\.)(\w)/g, (_, _dot: string, letter: string) => letter.toUpperCase());
      new CfnOutput(this, id, { value, description: `model-rollout release.${field}: ${what}` });
    }
  }
}

function fail(scope: IConstruct, message: string): never {
  throw new GrayReleaseTargetError(`GrayReleaseTarget ${scope.node.path}: ${message}`);
}

/** An application listener, and either a rule (priority and conditions) or its default action, never both. */
function checkRoute(scope: IConstruct, props: GrayReleaseTargetProps): void {
  const listener = props.listener as Partial<elbv2.IApplicationListener>;
  if (listener.isApplicationListener !== true) {
    fail(scope, `listener ${props.listener.node.path} is not an application listener: the weighted forward action needs an ALB`);
  }
  const conditions = props.conditions ?? [];
  if (props.defaultAction) {
    if (props.priority !== undefined || conditions.length > 0) {
      fail(
        scope,
        `defaultAction: true conflicts with priority ${props.priority} and ${conditions.length} condition(s): give one or the other`,
      );
    }
    if (!(props.listener instanceof elbv2.ApplicationListener)) {
      fail(
        scope,
        `defaultAction: true needs a listener created in this app; ${props.listener.node.path} is imported: give priority and conditions`,
      );
    }
    return;
  }
  const { priority } = props;
  if (priority === undefined || conditions.length === 0) {
    fail(
      scope,
      `a listener rule needs a priority and at least one condition (got priority ${priority}, ${conditions.length} condition(s)), or set defaultAction: true`,
    );
  }
  if (!Number.isInteger(priority) || priority < 1 || priority > MAX_RULE_PRIORITY) {
    fail(scope, `priority ${priority} is not a whole number from 1 to ${MAX_RULE_PRIORITY}`);
  }
}

/**
 * A replica service on ECS's rolling deployment controller on one fixed target group: the pipeline updates it with
 * UpdateService, and its roles must never swap.
 */
function checkStableService(scope: IConstruct, service: ecs.FargateService | ecs.Ec2Service): void {
  const name = service.node.path;
  if (!(service instanceof ecs.FargateService) && !(service instanceof ecs.Ec2Service)) {
    fail(scope, `stableService ${name} is neither a FargateService nor an Ec2Service`);
  }
  const cfn = service.node.defaultChild as ecs.CfnService;
  const stack = Stack.of(service);
  if (cfn.schedulingStrategy === 'DAEMON') {
    fail(scope, `stableService ${name} runs as a DAEMON: a gray release needs a REPLICA service whose task count it can set`);
  }
  const controller = stack.resolve(cfn.deploymentController)?.type;
  if (controller !== undefined && controller !== ecs.DeploymentControllerType.ECS) {
    fail(
      scope,
      `stableService ${name} uses the ${controller} deployment controller: the pipeline promotes with UpdateService, which needs ECS`,
    );
  }
  if (service.loadBalancers.some((lb) => lb.advancedConfiguration !== undefined)) {
    fail(scope, `stableService ${name} uses ECS blue/green (an alternate target group): a gray release needs its target group fixed`);
  }
}

/** The stable service's target group and container: given, or the only one it is registered to. */
function findStableAttachment(scope: IConstruct, props: GrayReleaseTargetProps): StableAttachment {
  const service = props.stableService;
  const attachments = service.loadBalancers.filter((lb) => lb.targetGroupArn !== undefined);
  if (attachments.length === 0) {
    fail(scope, `stableService ${service.node.path} is registered to no target group: register it before creating the GrayReleaseTarget`);
  }
  const given = props.stableTargetGroup;
  if (given === undefined && attachments.length > 1) {
    fail(scope, `stableService ${service.node.path} is registered to ${attachments.length} target groups: give stableTargetGroup`);
  }
  const attachment = given === undefined ? attachments[0] : attachments.find((lb) => lb.targetGroupArn === given.targetGroupArn);
  if (attachment === undefined) {
    fail(scope, `stableService ${service.node.path} is not registered to stableTargetGroup ${given!.node.path}`);
  }
  const targetGroup = given ?? targetGroupByArn(scope, attachment.targetGroupArn!);
  if (targetGroup === undefined) {
    fail(scope, `stableService ${service.node.path}'s target group is not an application target group of this app: give stableTargetGroup`);
  }
  const { containerName, containerPort } = attachment;
  if (containerName === undefined || containerPort === undefined) {
    fail(scope, `stableService ${service.node.path} is registered without a container name and port`);
  }
  return { targetGroup, containerName, containerPort };
}

/** The application target group of this app whose ARN is `arn` (the same token the service's registration holds). */
function targetGroupByArn(scope: IConstruct, arn: string): elbv2.ApplicationTargetGroup | undefined {
  return scope.node.root.node
    .findAll()
    .find((c): c is elbv2.ApplicationTargetGroup => c instanceof elbv2.ApplicationTargetGroup && c.targetGroupArn === arn);
}

/** The stable target group's port, protocol and health check: read from it, or given when it is imported. */
function targetGroupSettings(scope: IConstruct, stable: elbv2.IApplicationTargetGroup, given: TargetGroupSettings | undefined) {
  if (!(stable instanceof elbv2.ApplicationTargetGroup)) {
    if (given === undefined) {
      fail(scope, `stableTargetGroup ${stable.node.path} is imported: give targetGroupSettings (its port, protocol and health check)`);
    }
    return given;
  }
  if (given !== undefined) {
    fail(
      scope,
      `targetGroupSettings conflicts with stableTargetGroup ${stable.node.path}, whose own settings the canary copies: remove it`,
    );
  }
  const cfn = stable.node.defaultChild as elbv2.CfnTargetGroup;
  return {
    port: cfn.port,
    protocol: cfn.protocol as elbv2.ApplicationProtocol | undefined,
    protocolVersion: cfn.protocolVersion as elbv2.ApplicationProtocolVersion | undefined,
    healthCheck: stable.healthCheck,
  };
}

function firstSecurityGroup(scope: IConstruct, service: ecs.FargateService | ecs.Ec2Service): ec2.ISecurityGroup {
  const [group] = service.connections.securityGroups;
  if (group === undefined) fail(scope, `stableService ${service.node.path} has no security group: give taskSecurityGroup`);
  return group;
}

/**
 * The canary: the stable service's cluster, task definition, security groups, network, capacity and placement, its
 * own deployment settings, and no desired count (omitted from the template) and no auto scaling.
 */
function createCanaryService(scope: Construct, props: GrayReleaseTargetProps): ecs.FargateService | ecs.Ec2Service {
  const stable = props.stableService;
  const common = {
    cluster: stable.cluster,
    taskDefinition: stable.taskDefinition,
    serviceName: props.canaryServiceName,
    minHealthyPercent: props.minHealthyPercent ?? 100,
    maxHealthyPercent: props.maxHealthyPercent ?? 200,
    circuitBreaker: props.circuitBreaker ?? { enable: true, rollback: false },
  };
  const awsVpc = stable.taskDefinition.networkMode === ecs.NetworkMode.AWS_VPC;
  const securityGroups = awsVpc ? stable.connections.securityGroups : undefined;
  const canary =
    stable instanceof ecs.FargateService
      ? new ecs.FargateService(scope, 'CanaryService', { ...common, securityGroups })
      : new ecs.Ec2Service(scope, 'CanaryService', { ...common, securityGroups });
  const from = stable.node.defaultChild as ecs.CfnService;
  const to = canary.node.defaultChild as ecs.CfnService;
  for (const property of MIRRORED_SERVICE_PROPERTIES) mirror(from, to, property);
  return canary;
}

function mirror<K extends (typeof MIRRORED_SERVICE_PROPERTIES)[number]>(from: ecs.CfnService, to: ecs.CfnService, property: K): void {
  to[property] = from[property];
}

/**
 * Synth-time: any other listener rule or default action of the app forwarding to the stable target group, which would
 * send it traffic the weights do not control (e.g. `listener.addTargets` with the stable service).
 */
function otherRoutesTo(self: GrayReleaseTarget, stable: elbv2.IApplicationTargetGroup, props: GrayReleaseTargetProps): string[] {
  const own = new Set<IConstruct>(
    [self.listenerRule?.node.defaultChild, props.defaultAction ? props.listener.node.defaultChild : undefined].filter(
      (c) => c !== undefined,
    ),
  );
  const problems: string[] = [];
  for (const construct of self.node.root.node.findAll()) {
    if (own.has(construct)) continue;
    const actions =
      construct instanceof elbv2.CfnListenerRule
        ? construct.actions
        : construct instanceof elbv2.CfnListener
          ? construct.defaultActions
          : undefined;
    if (actions === undefined) continue;
    const stack = Stack.of(construct);
    if (JSON.stringify(stack.resolve(actions)).includes(JSON.stringify(stack.resolve(stable.targetGroupArn)))) {
      problems.push(
        `${construct.node.path} also forwards to the stable target group ${stable.node.path}, bypassing the weights: ` +
          'route the stable service only through this GrayReleaseTarget',
      );
    }
  }
  return problems;
}
