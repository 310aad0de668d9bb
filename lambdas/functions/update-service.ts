/** Lambda entry of "Update service to new revision" and "Roll back to last known good revision": real ECS, the wall clock. */
import { ECSClient } from '@aws-sdk/client-ecs';
import { logSdkVersions } from '../shared/aws-sdk';
import { systemClock } from '../shared/clock';
import { wireUpdateService } from '../wiring/update-service';

logSdkVersions(['@aws-sdk/client-ecs']);

export const handler = wireUpdateService({ ecs: new ECSClient({}) }, { clock: systemClock });
