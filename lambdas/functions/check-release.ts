/** Lambda entry of "Check release against policy": real clients, the catalog read once per cold start. */
import { ECSClient } from '@aws-sdk/client-ecs';
import { logSdkVersions } from '../shared/aws-sdk';
import { bundledServiceCatalog } from '../shared/environment';
import { wireCheckRelease } from '../wiring/check-release';

logSdkVersions(['@aws-sdk/client-ecs']);

export const handler = wireCheckRelease({ ecs: new ECSClient({}) }, { catalog: bundledServiceCatalog() });
