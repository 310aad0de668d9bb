/**
 * What the signature gate (verify-image.ts) needs from AWS. Declared here, where it is used; the adapters implement
 * them: ImageRegistry (ECR), KeyStore (KMS), SigningAuthority (AWS Signer).
 */
import type { SignatureArtifacts } from './artifacts';
import type { RevocationQuery } from './findings';
import type { TrustedKey } from './keys';

export interface SignatureRegistry {
  /** Everything stored for the digest that may be a signature; `signingStatus`: also ask whether ECR is still signing it. */
  readSignatureArtifacts(repositoryName: string, digest: string, options: { signingStatus: boolean }): Promise<SignatureArtifacts>;
}

export interface KeyStore {
  /** The KMS key's public half as a TrustedKey, or why it cannot be used (a predicate: `is disabled (…)`). */
  trustedKmsKey(keyId: string): Promise<TrustedKey | string>;
}

export interface SigningAuthority {
  /** The entities AWS Signer reports revoked for this signature ([] when none). */
  revokedEntities(query: RevocationQuery): Promise<string[]>;
}
