/** Lambda entry of the crash finaliser (EventBridge target of the execution-status rule); all logic lives in the step. */
import { SFNClient } from '@aws-sdk/client-sfn';
import { PipelineExecutions } from '../adapters/executions';
import { systemClock } from '../shared/clock';
import { bundledServiceCatalog, requiredVariable } from '../shared/environment';
import { ledgerFromEnvironment } from '../shared/ledger-environment';
import { createFinaliseExecutionHandler } from '../steps/finalise-execution';
import { LEDGER_SDK, logSdkVersions } from '../shared/aws-sdk';

logSdkVersions(['@aws-sdk/client-sfn', ...LEDGER_SDK]);

export const handler = createFinaliseExecutionHandler({
  catalog: bundledServiceCatalog(),
  ledger: ledgerFromEnvironment(),
  executions: new PipelineExecutions(new SFNClient({}), requiredVariable('STATE_MACHINE_ARN')),
  clock: systemClock,
});
