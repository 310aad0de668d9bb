import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import type { CatalogEntry } from '../../lambdas/contract/catalog';
import type { NetworkConfig } from '../../lib/config';
import { type EndpointName, endpointsNeeded } from '../../lib/endpoints';
import { PrivateNetwork } from '../../lib/private-network';
import { EVENT_FUNCTIONS, STEP_FUNCTIONS } from '../../lib/state-names';
import { sentimentService } from '../fixtures/catalog';
import { TEST_NETWORK } from '../fixtures/network';

/** TEST_NETWORK with the configuration's defaults filled in: every needed endpoint created, no other group to open. */
const NETWORK: NetworkConfig = { ...TEST_NETWORK, endpoints: 'create', existingEndpoints: [], endpointSecurityGroupIds: [] };
/** Needs CloudWatch (an alarm), not KMS or Signer (a public key only). */
const SENTIMENT = sentimentService();

function synth(network: Partial<NetworkConfig> = {}, catalog: CatalogEntry[] = [SENTIMENT]) {
  const stack = new Stack(new App(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const created = new PrivateNetwork(stack, 'Network', { network: { ...NETWORK, ...network }, catalog });
  const template = Template.fromStack(stack);
  const id = (construct: IConstruct) => stack.getLogicalId(construct.node.defaultChild as CfnElement);
  const groupId = (construct: IConstruct) => ({ 'Fn::GetAtt': [id(construct), 'GroupId'] });
  return { stack, network: created, template, id, groupId };
}

/** `com.amazonaws.eu-west-1.ecr.api` (or its `Fn::Join` with the Region) → `ecr.api`. */
function endpointName(serviceName: unknown): string {
  const rendered =
    typeof serviceName === 'string'
      ? serviceName
      : (serviceName as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1]
          .map((part) => (typeof part === 'string' ? part : 'eu-west-1'))
          .join('');
  return rendered.replace(/^com\.amazonaws\.eu-west-1\./, '');
}

/** The created endpoints by name, with their properties. */
function endpoints(template: Template): Record<string, any> {
  return Object.fromEntries(
    Object.values(template.findResources('AWS::EC2::VPCEndpoint')).map((e) => [endpointName(e.Properties.ServiceName), e.Properties]),
  );
}

/** Every rule of a security group, inline or as its own resource, in one shape: `[direction, peer, protocol, from, to]`. */
function rulesOf(template: Template, groupLogicalId: string): string[][] {
  const peer = (rule: any) =>
    JSON.stringify(
      rule.CidrIp ??
        rule.CidrIpv6 ??
        rule.DestinationPrefixListId ??
        rule.SourcePrefixListId ??
        rule.DestinationSecurityGroupId ??
        rule.SourceSecurityGroupId,
    );
  const shape = (direction: string, rule: any) => [
    direction,
    peer(rule),
    String(rule.IpProtocol),
    String(rule.FromPort),
    String(rule.ToPort),
  ];
  const group = template.toJSON().Resources[groupLogicalId].Properties;
  const separate = (type: string) =>
    Object.values(template.findResources(type))
      .map((r) => r.Properties)
      .filter((r) => JSON.stringify(r.GroupId) === JSON.stringify({ 'Fn::GetAtt': [groupLogicalId, 'GroupId'] }));
  return [
    ...(group.SecurityGroupIngress ?? []).map((r: any) => shape('in', r)),
    ...separate('AWS::EC2::SecurityGroupIngress').map((r) => shape('in', r)),
    ...(group.SecurityGroupEgress ?? []).map((r: any) => shape('out', r)),
    ...separate('AWS::EC2::SecurityGroupEgress').map((r) => shape('out', r)),
  ].sort();
}

describe('PrivateNetwork', () => {
  describe("the functions' security group", () => {
    it("allows HTTPS out to the endpoints' security group and to the S3 and DynamoDB prefix lists, not to the VPC range, and nothing in", () => {
      const { network, template, id } = synth();
      const endpoints = JSON.stringify({ 'Fn::GetAtt': [id(network.endpointSecurityGroup!), 'GroupId'] });
      expect(rulesOf(template, id(network.functionSecurityGroup))).toEqual(
        [
          ['out', endpoints, 'tcp', '443', '443'],
          ['out', '"pl-63a5400a"', 'tcp', '443', '443'],
          ['out', '"pl-02cd2c6b"', 'tcp', '443', '443'],
        ].sort(),
      );
    });

    it('allows HTTPS out to the security groups of endpoints the VPC already has, one rule each', () => {
      const { network, template, id } = synth({
        endpoints: 'existing',
        endpointSecurityGroupIds: ['sg-0123456789abcdef0', 'sg-0fedcba9876543210'],
      });
      expect(network.endpointSecurityGroup).toBeUndefined();
      expect(rulesOf(template, id(network.functionSecurityGroup))).toEqual(
        [
          ['out', '"sg-0123456789abcdef0"', 'tcp', '443', '443'],
          ['out', '"sg-0fedcba9876543210"', 'tcp', '443', '443'],
          ['out', '"pl-63a5400a"', 'tcp', '443', '443'],
          ['out', '"pl-02cd2c6b"', 'tcp', '443', '443'],
        ].sort(),
      );
    });

    it('opens nothing to the internet: no 0.0.0.0/0 or ::/0 anywhere', () => {
      for (const network of [{}, { endpoints: 'existing' as const, endpointSecurityGroupIds: ['sg-0123456789abcdef0'] }]) {
        const text = JSON.stringify(synth(network).template.toJSON());
        expect(text).not.toContain('0.0.0.0/0');
        expect(text).not.toContain('::/0');
      }
    });
  });

  describe('created endpoints', () => {
    it('creates exactly the endpoints the services need, each of the kind endpointsNeeded says', () => {
      const { template } = synth();
      const needed = endpointsNeeded([SENTIMENT]);
      const created = endpoints(template);
      expect(Object.keys(created).sort()).toEqual(needed.map((e) => e.name).sort());
      for (const { name, kind } of needed) {
        expect({ name, type: created[name].VpcEndpointType }).toEqual({ name, type: kind === 'interface' ? 'Interface' : 'Gateway' });
      }
    });

    it('places interface endpoints in the private subnets, with private DNS, behind the endpoint security group only', () => {
      const { network, template, groupId } = synth();
      const interfaces = Object.entries(endpoints(template)).filter(([, e]) => e.VpcEndpointType === 'Interface');
      expect(interfaces.length).toBeGreaterThan(0);
      for (const [name, endpoint] of interfaces) {
        expect({ name, endpoint }).toEqual({
          name,
          endpoint: expect.objectContaining({
            VpcId: TEST_NETWORK.vpcId,
            SubnetIds: [...TEST_NETWORK.privateSubnetIds],
            PrivateDnsEnabled: true,
            SecurityGroupIds: [groupId(network.endpointSecurityGroup!)],
          }),
        });
      }
    });

    it('lets only the roles of the functions that call a service use its interface endpoint; gateway endpoints keep the default policy', () => {
      const stack = new Stack(new App(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
      const network = new PrivateNetwork(stack, 'Network', { network: NETWORK, catalog: [SENTIMENT] });
      const roleOf = (name: string) => `arn:aws:iam::123456789012:role/${name}`;
      const roles = Object.fromEntries(
        [...STEP_FUNCTIONS, ...EVENT_FUNCTIONS].map((name) => [name, iam.Role.fromRoleArn(stack, `${name}Role`, roleOf(name))]),
      ) as Parameters<PrivateNetwork['restrictEndpointsTo']>[0];
      network.restrictEndpointsTo(roles);

      const created = endpoints(Template.fromStack(stack));
      for (const spec of endpointsNeeded([SENTIMENT])) {
        if (spec.kind === 'gateway') {
          expect(created[spec.name].PolicyDocument, spec.name).toBeUndefined();
          continue;
        }
        expect(created[spec.name].PolicyDocument, spec.name).toEqual({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: '*',
              Action: `${spec.iamService}:*`,
              Resource: '*',
              Condition: { ArnEquals: { 'aws:PrincipalArn': spec.usedBy.map(roleOf) } },
            },
          ],
        });
      }
    });

    it('adds gateway endpoints to the private route tables, not to subnets', () => {
      const { template } = synth();
      const created = endpoints(template);
      for (const name of ['s3', 'dynamodb']) {
        expect({ name, endpoint: created[name] }).toEqual({
          name,
          endpoint: expect.objectContaining({
            VpcEndpointType: 'Gateway',
            VpcId: TEST_NETWORK.vpcId,
            RouteTableIds: [...TEST_NETWORK.privateRouteTableIds],
          }),
        });
        expect(created[name]).not.toHaveProperty('SubnetIds');
      }
    });

    it('lets only the functions in to the endpoints: HTTPS from their security group, nothing else', () => {
      const { network, template, id } = synth();
      expect(rulesOf(template, id(network.endpointSecurityGroup!))).toEqual([
        ['in', JSON.stringify({ 'Fn::GetAtt': [id(network.functionSecurityGroup), 'GroupId'] }), 'tcp', '443', '443'],
        // CDK's placeholder for "no egress rule" (an endpoint never opens a connection).
        ['out', '"255.255.255.255/32"', 'icmp', '252', '86'],
      ]);
    });

    it('does not create the endpoints listed in existingEndpoints', () => {
      const existing: EndpointName[] = ['s3', 'ecr.api', 'monitoring'];
      const { template } = synth({ existingEndpoints: existing });
      expect(Object.keys(endpoints(template)).sort()).toEqual(
        endpointsNeeded([SENTIMENT])
          .map((e) => e.name)
          .filter((name) => !existing.includes(name))
          .sort(),
      );
    });

    it('creates no endpoint security group when every needed interface endpoint exists already', () => {
      const interfaces = endpointsNeeded([SENTIMENT])
        .filter((e) => e.kind === 'interface')
        .map((e) => e.name);
      const { network, template } = synth({ existingEndpoints: interfaces });
      expect(Object.keys(endpoints(template)).sort()).toEqual(['dynamodb', 's3']);
      expect(network.endpointSecurityGroup).toBeUndefined();
      template.resourceCountIs('AWS::EC2::SecurityGroup', 1);
    });

    it('creates no endpoint and no endpoint security group with endpoints "existing"', () => {
      const { network, template } = synth({ endpoints: 'existing', privateRouteTableIds: [] });
      template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
      expect(network.endpointSecurityGroup).toBeUndefined();
      expect(network.createdEndpoints).toEqual({});
      template.resourceCountIs('AWS::EC2::SecurityGroup', 1);
    });

    /** A service that needs no CloudWatch alarm, no KMS key and no Signer profile. */
    const plain = sentimentService({ health: { alarms: [] } });
    const OPTIONAL: EndpointName[] = ['monitoring', 'kms', 'signer'];

    it('creates no monitoring, kms or signer endpoint when no service needs one', () => {
      expect(Object.keys(endpoints(synth({}, [plain]).template)).sort()).toEqual(['dynamodb', 'ecr.api', 'ecs', 's3', 'states']);
    });

    it.each<[EndpointName, CatalogEntry]>([
      ['monitoring', sentimentService({ health: { alarms: ['sentiment-5xx-rate'] } })],
      ['kms', sentimentService({ health: { alarms: [] }, signing: { kmsKeys: ['alias/release-signing'] } })],
      [
        'signer',
        sentimentService({
          health: { alarms: [] },
          signing: { signingProfiles: ['arn:aws:signer:eu-west-1:123456789012:/signing-profiles/ModelRelease'] },
        }),
      ],
    ])('creates the %s endpoint, and no other optional one, when one service needs it', (name, needing) => {
      const other = { ...needing, name: 'other', service: 'other', repositoryName: 'models/other' };
      const created = Object.keys(endpoints(synth({}, [plain, other]).template));
      expect(created.filter((n) => OPTIONAL.includes(n as EndpointName))).toEqual([name]);
    });
  });

  describe('endpoints the VPC already has', () => {
    it('adds exactly one rule to each configured endpoint security group: HTTPS in from the functions', () => {
      const groups = ['sg-0123456789abcdef0', 'sg-0123456789abcdef1'];
      const { network, template, groupId } = synth({ endpoints: 'existing', endpointSecurityGroupIds: groups });
      const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties);
      for (const group of groups) {
        expect(ingress.filter((r) => r.GroupId === group)).toEqual([
          expect.objectContaining({
            IpProtocol: 'tcp',
            FromPort: 443,
            ToPort: 443,
            SourceSecurityGroupId: groupId(network.functionSecurityGroup),
          }),
        ]);
      }
      expect(ingress).toHaveLength(groups.length);
      for (const rule of ingress) expect(rule).not.toHaveProperty('CidrIp');
    });
  });

  describe('the VPC', () => {
    it.each([
      ['endpoints created', {}],
      ['endpoints existing', { endpoints: 'existing' as const, privateRouteTableIds: [] }],
    ])('is imported, not created: no VPC, subnet, route, NAT or internet gateway (%s)', (_, network) => {
      const { template } = synth(network);
      for (const type of [
        'AWS::EC2::VPC',
        'AWS::EC2::Subnet',
        'AWS::EC2::RouteTable',
        'AWS::EC2::Route',
        'AWS::EC2::NatGateway',
        'AWS::EC2::EIP',
        'AWS::EC2::InternetGateway',
        'AWS::EC2::EgressOnlyInternetGateway',
        'AWS::EC2::VPCGatewayAttachment',
      ]) {
        template.resourceCountIs(type, 0);
      }
    });
  });
});
