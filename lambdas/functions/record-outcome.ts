/** Lambda entry of "Record outcome in the ledger"; all logic lives in the step. */
import { systemClock } from '../shared/clock';
import { ledgerFromEnvironment } from '../shared/ledger-environment';
import { createRecordOutcomeHandler } from '../steps/record-outcome';
import { LEDGER_SDK, logSdkVersions } from '../shared/aws-sdk';

logSdkVersions(LEDGER_SDK);

export const handler = createRecordOutcomeHandler({ ledger: ledgerFromEnvironment(), clock: systemClock });
