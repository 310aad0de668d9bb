/** Lambda entry of "Record the release in the ledger": real clients, the wall clock. */
import { ECRClient } from '@aws-sdk/client-ecr';
import { fetchViaHttps } from '../adapters/image-registry';
import { LEDGER_SDK, logSdkVersions } from '../shared/aws-sdk';
import { systemClock } from '../shared/clock';
import { requiredVariable } from '../shared/environment';
import { ledgerDocumentClient } from '../shared/ledger-environment';
import { wireRecordRelease } from '../wiring/record-release';

logSdkVersions(['@aws-sdk/client-ecr', ...LEDGER_SDK]);

export const handler = wireRecordRelease(
  { ledger: ledgerDocumentClient(), ecr: new ECRClient({}), fetchBlob: fetchViaHttps },
  { ledgerTableName: requiredVariable('LEDGER_TABLE_NAME'), clock: systemClock },
);
