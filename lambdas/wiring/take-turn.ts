/** "Take the service lock", built from the ledger. */
import { DeploymentLedger } from '../adapters/ledger';
import { createTakeTurnHandler } from '../steps/take-turn';
import type { FunctionClients, FunctionSettings } from './clients';

export function wireTakeTurn(clients: Pick<FunctionClients, 'ledger'>, settings: Pick<FunctionSettings, 'ledgerTableName' | 'clock'>) {
  return createTakeTurnHandler({ ledger: new DeploymentLedger(clients.ledger, settings.ledgerTableName), clock: settings.clock });
}
