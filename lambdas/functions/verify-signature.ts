/**
 * Lambda entry of "Verify image signature": the real ECR, KMS and Signer clients and the pinned AWS Signer root
 * certificates (SIGNER_ROOT_CERTIFICATES, PEM). The KMS key cache lives as long as the container.
 */
import { ECRClient } from '@aws-sdk/client-ecr';
import { KMSClient } from '@aws-sdk/client-kms';
import { SignerClient } from '@aws-sdk/client-signer';
import { fetchViaHttps } from '../adapters/image-registry';
import { logSdkVersions } from '../shared/aws-sdk';
import { systemClock } from '../shared/clock';
import { wireVerifySignature } from '../wiring/verify-signature';

logSdkVersions(['@aws-sdk/client-ecr', '@aws-sdk/client-kms', '@aws-sdk/client-signer']);

export const handler = wireVerifySignature(
  { ecr: new ECRClient({}), fetchBlob: fetchViaHttps, kms: new KMSClient({}), signer: new SignerClient({}) },
  { signerRootCertificates: process.env.SIGNER_ROOT_CERTIFICATES ?? '', clock: systemClock },
);
