/** Lambda entry of the crash finaliser (EventBridge target of the execution-status rule); all logic lives in the step. */
import { systemClock } from '../shared/clock';
import { ledgerFromEnvironment, readServiceCatalog } from '../shared/environment';
import { createFinaliseExecutionHandler } from '../steps/finalise-execution';

export const handler = createFinaliseExecutionHandler({
  catalog: readServiceCatalog(process.env.SERVICE_CATALOG),
  ledger: ledgerFromEnvironment(),
  clock: systemClock,
});
