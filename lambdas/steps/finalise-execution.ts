/**
 * The crash finaliser (target of the execution-status rule, not a state): an execution that failed, timed out or was
 * aborted before it recorded its outcome leaves its deployment record open, and may hold the service lock and its
 * digest claim. This closes the record with what happened and frees both. An execution that crashed before it wrote a
 * record gets one, from its input, so nothing it was asked to do is lost. Idempotent: a record already final is left as
 * it is (every Fail state of the definition has recorded its outcome first).
 *
 * The event is not taken on trust: Step Functions must say the execution ended as the event says (DescribeExecution)
 * before anything is freed. Otherwise the finaliser throws ExecutionNotEndedError: Lambda retries the event (the answer
 * may lag the event), and one that never matches — forged or replayed for a live execution, or about one redriven since
 * — ends in the dead-letter queue, having freed nothing. An execution of another state machine is not its to close.
 */
import * as z from 'zod';
import type { CatalogEntry, ServiceCatalog } from '../contract/catalog';
import { CRASH_STATUS_OF, type DeploymentRecord } from '../contract/ledger-records';
import { ecrPushEventSchema } from '../contract/start-events';
import type { DeploymentLedger } from './ports/deployment-ledger';
import type { PipelineExecutions } from './ports/pipeline-executions';
import type { Clock } from '../shared/clock';
import { ExecutionNotEndedError } from '../errors';
import { withoutRuntimeErrorJson } from '../shared/failure-message';
import { logger } from '../shared/logger';
import { parseTriggerEvent, triggerOf } from './step-input';

const statusChangeSchema = z.object({
  detail: z.object({
    executionArn: z.string().min(1),
    status: z.string(),
    startDate: z.number().nullish(),
    input: z.string().nullish(),
    error: z.string().nullish(),
    cause: z.string().nullish(),
  }),
});

/** How much of an execution's cause the record keeps: enough to tell what broke, not a whole stack trace. */
const MAX_CAUSE_CHARACTERS = 500;

export interface FinaliseExecutionDependencies {
  catalog: ServiceCatalog;
  ledger: Pick<DeploymentLedger, 'findByExecution' | 'recordReceived' | 'finalise' | 'releaseLock' | 'releaseDigestClaim'>;
  /** This state machine's executions, to confirm what the event says. */
  executions: Pick<PipelineExecutions, 'ownExecutionName' | 'describe'>;
  clock: Clock;
}

export type FinaliseResult = { action: 'finalised' | 'already-final' | 'ignored'; status: string; executionArn: string };

export function createFinaliseExecutionHandler({ catalog, ledger, executions, clock }: FinaliseExecutionDependencies) {
  return async (event: unknown): Promise<FinaliseResult> => {
    const { detail } = parseTriggerEvent(statusChangeSchema, event, 'Step Functions execution status change event');
    const { executionArn, status: executionStatus } = detail;
    logger.resetKeys();
    logger.appendKeys({ executionArn });
    const status = CRASH_STATUS_OF[executionStatus as keyof typeof CRASH_STATUS_OF];
    if (!status) return { action: 'ignored', status: executionStatus, executionArn };
    const name = executions.ownExecutionName(executionArn);
    if (name === null) {
      logger.error('Status change of an execution of another state machine: ignored', { executionStatus });
      return { action: 'ignored', status: executionStatus, executionArn };
    }
    const { status: actualStatus } = await executions.describe(name);
    if (actualStatus !== executionStatus) {
      throw new ExecutionNotEndedError(
        `The event says ${executionArn} ended ${executionStatus}, but Step Functions says ${actualStatus}: nothing is freed. ` +
          'Retried later; an event that never matches ends in the dead-letter queue.',
      );
    }

    const record = (await ledger.findByExecution(executionArn)) ?? (await recordFromInput(detail, catalog, ledger));
    if (!record) {
      logger.error('Execution ended without a record, and its input names no configured service', { executionStatus });
      return { action: 'ignored', status: executionStatus, executionArn };
    }
    const reason = `The execution ended ${executionStatus} before it recorded an outcome${detail.error ? `: ${detail.error}` : ''}${
      // A Lambda error's cause is the runtime's JSON with a stack trace: the record keeps its message.
      detail.cause ? ` (${truncate(withoutRuntimeErrorJson(detail.cause), MAX_CAUSE_CHARACTERS)})` : ''
    }. The service may be half changed: check what it runs.`;
    const finalised = await ledger.finalise(record.key, {
      status,
      reason,
      error: detail.error ?? executionStatus,
      at: clock().toISOString(),
      // Whatever ECS runs now is not known here; the record says so rather than guess.
      taskDefinitionAfter: null,
    });
    await ledger.releaseDigestClaim(record.service, record.digest, executionArn);
    const released = await ledger.releaseLock(record.service, executionArn);
    logger.info('Execution finalised in the ledger', { finalised, lockReleased: released, status });
    return { action: finalised ? 'finalised' : 'already-final', status: executionStatus, executionArn };
  };
}

async function recordFromInput(
  detail: z.infer<typeof statusChangeSchema>['detail'],
  catalog: ServiceCatalog,
  ledger: FinaliseExecutionDependencies['ledger'],
): Promise<DeploymentRecord | null> {
  const push = ecrPushEventSchema.safeParse(safeJson(detail.input));
  if (!push.success) return null;
  const { detail: image } = push.data;
  const service: CatalogEntry | undefined = catalog.find((s) => s.repository === image['repository-name']);
  if (!service) return null;
  return ledger.recordReceived({
    service: service.name,
    environment: service.environment,
    repository: image['repository-name'],
    tag: image['image-tag'],
    digest: image['image-digest'],
    trigger: triggerOf(push.data),
    executionArn: detail.executionArn,
    receivedAt: new Date(detail.startDate ?? Date.parse('1970-01-01T00:00:00Z')).toISOString(),
    reason: 'Recorded by the crash finaliser: the execution ended before it recorded the release.',
    taskDefinitionBefore: null,
    model: {},
  });
}

function safeJson(text: string | null | undefined): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
