/** Lambda entry of "Check service health" and "Check rolled-back service health": real clients, the wall clock. */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECSClient } from '@aws-sdk/client-ecs';
import { logSdkVersions } from '../shared/aws-sdk';
import { systemClock } from '../shared/clock';
import { wireCheckHealth } from '../wiring/check-health';

logSdkVersions(['@aws-sdk/client-cloudwatch', '@aws-sdk/client-ecs']);

export const handler = wireCheckHealth({ ecs: new ECSClient({}), cloudwatch: new CloudWatchClient({}) }, { clock: systemClock });
