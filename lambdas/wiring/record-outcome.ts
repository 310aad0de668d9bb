/** "Record outcome in the ledger", built from the ledger. */
import { DeploymentLedger } from '../adapters/ledger';
import { createRecordOutcomeHandler } from '../steps/record-outcome';
import type { FunctionClients, FunctionSettings } from './clients';

export function wireRecordOutcome(clients: Pick<FunctionClients, 'ledger'>, settings: Pick<FunctionSettings, 'ledgerTableName' | 'clock'>) {
  return createRecordOutcomeHandler({ ledger: new DeploymentLedger(clients.ledger, settings.ledgerTableName), clock: settings.clock });
}
