/** Lambda entry of the scheduled reconciliation; all logic lives in the step. */
import { ECRClient } from '@aws-sdk/client-ecr';
import { SFNClient } from '@aws-sdk/client-sfn';
import { PipelineExecutions } from '../adapters/executions';
import { fetchViaHttps, ImageRegistry } from '../adapters/image-registry';
import { systemClock } from '../shared/clock';
import { bundledServiceCatalog, requiredVariable } from '../shared/environment';
import { ledgerFromEnvironment } from '../shared/ledger-environment';
import { createReconcileHandler } from '../steps/reconcile';
import { LEDGER_SDK, logSdkVersions } from '../shared/aws-sdk';

const stateMachineArn = requiredVariable('STATE_MACHINE_ARN');
// arn:<partition>:states:<region>:<account>:stateMachine:<name>: the start events name the account and Region ECR would.
const [, , , region, account] = stateMachineArn.split(':');

logSdkVersions(['@aws-sdk/client-ecr', '@aws-sdk/client-sfn', ...LEDGER_SDK]);

export const handler = createReconcileHandler({
  catalog: bundledServiceCatalog(),
  registry: new ImageRegistry(new ECRClient({}), fetchViaHttps),
  ledger: ledgerFromEnvironment(),
  executions: new PipelineExecutions(new SFNClient({}), stateMachineArn),
  account: account!,
  region: region!,
  clock: systemClock,
});
