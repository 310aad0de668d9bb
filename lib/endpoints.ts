/**
 * The VPC endpoints the pipeline's functions call AWS through, and why: the one table that the network construct, the
 * configuration check and the README follow. Which endpoints a stack needs, and which functions use each, comes from
 * what the stages' functions say they call (PipelineFunctionSpec.calls), not from this table.
 */
import type { ServiceCatalog } from '../lambdas/contract/catalog';
import { PIPELINE_FUNCTIONS } from './runbook';
import type { FunctionName } from './state-names';

export interface EndpointSpec {
  /** The endpoint's service name after `com.amazonaws.<region>.`, as the configuration spells it. */
  readonly name: EndpointName;
  /** Gateway endpoints (S3, DynamoDB) are routes in the route tables; interface endpoints are network interfaces. */
  readonly kind: 'interface' | 'gateway';
  /** The IAM service prefix of the actions the endpoint carries (`monitoring` carries `cloudwatch:` actions). */
  readonly iamService: string;
  /** What the pipeline's calls through it are, for the README and the security review. */
  readonly why: string;
}

/** An endpoint the configured services need, and the functions that call through it. */
export interface NeededEndpoint extends EndpointSpec {
  readonly usedBy: readonly FunctionName[];
}

export const ENDPOINT_NAMES = [
  'ecr.api',
  's3',
  'dynamodb',
  'ecs',
  'states',
  'monitoring',
  'kms',
  'signer',
  'elasticloadbalancing',
] as const;
export type EndpointName = (typeof ENDPOINT_NAMES)[number];

/** Every endpoint the pipeline can need, in the order the README lists them. */
export const PIPELINE_ENDPOINTS: readonly EndpointSpec[] = [
  {
    name: 'ecr.api',
    kind: 'interface',
    iamService: 'ecr',
    why: 'image manifests and labels (BatchGetImage), signatures and referrers, ECR managed signing status, DescribeImages for the reconciliation',
  },
  {
    name: 's3',
    kind: 'gateway',
    iamService: 's3',
    why: 'ECR serves blobs (the image config with its labels, signature layers) as pre-signed S3 URLs (GetDownloadUrlForLayer)',
  },
  {
    name: 'dynamodb',
    kind: 'gateway',
    iamService: 'dynamodb',
    why: 'the deployment ledger: records, digests, service locks',
  },
  {
    name: 'ecs',
    kind: 'interface',
    iamService: 'ecs',
    why: 'DescribeServices, DescribeTaskDefinition, RegisterTaskDefinition, UpdateService, DescribeServiceDeployments',
  },
  {
    name: 'states',
    kind: 'interface',
    iamService: 'states',
    why: "StartExecution for a release no push event announced; DescribeExecution, whether an execution really ended before its lock is freed; SendTaskSuccess, to wake an execution waiting on its service's health",
  },
  {
    name: 'monitoring',
    kind: 'interface',
    iamService: 'cloudwatch',
    why: "DescribeAlarms on the services' health alarms; GetMetricData of a gray release's target groups",
  },
  {
    name: 'kms',
    kind: 'interface',
    iamService: 'kms',
    why: 'GetPublicKey of the trusted KMS signing keys',
  },
  {
    name: 'signer',
    kind: 'interface',
    iamService: 'signer',
    why: 'GetRevocationStatus for Notation signatures by the trusted signing profiles',
  },
  {
    name: 'elasticloadbalancing',
    kind: 'interface',
    iamService: 'elasticloadbalancing',
    why: "a gray release's weighted route: DescribeRules / DescribeListeners, ModifyRule / ModifyListener",
  },
];

/** The endpoints some function calls for these services, in table order, each with the functions that call it. */
export function endpointsNeeded(catalog: ServiceCatalog): NeededEndpoint[] {
  return PIPELINE_ENDPOINTS.map((endpoint) => ({
    ...endpoint,
    usedBy: PIPELINE_FUNCTIONS.filter((spec) => spec.calls(catalog).includes(endpoint.name)).map((spec) => spec.name),
  })).filter((endpoint) => endpoint.usedBy.length > 0);
}
