/** The events that start an execution: an ECR push, an operator's rollback, the reconciliation of a missed push. */
import * as z from 'zod';
import { SHA256_DIGEST } from './catalog';

/** The part of the ECR push event the pipeline reads (full shape in shared/samples/events/ecr-image-push.json). */
export const ecrPushEventSchema = z.object({
  /** `aws.ecr` for a push; the operator's rollback and the reconciliation start executions with events of their own (START_EVENTS). */
  source: z.string().optional(),
  account: z.string(),
  region: z.string(),
  detail: z.object({
    'repository-name': z.string().min(1),
    'image-digest': z.string().regex(SHA256_DIGEST, 'expected sha256:<64 hex characters>'),
    'image-tag': z.string().min(1),
    /** Rollback requests only: who asked, and why (recorded in the ledger). */
    'requested-by': z.string().min(1).optional(),
    reason: z.string().optional(),
  }),
});
export type EcrPushEvent = z.infer<typeof ecrPushEventSchema>;

/** Why an execution started: an ECR push, an operator's `model-rollout rollback`, or the reconciliation of a missed push. */
export const TRIGGERS = ['push', 'rollback', 'reconciliation'] as const;
export type TriggerKind = (typeof TRIGGERS)[number];

/**
 * The events that start an execution. All carry the ECR push event's `detail` fields (repository-name, image-digest,
 * image-tag); `source` says which trigger it is.
 */
export const START_EVENTS = {
  push: { source: 'aws.ecr', detailType: 'ECR Image Action' },
  rollback: { source: 'model-rollout.operator', detailType: 'Model Rollout Rollback Requested' },
  reconciliation: { source: 'model-rollout.reconciliation', detailType: 'Model Rollout Missed Push' },
} as const satisfies Record<TriggerKind, { source: string; detailType: string }>;

/**
 * A start event as EventBridge delivers it: the envelope (`version`, `id`, `detail-type`, `source`, `account`, `time`,
 * `region`, `resources`) of the trigger's kind around the image's `detail`.
 */
export function startEvent<Detail extends Record<string, string>>(
  kind: TriggerKind,
  envelope: { id: string; account: string; region: string; time: string },
  detail: Detail,
) {
  const { source, detailType } = START_EVENTS[kind];
  return {
    version: '0',
    id: envelope.id,
    'detail-type': detailType,
    source,
    account: envelope.account,
    time: envelope.time,
    region: envelope.region,
    resources: [] as string[],
    detail,
  };
}
