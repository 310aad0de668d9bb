/** Lambda entry of "Analyse the canary against the stable version": real CloudWatch, ELB and ECS, the wall clock. */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { LEDGER_SDK, logSdkVersions } from '../shared/aws-sdk';
import { systemClock } from '../shared/clock';
import { requiredVariable } from '../shared/environment';
import { ledgerDocumentClient } from '../shared/ledger-environment';
import { wireAnalyseStep } from '../wiring/analyse-step';

logSdkVersions(['@aws-sdk/client-cloudwatch', '@aws-sdk/client-ecs', '@aws-sdk/client-elastic-load-balancing-v2', ...LEDGER_SDK]);

export const handler = wireAnalyseStep(
  {
    cloudwatch: new CloudWatchClient({}),
    ecs: new ECSClient({}),
    elbv2: new ElasticLoadBalancingV2Client({}),
    ledger: ledgerDocumentClient(),
  },
  { clock: systemClock, ledgerTableName: requiredVariable('LEDGER_TABLE_NAME') },
);
