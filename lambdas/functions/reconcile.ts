/** Lambda entry of the scheduled reconciliation: real clients, the wall clock. */
import { ECRClient } from '@aws-sdk/client-ecr';
import { SFNClient } from '@aws-sdk/client-sfn';
import { fetchViaHttps } from '../adapters/image-registry';
import { LEDGER_SDK, logSdkVersions } from '../shared/aws-sdk';
import { systemClock } from '../shared/clock';
import { bundledServiceCatalog, requiredVariable } from '../shared/environment';
import { ledgerDocumentClient } from '../shared/ledger-environment';
import { wireReconcile } from '../wiring/reconcile';

logSdkVersions(['@aws-sdk/client-ecr', '@aws-sdk/client-sfn', ...LEDGER_SDK]);

export const handler = wireReconcile(
  { ecr: new ECRClient({}), fetchBlob: fetchViaHttps, sfn: new SFNClient({}), ledger: ledgerDocumentClient() },
  {
    catalog: bundledServiceCatalog(),
    ledgerTableName: requiredVariable('LEDGER_TABLE_NAME'),
    stateMachineArn: requiredVariable('STATE_MACHINE_ARN'),
    clock: systemClock,
  },
);
