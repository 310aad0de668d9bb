/**
 * "Verify image signature": the pushed digest must carry valid signatures by `threshold` of the service's trusted
 * signers (cosign keys, KMS keys, AWS Signer profiles). An unsigned or badly signed image is an outcome (a rejected
 * SignatureResult the Choice state routes on), so is a signature still expected (`pending`: the state machine waits
 * and asks again); only a failure to read AWS throws.
 */
import * as z from 'zod';
import { signingSchema } from '../contract/catalog';
import type { SignatureResult } from '../contract/signature';
import { logger } from '../shared/logger';
import { lateSignatureDeadline, verifyImage, type VerifyImageDependencies } from '../signature/verify-image';
import { parseStepInput, releaseSchema } from './step-input';

export type VerifySignatureInput = z.input<typeof inputSchema>;
export type VerifySignatureDependencies = VerifyImageDependencies;

const inputSchema = z.object({
  // The signature is read from repositoryName; imageUri, which the deploy uses, must be in that very repository.
  release: releaseSchema.refine((release) => release.repositoryUri.endsWith(`/${release.repositoryName}`), {
    path: ['repositoryUri'],
    message: 'must end with /<repositoryName>',
  }),
  signing: signingSchema,
  /** When the wait for a late signature started: the execution's start time. */
  waitingSince: z.iso.datetime({ offset: true }),
});

export function createVerifySignatureHandler(deps: VerifySignatureDependencies) {
  // Typed for callers, but parsed anyway: Step Functions hands over whatever the state's input path selects.
  return async function verifySignature(input: VerifySignatureInput): Promise<SignatureResult> {
    const { release, signing, waitingSince } = parseStepInput(inputSchema, input, 'Verify image signature');
    logger.appendKeys({ version: release.tag, digest: release.digest });

    const result = await verifyImage(deps, {
      expected: { digest: release.digest, repositoryName: release.repositoryName, repositoryUri: release.repositoryUri },
      signing,
      waitUntil: lateSignatureDeadline(new Date(waitingSince), signing),
    });

    logger.info('Image signature checked', { signature: result });
    return result;
  };
}
