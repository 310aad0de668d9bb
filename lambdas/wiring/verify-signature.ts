/**
 * "Verify image signature", built from ECR, KMS, Signer and the pinned AWS Signer root certificates. The KMS key cache
 * lives as long as the handler (in Lambda, the container).
 */
import { ImageRegistry } from '../adapters/image-registry';
import { KeyStore } from '../adapters/key-store';
import { SigningAuthority } from '../adapters/signing-authority';
import { readRootCertificates } from '../signature/root-certificates';
import { createVerifySignatureHandler } from '../steps/verify-signature';
import type { FunctionClients, FunctionSettings } from './clients';

export function wireVerifySignature(
  clients: Pick<FunctionClients, 'ecr' | 'fetchBlob' | 'kms' | 'signer'>,
  settings: Pick<FunctionSettings, 'signerRootCertificates' | 'clock'>,
) {
  return createVerifySignatureHandler({
    registry: new ImageRegistry(clients.ecr, clients.fetchBlob),
    keyStore: new KeyStore(clients.kms),
    signingAuthority: new SigningAuthority(clients.signer),
    trustedRoots: readRootCertificates(settings.signerRootCertificates, 'SIGNER_ROOT_CERTIFICATES'),
    now: settings.clock,
  });
}
