/**
 * The AWS SDK packages the functions carry in their bundles, at the versions package-lock.json pins: the functions do
 * not use the SDK the Lambda runtime ships, which may be older than the ECR and ECS APIs the steps call (an older ECS
 * model silently drops task-definition fields it does not know when a revision is copied). Each Lambda entry logs the
 * versions it carries once, at cold start, so a log line shows which SDK answered.
 */
import { version as clientCloudwatch } from '@aws-sdk/client-cloudwatch/package.json';
import { version as clientDynamodb } from '@aws-sdk/client-dynamodb/package.json';
import { version as clientEcr } from '@aws-sdk/client-ecr/package.json';
import { version as clientEcs } from '@aws-sdk/client-ecs/package.json';
import { version as clientElasticLoadBalancingV2 } from '@aws-sdk/client-elastic-load-balancing-v2/package.json';
import { version as clientKms } from '@aws-sdk/client-kms/package.json';
import { version as clientSfn } from '@aws-sdk/client-sfn/package.json';
import { version as clientSigner } from '@aws-sdk/client-signer/package.json';
import { version as libDynamodb } from '@aws-sdk/lib-dynamodb/package.json';
import { logger } from './logger';

const SDK_VERSIONS = {
  '@aws-sdk/client-cloudwatch': clientCloudwatch,
  '@aws-sdk/client-dynamodb': clientDynamodb,
  '@aws-sdk/client-ecr': clientEcr,
  '@aws-sdk/client-ecs': clientEcs,
  '@aws-sdk/client-elastic-load-balancing-v2': clientElasticLoadBalancingV2,
  '@aws-sdk/client-kms': clientKms,
  '@aws-sdk/client-sfn': clientSfn,
  '@aws-sdk/client-signer': clientSigner,
  '@aws-sdk/lib-dynamodb': libDynamodb,
} as const;
export type SdkPackage = keyof typeof SDK_VERSIONS;

/** The ledger's clients (ledger-environment.ts). */
export const LEDGER_SDK: readonly SdkPackage[] = ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb'];

/** Logs, once per cold start, the SDK packages (and their versions) a function's entry builds its clients from. */
export function logSdkVersions(packages: readonly SdkPackage[]): void {
  logger.info('AWS SDK bundled with this function', { awsSdk: Object.fromEntries(packages.map((name) => [name, SDK_VERSIONS[name]])) });
}
