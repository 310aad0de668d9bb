/** The crash finaliser, built from Step Functions (DescribeExecution) and the ledger. */
import { PipelineExecutions } from '../adapters/executions';
import { DeploymentLedger } from '../adapters/ledger';
import { createFinaliseExecutionHandler } from '../steps/finalise-execution';
import type { FunctionClients, FunctionSettings } from './clients';

export function wireFinaliseExecution(
  clients: Pick<FunctionClients, 'sfn' | 'ledger'>,
  settings: Pick<FunctionSettings, 'catalog' | 'ledgerTableName' | 'stateMachineArn' | 'clock'>,
) {
  return createFinaliseExecutionHandler({
    catalog: settings.catalog,
    ledger: new DeploymentLedger(clients.ledger, settings.ledgerTableName),
    executions: new PipelineExecutions(clients.sfn, settings.stateMachineArn),
    clock: settings.clock,
  });
}
