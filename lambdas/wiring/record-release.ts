/** "Record the release in the ledger", built from the ledger and ECR. */
import { ImageRegistry } from '../adapters/image-registry';
import { DeploymentLedger } from '../adapters/ledger';
import { createRecordReleaseHandler } from '../steps/record-release';
import type { FunctionClients, FunctionSettings } from './clients';

export function wireRecordRelease(
  clients: Pick<FunctionClients, 'ledger' | 'ecr' | 'fetchBlob'>,
  settings: Pick<FunctionSettings, 'ledgerTableName' | 'clock'>,
) {
  return createRecordReleaseHandler({
    ledger: new DeploymentLedger(clients.ledger, settings.ledgerTableName),
    registry: new ImageRegistry(clients.ecr, clients.fetchBlob),
    clock: settings.clock,
  });
}
