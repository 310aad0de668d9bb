/**
 * Application Load Balancers: listeners with their default actions, listener rules, target groups and their targets, as
 * the Elastic Load Balancing API reference (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/, pages
 * API_*) and the Application Load Balancers guide (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/)
 * describe them. What a gray release depends on, and where AWS says so:
 *
 * - ModifyRule "Replaces the specified properties of the specified rule. Any properties that you do not specify are
 *   unchanged. To add an item to a list, remove an item from a list, or update an item in a list, you must provide the
 *   entire list": `Actions` replaces the whole action list, absent `Conditions` stay. "To modify the actions for the
 *   default rule, use ModifyListener" (API_ModifyRule); ModifyRule on the default rule answers
 *   `OperationNotPermitted: Default rule '…' cannot be modified` (as seen in FeLvi-zzz/tentez#32). ModifyListener
 *   likewise replaces `DefaultActions` whole and keeps what it is not given (API_ModifyListener).
 * - "Rule updates do not take effect immediately, so requests could be routed using the previous rule configuration for
 *   a short time after you update a rule" (application/edit-rule.html). The configuration is what ModifyRule answers
 *   ("Information about the modified rule", API_ModifyRule) and what DescribeRules returns from then on; no page says
 *   Describe* lags. So Describe* show a write at once, and `routingWeights` — the weights requests are routed by — follow
 *   it `propagationSeconds` later. [unverified: how long "a short time" is; AWS gives no figure.]
 * - DescribeRules takes a listener (all its rules, the default one last, `IsDefault`, priority "default") or rule ARNs;
 *   an unknown rule is RuleNotFound, an unknown listener ListenerNotFound (API_DescribeRules, API_Rule). A plain
 *   `TargetGroupArn` forward is described as written (the API reference's DescribeRules example shows `{ Type:
 *   "forward", TargetGroupArn }` alone) [unverified: a live account may also fill in a one-group ForwardConfig].
 * - Actions are validated as local/simulated/elbv2-actions.ts says; targets as local/simulated/elbv2-targets.ts says;
 *   ARNs given to the set-up (`add…At`, for a configuration's ARNs) as local/simulated/elbv2-arns.ts says.
 * Not modelled: pagination (Marker / PageSize: every answer is one page), conditions' validation, tags, NLBs.
 */
import { createHash } from 'node:crypto';
import type { Action, RuleCondition } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SimulatedAwsError } from './aws-error';
import type { Clock } from './clock';
import { checkActions, describedActions, forwardWeights, storedActions, targetGroupsOf, type WeightedTargetGroup } from './elbv2-actions';
import { parseElbArn } from './elbv2-arns';
import { TargetGroups, type SimulatedTargetHealth, type TargetGroupSpec, type TargetRef } from './elbv2-targets';

export type { WeightedTargetGroup } from './elbv2-actions';
export type { SimulatedTargetHealth, TargetGroupSpec, TargetRef } from './elbv2-targets';

/** Actions as written (the last ones are what Describe* show), and from when requests are routed by them (ms). */
interface Written {
  actions: Action[];
  routedFrom: number;
}

interface ListenerState {
  arn: string;
  loadBalancerArn: string;
  port: number;
  protocol: string;
  defaultRuleArn: string;
  written: Written[];
}

interface RuleState {
  arn: string;
  listenerArn: string;
  priority: number;
  conditions: RuleCondition[];
  written: Written[];
}

/** A listener as the set-up creates it. */
export interface ListenerSpec {
  port: number;
  protocol?: string;
  defaultActions: Action[];
}

/** A listener rule as the set-up creates it. */
export interface RuleSpec {
  priority: number;
  conditions?: RuleCondition[];
  actions: Action[];
}

export interface ElbDependencies {
  clock: Clock;
  account: string;
  region: string;
  /** How long a written rule or default action takes to route requests (default 10 s). */
  propagationSeconds?: number;
}

const current = (written: Written[]) => written[written.length - 1].actions;

export class SimulatedElbv2 {
  /** How long a write takes to route requests; settable by a scenario. */
  propagationSeconds: number;
  private readonly loadBalancers = new Map<string, { name: string; id: string }>();
  private readonly listeners = new Map<string, ListenerState>();
  private readonly rules = new Map<string, RuleState>();
  private readonly targetGroups: TargetGroups;
  private created = 0;

  constructor(private readonly deps: ElbDependencies) {
    this.propagationSeconds = deps.propagationSeconds ?? 10;
    this.targetGroups = new TargetGroups(deps.clock);
  }

  // ---- set-up (what the account holds before the pipeline runs)

  addLoadBalancer(name: string): string {
    return this.addLoadBalancerAt(this.arn(`loadbalancer/app/${name}/${this.newId(name)}`));
  }

  /** A load balancer at the given ARN (`…:loadbalancer/app/<name>/<id>`, in this account and region). */
  addLoadBalancerAt(arn: string): string {
    const { name, id } = parseElbArn(arn, 'loadbalancer', this.deps);
    this.refuseTaken(arn);
    // "This name must be unique per region per account" (API_CreateLoadBalancer, Name).
    if ([...this.loadBalancers.values()].some((lb) => lb.name === name)) {
      throw new Error(`simulated ELB: "${arn}": a load balancer named ${name} exists already`);
    }
    this.loadBalancers.set(arn, { name, id });
    return arn;
  }

  addTargetGroup(name: string, spec: TargetGroupSpec): string {
    return this.addTargetGroupAt(this.arn(`targetgroup/${name}/${this.newId(name)}`), spec);
  }

  /** A target group at the given ARN (`…:targetgroup/<name>/<id>`, in this account and region). */
  addTargetGroupAt(arn: string, spec: TargetGroupSpec): string {
    const { name } = parseElbArn(arn, 'targetgroup', this.deps);
    this.refuseTaken(arn);
    // "This name must be unique per region per account" (API_CreateTargetGroup, Name).
    if (this.targetGroups.named(name)) throw new Error(`simulated ELB: "${arn}": a target group named ${name} exists already`);
    this.targetGroups.add(arn, name, spec);
    return arn;
  }

  /** A listener with its default actions (validated as ModifyListener would), routing by them already. */
  addListener(loadBalancerArn: string, listener: ListenerSpec): string {
    const lb = this.loadBalancers.get(loadBalancerArn);
    if (!lb) throw new Error(`simulated ELB: no load balancer ${loadBalancerArn}`);
    const id = this.newId(`${loadBalancerArn}:${listener.port}`);
    return this.addListenerAt(this.arn(`listener/app/${lb.name}/${lb.id}/${id}`), listener);
  }

  /**
   * A listener at the given ARN (`…:listener/app/<load-balancer-name>/<load-balancer-id>/<listener-id>`), of the load
   * balancer its ARN names, which must exist.
   */
  addListenerAt(arn: string, listener: ListenerSpec): string {
    const { loadBalancerArn } = parseElbArn(arn, 'listener', this.deps);
    if (!this.loadBalancers.has(loadBalancerArn!)) {
      throw new Error(
        `simulated ELB: listener "${arn}" belongs to the load balancer ${loadBalancerArn}, which does not exist: add it first`,
      );
    }
    this.refuseTaken(arn);
    checkActions(listener.defaultActions, (tg) => this.targetGroups.has(tg));
    this.listeners.set(arn, {
      arn,
      loadBalancerArn: loadBalancerArn!,
      port: listener.port,
      protocol: listener.protocol ?? 'HTTP',
      defaultRuleArn: `${arn.replace(':listener/', ':listener-rule/')}/${this.newId(`${arn}:default`)}`,
      written: [{ actions: storedActions(listener.defaultActions, []), routedFrom: Number.NEGATIVE_INFINITY }],
    });
    return arn;
  }

  /** A rule of a listener (validated as ModifyRule would), routing by its actions already. */
  addRule(listenerArn: string, rule: RuleSpec): string {
    const listener = this.listener(listenerArn);
    return this.addRuleAt(`${listener.defaultRuleArn.replace(/\/[^/]+$/, '')}/${this.newId(`${listenerArn}:${rule.priority}`)}`, rule);
  }

  /**
   * A rule at the given ARN (`…:listener-rule/app/<load-balancer-name>/<load-balancer-id>/<listener-id>/<rule-id>`), of
   * the listener its ARN names, which must exist; routing by its actions already.
   */
  addRuleAt(arn: string, rule: RuleSpec): string {
    const { listenerArn } = parseElbArn(arn, 'listener-rule', this.deps);
    if (!this.listeners.has(listenerArn!)) {
      throw new Error(`simulated ELB: rule "${arn}" belongs to the listener ${listenerArn}, which does not exist: add it first`);
    }
    this.refuseTaken(arn);
    checkActions(rule.actions, (tg) => this.targetGroups.has(tg));
    this.rules.set(arn, {
      arn,
      listenerArn: listenerArn!,
      priority: rule.priority,
      conditions: structuredClone(rule.conditions ?? []),
      written: [{ actions: storedActions(rule.actions, []), routedFrom: Number.NEGATIVE_INFINITY }],
    });
    return arn;
  }

  registerTargets(targetGroupArn: string, targets: TargetRef[], health?: SimulatedTargetHealth): void {
    this.targetGroups.register(targetGroupArn, targets, health);
  }

  deregisterTargets(targetGroupArn: string, targets: TargetRef[], at?: number): void {
    this.targetGroups.deregister(targetGroupArn, targets, at);
  }

  /**
   * ECS registering the tasks it counts running at `runningAt` (ms): healthy from then, having passed their first health
   * check (elbv2-targets.ts); `settled`: tasks that ran before the simulation began.
   */
  registerTaskTargets(targetGroupArn: string, targets: TargetRef[], runningAt: number, settled: boolean): void {
    if (settled) this.targetGroups.registerTask(targetGroupArn, targets, runningAt, true);
    else this.targetGroups.registerRunningTask(targetGroupArn, targets, runningAt);
  }

  /** Whether a target group of that ARN exists here. */
  hasTargetGroup(arn: string): boolean {
    return this.targetGroups.has(arn);
  }

  setTargetHealth(targetGroupArn: string, target: TargetRef, health: SimulatedTargetHealth): void {
    this.targetGroups.setHealth(targetGroupArn, target, health);
  }

  // ---- what requests meet (not an API: the load balancer's data plane)

  /**
   * The target groups, with weights, that requests matching a rule (or reaching a listener's default action) are routed
   * to at `at`: the last write that has taken effect by then. None when the routing action is not a forward.
   */
  routingWeights(ruleOrListenerArn: string, at: Date = this.deps.clock()): WeightedTargetGroup[] {
    const written = (this.rules.get(ruleOrListenerArn) ?? this.listeners.get(ruleOrListenerArn))?.written;
    if (!written) throw new Error(`simulated ELB: no rule or listener ${ruleOrListenerArn}`);
    const routed = [...written].reverse().find((w) => w.routedFrom <= at.getTime()) ?? written[0];
    return forwardWeights(routed.actions);
  }

  // ---- the API

  describeRules(input: { ListenerArn?: string; RuleArns?: string[] }) {
    if ((input.ListenerArn === undefined) === (input.RuleArns === undefined)) {
      throw new SimulatedAwsError('ValidationError', 'Specify either a listener ARN or rule ARNs');
    }
    if (input.ListenerArn !== undefined) {
      const listener = this.listener(input.ListenerArn);
      const rules = [...this.rules.values()].filter((r) => r.listenerArn === listener.arn).sort((a, b) => a.priority - b.priority);
      return { Rules: [...rules.map((r) => this.describedRule(r)), this.describedDefaultRule(listener)] };
    }
    return {
      Rules: (input.RuleArns ?? []).map((arn) => {
        const rule = this.rules.get(arn);
        if (rule) return this.describedRule(rule);
        const listener = [...this.listeners.values()].find((l) => l.defaultRuleArn === arn);
        if (listener) return this.describedDefaultRule(listener);
        throw ruleNotFound(arn);
      }),
    };
  }

  modifyRule(input: { RuleArn: string; Actions?: Action[]; Conditions?: RuleCondition[] }) {
    const rule = this.rules.get(input.RuleArn);
    if (!rule) {
      const listener = [...this.listeners.values()].find((l) => l.defaultRuleArn === input.RuleArn);
      if (listener) throw new SimulatedAwsError('OperationNotPermittedException', `Default rule '${listener.arn}' cannot be modified`);
      throw ruleNotFound(input.RuleArn);
    }
    if (input.Actions !== undefined) {
      checkActions(input.Actions, (tg) => this.targetGroups.has(tg));
      this.write(rule.written, input.Actions);
    }
    if (input.Conditions !== undefined) rule.conditions = structuredClone(input.Conditions);
    return { Rules: [this.describedRule(rule)] };
  }

  describeListeners(input: { ListenerArns?: string[]; LoadBalancerArn?: string }) {
    if (input.LoadBalancerArn !== undefined) {
      if (!this.loadBalancers.has(input.LoadBalancerArn)) {
        throw new SimulatedAwsError('LoadBalancerNotFoundException', `Load balancers '[${input.LoadBalancerArn}]' not found`);
      }
      const listeners = [...this.listeners.values()].filter((l) => l.loadBalancerArn === input.LoadBalancerArn);
      return { Listeners: listeners.map((l) => this.describedListener(l)) };
    }
    return { Listeners: (input.ListenerArns ?? []).map((arn) => this.describedListener(this.listener(arn))) };
  }

  modifyListener(input: { ListenerArn: string; DefaultActions?: Action[] }) {
    const listener = this.listener(input.ListenerArn);
    if (input.DefaultActions !== undefined) {
      checkActions(input.DefaultActions, (tg) => this.targetGroups.has(tg));
      this.write(listener.written, input.DefaultActions);
    }
    return { Listeners: [this.describedListener(listener)] };
  }

  describeTargetHealth(input: { TargetGroupArn?: string; Targets?: { Id?: string; Port?: number }[] }) {
    const arn = input.TargetGroupArn ?? '';
    const inUse = [...this.listeners.values(), ...this.rules.values()].some((r) => targetGroupsOf(current(r.written)).includes(arn));
    const targets = input.Targets?.map((t) => ({ id: t.Id ?? '', port: t.Port }));
    return this.targetGroups.describeTargetHealth(arn, targets, inUse);
  }

  // ---- helpers

  /** Keeps the new actions, which requests are routed by `propagationSeconds` from now. */
  private write(written: Written[], actions: Action[]): void {
    const now = this.deps.clock().getTime();
    written.push({ actions: storedActions(actions, current(written)), routedFrom: now + this.propagationSeconds * 1000 });
  }

  private describedRule(rule: RuleState) {
    return {
      RuleArn: rule.arn,
      Priority: String(rule.priority),
      Conditions: structuredClone(rule.conditions),
      Actions: describedActions(current(rule.written)),
      IsDefault: false,
    };
  }

  private describedDefaultRule(listener: ListenerState) {
    return {
      RuleArn: listener.defaultRuleArn,
      Priority: 'default',
      Conditions: [],
      Actions: describedActions(current(listener.written)),
      IsDefault: true,
    };
  }

  private describedListener(listener: ListenerState) {
    return {
      ListenerArn: listener.arn,
      LoadBalancerArn: listener.loadBalancerArn,
      Port: listener.port,
      Protocol: listener.protocol,
      DefaultActions: describedActions(current(listener.written)),
    };
  }

  private listener(arn: string): ListenerState {
    const listener = this.listeners.get(arn);
    if (!listener) throw new SimulatedAwsError('ListenerNotFoundException', `Listener '${arn}' not found`);
    return listener;
  }

  /** An ARN is one resource's: the simulated ELB never answers for one ARN with two resources. */
  private refuseTaken(arn: string): void {
    const taken =
      this.loadBalancers.has(arn) ||
      this.listeners.has(arn) ||
      this.rules.has(arn) ||
      this.targetGroups.has(arn) ||
      [...this.listeners.values()].some((l) => l.defaultRuleArn === arn);
    if (taken) throw new Error(`simulated ELB: "${arn}" exists already`);
  }

  private arn(resource: string): string {
    return `arn:aws:elasticloadbalancing:${this.deps.region}:${this.deps.account}:${resource}`;
  }

  /** A 16-hex-digit ID like ELB's, fixed for the same account and order of creation. */
  private newId(seed: string): string {
    return createHash('sha256')
      .update(`${this.deps.account}:${this.created++}:${seed}`)
      .digest('hex')
      .slice(0, 16);
  }
}

const ruleNotFound = (arn: string) => new SimulatedAwsError('RuleNotFoundException', `One or more rules not found: '${arn}'`);
