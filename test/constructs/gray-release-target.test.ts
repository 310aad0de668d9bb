/**
 * GrayReleaseTarget in a user's stack: the canary target group and service mirror the stable ones, the canary has no
 * desired count, one rule (or the default action) forwards stable 100 / canary 0, the outputs fill `release.traffic`,
 * and every set-up a gray release cannot work with fails the synth naming the value.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, type CfnElement, FeatureFlags, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type { IConstruct } from 'constructs';
import { afterAll, describe, expect, it } from 'vitest';
import { grayReleaseSchema } from '../../lambdas/contract/release-strategy';
import { GrayReleaseTarget, GrayReleaseTargetError, type GrayReleaseTargetProps } from '../../lib/gray-release-target';
import { addNagChecks } from '../../lib/nag';
import {
  APP_CONTEXT,
  CONTAINER_PORT,
  type UserStack,
  type UserStackOptions,
  nagFindings,
  outputsByField,
  userStack,
} from '../fixtures/gray-release-user-stack';

const RULE = { priority: 10, conditions: [elbv2.ListenerCondition.pathPatterns(['/v1/*'])] };

/** The user's stack with a GrayReleaseTarget `Gray` (a weighted rule unless `props` says otherwise), synthesized. */
function synth(props: (user: UserStack) => Partial<GrayReleaseTargetProps> = () => RULE, options: UserStackOptions = {}) {
  const user = userStack(options);
  const gray = new GrayReleaseTarget(user.stack, 'Gray', { stableService: user.stable, listener: user.listener, ...props(user) });
  const template = Template.fromStack(user.stack);
  const id = (construct: IConstruct) => user.stack.getLogicalId(construct.node.defaultChild as CfnElement);
  const properties = (construct: IConstruct) => template.toJSON().Resources[id(construct)].Properties;
  return { ...user, gray, template, id, properties };
}

/** What constructing the GrayReleaseTarget throws. */
function errorOf(props: (user: UserStack) => Partial<GrayReleaseTargetProps>, options: UserStackOptions = {}): unknown {
  const user = userStack(options);
  try {
    new GrayReleaseTarget(user.stack, 'Gray', { stableService: user.stable, listener: user.listener, ...props(user) });
  } catch (error) {
    return error;
  }
  return undefined;
}

function expectGrayReleaseTargetError(error: unknown, message: RegExp): void {
  expect(error).toBeInstanceOf(GrayReleaseTargetError);
  expect((error as Error).name).toBe('GrayReleaseTargetError');
  expect((error as Error).message).toMatch(/^GrayReleaseTarget User\/Gray: /);
  expect((error as Error).message).toMatch(message);
}

describe('GrayReleaseTarget', () => {
  describe('the canary service', () => {
    it('has no DesiredCount under the app feature flags, so a cdk deploy never rescales it (the stable service keeps its own)', () => {
      const { gray, stable, properties } = synth();
      expect(properties(gray.canaryService)).not.toHaveProperty('DesiredCount');
      expect(properties(stable).DesiredCount).toBe(4);
    });

    it("needs no feature flag: the one about DesiredCount is ecs-patterns' own, which CDK v2 refuses to be set", () => {
      // FargateService and Ec2Service pass desiredCount to AWS::ECS::Service as given; only the ecs-patterns constructs
      // defaulted it to 1, behind this flag, which v2 always behaves as enabled and refuses to read from the context.
      const flag = '@aws-cdk/aws-ecs-patterns:removeDefaultDesiredCount';
      expect(APP_CONTEXT).not.toHaveProperty(flag);
      expect(FeatureFlags.of(new Stack(new App({ context: APP_CONTEXT }), 'Default')).isEnabled(flag)).toBe(true);
      const flagged = new Stack(new App({ context: { [flag]: false } }), 'Flagged');
      expect(() => FeatureFlags.of(flagged).isEnabled(flag)).toThrow(/Unsupported feature flag/);
    });

    it("runs the stable service's task definition in its cluster, network, security groups, launch type and grace period", () => {
      const { gray, stable, properties } = synth();
      const canary = properties(gray.canaryService);
      const mirrored = [
        'Cluster',
        'TaskDefinition',
        'NetworkConfiguration',
        'LaunchType',
        'PlatformVersion',
        'HealthCheckGracePeriodSeconds',
      ];
      for (const key of mirrored) expect([key, canary[key]]).toEqual([key, properties(stable)[key]]);
      expect(canary.LaunchType).toBe('FARGATE');
      expect(canary.LoadBalancers).toEqual([
        { ContainerName: 'model', ContainerPort: CONTAINER_PORT, TargetGroupArn: { Ref: expect.stringMatching(/^GrayCanaryTargetGroup/) } },
      ]);
    });

    it('deploys with minimum healthy 100 %, maximum 200 % and the circuit breaker on without rollback, and nothing scales it', () => {
      const { gray, properties, template } = synth();
      expect(properties(gray.canaryService).DeploymentConfiguration).toMatchObject({
        MinimumHealthyPercent: 100,
        MaximumPercent: 200,
        DeploymentCircuitBreaker: { Enable: true, Rollback: false },
      });
      expect(properties(gray.canaryService).DeploymentController).toEqual({ Type: 'ECS' });
      template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
    });

    it('is an Ec2Service with the placement strategies of an Ec2Service stable one', () => {
      const { gray, stable, properties } = synth(() => RULE, { launch: 'ec2' });
      expect(gray.canaryService).toBeInstanceOf(ecs.Ec2Service);
      const canary = properties(gray.canaryService);
      expect(canary).not.toHaveProperty('DesiredCount');
      expect(canary.PlacementStrategies).toEqual([{ Type: 'binpack', Field: 'MEMORY' }]);
      for (const key of ['LaunchType', 'NetworkConfiguration', 'PlacementStrategies']) expect(canary[key]).toEqual(properties(stable)[key]);
    });
  });

  describe('the canary target group', () => {
    it("copies the stable target group's port, protocol, target type and health check", () => {
      const { gray, stableTargetGroup, properties } = synth();
      const keys = [
        'Port',
        'Protocol',
        'TargetType',
        'VpcId',
        'HealthCheckPath',
        'HealthCheckIntervalSeconds',
        'HealthCheckTimeoutSeconds',
        'Matcher',
      ];
      const pick = (p: Record<string, unknown>) => Object.fromEntries(keys.map((k) => [k, p[k]]));
      expect(pick(properties(gray.canaryTargetGroup))).toEqual(pick(properties(stableTargetGroup)));
      expect(properties(gray.canaryTargetGroup)).toMatchObject({
        Port: CONTAINER_PORT,
        Protocol: 'HTTP',
        TargetType: 'ip',
        HealthCheckPath: '/health',
      });
    });

    it('takes port, protocol and health check from targetGroupSettings when the stable target group is imported', () => {
      const { gray, properties } = synth(
        (user) => {
          const imported = elbv2.ApplicationTargetGroup.fromTargetGroupAttributes(user.stack, 'Imported', {
            targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/stable/0123456789abcdef',
          });
          user.stable.attachToApplicationTargetGroup(imported);
          return {
            ...RULE,
            stableTargetGroup: imported,
            targetGroupSettings: { port: 9000, protocol: elbv2.ApplicationProtocol.HTTP, healthCheck: { path: '/ready' } },
          };
        },
        { registered: false },
      );
      expect(properties(gray.canaryTargetGroup)).toMatchObject({ Port: 9000, Protocol: 'HTTP', HealthCheckPath: '/ready' });
    });
  });

  describe('the weighted route', () => {
    it('is one listener rule forwarding stable 100 / canary 0, with the given priority and conditions', () => {
      const { gray, stableTargetGroup, listener, id, template } = synth();
      template.resourceCountIs('AWS::ElasticLoadBalancingV2::ListenerRule', 1);
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
        ListenerArn: { Ref: id(listener) },
        Priority: 10,
        Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/v1/*'] } }],
        Actions: [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: { Ref: id(stableTargetGroup) }, Weight: 100 },
                { TargetGroupArn: { Ref: id(gray.canaryTargetGroup) }, Weight: 0 },
              ],
            },
          },
        ],
      });
      expect(gray.traffic.route).toEqual({ kind: 'listener-rule', arn: gray.listenerRule!.listenerRuleArn });
    });

    it("is the listener's default action with defaultAction: true: no listener rule, DefaultActions weighted", () => {
      const { gray, stableTargetGroup, listener, id, properties, template } = synth(() => ({ defaultAction: true }));
      template.resourceCountIs('AWS::ElasticLoadBalancingV2::ListenerRule', 0);
      expect(gray.listenerRule).toBeUndefined();
      expect(properties(listener).DefaultActions).toEqual([
        {
          Type: 'forward',
          ForwardConfig: {
            TargetGroups: [
              { TargetGroupArn: { Ref: id(stableTargetGroup) }, Weight: 100 },
              { TargetGroupArn: { Ref: id(gray.canaryTargetGroup) }, Weight: 0 },
            ],
          },
        },
      ]);
      expect(gray.traffic.route).toEqual({ kind: 'listener-default-action', arn: listener.listenerArn });
    });
  });

  describe('what the user pastes into release.traffic', () => {
    it('exposes the values in the shape of the contract', () => {
      const { gray } = synth();
      expect(grayReleaseSchema.shape.traffic.parse(gray.traffic)).toEqual(gray.traffic);
      expect(gray.probePort).toBe(CONTAINER_PORT);
    });

    it('outputs each value, described by the configuration field it goes into', () => {
      const { gray, stable, stableTargetGroup, id, template } = synth();
      expect(outputsByField(template)).toEqual({
        'model-rollout release.traffic.listenerRuleArn': { Ref: id(gray.listenerRule!) },
        'model-rollout release.traffic.stableTargetGroupArn': { Ref: id(stableTargetGroup) },
        'model-rollout release.traffic.canaryTargetGroupArn': { Ref: id(gray.canaryTargetGroup) },
        'model-rollout release.traffic.canaryService': { 'Fn::GetAtt': [id(gray.canaryService), 'Name'] },
        'model-rollout release.traffic.taskSecurityGroupId': { 'Fn::GetAtt': [id(stable.connections.securityGroups[0]), 'GroupId'] },
        'model-rollout release.probe.port': String(CONTAINER_PORT),
      });
    });

    it('outputs the listener ARN (listenerArn) for a weighted default action', () => {
      const { listener, id, template } = synth(() => ({ defaultAction: true }));
      const outputs = outputsByField(template);
      expect(outputs).toMatchObject({ 'model-rollout release.traffic.listenerArn': { Ref: id(listener) } });
      expect(outputs).not.toHaveProperty('model-rollout release.traffic.listenerRuleArn');
    });
  });

  describe('refuses a set-up a gray release cannot work with, naming the value', () => {
    it('a stable service that is not a replica FargateService or Ec2Service', () => {
      const external = errorOf((user) => {
        const taskDefinition = new ecs.ExternalTaskDefinition(user.stack, 'OnPremisesTask');
        const onPremises = new ecs.ExternalService(user.stack, 'OnPremises', { cluster: user.cluster, taskDefinition });
        return { ...RULE, stableService: onPremises as unknown as ecs.FargateService };
      });
      expectGrayReleaseTargetError(external, /stableService User\/OnPremises is neither a FargateService nor an Ec2Service/);
      const daemon = errorOf(
        (user) => {
          const taskDefinition = user.stable.taskDefinition;
          return {
            ...RULE,
            stableService: new ecs.Ec2Service(user.stack, 'Daemon', { cluster: user.cluster, taskDefinition, daemon: true }),
          };
        },
        { launch: 'ec2' },
      );
      expectGrayReleaseTargetError(daemon, /stableService User\/Daemon runs as a DAEMON/);
    });

    it('a stable service registered to no target group', () => {
      expectGrayReleaseTargetError(
        errorOf(() => RULE, { registered: false }),
        /stableService User\/Stable is registered to no target group/,
      );
    });

    it('a stable service on several target groups without stableTargetGroup', () => {
      const error = errorOf((user) => {
        user.stable.attachToApplicationTargetGroup(new elbv2.ApplicationTargetGroup(user.stack, 'Other', { vpc: user.vpc, port: 8080 }));
        return RULE;
      });
      expectGrayReleaseTargetError(error, /registered to 2 target groups: give stableTargetGroup/);
    });

    it('a stableTargetGroup the stable service is not registered to', () => {
      const error = errorOf((user) => ({
        ...RULE,
        stableTargetGroup: new elbv2.ApplicationTargetGroup(user.stack, 'Other', { vpc: user.vpc, port: 8080 }),
      }));
      expectGrayReleaseTargetError(error, /stableService User\/Stable is not registered to stableTargetGroup User\/Other/);
    });

    it('a registration without container name and port', () => {
      const error = errorOf((user) => {
        user.stable.loadBalancers = [{ targetGroupArn: user.stableTargetGroup.targetGroupArn }];
        return RULE;
      });
      expectGrayReleaseTargetError(error, /registered without a container name and port/);
    });

    it('an imported stable target group without targetGroupSettings, and targetGroupSettings beside one that is not imported', () => {
      const imported = errorOf(
        (user) => {
          const group = elbv2.ApplicationTargetGroup.fromTargetGroupAttributes(user.stack, 'Imported', {
            targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/s/1',
          });
          user.stable.attachToApplicationTargetGroup(group);
          return { ...RULE, stableTargetGroup: group };
        },
        { registered: false },
      );
      expectGrayReleaseTargetError(imported, /stableTargetGroup User\/Imported is imported: give targetGroupSettings/);
      const conflicting = errorOf(() => ({
        ...RULE,
        targetGroupSettings: { port: 80, protocol: elbv2.ApplicationProtocol.HTTP, healthCheck: {} },
      }));
      expectGrayReleaseTargetError(conflicting, /targetGroupSettings conflicts with stableTargetGroup User\/StableTargetGroup/);
    });

    it('a listener that is not an application listener', () => {
      const error = errorOf((user) => {
        const listener = elbv2.NetworkListener.fromNetworkListenerArn(
          user.stack,
          'NlbListener',
          'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/net/nlb/0123456789abcdef/0123456789abcdef',
        );
        return { ...RULE, listener: listener as unknown as elbv2.IApplicationListener };
      });
      expectGrayReleaseTargetError(error, /listener User\/NlbListener is not an application listener/);
    });

    it('defaultAction: true with a priority or conditions', () => {
      expectGrayReleaseTargetError(
        errorOf(() => ({ ...RULE, defaultAction: true })),
        /defaultAction: true conflicts with priority 10 and 1 condition\(s\)/,
      );
    });

    it('defaultAction: true on an imported listener', () => {
      const error = errorOf((user) => ({
        defaultAction: true,
        listener: elbv2.ApplicationListener.fromApplicationListenerAttributes(user.stack, 'ImportedListener', {
          listenerArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/alb/0123456789abcdef/0123456789abcdef',
          securityGroup: ec2.SecurityGroup.fromSecurityGroupId(user.stack, 'AlbGroup', 'sg-0123456789abcdef0'),
        }),
      }));
      expectGrayReleaseTargetError(error, /defaultAction: true needs a listener created in this app; User\/ImportedListener is imported/);
    });

    it('neither a rule nor the default action, and a priority ELB refuses', () => {
      expectGrayReleaseTargetError(
        errorOf(() => ({ priority: 10 })),
        /needs a priority and at least one condition \(got priority 10, 0 condition\(s\)\)/,
      );
      expectGrayReleaseTargetError(
        errorOf(() => ({ ...RULE, priority: 50_001 })),
        /priority 50001 is not a whole number from 1 to 50000/,
      );
    });

    it('a stable service on the CODE_DEPLOY controller, or on ECS blue/green', () => {
      const codeDeploy = errorOf((user) => {
        (user.stable.node.defaultChild as ecs.CfnService).deploymentController = { type: 'CODE_DEPLOY' };
        return RULE;
      });
      expectGrayReleaseTargetError(codeDeploy, /stableService User\/Stable uses the CODE_DEPLOY deployment controller/);
      const blueGreen = errorOf((user) => {
        user.stable.loadBalancers = [
          { ...user.stable.loadBalancers[0], advancedConfiguration: { alternateTargetGroupArn: 'arn:green', roleArn: 'arn:role' } },
        ];
        return RULE;
      });
      expectGrayReleaseTargetError(blueGreen, /stableService User\/Stable uses ECS blue\/green/);
    });

    it('a stable service with no security group to open to the probe, unless taskSecurityGroup is given', () => {
      const bridge: UserStackOptions = { launch: 'ec2-bridge' };
      expectGrayReleaseTargetError(
        errorOf(() => RULE, bridge),
        /stableService User\/Stable has no security group: give taskSecurityGroup/,
      );
      const user = userStack(bridge);
      const taskSecurityGroup = ec2.SecurityGroup.fromSecurityGroupId(user.stack, 'Instances', 'sg-0fedcba9876543210');
      const gray = new GrayReleaseTarget(user.stack, 'Gray', {
        stableService: user.stable,
        listener: user.listener,
        ...RULE,
        taskSecurityGroup,
      });
      expect(gray.traffic.taskSecurityGroupId).toBe('sg-0fedcba9876543210');
    });

    it('at synth: another route to the stable target group that the weights would not control', () => {
      const user = userStack({ listenerForwardsToStable: true });
      new GrayReleaseTarget(user.stack, 'Gray', { stableService: user.stable, listener: user.listener, ...RULE });
      expect(() => Template.fromStack(user.stack)).toThrow(
        /User\/Alb\/Http\/Resource also forwards to the stable target group User\/StableTargetGroup, bypassing the weights/,
      );
    });
  });

  describe('cdk-nag', () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'gray-release-target-nag-'));
    afterAll(() => rmSync(folder, { recursive: true, force: true }));

    it.each([
      ['a weighted rule', () => RULE],
      ['a weighted default action', () => ({ defaultAction: true })],
    ] as const)('adds no finding of the project packs with %s (the user stack may have its own)', (name, props) => {
      const outdir = path.join(folder, name.replaceAll(' ', '-'));
      const user = userStack({ outdir });
      addNagChecks(user.app);
      new GrayReleaseTarget(user.stack, 'Gray', { stableService: user.stable, listener: user.listener, ...props() });
      const paths = nagFindings(user.app, outdir);
      expect(paths.length).toBeGreaterThan(0);
      expect(paths.filter((p) => p.includes(' User/Gray/'))).toEqual([]);
    });
  });
});
