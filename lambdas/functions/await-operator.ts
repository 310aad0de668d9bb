/** Lambda entry of a gray release's waits an operator can end ("Wait for an operator's approval", "Bake the step …"). */
import { LEDGER_SDK, logSdkVersions } from '../shared/aws-sdk';
import { systemClock } from '../shared/clock';
import { requiredVariable } from '../shared/environment';
import { ledgerDocumentClient } from '../shared/ledger-environment';
import { wireAwaitOperator } from '../wiring/await-operator';

logSdkVersions([...LEDGER_SDK]);

export const handler = wireAwaitOperator(
  { ledger: ledgerDocumentClient() },
  { ledgerTableName: requiredVariable('LEDGER_TABLE_NAME'), clock: systemClock },
);
