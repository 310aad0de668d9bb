/** Lambda entry of the gray release's /health probe ("Probe the canary's health endpoint"): real clients, real HTTP. */
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { httpGet } from '../adapters/health-endpoint';
import { logSdkVersions } from '../shared/aws-sdk';
import { wireProbeCanary } from '../wiring/probe-canary';

logSdkVersions(['@aws-sdk/client-elastic-load-balancing-v2']);

export const handler = wireProbeCanary({
  elbv2: new ElasticLoadBalancingV2Client({}),
  healthEndpoint: { get: httpGet, now: () => performance.now() },
});
