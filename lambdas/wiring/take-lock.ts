/** "Take the service lock", built from the ledger. */
import { DeploymentLedger } from '../adapters/ledger';
import { createTakeLockHandler } from '../steps/take-lock';
import type { FunctionClients, FunctionSettings } from './clients';

export function wireTakeLock(clients: Pick<FunctionClients, 'ledger'>, settings: Pick<FunctionSettings, 'ledgerTableName' | 'clock'>) {
  return createTakeLockHandler({ ledger: new DeploymentLedger(clients.ledger, settings.ledgerTableName), clock: settings.clock });
}
