/** Lambda entry of the crash finaliser (EventBridge target of the execution-status rule); all logic lives in the step. */
import { systemClock } from '../shared/clock';
import { readServiceCatalog } from '../shared/environment';
import { ledgerFromEnvironment } from '../shared/ledger-environment';
import { createFinaliseExecutionHandler } from '../steps/finalise-execution';
import { LEDGER_SDK, logSdkVersions } from '../shared/aws-sdk';

logSdkVersions(LEDGER_SDK);

export const handler = createFinaliseExecutionHandler({
  catalog: readServiceCatalog(process.env.SERVICE_CATALOG),
  ledger: ledgerFromEnvironment(),
  clock: systemClock,
});
