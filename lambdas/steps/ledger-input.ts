/** Input shapes the ledger steps share: the record's key and the release's trigger, as the state machine passes them. */
import * as z from 'zod';
import type { DeploymentKey } from '../contract/ledger-records';
import { TRIGGERS } from '../contract/start-events';
import type { Trigger } from '../contract/steps';

export const deploymentKeySchema = z.object({
  service: z.string().min(1),
  sk: z.string().startsWith('DEPLOYMENT#'),
}) satisfies z.ZodType<DeploymentKey>;

export const triggerSchema = z.object({
  kind: z.enum(TRIGGERS),
  requestedBy: z.string().nullable(),
  reason: z.string().nullable(),
}) satisfies z.ZodType<Trigger>;

export function secondsAfter(time: Date, seconds: number): string {
  return new Date(time.getTime() + seconds * 1000).toISOString();
}
