/**
 * "Wait for an operator's approval" and "Bake the step until the next analysis" (function await-operator): a gray
 * release's two waits an operator can end. Each is a Task waiting for a task token (`.waitForTaskToken`); this function
 * stores the token in the ledger as a waiter (kind `approval` or `bake`) with what the operator answers, and returns.
 * `model-rollout approve | reject | promote [--full] | abort` finds the waiter and answers the token with its decision
 * (contract/operator-decisions.ts), signed with the operator's own credentials. Nobody answering is the usual end of a
 * bake: the Task times out at the next analysis, and the state machine analyses. The waiter expires with its wait; a
 * new wait of the same state replaces it.
 */
import * as z from 'zod';
import { catalogEntrySchema } from '../contract/catalog';
import { TRIGGERS } from '../contract/start-events';
import type { Waiter } from '../contract/ledger-records';
import { type HumanWait, type HumanWaitDetails, humanWaitSchema } from '../contract/operator-decisions';
import type { Clock } from '../shared/clock';
import { logger } from '../shared/logger';
import type { Waiters } from './ports/waiters';
import { parseStepInput } from './step-input';

const inputSchema = z.object({
  service: catalogEntrySchema,
  taskToken: z.string().min(1),
  executionArn: z.string().min(1),
  waitingState: z.string().min(1),
  // A canary's scaling wait is await-health's (kept for operators beside its health waiter).
  waitsFor: z.enum(['approval', 'bake'] as const satisfies readonly HumanWait[]),
  /** The Task's own timeout: the waiter is ignored after it. */
  timeoutSeconds: z.number().int().positive(),
  tag: z.string().min(1),
  trigger: z.enum(TRIGGERS),
  /** The step traffic is on; null before the first step. */
  step: z.object({ number: z.number().int().positive(), of: z.number().int().positive(), weight: z.number().int() }).nullable(),
  /** Why it waits (a bake: where it stands; an approval: why it was asked). */
  why: z.string().min(1),
  /** An approval's deadline; a bake's wait ends at its timeout (none given). */
  deadline: z.iso.datetime({ offset: true }).optional(),
});
export type AwaitOperatorInput = z.input<typeof inputSchema>;

export interface AwaitOperatorDependencies {
  waiters: Pick<Waiters, 'put'>;
  clock: Clock;
}

export interface OperatorWaitStarted {
  waitsFor: Waiter['waitsFor'];
  until: string;
}

export function createAwaitOperatorHandler(deps: AwaitOperatorDependencies) {
  return async (event: unknown): Promise<OperatorWaitStarted> => {
    const input = parseStepInput(inputSchema, event, 'Wait for an operator');
    const { service, step } = input;
    logger.resetKeys();
    logger.appendKeys({ targetService: service.name });
    const now = deps.clock();
    const expiresAt = new Date(now.getTime() + input.timeoutSeconds * 1000).toISOString();
    const details: HumanWaitDetails = {
      tag: input.tag,
      trigger: input.trigger,
      step: step?.number ?? null,
      of: step?.of ?? (service.release.strategy === 'gray' ? service.release.steps.length : 1),
      weight: step?.weight ?? 0,
      why: input.why,
      until: input.deadline ?? expiresAt,
    };
    await deps.waiters.put({
      service: service.name,
      executionArn: input.executionArn,
      state: input.waitingState,
      waitsFor: input.waitsFor,
      taskToken: input.taskToken,
      check: humanWaitSchema.parse(details),
      since: now.toISOString(),
      expiresAt,
    });
    logger.info('Waiting for an operator', { state: input.waitingState, waitsFor: input.waitsFor, until: details.until });
    return { waitsFor: input.waitsFor, until: details.until };
  };
}
