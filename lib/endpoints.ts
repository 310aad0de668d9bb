/**
 * The VPC endpoints the pipeline's functions call AWS through, and why: the one table that the network construct, the
 * configuration check and the README follow. Pure: no CDK, so it is table-tested on its own.
 */
import type { ServiceCatalog } from '../lambdas/contract/catalog';
import type { EventFunctionName, StepFunctionName } from './state-names';

/** Every function of the pipeline runs in the VPC. */
export type PipelineFunctionName = StepFunctionName | EventFunctionName;

export interface EndpointSpec {
  /** The endpoint's service name after `com.amazonaws.<region>.`, as the configuration spells it. */
  readonly name: EndpointName;
  /** Gateway endpoints (S3, DynamoDB) are routes in the route tables; interface endpoints are network interfaces. */
  readonly kind: 'interface' | 'gateway';
  /** The IAM service prefix of the actions the endpoint carries (`monitoring` carries `cloudwatch:` actions). */
  readonly iamService: string;
  /** The functions that call this service. */
  readonly usedBy: readonly PipelineFunctionName[];
  /** What those calls are, for the README and the security review. */
  readonly why: string;
  /** Whether the configured services need it at all (e.g. KMS only when a service trusts a KMS key). */
  readonly neededBy: (catalog: ServiceCatalog) => boolean;
}

export const ENDPOINT_NAMES = ['ecr.api', 's3', 'dynamodb', 'ecs', 'states', 'monitoring', 'kms', 'signer'] as const;
export type EndpointName = (typeof ENDPOINT_NAMES)[number];

const always = () => true;

/** Every endpoint the pipeline can need, in the order the README lists them. */
export const PIPELINE_ENDPOINTS: readonly EndpointSpec[] = [
  {
    name: 'ecr.api',
    kind: 'interface',
    iamService: 'ecr',
    usedBy: ['record-release', 'verify-signature', 'reconcile'],
    why: 'image manifests and labels (BatchGetImage), signatures and referrers, ECR managed signing status, DescribeImages for the reconciliation',
    neededBy: always,
  },
  {
    name: 's3',
    kind: 'gateway',
    iamService: 's3',
    usedBy: ['record-release', 'verify-signature'],
    why: 'ECR serves blobs (the image config with its labels, signature layers) as pre-signed S3 URLs (GetDownloadUrlForLayer)',
    neededBy: always,
  },
  {
    name: 'dynamodb',
    kind: 'gateway',
    iamService: 'dynamodb',
    usedBy: ['record-release', 'take-turn', 'record-outcome', 'finalise-execution', 'reconcile'],
    why: 'the deployment ledger: records, digests, service locks',
    neededBy: always,
  },
  {
    name: 'ecs',
    kind: 'interface',
    iamService: 'ecs',
    usedBy: ['check-release', 'register-revision', 'update-service', 'check-health'],
    why: 'DescribeServices, DescribeTaskDefinition, RegisterTaskDefinition, UpdateService, DescribeServiceDeployments',
    neededBy: always,
  },
  {
    name: 'states',
    kind: 'interface',
    iamService: 'states',
    usedBy: ['reconcile', 'finalise-execution'],
    why: 'StartExecution for a release no push event announced; DescribeExecution, whether an execution really ended before its lock is freed',
    neededBy: always,
  },
  {
    name: 'monitoring',
    kind: 'interface',
    iamService: 'cloudwatch',
    usedBy: ['check-health'],
    why: "DescribeAlarms on the services' health alarms",
    neededBy: (catalog) => catalog.some((s) => s.health.alarms.length > 0),
  },
  {
    name: 'kms',
    kind: 'interface',
    iamService: 'kms',
    usedBy: ['verify-signature'],
    why: 'GetPublicKey of the trusted KMS signing keys',
    neededBy: (catalog) => catalog.some((s) => s.trust.kmsKeys.length > 0),
  },
  {
    name: 'signer',
    kind: 'interface',
    iamService: 'signer',
    usedBy: ['verify-signature'],
    why: 'GetRevocationStatus for Notation signatures by the trusted signing profiles',
    neededBy: (catalog) => catalog.some((s) => s.trust.signingProfiles.length > 0),
  },
];

/** The endpoints these services need, in table order. */
export function endpointsNeeded(catalog: ServiceCatalog): EndpointSpec[] {
  return PIPELINE_ENDPOINTS.filter((endpoint) => endpoint.neededBy(catalog));
}
