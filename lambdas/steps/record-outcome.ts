/**
 * "Record outcome in the ledger": finalises the deployment record with the outcome every path ends in, frees what the
 * execution held (the service lock, the digest claim), marks a succeeded digest as good and quarantines a rolled-back
 * one. Each write is idempotent, so a retried step finishes the job whatever it did before. It returns the outcome
 * with its reason and cause told in words (a Lambda error's JSON replaced by its message), which becomes `$.outcome`:
 * the ledger, the alert and the Fail state's cause then say the same thing.
 */
import * as z from 'zod';
import { OUTCOMES, type OutcomeStatus } from '../contract/outcomes';
import { REJECTION_CODES } from '../contract/signature';
import type { DeploymentLedger } from './ports/deployment-ledger';
import type { Clock } from '../shared/clock';
import { withoutRuntimeErrorJson } from '../shared/failure-message';
import { logger } from '../shared/logger';
import { deploymentKeySchema } from './ledger-input';
import { parseStepInput } from './step-input';
import { LedgerInconsistentError } from '../errors';

const OUTCOME_STATUSES = Object.values(OUTCOMES).map((o) => o.status) as [OutcomeStatus, ...OutcomeStatus[]];
const SIGNATURE_CODES = ['verified', 'pending', 'verification-error', ...REJECTION_CODES] as const;

/** The `$.outcome` a "Record outcome" state wrote; fields not read here are passed on as they are. */
const inputSchema = z.object({
  outcome: z.looseObject({
    status: z.enum(OUTCOME_STATUSES),
    error: z.string().nullish(),
    reason: z.string(),
    /** The reason with the release in front: the Fail state's cause. */
    cause: z.string().optional(),
    /** null when the repository is not configured: nothing was recorded. */
    ledger: deploymentKeySchema.nullable(),
    service: z.string().nullable(),
    tag: z.string(),
    digest: z.string(),
    execution: z.string().min(1),
    /** What ECS runs now: unchanged (as before), changed (to taskDefinitionAfter), or unknown (a failed rollback). */
    serviceState: z.enum(['unchanged', 'changed', 'unknown']),
    taskDefinitionAfter: z.string().optional(),
    signature: z.looseObject({ code: z.enum(SIGNATURE_CODES), evidence: z.array(z.any()), reason: z.string().optional() }).optional(),
  }),
});
export type RecordOutcomeInput = z.input<typeof inputSchema>;
export type RecordedOutcome = z.output<typeof inputSchema>['outcome'];

export interface RecordOutcomeDependencies {
  ledger: Pick<DeploymentLedger, 'get' | 'finalise' | 'releaseLock' | 'releaseDigestClaim' | 'markSucceeded' | 'quarantine'>;
  clock: Clock;
}

export function createRecordOutcomeHandler({ ledger, clock }: RecordOutcomeDependencies) {
  return async (input: RecordOutcomeInput): Promise<RecordedOutcome> => {
    const outcome = inWords(parseStepInput(inputSchema, input, 'Record outcome in the ledger').outcome);
    const { ledger: key, execution } = outcome;
    logger.resetKeys();
    logger.appendKeys({ targetService: outcome.service, version: outcome.tag, digest: outcome.digest, executionArn: execution });
    if (!key) return outcome;
    const record = await ledger.get(key);
    if (!record) throw new LedgerInconsistentError(`The ledger has no deployment record ${key.sk} for service ${key.service}`);

    const at = clock().toISOString();
    const taskDefinitionAfter =
      outcome.serviceState === 'unchanged'
        ? record.taskDefinitionBefore
        : outcome.serviceState === 'changed'
          ? (outcome.taskDefinitionAfter ?? null)
          : null;
    const recorded = await ledger.finalise(key, {
      status: outcome.status,
      reason: outcome.reason,
      error: outcome.error ?? null,
      at,
      taskDefinitionAfter,
      signature: outcome.signature ? { code: outcome.signature.code, evidence: outcome.signature.evidence } : undefined,
    });
    if (outcome.status === OUTCOMES.succeeded.status && taskDefinitionAfter) {
      await ledger.markSucceeded(key.service, record.digest, {
        at,
        tag: record.tag,
        executionArn: execution,
        taskDefinitionArn: taskDefinitionAfter,
      });
    }
    if (outcome.status === OUTCOMES.rolledBack.status || outcome.status === OUTCOMES.rollbackFailed.status) {
      await ledger.quarantine(key.service, record.digest, { at, reason: outcome.reason, executionArn: execution, tag: record.tag });
    }
    // Last: until these are released, no other execution may change the service or take the digest.
    await ledger.releaseDigestClaim(key.service, record.digest, execution);
    await ledger.releaseLock(key.service, execution);
    logger.info('Outcome recorded in the ledger', { status: outcome.status, recorded });
    return outcome;
  };
}

/** The outcome with every text a person reads (reason, cause, the signature's reason) free of Lambda error JSON. */
function inWords(outcome: RecordedOutcome): RecordedOutcome {
  return {
    ...outcome,
    reason: withoutRuntimeErrorJson(outcome.reason),
    ...(outcome.cause === undefined ? {} : { cause: withoutRuntimeErrorJson(outcome.cause) }),
    ...(outcome.signature?.reason === undefined
      ? {}
      : { signature: { ...outcome.signature, reason: withoutRuntimeErrorJson(outcome.signature.reason) } }),
  };
}
