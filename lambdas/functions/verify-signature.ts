/**
 * Lambda entry of "Verify image signature": wires the real ECR, KMS and Signer clients and the pinned AWS Signer root
 * certificates (SIGNER_ROOT_CERTIFICATES, PEM); all logic lives in the step. The KMS key cache lives as long as the
 * container.
 */
import { ECRClient } from '@aws-sdk/client-ecr';
import { KMSClient } from '@aws-sdk/client-kms';
import { SignerClient } from '@aws-sdk/client-signer';
import { fetchViaHttps, ImageRegistry } from '../adapters/image-registry';
import { KeyStore } from '../adapters/key-store';
import { SigningAuthority } from '../adapters/signing-authority';
import { systemClock } from '../shared/clock';
import { readRootCertificates } from '../signature/root-certificates';
import { createVerifySignatureHandler } from '../steps/verify-signature';
import { logSdkVersions } from '../shared/aws-sdk';

logSdkVersions(['@aws-sdk/client-ecr', '@aws-sdk/client-kms', '@aws-sdk/client-signer']);

export const handler = createVerifySignatureHandler({
  registry: new ImageRegistry(new ECRClient({}), fetchViaHttps),
  keyStore: new KeyStore(new KMSClient({})),
  signingAuthority: new SigningAuthority(new SignerClient({})),
  trustedRoots: readRootCertificates(process.env.SIGNER_ROOT_CERTIFICATES ?? '', 'SIGNER_ROOT_CERTIFICATES'),
  now: systemClock,
});
