import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lib/config';
import { example, issuesOf, ROOT } from '../config-fixture';

describe('network defaults', () => {
  it('creates every endpoint, knows of none existing and no endpoint security group, when those are left out', () => {
    const raw = example();
    delete raw.network.endpoints;
    delete raw.network.existingEndpoints;
    delete raw.network.endpointSecurityGroupIds;

    expect(parseConfig(raw, ROOT).network).toMatchObject({ endpoints: 'create', existingEndpoints: [], endpointSecurityGroupIds: [] });
  });
});

describe('the network block', () => {
  const ROUTE_TABLES_NEEDED =
    "network.privateRouteTableIds: must list the private subnets' route tables: the stack creates the S3 and DynamoDB " +
    'gateway endpoints there (or list s3 and dynamodb in existingEndpoints, or set endpoints to "existing")';

  const cases: { name: string; breakIt: (raw: any) => void; issue: string }[] = [
    {
      name: 'no network block',
      breakIt: (raw) => delete raw.network,
      issue: 'network: is required (object)',
    },
    {
      name: 'an unknown key (a typo) in it',
      breakIt: (raw) => (raw.network.subnetIds = raw.network.privateSubnetIds),
      issue:
        'network: unknown key "subnetIds" (allowed: vpcId, vpcCidrBlock, availabilityZones, privateSubnetIds, ' +
        'privateRouteTableIds, endpoints, existingEndpoints, endpointSecurityGroupIds, gatewayPrefixLists)',
    },
    {
      name: 'a VPC given by name',
      breakIt: (raw) => (raw.network.vpcId = 'models-vpc'),
      issue: 'network.vpcId: "models-vpc" is not a VPC ID (vpc-0123456789abcdef0)',
    },
    {
      name: 'a VPC ID with too few hex digits',
      breakIt: (raw) => (raw.network.vpcId = 'vpc-0a1b2c'),
      issue: 'network.vpcId: "vpc-0a1b2c" is not a VPC ID (vpc-0123456789abcdef0)',
    },
    {
      name: 'a CIDR block without a prefix length',
      breakIt: (raw) => (raw.network.vpcCidrBlock = '10.40.0.0'),
      issue: 'network.vpcCidrBlock: "10.40.0.0" is not an IPv4 CIDR block like 10.0.0.0/16',
    },
    {
      name: 'a CIDR block with a prefix longer than 32',
      breakIt: (raw) => (raw.network.vpcCidrBlock = '10.40.0.0/33'),
      issue: 'network.vpcCidrBlock: "10.40.0.0/33" is not an IPv4 CIDR block like 10.0.0.0/16',
    },
    {
      name: 'a CIDR block with an octet above 255',
      breakIt: (raw) => (raw.network.vpcCidrBlock = '10.256.0.0/16'),
      issue: 'network.vpcCidrBlock: "10.256.0.0/16" is not an IPv4 CIDR block like 10.0.0.0/16',
    },
    {
      name: 'an availability zone ID instead of its name',
      breakIt: (raw) => (raw.network.availabilityZones[1] = 'use1-az2'),
      issue: 'network.availabilityZones[1]: "use1-az2" is not an availability zone name like eu-west-1a',
    },
    {
      name: 'a Region instead of an availability zone',
      breakIt: (raw) => (raw.network.availabilityZones[0] = 'us-east-1'),
      issue: 'network.availabilityZones[0]: "us-east-1" is not an availability zone name like eu-west-1a',
    },
    {
      name: 'a subnet ID in capitals',
      breakIt: (raw) => (raw.network.privateSubnetIds[1] = 'subnet-0A1B2C3D4E5F60002'),
      issue: 'network.privateSubnetIds[1]: "subnet-0A1B2C3D4E5F60002" is not a subnet ID (subnet-0123456789abcdef0)',
    },
    {
      name: 'a subnet given by its CIDR block',
      breakIt: (raw) => (raw.network.privateSubnetIds[0] = '10.40.1.0/24'),
      issue: 'network.privateSubnetIds[0]: "10.40.1.0/24" is not a subnet ID (subnet-0123456789abcdef0)',
    },
    {
      name: 'a route table given by name',
      breakIt: (raw) => (raw.network.privateRouteTableIds[1] = 'private-b'),
      issue: 'network.privateRouteTableIds[1]: "private-b" is not a route table ID (rtb-0123456789abcdef0)',
    },
    {
      name: 'a security group given by name',
      breakIt: (raw) => (raw.network.endpointSecurityGroupIds = ['endpoints']),
      issue: 'network.endpointSecurityGroupIds[0]: "endpoints" is not a security group ID (sg-0123456789abcdef0)',
    },
    {
      name: 'an S3 prefix list given by name',
      breakIt: (raw) => (raw.network.gatewayPrefixLists.s3 = 'com.amazonaws.us-east-1.s3'),
      issue:
        'network.gatewayPrefixLists.s3: "com.amazonaws.us-east-1.s3" is not a prefix list ID (pl-…): ' +
        "the Region's com.amazonaws.<region>.s3 list",
    },
    {
      name: 'a DynamoDB prefix list that is a security group',
      breakIt: (raw) => (raw.network.gatewayPrefixLists.dynamodb = 'sg-02cd2c6b'),
      issue:
        'network.gatewayPrefixLists.dynamodb: "sg-02cd2c6b" is not a prefix list ID (pl-…): ' +
        "the Region's com.amazonaws.<region>.dynamodb list",
    },
    {
      name: 'no gateway prefix lists',
      breakIt: (raw) => delete raw.network.gatewayPrefixLists,
      issue: 'network.gatewayPrefixLists: is required (object)',
    },
    {
      name: 'a missing DynamoDB prefix list',
      breakIt: (raw) => delete raw.network.gatewayPrefixLists.dynamodb,
      issue: 'network.gatewayPrefixLists.dynamodb: is required (string)',
    },
    {
      name: 'a prefix list for another service',
      breakIt: (raw) => (raw.network.gatewayPrefixLists.ec2 = 'pl-0123456789abcdef0'),
      issue: 'network.gatewayPrefixLists: unknown key "ec2" (allowed: s3, dynamodb)',
    },
    {
      name: 'fewer subnets than availability zones',
      breakIt: (raw) => (raw.network.privateSubnetIds = ['subnet-0a1b2c3d4e5f60001']),
      issue: 'network.privateSubnetIds: lists 1 subnet for 2 availability zones: give one private subnet per zone, in the same order',
    },
    {
      name: 'more subnets than availability zones',
      breakIt: (raw) => (raw.network.availabilityZones = ['us-east-1a']),
      issue: 'network.privateSubnetIds: lists 2 subnets for 1 availability zone: give one private subnet per zone, in the same order',
    },
    {
      name: 'the same availability zone twice',
      breakIt: (raw) => (raw.network.availabilityZones = ['us-east-1a', 'us-east-1a']),
      issue: 'network.availabilityZones[1]: "us-east-1a" is already listed at availabilityZones[0]',
    },
    {
      name: 'the same subnet twice',
      breakIt: (raw) => (raw.network.privateSubnetIds = ['subnet-0a1b2c3d4e5f60001', 'subnet-0a1b2c3d4e5f60001']),
      issue: 'network.privateSubnetIds[1]: "subnet-0a1b2c3d4e5f60001" is already listed at privateSubnetIds[0]',
    },
    {
      name: 'an endpoint mode that does not exist',
      breakIt: (raw) => (raw.network.endpoints = 'none'),
      issue: 'network.endpoints: "none" is not one of create | existing',
    },
    {
      name: 'an existing endpoint the pipeline does not use',
      breakIt: (raw) => (raw.network.existingEndpoints = ['ecr.api', 'ecr.dkr']),
      issue:
        'network.existingEndpoints[1]: "ecr.dkr" is not one of ecr.api | s3 | dynamodb | ecs | states | monitoring | kms | signer | elasticloadbalancing',
    },
    {
      name: 'an existing endpoint given by its full service name',
      breakIt: (raw) => (raw.network.existingEndpoints = ['com.amazonaws.us-east-1.s3']),
      issue:
        'network.existingEndpoints[0]: "com.amazonaws.us-east-1.s3" is not one of ' +
        'ecr.api | s3 | dynamodb | ecs | states | monitoring | kms | signer | elasticloadbalancing',
    },
    {
      name: 'the same existing endpoint twice',
      breakIt: (raw) => (raw.network.existingEndpoints = ['ecr.api', 's3', 'ecr.api']),
      issue: 'network.existingEndpoints[2]: "ecr.api" is already listed at existingEndpoints[0]',
    },
    {
      name: 'existing endpoints listed while endpoints is "existing"',
      breakIt: (raw) => (raw.network.endpoints = 'existing'),
      issue: 'network.existingEndpoints: is only for endpoints "create": with "existing" the stack creates no endpoint at all',
    },
    {
      name: 'no route tables while the stack creates the DynamoDB gateway endpoint (S3 exists)',
      breakIt: (raw) => delete raw.network.privateRouteTableIds,
      issue: ROUTE_TABLES_NEEDED,
    },
    {
      name: 'no route tables while the stack creates the S3 gateway endpoint (DynamoDB exists)',
      breakIt: (raw) => Object.assign(raw.network, { privateRouteTableIds: [], existingEndpoints: ['dynamodb', 'ecr.api'] }),
      issue: ROUTE_TABLES_NEEDED,
    },
    {
      name: 'no route tables while the stack creates both gateway endpoints (endpoints left to the default)',
      breakIt: (raw) => {
        delete raw.network.endpoints;
        delete raw.network.existingEndpoints;
        raw.network.privateRouteTableIds = [];
      },
      issue: ROUTE_TABLES_NEEDED,
    },
  ];

  it.each(cases)('rejects $name', ({ breakIt, issue }) => {
    const raw = example();
    breakIt(raw);

    expect(issuesOf(raw)).toEqual([issue]);
  });

  it('needs no route tables when the VPC already has every endpoint', () => {
    const raw = example();
    raw.network.endpoints = 'existing';
    delete raw.network.existingEndpoints;
    delete raw.network.privateRouteTableIds;

    const { network } = parseConfig(raw, ROOT);

    expect(network).toMatchObject({ endpoints: 'existing', existingEndpoints: [], privateRouteTableIds: [] });
  });

  it.each([[['s3', 'dynamodb']], [['dynamodb', 'ecs', 's3']]])(
    'needs no route tables when both gateway endpoints already exist (existingEndpoints %j)',
    (existingEndpoints) => {
      const raw = example();
      raw.network.existingEndpoints = existingEndpoints;
      delete raw.network.privateRouteTableIds;

      const { network } = parseConfig(raw, ROOT);

      expect(network).toMatchObject({ endpoints: 'create', existingEndpoints, privateRouteTableIds: [] });
    },
  );

  it('accepts one shared route table for several subnets', () => {
    const raw = example();
    raw.network.privateRouteTableIds = ['rtb-0a1b2c3d4e5f60001', 'rtb-0a1b2c3d4e5f60001'];

    expect(parseConfig(raw, ROOT).network.privateRouteTableIds).toEqual(['rtb-0a1b2c3d4e5f60001', 'rtb-0a1b2c3d4e5f60001']);
  });

  it('accepts IDs of both lengths AWS issues (8 and 17 hex digits) and the widest and narrowest VPC blocks', () => {
    const raw = example();
    Object.assign(raw.network, {
      vpcId: 'vpc-0a1b2c3d',
      vpcCidrBlock: '172.31.0.0/28',
      availabilityZones: ['eu-west-1a', 'us-gov-west-1b', 'ap-southeast-2c'],
      privateSubnetIds: ['subnet-0a1b2c3d', 'subnet-0a1b2c3d4e5f60001', 'subnet-0a1b2c3d4e5f60002'],
      privateRouteTableIds: ['rtb-0a1b2c3d', 'rtb-0a1b2c3d', 'rtb-0a1b2c3d'],
      endpointSecurityGroupIds: ['sg-0a1b2c3d', 'sg-0a1b2c3d4e5f60099'],
      gatewayPrefixLists: { s3: 'pl-0123456789abcdef0', dynamodb: 'pl-02cd2c6b' },
    });
    expect(() => parseConfig(raw, ROOT)).not.toThrow();

    raw.network.vpcCidrBlock = '10.0.0.0/16';
    expect(parseConfig(raw, ROOT).network.vpcCidrBlock).toBe('10.0.0.0/16');
  });

  it.each([
    [['rtb-0a1b2c3d4e5f60001'], 'lists 1 route table for 2 private subnets'],
    [['rtb-0a1b2c3d4e5f60001', 'rtb-0a1b2c3d4e5f60002', 'rtb-0a1b2c3d4e5f60003'], 'lists 3 route tables for 2 private subnets'],
  ])('rejects route tables %j that do not match the subnets one to one, naming the field', (routeTables, counted) => {
    const raw = example();
    raw.network.privateRouteTableIds = routeTables;

    expect(issuesOf(raw)).toEqual([
      `network.privateRouteTableIds: ${counted}: give each subnet's route table, in the same order (repeat one that several subnets share)`,
    ]);
  });

  it('reports an empty subnet list once, not again as a count that does not match the zones', () => {
    const raw = example();
    raw.network.privateSubnetIds = [];
    raw.network.privateRouteTableIds = [];
    raw.network.existingEndpoints = ['s3', 'dynamodb'];

    expect(issuesOf(raw)).toEqual(['network.privateSubnetIds: must list at least 1 item']);
  });
});
