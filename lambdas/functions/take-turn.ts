/** Lambda entry of "Take the service lock"; all logic lives in the step. */
import { systemClock } from '../shared/clock';
import { ledgerFromEnvironment } from '../shared/environment';
import { createTakeTurnHandler } from '../steps/take-turn';

export const handler = createTakeTurnHandler({ ledger: ledgerFromEnvironment(), clock: systemClock });
