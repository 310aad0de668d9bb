/**
 * AWS Signer revocation as GetRevocationStatus reports it
 * (https://docs.aws.amazon.com/signer/latest/api/API_GetRevocationStatus.html): the entities asked about (profile
 * version, signing job, certificate hashes) that are revoked for a signature made at that time.
 */
export class SimulatedSigner {
  private readonly revocations = new Map<string, number>();

  /**
   * Revokes a signing profile version ARN, signing job ARN or certificate hash: GetRevocationStatus reports it for
   * signatures made at or after `effectiveFrom` (default: all of them, as revoking a signing job does).
   */
  revokeSignerEntity(entity: string, options: { effectiveFrom?: Date } = {}): void {
    this.revocations.set(entity, options.effectiveFrom?.getTime() ?? Number.NEGATIVE_INFINITY);
  }

  getRevocationStatus(input: {
    signatureTimestamp: Date;
    platformId: string;
    profileVersionArn: string;
    jobArn: string;
    certificateHashes: string[];
  }) {
    const signedAt = new Date(input.signatureTimestamp).getTime();
    const asked = [input.profileVersionArn, input.jobArn, ...input.certificateHashes];
    return { revokedEntities: asked.filter((entity) => this.revocations.has(entity) && signedAt >= this.revocations.get(entity)!) };
  }
}
