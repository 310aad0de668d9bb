/** Lambda entry of "Record the release in the ledger"; all logic lives in the step. */
import { ECRClient } from '@aws-sdk/client-ecr';
import { fetchViaHttps, ImageRegistry } from '../adapters/image-registry';
import { systemClock } from '../shared/clock';
import { ledgerFromEnvironment } from '../shared/ledger-environment';
import { createRecordReleaseHandler } from '../steps/record-release';
import { LEDGER_SDK, logSdkVersions } from '../shared/aws-sdk';

logSdkVersions(['@aws-sdk/client-ecr', ...LEDGER_SDK]);

export const handler = createRecordReleaseHandler({
  ledger: ledgerFromEnvironment(),
  registry: new ImageRegistry(new ECRClient({}), fetchViaHttps),
  clock: systemClock,
});
