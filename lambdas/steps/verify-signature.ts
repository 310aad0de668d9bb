/**
 * "Verify image signature": the pushed digest must carry a cosign signature by one of the service's trusted keys.
 * An unsigned or badly signed image is an outcome (a rejected SignatureResult the Choice state routes on);
 * only a failure to read the registry throws.
 */
import { z } from 'zod';
import type { Release, SignatureResult } from '../contract';
import type { ImageRegistry } from '../adapters/image-registry';
import { logger } from '../shared/logger';
import { signatureTagFor, verifyCosignSignature } from '../signature/cosign';
import { parseStepInput, releaseSchema } from './step-input';

export interface VerifySignatureInput {
  release: Release;
  /** PEM-encoded ECDSA P-256 public keys of the service (its catalog entry's `trustedKeys`). */
  trustedKeys: string[];
}

export interface VerifySignatureDependencies {
  registry: Pick<ImageRegistry, 'readCosignSignature'>;
}

const inputSchema = z.object({
  // The signature is read from repositoryName; imageUri, which the deploy uses, must be in that very repository.
  release: releaseSchema.refine((release) => release.repositoryUri.endsWith(`/${release.repositoryName}`), {
    path: ['repositoryUri'],
    message: 'must end with /<repositoryName>',
  }),
  trustedKeys: z.array(z.string().min(1)).min(1, 'at least one trusted key is required'),
});

export function createVerifySignatureHandler({ registry }: VerifySignatureDependencies) {
  // Typed for callers, but parsed anyway: Step Functions hands over whatever the state's input path selects.
  return async function verifySignature(input: VerifySignatureInput): Promise<SignatureResult> {
    const { release, trustedKeys } = parseStepInput(inputSchema, input, 'Verify image signature');
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
