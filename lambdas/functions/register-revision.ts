/** Lambda entry of "Register new task definition revision": the real ECS client. */
import { ECSClient } from '@aws-sdk/client-ecs';
import { logSdkVersions } from '../shared/aws-sdk';
import { wireRegisterRevision } from '../wiring/register-revision';

logSdkVersions(['@aws-sdk/client-ecs']);

export const handler = wireRegisterRevision({ ecs: new ECSClient({}) });
