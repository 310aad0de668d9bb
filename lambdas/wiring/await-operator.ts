/** A gray release's waits an operator can end, built from the ledger (its waiters). */
import { LedgerTable } from '../adapters/ledger-table';
import { LedgerWaiters } from '../adapters/ledger-waiters';
import { createAwaitOperatorHandler } from '../steps/await-operator';
import type { FunctionClients, FunctionSettings } from './clients';

export function wireAwaitOperator(clients: Pick<FunctionClients, 'ledger'>, settings: Pick<FunctionSettings, 'ledgerTableName' | 'clock'>) {
  return createAwaitOperatorHandler({
    waiters: new LedgerWaiters(new LedgerTable(clients.ledger, settings.ledgerTableName)),
    clock: settings.clock,
  });
}
