/**
 * What a function is built from: its AWS clients and the settings it reads at cold start. The Lambda entries
 * (lambdas/functions/) pass real SDK clients, the environment and the wall clock; the local run passes the simulated
 * account's clients, each acting as the function's role, and the simulated clock. Types only: a bundle carries the
 * SDK clients its own entry constructs, no others.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SignerClient } from '@aws-sdk/client-signer';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { HttpGet } from '../adapters/health-endpoint';
import type { FetchBlob } from '../adapters/image-registry';
import type { ServiceCatalog } from '../contract/catalog';
import type { Clock } from '../shared/clock';

export interface FunctionClients {
  ecs: Pick<ECSClient, 'send'>;
  /** Elastic Load Balancing: a gray release's weighted route. */
  elbv2: Pick<ElasticLoadBalancingV2Client, 'send'>;
  ecr: Pick<ECRClient, 'send'>;
  cloudwatch: Pick<CloudWatchClient, 'send'>;
  kms: Pick<KMSClient, 'send'>;
  signer: Pick<SignerClient, 'send'>;
  sfn: Pick<SFNClient, 'send'>;
  /** The deployment ledger's document client (it must drop undefined attributes: `removeUndefinedValues`). */
  ledger: Pick<DynamoDBDocumentClient, 'send'>;
  /** Downloads a registry blob from the URL ECR hands out (HTTPS in Lambda). */
  fetchBlob: FetchBlob;
  /** One GET of a canary task's health endpoint (plain HTTP inside the VPC), and the monotonic clock that times it (ms). */
  healthEndpoint: { get: HttpGet; now: () => number };
}

export interface FunctionSettings {
  clock: Clock;
  /** The service catalog the function was deployed with. */
  catalog: ServiceCatalog;
  /** The ledger table (LEDGER_TABLE_NAME). */
  ledgerTableName: string;
  /** The pipeline's state machine (STATE_MACHINE_ARN). */
  stateMachineArn: string;
  /** The pinned AWS Signer root certificates, PEM (SIGNER_ROOT_CERTIFICATES); '' when none are pinned. */
  signerRootCertificates: string;
}
