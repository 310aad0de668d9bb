/** The `network` section: an existing VPC, named by its attributes, and which VPC endpoints the stack creates in it. */
import * as z from 'zod';
import { ENDPOINT_NAMES } from '../../endpoints';
import { show } from '../messages';
import type { NetworkConfig } from '../types';
import { id, reportDuplicates, strictObject } from './fields';

const VPC_ID = /^vpc-[0-9a-f]{8,17}$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;
const ROUTE_TABLE_ID = /^rtb-[0-9a-f]{8,17}$/;
const SECURITY_GROUP_ID = /^sg-[0-9a-f]{8,17}$/;
const PREFIX_LIST_ID = /^pl-[0-9a-f]{8,17}$/;
const AVAILABILITY_ZONE = /^[a-z]{2}(?:-[a-z]+)+-\d+[a-z]$/;
const IPV4_CIDR = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\/(?:[0-9]|[12]\d|3[0-2])$/;

/** The parts of the network block its cross-field checks read. */
type NetworkLists = Pick<
  NetworkConfig,
  'availabilityZones' | 'privateSubnetIds' | 'privateRouteTableIds' | 'endpoints' | 'existingEndpoints'
>;

export const networkSchema = strictObject({
  vpcId: id(VPC_ID, 'a VPC ID (vpc-0123456789abcdef0)'),
  vpcCidrBlock: id(IPV4_CIDR, 'an IPv4 CIDR block like 10.0.0.0/16'),
  availabilityZones: z.array(id(AVAILABILITY_ZONE, 'an availability zone name like eu-west-1a')).min(1),
  privateSubnetIds: z.array(id(SUBNET_ID, 'a subnet ID (subnet-0123456789abcdef0)')).min(1),
  privateRouteTableIds: z.array(id(ROUTE_TABLE_ID, 'a route table ID (rtb-0123456789abcdef0)')).default([]),
  endpoints: z.enum(['create', 'existing']).default('create'),
  existingEndpoints: z.array(z.enum(ENDPOINT_NAMES)).default([]),
  endpointSecurityGroupIds: z.array(id(SECURITY_GROUP_ID, 'a security group ID (sg-0123456789abcdef0)')).default([]),
  gatewayPrefixLists: strictObject({
    s3: id(PREFIX_LIST_ID, "a prefix list ID (pl-…): the Region's com.amazonaws.<region>.s3 list"),
    dynamodb: id(PREFIX_LIST_ID, "a prefix list ID (pl-…): the Region's com.amazonaws.<region>.dynamodb list"),
  }),
}).superRefine((network, ctx) => {
  checkCounts(network, ctx);
  checkEndpoints(network, ctx);
  reportDuplicates(
    ctx,
    network.availabilityZones,
    ['availabilityZones'],
    (zone, first) => `${show(zone)} is already listed at availabilityZones[${first}]`,
  );
  reportDuplicates(
    ctx,
    network.privateSubnetIds,
    ['privateSubnetIds'],
    (subnet, first) => `${show(subnet)} is already listed at privateSubnetIds[${first}]`,
  );
  reportDuplicates(
    ctx,
    network.existingEndpoints,
    ['existingEndpoints'],
    (name, first) => `${show(name)} is already listed at existingEndpoints[${first}]`,
  );
});

/** One private subnet per zone and one route table per subnet, in the same order. */
function checkCounts(network: NetworkLists, ctx: z.RefinementCtx): void {
  const { availabilityZones: zones, privateSubnetIds: subnets, privateRouteTableIds: routeTables } = network;
  // Counts are compared only when both lists are there, so that an empty list is reported once.
  if (zones.length > 0 && subnets.length > 0 && subnets.length !== zones.length) {
    ctx.addIssue({
      code: 'custom',
      path: ['privateSubnetIds'],
      input: subnets,
      message: `lists ${subnets.length} subnet${subnets.length === 1 ? '' : 's'} for ${zones.length} availability zone${zones.length === 1 ? '' : 's'}: give one private subnet per zone, in the same order`,
    });
  }
  if (routeTables.length > 0 && subnets.length > 0 && subnets.length === zones.length && routeTables.length !== subnets.length) {
    ctx.addIssue({
      code: 'custom',
      path: ['privateRouteTableIds'],
      input: routeTables,
      message: `lists ${routeTables.length} route table${routeTables.length === 1 ? '' : 's'} for ${subnets.length} private subnet${subnets.length === 1 ? '' : 's'}: give each subnet's route table, in the same order (repeat one that several subnets share)`,
    });
  }
}

/** Gateway endpoints the stack creates need the route tables; `existing` leaves nothing to list as existing. */
function checkEndpoints(network: NetworkLists, ctx: z.RefinementCtx): void {
  const routeTables = network.privateRouteTableIds;
  const createsGateway =
    network.endpoints === 'create' && !(network.existingEndpoints.includes('s3') && network.existingEndpoints.includes('dynamodb'));
  if (createsGateway && routeTables.length === 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['privateRouteTableIds'],
      input: routeTables,
      message:
        "must list the private subnets' route tables: the stack creates the S3 and DynamoDB gateway endpoints there " +
        '(or list s3 and dynamodb in existingEndpoints, or set endpoints to "existing")',
    });
  }
  if (network.endpoints === 'existing' && network.existingEndpoints.length > 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['existingEndpoints'],
      input: network.existingEndpoints,
      message: 'is only for endpoints "create": with "existing" the stack creates no endpoint at all',
    });
  }
}
