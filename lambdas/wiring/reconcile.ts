/** The scheduled reconciliation, built from ECR, Step Functions and the ledger. */
import { PipelineExecutions } from '../adapters/executions';
import { ImageRegistry } from '../adapters/image-registry';
import { DeploymentLedger } from '../adapters/ledger';
import { createReconcileHandler } from '../steps/reconcile';
import type { FunctionClients, FunctionSettings } from './clients';

export function wireReconcile(
  clients: Pick<FunctionClients, 'ecr' | 'fetchBlob' | 'sfn' | 'ledger'>,
  settings: Pick<FunctionSettings, 'catalog' | 'ledgerTableName' | 'stateMachineArn' | 'clock'>,
) {
  // arn:<partition>:states:<region>:<account>:stateMachine:<name>: the start events name the account and Region ECR would.
  const [, , , region, account] = settings.stateMachineArn.split(':');
  return createReconcileHandler({
    catalog: settings.catalog,
    registry: new ImageRegistry(clients.ecr, clients.fetchBlob),
    ledger: new DeploymentLedger(clients.ledger, settings.ledgerTableName),
    executions: new PipelineExecutions(clients.sfn, settings.stateMachineArn),
    account: account!,
    region: region!,
    clock: settings.clock,
  });
}
