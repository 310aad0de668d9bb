/** Lambda entry of "Check service health" and "Check rolled-back service health"; all logic lives in the step. */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECSClient } from '@aws-sdk/client-ecs';
import { AlarmMonitor } from '../adapters/alarm-monitor';
import { DeploymentTarget } from '../adapters/deployment-target';
import { systemClock } from '../shared/clock';
import { createCheckHealthHandler } from '../steps/check-health';
import { logSdkVersions } from '../shared/aws-sdk';

logSdkVersions(['@aws-sdk/client-cloudwatch', '@aws-sdk/client-ecs']);

export const handler = createCheckHealthHandler({
  target: new DeploymentTarget(new ECSClient({})),
  alarms: new AlarmMonitor(new CloudWatchClient({})),
  clock: systemClock,
});
