/**
 * AWS Signer, as the signature check sees it: whether the signing profile, signing job or certificates behind a
 * Notation signature were revoked. Uses only GetRevocationStatus (read-only).
 */
import { GetRevocationStatusCommand, type SignerClient } from '@aws-sdk/client-signer';
import { InvalidInputError, callAws } from '../errors';
import type { RevocationQuery } from '../signature/findings';
import type * as ports from '../signature/ports';

export class SigningAuthority implements ports.SigningAuthority {
  constructor(private readonly signer: Pick<SignerClient, 'send'>) {}

  /**
   * The entities GetRevocationStatus reports revoked for this signature ([] when none): any of the profile version ARN,
   * the job ARN and the certificate hashes asked about. Throttling and server faults become TransientAwsError; any
   * other error is thrown as it is, so the step fails and the image is rejected (nothing proven not revoked).
   */
  async revokedEntities(query: RevocationQuery): Promise<string[]> {
    const signatureTimestamp = new Date(query.signatureTimestamp);
    if (Number.isNaN(signatureTimestamp.getTime())) {
      throw new InvalidInputError(`Cannot ask AWS Signer about a signature made at "${query.signatureTimestamp}": not a time`);
    }
    const command = new GetRevocationStatusCommand({
      signatureTimestamp,
      platformId: query.platformId,
      profileVersionArn: query.profileVersionArn,
      jobArn: query.jobArn,
      certificateHashes: [...query.certificateHashes],
    });
    const response = await callAws(`GetRevocationStatus ${query.jobArn}`, () => this.signer.send(command));
    return response.revokedEntities ?? [];
  }
}
