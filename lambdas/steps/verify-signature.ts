/**
 * "Verify image signature": the pushed digest must carry a cosign signature by one of the service's trusted keys.
 * An unsigned or badly signed image is an outcome (a rejected SignatureResult the Choice state routes on);
 * only a failure to read the registry throws.
 */
import { z } from 'zod';
import type { Release, SignatureResult } from '../contract';
import { InvalidInputError } from '../errors';
import type { ImageRegistry } from '../adapters/image-registry';
import { logger } from '../shared/logger';
import { signatureTagFor, verifyCosignSignature } from '../signature/cosign';

export interface VerifySignatureInput {
  release: Release;
  /** PEM-encoded ECDSA P-256 public keys of the service (its catalog entry's `trustedKeys`). */
  trustedKeys: string[];
}

export interface VerifySignatureDependencies {
  registry: Pick<ImageRegistry, 'readCosignSignature'>;
}

const releaseSchema = z
  .object({
    repositoryName: z.string().min(1),
    repositoryUri: z.string().min(1),
    tag: z.string().min(1),
    digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 hex characters>'),
    imageUri: z.string().min(1),
  })
  // The deploy uses imageUri; it must name the very digest verified here, in the repository the signature is read from.
  .refine((release) => release.imageUri === `${release.repositoryUri}@${release.digest}`, {
    path: ['imageUri'],
    message: 'must be <repositoryUri>@<digest>',
  })
  .refine((release) => release.repositoryUri.endsWith(`/${release.repositoryName}`), {
    path: ['repositoryUri'],
    message: 'must end with /<repositoryName>',
  });

const inputSchema = z.object({
  release: releaseSchema,
  trustedKeys: z.array(z.string().min(1)).min(1, 'at least one trusted key is required'),
});

export function createVerifySignatureHandler({ registry }: VerifySignatureDependencies) {
  // Typed for callers, but parsed anyway: Step Functions hands over whatever the state's input path selects.
  return async function verifySignature(input: VerifySignatureInput): Promise<SignatureResult> {
    const { release, trustedKeys } = parseInput(input);
    logger.appendKeys({ version: release.tag, digest: release.digest });

    const signature = await registry.readCosignSignature(release.repositoryName, release.digest);
    const result =
      signature === null
        ? unsigned(release)
        : verifyCosignSignature({ manifest: signature.manifest, layers: signature.layers, trustedKeys, expectedDigest: release.digest });

    logger.info('Image signature checked', { signature: result });
    return result;
  };
}

function parseInput(event: unknown): VerifySignatureInput {
  const parsed = inputSchema.safeParse(event);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(input)'}: ${issue.message}`);
    throw new InvalidInputError(`Invalid "Verify image signature" input: ${problems.join('; ')}`);
  }
  return parsed.data;
}

function unsigned(release: Release): SignatureResult {
  return {
    verdict: 'rejected',
    code: 'unsigned',
    reason:
      `${release.imageUri} has no cosign signature (no ${signatureTagFor(release.digest)} tag in ${release.repositoryName}). ` +
      `Sign it by digest with a trusted key: cosign sign --key <trusted-key> ${release.imageUri}`,
    digest: release.digest,
    signerFingerprint: null,
  };
}
