/** Lambda entry of "Record outcome in the ledger": the real ledger, the wall clock. */
import { LEDGER_SDK, logSdkVersions } from '../shared/aws-sdk';
import { systemClock } from '../shared/clock';
import { requiredVariable } from '../shared/environment';
import { ledgerDocumentClient } from '../shared/ledger-environment';
import { wireRecordOutcome } from '../wiring/record-outcome';

logSdkVersions(LEDGER_SDK);

export const handler = wireRecordOutcome(
  { ledger: ledgerDocumentClient() },
  { ledgerTableName: requiredVariable('LEDGER_TABLE_NAME'), clock: systemClock },
);
