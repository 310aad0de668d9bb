import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { ServiceCatalog } from '../lambdas/contract/catalog';
import type { NetworkConfig } from './config';
import { type EndpointName, endpointsNeeded, type NeededEndpoint } from './endpoints';
import type { FunctionName } from './state-names';

export interface PrivateNetworkProps {
  /** The existing VPC, by attributes, and which endpoints to create. */
  readonly network: NetworkConfig;
  /** Decides which endpoints are needed (KMS, Signer and CloudWatch only when a service uses them). */
  readonly catalog: ServiceCatalog;
}

const HTTPS = ec2.Port.tcp(443);

/**
 * Where the pipeline's functions run: the private subnets of an existing VPC (imported by attributes, no lookup), behind
 * one security group that allows HTTPS out to the interface endpoints' security groups and to the S3 and DynamoDB
 * gateway routes, and nothing in. They
 * reach AWS only through VPC endpoints, which this construct creates unless the VPC already has them: no NAT gateway,
 * no internet route.
 */
export class PrivateNetwork extends Construct {
  public readonly vpc: ec2.IVpc;
  /** The private subnets every function is placed in. */
  public readonly subnets: ec2.SubnetSelection;
  /** The functions' security group: HTTPS out to the endpoints' security groups and the gateway prefix lists only. */
  public readonly functionSecurityGroup: ec2.SecurityGroup;
  /** The created interface endpoints' security group (HTTPS in from the functions only); absent when none is created. */
  public readonly endpointSecurityGroup?: ec2.SecurityGroup;
  /** The endpoints this stack created, by name. */
  public readonly createdEndpoints: Readonly<Partial<Record<EndpointName, ec2.InterfaceVpcEndpoint | ec2.GatewayVpcEndpoint>>>;
  /** Every endpoint the configured services need, created here or already in the VPC. */
  public readonly neededEndpoints: readonly NeededEndpoint[];
  private readonly toCreate: readonly NeededEndpoint[];

  constructor(scope: Construct, id: string, props: PrivateNetworkProps) {
    super(scope, id);
    const { network } = props;
    this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: network.vpcId,
      vpcCidrBlock: network.vpcCidrBlock,
      availabilityZones: [...network.availabilityZones],
      privateSubnetIds: [...network.privateSubnetIds],
      privateSubnetRouteTableIds: network.privateRouteTableIds.length > 0 ? [...network.privateRouteTableIds] : undefined,
    });
    this.subnets = { subnets: this.vpc.privateSubnets };

    this.functionSecurityGroup = new ec2.SecurityGroup(this, 'FunctionSecurityGroup', {
      vpc: this.vpc,
      description: 'model-rollout functions: HTTPS out to the VPC endpoints only, nothing in',
      allowAllOutbound: false,
    });
    this.functionSecurityGroup.addEgressRule(
      ec2.Peer.prefixList(network.gatewayPrefixLists.s3),
      HTTPS,
      'HTTPS to S3 through its gateway endpoint (ECR blobs)',
    );
    this.functionSecurityGroup.addEgressRule(
      ec2.Peer.prefixList(network.gatewayPrefixLists.dynamodb),
      HTTPS,
      'HTTPS to DynamoDB through its gateway endpoint (the ledger)',
    );

    this.neededEndpoints = endpointsNeeded(props.catalog);
    this.toCreate = network.endpoints === 'create' ? this.neededEndpoints.filter((e) => !network.existingEndpoints.includes(e.name)) : [];
    if (this.toCreate.some((e) => e.kind === 'interface')) {
      this.endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
        vpc: this.vpc,
        description: 'model-rollout VPC endpoints: HTTPS in from the model-rollout functions only',
        allowAllOutbound: false,
      });
      this.endpointSecurityGroup.addIngressRule(this.functionSecurityGroup, HTTPS, 'HTTPS from the model-rollout functions');
      // Out to the endpoints this stack creates, not to the whole VPC range.
      this.functionSecurityGroup.addEgressRule(this.endpointSecurityGroup, HTTPS, 'HTTPS to the model-rollout VPC endpoints');
    }
    this.createdEndpoints = Object.fromEntries(this.toCreate.map((endpoint) => [endpoint.name, this.createEndpoint(endpoint)]));
    this.allowExistingEndpoints(network.endpointSecurityGroupIds);
  }

  /** A gateway endpoint in the private route tables, or an interface endpoint the functions' security group alone reaches. */
  private createEndpoint(endpoint: NeededEndpoint): ec2.InterfaceVpcEndpoint | ec2.GatewayVpcEndpoint {
    // `ecr.api` → `EcrApiEndpoint`
    const endpointId = `${endpoint.name
      .split('.')
      .map((part) => part[0]!.toUpperCase() + part.slice(1))
      .join('')}Endpoint`;
    // The configuration's endpoint names are the services' own: com.amazonaws.<region>.<name>.
    if (endpoint.kind === 'gateway') {
      return new ec2.GatewayVpcEndpoint(this, endpointId, {
        vpc: this.vpc,
        service: new ec2.GatewayVpcEndpointAwsService(endpoint.name),
        subnets: [this.subnets],
      });
    }
    return new ec2.InterfaceVpcEndpoint(this, endpointId, {
      vpc: this.vpc,
      service: new ec2.InterfaceVpcEndpointAwsService(endpoint.name),
      subnets: this.subnets,
      securityGroups: [this.endpointSecurityGroup!],
      // Only the functions' security group may connect, not the whole VPC.
      open: false,
      privateDnsEnabled: true,
    });
  }

  /** Endpoints the VPC already has: the functions in, and out to them, one rule each way per configured security group. */
  private allowExistingEndpoints(groupIds: readonly string[]): void {
    groupIds.forEach((groupId, index) => {
      new ec2.CfnSecurityGroupEgress(this, `ExistingEndpointEgress${index}`, {
        groupId: this.functionSecurityGroup.securityGroupId,
        ipProtocol: 'tcp',
        fromPort: 443,
        toPort: 443,
        destinationSecurityGroupId: groupId,
        description: 'HTTPS to the VPC endpoints the VPC already has',
      });
      new ec2.CfnSecurityGroupIngress(this, `ExistingEndpointIngress${index}`, {
        groupId,
        ipProtocol: 'tcp',
        fromPort: 443,
        toPort: 443,
        sourceSecurityGroupId: this.functionSecurityGroup.securityGroupId,
        description: 'HTTPS from the model-rollout functions',
      });
    });
  }

  /**
   * Gives each interface endpoint this construct created a policy: only the roles of the functions that call that
   * service may use it (`aws:PrincipalArn`, a role's ARN for its sessions), for that service's actions, as far as their
   * own policies allow. Nothing
   * else is cut off: the endpoint's security group already admits the functions only. Gateway endpoints keep AWS's
   * default full-access policy, on purpose: they are routes of the whole route table, shared by every workload of those
   * subnets, and the S3 one also carries ECR's layer downloads, pre-signed by ECR's own account.
   */
  restrictEndpointsTo(roles: Readonly<Record<FunctionName, iam.IRole>>): void {
    for (const spec of this.toCreate) {
      const endpoint = this.createdEndpoints[spec.name];
      if (spec.kind !== 'interface' || !(endpoint instanceof ec2.InterfaceVpcEndpoint)) continue;
      endpoint.addToPolicy(
        new iam.PolicyStatement({
          // "Principal": "*", as AWS's endpoint policy examples write it; the condition names who.
          principals: [new iam.StarPrincipal()],
          actions: [`${spec.iamService}:*`],
          resources: ['*'],
          conditions: { ArnEquals: { 'aws:PrincipalArn': spec.usedBy.map((name) => roles[name].roleArn) } },
        }),
      );
    }
  }
}
