/**
 * Which configured services an AWS event is about, so the event-driven wait re-reads only those. Pure: the caller
 * parses the event and passes the catalog.
 *
 * "ECS Deployment State Change" names its service in `resources` by ARN
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_deployment_events.html), in the long format
 * `service/<cluster>/<service>` or, for services created before it, `service/<service>`; "CloudWatch Alarm State
 * Change" names its alarm in `detail.alarmName`
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html); an ECR push ("ECR Image
 * Action") names its repository in `detail.repository-name`
 * (https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html).
 */
import { type CatalogEntry, canaryServicesOf, type ServiceCatalog } from '../contract/catalog';
import { analysedAlarms } from './step-analysis';

export type ServiceEvent =
  | { kind: 'deployment'; serviceArns: string[] }
  | { kind: 'alarm'; alarmName: string }
  | { kind: 'push'; repositoryName: string };

const SERVICE_ARN = /^arn:[\w-]+:ecs:[\w-]+:\d{12}:service\/(?:([^/]+)\/)?([^/]+)$/;
/** A cluster is configured by name or by ARN. */
const clusterName = (cluster: string) => cluster.replace(/^arn:[\w-]+:ecs:[\w-]+:\d{12}:cluster\//, '');

/** The entry's ECS services: its own and, for a gray release, its canary service (in the same cluster). */
const ecsServicesOf = (entry: CatalogEntry) => [entry.service, ...canaryServicesOf(entry)];

function namesService(serviceArn: string, entry: CatalogEntry): boolean {
  const match = SERVICE_ARN.exec(serviceArn);
  if (!match) return false;
  const [, cluster, service] = match;
  // A short-format ARN carries no cluster: the service's name is all it can be matched by.
  return ecsServicesOf(entry).includes(service) && (cluster === undefined || cluster === clusterName(entry.cluster));
}

/**
 * The catalog entries the event concerns, in catalog order: none for an event about something not configured. A gray
 * release's canary service concerns its entry (the waiter of a canary scaling for a step is the entry's).
 */
export function servicesConcerned(event: ServiceEvent, catalog: ServiceCatalog): CatalogEntry[] {
  if (event.kind === 'deployment') return catalog.filter((entry) => event.serviceArns.some((arn) => namesService(arn, entry)));
  // Several services may deploy images of one repository.
  if (event.kind === 'push') return catalog.filter((entry) => entry.repository === event.repositoryName);
  // A gray release's analysis alarms too: their change wakes its bake for an analysis now.
  return catalog.filter((entry) => analysedAlarms(entry).includes(event.alarmName));
}

/** cosign's legacy layout tags an image's signature `sha256-<hex>.sig` after the digest it signs. */
const COSIGN_SIGNATURE_TAG = /^sha256-([0-9a-f]{64})\.sig$/;

/**
 * Whether a push to the image's repository may have brought a signature of `digest`: a cosign signature tag naming it,
 * or an untagged push — an OCI 1.1 referrer (Notation, cosign v3), whose event does not name the image it refers to
 * (ECR's event carries the pushed manifest's own digest and tag only). Any other tag brings none.
 */
export function maySignDigest(imageTag: string | undefined, digest: string): boolean {
  // An empty tag too: the ECR page shows a tagged push only, so an untagged one may come either way.
  if (imageTag === undefined || imageTag === '') return true;
  const signed = COSIGN_SIGNATURE_TAG.exec(imageTag)?.[1];
  return signed !== undefined && `sha256:${signed}` === digest;
}
