/** Lambda entry of "Verify image signature": wires the real ECR client; all logic lives in the step. */
import { ECRClient } from '@aws-sdk/client-ecr';
import { fetchViaHttps, ImageRegistry } from '../adapters/image-registry';
import { createVerifySignatureHandler } from '../steps/verify-signature';

export const handler = createVerifySignatureHandler({ registry: new ImageRegistry(new ECRClient({}), fetchViaHttps) });
