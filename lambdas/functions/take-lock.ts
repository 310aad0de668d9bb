/** Lambda entry of "Take the service lock": the real ledger, the wall clock. */
import { LEDGER_SDK, logSdkVersions } from '../shared/aws-sdk';
import { systemClock } from '../shared/clock';
import { requiredVariable } from '../shared/environment';
import { ledgerDocumentClient } from '../shared/ledger-environment';
import { wireTakeLock } from '../wiring/take-lock';

logSdkVersions(LEDGER_SDK);

export const handler = wireTakeLock(
  { ledger: ledgerDocumentClient() },
  { ledgerTableName: requiredVariable('LEDGER_TABLE_NAME'), clock: systemClock },
);
