/**
 * The configuration file (`model-rollout.config.json` by default), read once by `bin/` and validated at synth.
 *
 * Everything below `bin/` receives the typed, validated result: constructs never read files or the environment.
 * Every error names the field path and the bad value, e.g.
 * `services[1].environment: "prod" is not one of production | staging | development`.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import * as z from 'zod';
import { ENVIRONMENTS, type Environment, type ServiceCatalog, serviceCatalogSchema } from '../lambdas/contract/catalog';
import { SEVERITIES } from '../lambdas/contract/outcomes';
import { unsupportedKeyReason } from '../lambdas/signature/keys';
import { ENDPOINT_NAMES, type EndpointName } from './endpoints';
import { certificateFileToPem, readRootCertificates } from '../lambdas/signature/root-certificates';

// ---------------------------------------------------------------------------------------------------------------------
// The configuration, as the rest of the app sees it (defaults applied). The JSON file has the same shape; fields marked
// `@default` may be left out of it. Unknown keys are rejected everywhere so that a typo cannot silently fall back to a
// default.
// ---------------------------------------------------------------------------------------------------------------------

/** The whole configuration file. */
export interface RolloutConfig {
  /** CloudFormation stack name: a letter, then letters, digits and hyphens (at most 128 characters). */
  readonly stackName: string;
  /**
   * 12-digit AWS account to deploy to. Set together with `region` to pin the stack's environment.
   * @default - environment-agnostic stack (the CLI's credentials decide where it deploys)
   */
  readonly account?: string;
  /**
   * AWS Region to deploy to, e.g. `us-east-1`. Set together with `account`.
   * @default - environment-agnostic stack
   */
  readonly region?: string;
  /** Who is e-mailed for each alert severity. */
  readonly alerts: AlertAddresses;
  /**
   * The AWS Signer Notation root certificate (PEM or DER file, relative to the configuration file's folder), pinned:
   * Notation signatures must chain to it. Required when any service trusts a signing profile. Download it from
   * https://d2hvyiie56hcat.cloudfront.net/aws-signer-notation-root.cert and check its fingerprint (README).
   * @default - none (no service may trust a signing profile)
   */
  readonly signerRootCertificate?: string;
  /**
   * Minutes between two reconciliations: each compares the newest allowed tag in every configured repository with the
   * ledger and releases what no push event announced (1 to 1440).
   * @default 15
   */
  readonly reconcileEveryMinutes: number;
  /**
   * Reserved concurrency of each step's function and of the crash finaliser (1 to 100): an execution runs one step at a
   * time, so this many executions can be at the same step at once; more are throttled and retried by the state machine.
   * The reconciliation always has 1 (two at once would only race each other). `"none"` reserves nothing, for accounts
   * whose concurrency quota leaves nothing to reserve (Lambda keeps 100 of it unreserved).
   * @default 5
   */
  readonly concurrencyPerFunction: number | 'none';
  /** The existing VPC every function runs in, and how the functions reach AWS from it. */
  readonly network: NetworkConfig;
  /** The services a pushed image can be released to; at least one. */
  readonly services: readonly ServiceConfig[];
}

/**
 * An existing VPC, named by its attributes (synth looks nothing up). The functions run in its private subnets and reach
 * AWS only through VPC endpoints: no NAT gateway, no internet route.
 */
export interface NetworkConfig {
  /** e.g. `vpc-0123456789abcdef0`. */
  readonly vpcId: string;
  /** The VPC's IPv4 CIDR block: the functions' security group allows HTTPS to it and nothing else in the VPC. */
  readonly vpcCidrBlock: string;
  /** One per private subnet, in the same order, e.g. `eu-west-1a`. */
  readonly availabilityZones: readonly string[];
  /** The private subnets the functions (and created interface endpoints) are placed in, one per availability zone. */
  readonly privateSubnetIds: readonly string[];
  /**
   * The private subnets' route tables, in the same order: created gateway endpoints (S3, DynamoDB) add their routes
   * there. Required unless `endpoints` is `existing` or both gateway endpoints are listed in `existingEndpoints`.
   * @default []
   */
  readonly privateRouteTableIds: readonly string[];
  /**
   * `create`: the stack creates every VPC endpoint the pipeline needs (except those in `existingEndpoints`).
   * `existing`: the VPC already has them all; the stack creates none.
   * @default "create"
   */
  readonly endpoints: 'create' | 'existing';
  /** With `create`: endpoints the VPC already has (e.g. `s3`), which the stack must not create twice. @default [] */
  readonly existingEndpoints: readonly EndpointName[];
  /**
   * Security groups of endpoints the stack does not create: the stack adds one rule to each, HTTPS in from the
   * functions' security group. @default []
   */
  readonly endpointSecurityGroupIds: readonly string[];
  /**
   * The Region's AWS-managed prefix lists of S3 and DynamoDB (`aws ec2 describe-managed-prefix-lists`): the functions'
   * security group allows HTTPS to them, the destinations of the gateway endpoints' routes.
   */
  readonly gatewayPrefixLists: { readonly s3: string; readonly dynamodb: string };
}

/** E-mail addresses subscribed to each severity's SNS topic. SNS asks each address to confirm first. */
export interface AlertAddresses {
  /** Rollbacks that failed and executions that ended unexpectedly: someone must act now. @default [] */
  readonly critical: readonly string[];
  /** Rejected releases, failed deployments, successful rollbacks. @default [] */
  readonly warning: readonly string[];
  /** Successful releases. @default [] */
  readonly info: readonly string[];
}

/** One ECS service that images pushed to one ECR repository are released to. */
export interface ServiceConfig {
  /** Unique name used in alerts, logs and the execution output. */
  readonly name: string;
  /** Decides the tag policy: development tags never reach `production`. */
  readonly environment: Environment;
  /**
   * ECR repository name (not URI), e.g. `models/sentiment`. A repository feeds at most one service, because this
   * version starts exactly one execution per push.
   */
  readonly repository: string;
  /** ECS cluster name or ARN. */
  readonly cluster: string;
  /** ECS service name inside the cluster. */
  readonly service: string;
  /** Name of the container in the task definition whose image is replaced. */
  readonly container: string;
  /**
   * Family of the service's task definition (`family` in RegisterTaskDefinition): the only family the pipeline may
   * register revisions of (IAM scopes ecs:RegisterTaskDefinition to `task-definition/<family>:*`).
   */
  readonly taskDefinitionFamily: string;
  /**
   * ARN of the task role the service's task definition names: the only task role the pipeline may pass to ECS.
   * @default - none: a task definition that names a task role is refused
   */
  readonly taskRoleArn?: string;
  /**
   * ARN of the task execution role the service's task definition names: the only execution role the pipeline may pass.
   * @default - none: a task definition that names an execution role is refused
   */
  readonly executionRoleArn?: string;
  readonly signing: SigningConfig;
  readonly health: HealthConfig;
}

/**
 * Who may sign images for the service: any mix of cosign public keys, KMS keys and AWS Signer signing profiles, at
 * least one. An image needs valid signatures by `threshold` distinct trusted signers.
 */
export interface SigningConfig {
  /**
   * PEM files holding public keys (what `cosign public-key` prints): EC P-256 / P-384 or RSA, relative to the
   * configuration file's folder. List two while rotating keys. @default []
   */
  readonly publicKeys: readonly string[];
  /**
   * KMS asymmetric signing keys (`cosign sign --key awskms:///…`): key ARN, alias ARN or `alias/<name>` (in the stack's
   * account and Region). @default []
   */
  readonly kmsKeys: readonly string[];
  /**
   * AWS Signer signing profile ARNs (`arn:aws:signer:<region>:<account>:/signing-profiles/<name>`), or profile version
   * ARNs to trust one version only: Notation signatures, including ECR managed signing. Needs `signerRootCertificate`.
   * @default []
   */
  readonly signingProfiles: readonly string[];
  /** Distinct trusted signers that must have signed: 1 to the number of signers listed. @default 1 */
  readonly threshold: number;
  /** Seconds to wait for a signature pushed after the image (or for ECR managed signing): 0–1800. @default 180 */
  readonly lateSignatureSeconds: number;
  /** Seconds between two looks for a late signature: 5–300. @default 15 */
  readonly pollSeconds: number;
}

/** When a release counts as healthy, and how long it may take to get there. */
export interface HealthConfig {
  /** Minutes a rollout (and, separately, a rollback) may take to become healthy: 1–120. @default 15 */
  readonly deadlineMinutes: number;
  /** Seconds between two health checks: 5–300, and shorter than the deadline. @default 30 */
  readonly pollSeconds: number;
  /** CloudWatch alarm names that must be OK before a release counts as healthy. @default [] */
  readonly alarms: readonly string[];
}

/**
 * Thrown for anything wrong with the configuration or the files it names. `bin/` prints the message without a stack
 * trace: the message alone says what to fix.
 */
export class ConfigError extends Error {
  // Hard-coded so that it survives minification.
  readonly name = 'ConfigError';
  /** One line per problem, each starting with the field path (a problem with the file itself: the message alone). */
  readonly issues: readonly string[];

  constructor(message: string, issues?: readonly string[]) {
    super(message);
    this.issues = issues ?? [message];
  }

  /** One error listing every problem found, optionally naming the file they were found in. */
  static invalid(issues: readonly string[], source?: string): ConfigError {
    const where = source === undefined ? '' : ` in ${source}`;
    return new ConfigError(`Invalid configuration${where}:\n${issues.map((issue) => `  - ${issue}`).join('\n')}`, issues);
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Loading and parsing
// ---------------------------------------------------------------------------------------------------------------------

/**
 * Reads and validates a configuration file. Key file paths inside it are checked relative to the file's folder.
 * @throws ConfigError when the file is missing, is not JSON, or does not validate
 */
export function loadConfig(configPath: string): RolloutConfig {
  const file = path.resolve(configPath);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(
      code === 'ENOENT' ? `Configuration file not found: ${file}` : `Cannot read configuration file ${file}: ${(error as Error).message}`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`Configuration file ${file} is not valid JSON: ${(error as Error).message}`);
  }
  try {
    return parseConfig(raw, path.dirname(file));
  } catch (error) {
    throw error instanceof ConfigError ? ConfigError.invalid(error.issues, file) : error;
  }
}

/**
 * Validates an already-parsed configuration and applies defaults.
 * @param baseDir folder that relative key file paths are resolved against (the configuration file's folder)
 * @throws ConfigError listing every problem found, each with its field path and bad value
 */
export function parseConfig(raw: unknown, baseDir: string): RolloutConfig {
  // reportInput keeps the offending value on each issue so that the message can name it.
  const result = configSchema(baseDir).safeParse(raw, { reportInput: true, error: describeIssue });
  if (!result.success) {
    throw ConfigError.invalid(result.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`));
  }
  return result.data;
}

/**
 * Builds the service catalog the Lambda steps receive: configuration names mapped to the contract's, key files read
 * into PEM text, deadlines in seconds.
 * @param baseDir folder that relative key file paths are resolved against (the configuration file's folder)
 * @throws ConfigError naming the service and the file when a key file is unreadable or not a supported public key
 */
export function toServiceCatalog(config: RolloutConfig, baseDir: string): ServiceCatalog {
  const catalog: ServiceCatalog = config.services.map((service, s) => {
    const publicKeys = service.signing.publicKeys.map((keyPath, k) => {
      const where = `services[${s}].signing.publicKeys[${k}] (service "${service.name}", file ${keyPath})`;
      return readPublicKey(path.resolve(baseDir, keyPath), where);
    });
    const { signing } = service;
    return {
      name: service.name,
      environment: service.environment,
      repositoryName: service.repository,
      cluster: service.cluster,
      service: service.service,
      container: service.container,
      taskDefinitionFamily: service.taskDefinitionFamily,
      taskRoleArn: service.taskRoleArn ?? null,
      executionRoleArn: service.executionRoleArn ?? null,
      trust: {
        // The same key listed twice (e.g. under two spellings of its path) is trusted once.
        publicKeys: [...new Set(publicKeys)],
        kmsKeys: [...signing.kmsKeys],
        signingProfiles: [...signing.signingProfiles],
        threshold: signing.threshold,
        lateSignatureSeconds: signing.lateSignatureSeconds,
        signaturePollSeconds: signing.pollSeconds,
      },
      health: {
        deadlineSeconds: service.health.deadlineMinutes * 60,
        pollSeconds: service.health.pollSeconds,
        alarms: [...service.health.alarms],
      },
    };
  });
  // The contract's own schema is what the Lambda steps parse at run time: fail at synth instead if they drift apart.
  return serviceCatalogSchema.parse(catalog);
}

/**
 * The pinned AWS Signer root certificate as PEM (the verify step's SIGNER_ROOT_CERTIFICATES), or '' when none is
 * configured.
 * @throws ConfigError when the file is unreadable or is not a CA certificate
 */
export function readSignerRootCertificate(config: RolloutConfig, baseDir: string): string {
  if (config.signerRootCertificate === undefined) return '';
  const file = path.resolve(baseDir, config.signerRootCertificate);
  const where = `signerRootCertificate (file ${config.signerRootCertificate})`;
  try {
    const pem = certificateFileToPem(readFileSync(file), file);
    readRootCertificates(pem, file);
    return pem;
  } catch (error) {
    throw ConfigError.invalid([`${where}: ${(error as Error).message}`]);
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------------------------------------------------

/** ECR's own pattern for repository names (CreateRepository API), 2–256 characters. */
const ECR_REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;
const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;
/** `<account>.dkr.ecr.<region>.amazonaws.com/...` is a valid repository *name* too, but never the intended one. */
const REPOSITORY_URI = /^\d{12}\.dkr\.ecr\./;
interface Range {
  readonly min: number;
  readonly max: number;
}
/** Key ARN, alias ARN, or alias name (resolved in the stack's account and Region). */
const KMS_KEY = /^(?:arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(?:key\/[A-Za-z0-9-]+|alias\/[A-Za-z0-9/_-]+)|alias\/[A-Za-z0-9/_-]+)$/;
/** Signing profile ARN, or profile version ARN (10 alphanumerics after the name). */
const SIGNING_PROFILE = /^arn:aws[a-z-]*:signer:[a-z0-9-]+:\d{12}:\/signing-profiles\/[A-Za-z0-9_]{2,64}(?:\/[A-Za-z0-9]{10})?$/;
/** An IAM role ARN, with an optional path. */
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const VPC_ID = /^vpc-[0-9a-f]{8,17}$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;
const ROUTE_TABLE_ID = /^rtb-[0-9a-f]{8,17}$/;
const SECURITY_GROUP_ID = /^sg-[0-9a-f]{8,17}$/;
const PREFIX_LIST_ID = /^pl-[0-9a-f]{8,17}$/;
const AVAILABILITY_ZONE = /^[a-z]{2}(?:-[a-z]+)+-\d+[a-z]$/;
const IPV4_CIDR = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\/(?:[0-9]|[12]\d|3[0-2])$/;
const DEADLINE_MINUTES: Range = { min: 1, max: 120 };
const THRESHOLD: Range = { min: 1, max: 10 };
const LATE_SIGNATURE_SECONDS: Range = { min: 0, max: 1800 };
const POLL_SECONDS: Range = { min: 5, max: 300 };
const RECONCILE_MINUTES: Range = { min: 1, max: 1440 };
const CONCURRENCY: Range = { min: 1, max: 100 };

function configSchema(baseDir: string) {
  const emails = z.array(z.email()).default([]);

  const health = strictObject({
    deadlineMinutes: wholeNumberBetween(DEADLINE_MINUTES).default(15),
    pollSeconds: wholeNumberBetween(POLL_SECONDS).default(30),
    alarms: z.array(z.string().min(1).max(255)).default([]),
  }).superRefine((h, ctx) => {
    // A poll interval as long as the deadline would allow a single check: most likely a unit mix-up. Compared only when
    // both are in range, so that one bad value is reported once.
    const bothInRange = inRange(h.deadlineMinutes, DEADLINE_MINUTES) && inRange(h.pollSeconds, POLL_SECONDS);
    if (bothInRange && h.pollSeconds >= h.deadlineMinutes * 60) {
      ctx.addIssue({
        code: 'custom',
        path: ['pollSeconds'],
        input: h.pollSeconds,
        message:
          `${h.pollSeconds} must be shorter than the deadline ` +
          `(deadlineMinutes ${h.deadlineMinutes} = ${h.deadlineMinutes * 60} seconds)`,
      });
    }
  });

  const existingFile = z
    .string()
    .min(1)
    .refine((file) => isFile(path.resolve(baseDir, file)), {
      error: (iss) => `${show(iss.input)} not found (looked for ${path.resolve(baseDir, String(iss.input))})`,
    });

  const signing = strictObject({
    publicKeys: z.array(existingFile).default([]),
    kmsKeys: z
      .array(
        z.string().regex(KMS_KEY, {
          error: (iss) => `${show(iss.input)} is not a KMS key ARN, alias ARN or alias/<name>`,
        }),
      )
      .default([]),
    signingProfiles: z
      .array(
        z.string().regex(SIGNING_PROFILE, {
          error: (iss) =>
            `${show(iss.input)} is not a signing profile ARN (arn:aws:signer:<region>:<account>:/signing-profiles/<name>[/<version>])`,
        }),
      )
      .default([]),
    threshold: wholeNumberBetween(THRESHOLD).default(1),
    lateSignatureSeconds: wholeNumberBetween(LATE_SIGNATURE_SECONDS).default(180),
    pollSeconds: wholeNumberBetween(POLL_SECONDS).default(15),
  }).superRefine((signing, ctx) => {
    const signers = signing.publicKeys.length + signing.kmsKeys.length + signing.signingProfiles.length;
    if (signers === 0) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        input: signing,
        message: 'must list at least one publicKeys, kmsKeys or signingProfiles entry: unsigned images are never deployed',
      });
    } else if (signing.threshold > signers) {
      ctx.addIssue({
        code: 'custom',
        path: ['threshold'],
        input: signing.threshold,
        message: `${signing.threshold} is more than the ${signers} trusted signer${signers === 1 ? '' : 's'} listed`,
      });
    }
    for (const field of ['publicKeys', 'kmsKeys', 'signingProfiles'] as const) {
      reportDuplicates(ctx, signing[field], [field], (value, first) => `${show(value)} is already listed at ${field}[${first}]`);
    }
  });

  const roleArn = z.string().regex(ROLE_ARN, {
    error: (iss) => `${show(iss.input)} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)`,
  });
  const id = (pattern: RegExp, what: string) => z.string().regex(pattern, { error: (iss) => `${show(iss.input)} is not ${what}` });

  const network = strictObject({
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
    reportDuplicates(ctx, zones, ['availabilityZones'], (zone, first) => `${show(zone)} is already listed at availabilityZones[${first}]`);
    reportDuplicates(
      ctx,
      subnets,
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

  const service = strictObject({
    name: z.string().min(1),
    environment: z.enum(ENVIRONMENTS),
    repository: z
      .string()
      .min(2)
      .max(256)
      .regex(ECR_REPOSITORY_NAME, {
        error: (iss) =>
          `${show(iss.input)} is not a valid ECR repository name (lowercase letters and digits, separated by single . _ - or /)`,
      })
      .refine((name) => !REPOSITORY_URI.test(name), {
        error: (iss) => `${show(iss.input)} is a repository URI; give the repository name only (the part after the first /)`,
      }),
    cluster: z.string().min(1),
    service: z.string().min(1),
    container: z.string().min(1),
    // RegisterTaskDefinition, "family": up to 255 letters, numbers, underscores and hyphens.
    taskDefinitionFamily: z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, {
      error: (iss) =>
        `${show(iss.input)} is not a task definition family (up to 255 letters, digits, _ and -; the family alone, without ":revision")`,
    }),
    taskRoleArn: roleArn.optional(),
    executionRoleArn: roleArn.optional(),
    signing: signing,
    // Every field of `health` has a default, so the whole block may be left out (prefault: parsed as `{}`).
    health: health.prefault({}),
  });

  const config = strictObject({
    stackName: z.string().regex(STACK_NAME, {
      error: (iss) => `${show(iss.input)} is not a valid stack name (a letter, then letters, digits and hyphens, at most 128)`,
    }),
    account: z
      .string()
      .regex(ACCOUNT, { error: (iss) => `${show(iss.input)} is not a 12-digit AWS account ID` })
      .optional(),
    region: z
      .string()
      .regex(REGION, { error: (iss) => `${show(iss.input)} is not an AWS Region name like us-east-1` })
      .optional(),
    alerts: strictObject({ critical: emails, warning: emails, info: emails }).prefault({}),
    signerRootCertificate: existingFile.optional(),
    reconcileEveryMinutes: wholeNumberBetween(RECONCILE_MINUTES).default(15),
    concurrencyPerFunction: z
      .union([z.literal('none'), wholeNumberBetween(CONCURRENCY, ', nor "none"')], {
        error: (iss) => `${show(iss.input)} is not a whole number from ${CONCURRENCY.min} to ${CONCURRENCY.max}, nor "none"`,
      })
      .default(5),
    network,
    services: z.array(service).min(1, { error: 'must list at least one service' }),
  }).superRefine((config, ctx) => {
    // A lone account or region would silently leave the stack environment-agnostic.
    if ((config.account === undefined) !== (config.region === undefined)) {
      const [set, missing] = config.account === undefined ? (['region', 'account'] as const) : (['account', 'region'] as const);
      ctx.addIssue({
        code: 'custom',
        path: [set],
        input: config[set],
        message: `${show(config[set])} is set but ${missing} is not: set both to pin the stack's environment, or neither`,
      });
    }
    config.services.forEach((service, index) => {
      if (service.signing.signingProfiles.length > 0 && config.signerRootCertificate === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['services', index, 'signing', 'signingProfiles'],
          input: service.signing.signingProfiles,
          message: 'trusts AWS Signer signing profiles, so signerRootCertificate must name the pinned AWS Signer root certificate file',
        });
      }
    });
    for (const severity of SEVERITIES) {
      reportDuplicates(
        ctx,
        config.alerts[severity],
        ['alerts', severity],
        (address, first) => `${show(address)} is already listed at alerts.${severity}[${first}]`,
      );
    }
    reportDuplicates(
      ctx,
      config.services.map((s) => s.name),
      ['services'],
      (name, first) => `${show(name)} is already the name of services[${first}]; service names must be unique`,
      'name',
    );
    reportDuplicates(
      ctx,
      config.services.map((s) => s.repository),
      ['services'],
      (repository, first) =>
        `${show(repository)} is already configured for service ${show(config.services[first]!.name)} (services[${first}]); ` +
        'this version starts one execution per push, so a repository can feed at most one service',
      'repository',
    );
  });
  // Ties the schema to the documented interfaces: a field added to one and not the other fails to compile.
  return config satisfies z.ZodType<RolloutConfig>;
}

/** `z.strictObject` whose unknown-key error lists the keys that are allowed, so that a typo is easy to spot. */
function strictObject<Shape extends z.ZodRawShape>(shape: Shape) {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss) =>
      iss.code === 'unrecognized_keys'
        ? `unknown ${iss.keys.length === 1 ? 'key' : 'keys'} ${iss.keys.map((k) => show(k)).join(', ')} (allowed: ${allowed})`
        : undefined,
  });
}

function wholeNumberBetween({ min, max }: Range, orElse = '') {
  const error = (iss: { input?: unknown }) => `${show(iss.input)} is not a whole number from ${min} to ${max}${orElse}`;
  return z.int({ error }).min(min, { error }).max(max, { error });
}

function inRange(n: number, { min, max }: Range): boolean {
  return Number.isInteger(n) && n >= min && n <= max;
}

/** Adds one issue per repeated value, at `[...at, index, field?]`, pointing back at the first occurrence. */
function reportDuplicates(
  ctx: z.RefinementCtx,
  values: readonly string[],
  at: readonly (string | number)[],
  describe: (value: string, firstIndex: number) => string,
  field?: string,
): void {
  const first = new Map<string, number>();
  values.forEach((value, index) => {
    const seen = first.get(value);
    if (seen === undefined) {
      first.set(value, index);
      return;
    }
    ctx.addIssue({
      code: 'custom',
      path: field === undefined ? [...at, index] : [...at, index, field],
      input: value,
      message: describe(value, seen),
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------------------------------

/** Error map for the issues the schema does not word itself: every message names the bad value. */
function describeIssue(iss: z.core.$ZodRawIssue): string | undefined {
  const missing = iss.input === undefined;
  switch (iss.code) {
    case 'invalid_value':
      return missing
        ? `is required (one of ${iss.values.join(' | ')})`
        : `${show(iss.input)} is not one of ${iss.values.map(String).join(' | ')}`;
    case 'invalid_type':
      return missing ? `is required (${iss.expected})` : `expected ${iss.expected}, got ${show(iss.input)}`;
    case 'invalid_format':
      return iss.format === 'email'
        ? `${show(iss.input)} is not a valid e-mail address`
        : `${show(iss.input)} is not a valid ${iss.format}`;
    case 'too_small':
      if (iss.origin === 'string') {
        return iss.minimum === 1 ? 'must not be empty' : `${show(iss.input)} is too short (at least ${iss.minimum} characters)`;
      }
      if (iss.origin === 'array') return `must list at least ${iss.minimum} item${iss.minimum === 1 ? '' : 's'}`;
      return `${show(iss.input)} is less than ${iss.minimum}`;
    case 'too_big':
      if (iss.origin === 'string') return `${show(iss.input)} is too long (at most ${iss.maximum} characters)`;
      if (iss.origin === 'array') return `lists more than ${iss.maximum} items`;
      return `${show(iss.input)} is more than ${iss.maximum}`;
    default:
      return undefined; // zod's own wording
  }
}

/** A value as it would appear in the JSON file, shortened so that one bad field cannot flood the terminal. */
function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

/** `['services', 1, 'environment']` → `services[1].environment`. */
function formatPath(issuePath: readonly PropertyKey[]): string {
  if (issuePath.length === 0) return '(configuration)';
  return issuePath.map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`)).join('');
}

// ---------------------------------------------------------------------------------------------------------------------
// Key files
// ---------------------------------------------------------------------------------------------------------------------

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Reads one key file and returns its public key as SPKI PEM; `where` names the field, service and file in errors. */
function readPublicKey(file: string, where: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw ConfigError.invalid([`${where}: cannot read ${file}: ${(error as Error).message}`]);
  }
  // createPublicKey() also accepts a private key (and derives its public half): check the PEM label first so that a
  // private key named by mistake is refused instead of being copied into the Lambda environment.
  const labels = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----/g)].map((m) => m[1]);
  if (labels.length !== 1 || labels[0] !== 'PUBLIC KEY') {
    const found = labels.length === 0 ? 'no PEM block' : labels.map((l) => `"${l}"`).join(', ');
    throw ConfigError.invalid([`${where}: expected exactly one "PUBLIC KEY" PEM block (as printed by cosign public-key), found ${found}`]);
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: text, format: 'pem' });
  } catch (error) {
    throw ConfigError.invalid([`${where}: not a readable public key: ${(error as Error).message}`]);
  }
  const unsupported = unsupportedKeyReason(key);
  if (unsupported !== null) {
    throw ConfigError.invalid([`${where}: ${unsupported}; signatures need an EC P-256 / P-384 or RSA (2048 bits or more) public key`]);
  }
  // Re-exported so that the catalog holds exactly the key, whatever comments or spacing the file had.
  return key.export({ type: 'spki', format: 'pem' }).toString();
}
