/** Lambda entry of the crash finaliser (EventBridge target of the execution-status rule): real clients, the wall clock. */
import { SFNClient } from '@aws-sdk/client-sfn';
import { LEDGER_SDK, logSdkVersions } from '../shared/aws-sdk';
import { systemClock } from '../shared/clock';
import { bundledServiceCatalog, requiredVariable } from '../shared/environment';
import { ledgerDocumentClient } from '../shared/ledger-environment';
import { wireFinaliseExecution } from '../wiring/finalise-execution';

logSdkVersions(['@aws-sdk/client-sfn', ...LEDGER_SDK]);

export const handler = wireFinaliseExecution(
  { sfn: new SFNClient({}), ledger: ledgerDocumentClient() },
  {
    catalog: bundledServiceCatalog(),
    ledgerTableName: requiredVariable('LEDGER_TABLE_NAME'),
    stateMachineArn: requiredVariable('STATE_MACHINE_ARN'),
    clock: systemClock,
  },
);
