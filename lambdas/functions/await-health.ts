/**
 * Lambda entry of the event-driven health wait ("Wait for …" Tasks, and the target of the ECS deployment and alarm
 * rules): real clients, the wall clock.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SFNClient } from '@aws-sdk/client-sfn';
import { LEDGER_SDK, logSdkVersions } from '../shared/aws-sdk';
import { systemClock } from '../shared/clock';
import { bundledServiceCatalog, requiredVariable } from '../shared/environment';
import { ledgerDocumentClient } from '../shared/ledger-environment';
import { wireAwaitHealth } from '../wiring/await-health';

logSdkVersions(['@aws-sdk/client-cloudwatch', '@aws-sdk/client-ecs', '@aws-sdk/client-sfn', ...LEDGER_SDK]);

export const handler = wireAwaitHealth(
  { ecs: new ECSClient({}), cloudwatch: new CloudWatchClient({}), sfn: new SFNClient({}), ledger: ledgerDocumentClient() },
  { catalog: bundledServiceCatalog(), ledgerTableName: requiredVariable('LEDGER_TABLE_NAME'), clock: systemClock },
);
