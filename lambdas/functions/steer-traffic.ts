/** Lambda entry of the gray release's traffic and canary changes ("Check the traffic set-up", "Shift traffic …", …). */
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { logSdkVersions } from '../shared/aws-sdk';
import { systemClock } from '../shared/clock';
import { wireSteerTraffic } from '../wiring/steer-traffic';

logSdkVersions(['@aws-sdk/client-ecs', '@aws-sdk/client-elastic-load-balancing-v2']);

export const handler = wireSteerTraffic({ ecs: new ECSClient({}), elbv2: new ElasticLoadBalancingV2Client({}) }, { clock: systemClock });
