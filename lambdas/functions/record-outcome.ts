/** Lambda entry of "Record outcome in the ledger"; all logic lives in the step. */
import { systemClock } from '../shared/clock';
import { ledgerFromEnvironment } from '../shared/environment';
import { createRecordOutcomeHandler } from '../steps/record-outcome';

export const handler = createRecordOutcomeHandler({ ledger: ledgerFromEnvironment(), clock: systemClock });
