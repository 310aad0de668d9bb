/** Lambda entry of "Take the service lock"; all logic lives in the step. */
import { systemClock } from '../shared/clock';
import { ledgerFromEnvironment } from '../shared/ledger-environment';
import { createTakeTurnHandler } from '../steps/take-turn';
import { LEDGER_SDK, logSdkVersions } from '../shared/aws-sdk';

logSdkVersions(LEDGER_SDK);

export const handler = createTakeTurnHandler({ ledger: ledgerFromEnvironment(), clock: systemClock });
