/** The event-driven health wait, built from ECS, CloudWatch, the ledger (its waiters) and Step Functions (task tokens). */
import { AlarmMonitor } from '../adapters/alarm-monitor';
import { DeploymentTarget } from '../adapters/deployment-target';
import { LedgerTable } from '../adapters/ledger-table';
import { ServiceLocks } from '../adapters/ledger-locks';
import { LedgerWaiters } from '../adapters/ledger-waiters';
import { TaskTokens } from '../adapters/task-tokens';
import { createAwaitHealthHandler } from '../steps/await-health';
import type { FunctionClients, FunctionSettings } from './clients';

export function wireAwaitHealth(
  clients: Pick<FunctionClients, 'ecs' | 'cloudwatch' | 'ledger' | 'sfn'>,
  settings: Pick<FunctionSettings, 'catalog' | 'ledgerTableName' | 'clock'>,
) {
  return createAwaitHealthHandler({
    target: new DeploymentTarget(clients.ecs),
    alarms: new AlarmMonitor(clients.cloudwatch),
    waiters: new LedgerWaiters(new LedgerTable(clients.ledger, settings.ledgerTableName)),
    locks: new ServiceLocks(new LedgerTable(clients.ledger, settings.ledgerTableName)),
    tokens: new TaskTokens(clients.sfn),
    catalog: settings.catalog,
    clock: settings.clock,
  });
}
