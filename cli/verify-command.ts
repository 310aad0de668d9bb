/**
 * `model-rollout verify`: asks the pipeline's own signature gate (lambdas/signature/verify-image.ts, the code the
 * "Verify image signature" Lambda runs) whether an image digest may be deployed, from an operator's terminal.
 *
 * Exit 0: verified (one line starting `verified`); 1: rejected (one line starting with the reason); 2: usage,
 * configuration or AWS access error (nothing was verified).
 */
import type { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ECRClient } from '@aws-sdk/client-ecr';
import { KMSClient } from '@aws-sdk/client-kms';
import { SignerClient } from '@aws-sdk/client-signer';
import { ConfigError, loadConfig, readSignerRootCertificate, toServiceCatalog } from '../lib/config';
import { SHA256_DIGEST, type Signing } from '../lambdas/contract/catalog';
import type { SignatureResult } from '../lambdas/contract/signature';
import { fetchViaHttps, ImageRegistry } from '../lambdas/adapters/image-registry';
import { KeyStore } from '../lambdas/adapters/key-store';
import { SigningAuthority } from '../lambdas/adapters/signing-authority';
import { describeEvidence } from '../lambdas/decisions/signature-trust';
import { certificateFileToPem, readRootCertificates } from '../lambdas/signature/root-certificates';
import { lateSignatureDeadline, verifyImage } from '../lambdas/signature/verify-image';
import { type CommandIo, UsageError } from './io';

export const VERIFY_USAGE = `Usage:
  model-rollout verify --repository NAME --digest sha256:HEX [--public-key FILE]... [--kms-key ARN]...
                       [--signing-profile ARN]... [--signer-root FILE] [--threshold N] [--wait SECONDS] [--json]
  model-rollout verify --config FILE --service NAME --digest sha256:HEX [--wait SECONDS] [--json]

Verifies that the image with that digest carries valid signatures by trusted signers, exactly as the pipeline does.
AWS credentials, Region and endpoints come from the SDK's usual sources (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL...).
Exit status: 0 verified, 1 rejected (the reason is the first word), 2 usage, configuration or AWS access error.`;

const DEFAULT_POLL_SECONDS = 5;

/** What the command was asked, once its arguments are understood. */
interface VerifyRequest {
  repositoryName: string;
  digest: string;
  signing: Signing;
  rootCertificates: X509Certificate[];
  region: string | undefined;
  json: boolean;
}

export async function runVerify(args: string[], io: CommandIo): Promise<number> {
  const request = parseVerifyArgs(args);
  const ecr = new ECRClient({ region: request.region });
  const registry = new ImageRegistry(ecr, fetchViaHttps);
  const deps = {
    registry,
    keyStore: new KeyStore(new KMSClient({ region: request.region })),
    signingAuthority: new SigningAuthority(new SignerClient({ region: request.region, disableHostPrefix: customSignerEndpoint() })),
    trustedRoots: request.rootCertificates,
    now: io.now,
  };
  const repositoryUri = await registry.repositoryUri(request.repositoryName);
  const expected = { digest: request.digest, repositoryName: request.repositoryName, repositoryUri };
  const waitUntil = lateSignatureDeadline(io.now(), request.signing);

  let result = await verifyImage(deps, { expected, signing: request.signing, waitUntil });
  while (result.verdict === 'pending') {
    io.stderr(`waiting: ${result.reason}`);
    await io.sleep(request.signing.pollSeconds);
    result = await verifyImage(deps, { expected, signing: request.signing, waitUntil });
  }

  io.stdout(request.json ? JSON.stringify({ repository: repositoryUri, ...result }, null, 2) : summaryLine(result, repositoryUri));
  return result.verdict === 'verified' ? 0 : 1;
}

/**
 * GetRevocationStatus is served by `data-signer.<region>.amazonaws.com`: the SDK prefixes the endpoint's host with
 * `data-`. An endpoint given in the environment (a local emulator, `local/aws-endpoint.ts`) is used as it is.
 */
function customSignerEndpoint(): boolean {
  return Boolean(process.env.AWS_ENDPOINT_URL_SIGNER || process.env.AWS_ENDPOINT_URL);
}

/** `verified …` naming format and signer, or `<reason>: <explanation>`. */
export function summaryLine(result: SignatureResult, repositoryUri: string): string {
  if (result.verdict === 'verified') {
    return `verified ${repositoryUri}@${result.digest}: ${result.evidence.map(describeEvidence).join('; ')}`;
  }
  return `${result.code}: ${result.reason}`;
}

const VERIFY_OPTIONS = {
  repository: { type: 'string' },
  digest: { type: 'string' },
  'public-key': { type: 'string', multiple: true },
  'kms-key': { type: 'string', multiple: true },
  'signing-profile': { type: 'string', multiple: true },
  'signer-root': { type: 'string', multiple: true },
  threshold: { type: 'string' },
  wait: { type: 'string' },
  poll: { type: 'string' },
  config: { type: 'string' },
  service: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

function parseVerifyArgs(args: string[]): VerifyRequest {
  const { values } = asUsageError(() => parseArgs({ args, strict: true, allowPositionals: false, options: VERIFY_OPTIONS }));

  const digest = values.digest;
  if (digest === undefined) throw new UsageError('--digest is required (sha256:<64 hex characters>)');
  if (!SHA256_DIGEST.test(digest)) throw new UsageError(`--digest ${JSON.stringify(digest)} is not sha256:<64 hex characters>`);
  const waitSeconds = optionalWholeNumber(values.wait, '--wait', 0, 3600);
  const pollSeconds = optionalWholeNumber(values.poll, '--poll', 1, 300) ?? DEFAULT_POLL_SECONDS;
  const json = values.json ?? false;
  const timing = { waitSeconds, pollSeconds, pollGiven: values.poll !== undefined };
  return values.config !== undefined
    ? { ...requestFromConfig(values, values.config, timing), digest, json }
    : { ...requestFromOptions(values, timing), digest, json };
}

type VerifyValues = ReturnType<typeof parseArgs<{ options: typeof VERIFY_OPTIONS }>>['values'];
/** `--wait` (absent: no wait), `--poll` (or its default), and whether `--poll` was given. */
type Timing = { waitSeconds: number | undefined; pollSeconds: number; pollGiven: boolean };

/** `--config FILE --service NAME`: the trust the pipeline has for that service. */
function requestFromConfig(values: VerifyValues, config: string, timing: Timing): Omit<VerifyRequest, 'digest' | 'json'> {
  const conflicting = (['repository', 'public-key', 'kms-key', 'signing-profile', 'signer-root', 'threshold'] as const).filter(
    (option) => values[option] !== undefined,
  );
  if (conflicting.length > 0) {
    throw new UsageError(
      `--config takes the trust from the configuration; do not also give ${conflicting.map((o) => `--${o}`).join(', ')}`,
    );
  }
  if (values.service === undefined) throw new UsageError('--config needs --service NAME (a service name from the configuration)');
  const fromConfig = trustFromConfig(config, values.service);
  return {
    ...fromConfig,
    signing: {
      ...fromConfig.signing,
      // The command waits only when asked to; the configured wait is the pipeline's.
      lateSignatureSeconds: timing.waitSeconds ?? 0,
      pollSeconds: timing.pollGiven ? timing.pollSeconds : fromConfig.signing.pollSeconds,
    },
  };
}

/** `--repository NAME` with the trusted signers named on the command line. */
function requestFromOptions(values: VerifyValues, timing: Timing): Omit<VerifyRequest, 'digest' | 'json'> {
  if (values.service !== undefined) throw new UsageError('--service needs --config FILE');
  if (values.repository === undefined)
    throw new UsageError('give --repository NAME (with trusted signers) or --config FILE --service NAME');
  const publicKeys = (values['public-key'] ?? []).map((file) => readFile(file, '--public-key'));
  const kmsKeys = values['kms-key'] ?? [];
  const signingProfiles = values['signing-profile'] ?? [];
  const signers = publicKeys.length + kmsKeys.length + signingProfiles.length;
  if (signers === 0) throw new UsageError('name at least one trusted signer: --public-key FILE, --kms-key ARN or --signing-profile ARN');
  const rootFiles = values['signer-root'] ?? [];
  if (signingProfiles.length > 0 && rootFiles.length === 0) {
    throw new UsageError('--signing-profile needs --signer-root FILE: the AWS Signer Notation root certificate to pin (see README)');
  }
  const threshold = optionalWholeNumber(values.threshold, '--threshold', 1, signers) ?? 1;
  const lateSignatureSeconds = timing.waitSeconds ?? 0;
  return {
    repositoryName: values.repository,
    region: undefined,
    rootCertificates: rootFiles.flatMap((file) => {
      try {
        return readRootCertificates(certificateFileToPem(readFileSync(file), file), file);
      } catch (error) {
        throw new UsageError(`--signer-root ${(error as Error).message}`);
      }
    }),
    signing: { publicKeys, kmsKeys, signingProfiles, threshold, lateSignatureSeconds, pollSeconds: timing.pollSeconds },
  };
}

/** The service's trust exactly as the pipeline gets it: the configuration validated and turned into its catalog. */
function trustFromConfig(
  configFile: string,
  serviceName: string,
): Pick<VerifyRequest, 'repositoryName' | 'signing' | 'rootCertificates' | 'region'> {
  try {
    const config = loadConfig(configFile);
    const baseDir = path.dirname(path.resolve(configFile));
    const entry = toServiceCatalog(config, baseDir).find((service) => service.name === serviceName);
    if (entry === undefined) {
      throw new UsageError(
        `service ${JSON.stringify(serviceName)} is not in ${configFile} (services: ${config.services.map((s) => s.name).join(', ')})`,
      );
    }
    const rootPem = readSignerRootCertificate(config, baseDir);
    return {
      repositoryName: entry.repository,
      signing: entry.signing,
      rootCertificates: readRootCertificates(rootPem, configFile),
      region: config.region,
    };
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
}

function readFile(file: string, option: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${option} ${file}: ${(error as Error).message}`);
  }
}

function optionalWholeNumber(value: string | undefined, option: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max)
    throw new UsageError(`${option} ${JSON.stringify(value)} is not a whole number from ${min} to ${max}`);
  return n;
}

/** Runs `parse`, turning what it throws (an unknown option, a missing value) into a UsageError with its message. */
function asUsageError<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
