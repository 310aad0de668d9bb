/**
 * An operator's say in a gray release (`model-rollout approve | reject | promote [--full] | abort`). Three waits of a
 * gray release take it, each a Task waiting for a task token that a waiter in the ledger holds (kind `approval`, `bake`,
 * `scaling` or `promoting`): an approval (before the first step, after a step that asks for one, or a step paused on
 * inconclusive analyses), a step's bake between two analyses, and two health waits an operator may only abort: the
 * canary's tasks while it scales for a step, and the stable service taking the release at promotion. The CLI answers
 * the token, with the operator's own credentials, with an OperatorDecision; it lands at `$.operator` (a health wait's
 * where its verdict would, taken to `$.operator`), and the execution routes on its action.
 */
import * as z from 'zod';
import { TRIGGERS } from './start-events';

export const OPERATOR_ACTIONS = ['approve', 'reject', 'promote', 'promote-full', 'abort'] as const;
export type OperatorAction = (typeof OPERATOR_ACTIONS)[number];

/**
 * The waits an operator can answer, and what each takes: a bake has nothing to approve or reject; a canary scaling for
 * its step and a promotion can only be stopped (their health, not a person, says when they are done).
 */
export const HUMAN_WAITS = ['approval', 'bake', 'scaling', 'promoting'] as const;
export type HumanWait = (typeof HUMAN_WAITS)[number];
export const ACTIONS_BY_WAIT: Record<HumanWait, readonly OperatorAction[]> = {
  approval: OPERATOR_ACTIONS,
  bake: ['promote', 'promote-full', 'abort'],
  scaling: ['abort'],
  promoting: ['abort'],
};
/**
 * The health waits of a gray release that an operator may abort, and the kind each is kept as for operators (the same
 * token): the canary scaling for a step, and the stable service taking the release at promotion.
 */
export const ABORTABLE_WAITS = { canary: 'scaling', deployment: 'promoting' } as const satisfies Record<string, HumanWait>;
export type AbortableWait = (typeof ABORTABLE_WAITS)[keyof typeof ABORTABLE_WAITS];

/**
 * What the pipeline itself answers a bake with: an analysed alarm changed state, so the step is analysed now rather
 * than at the end of the interval (await-health, woken by the alarm's event). Never an operator's: the CLI offers it not.
 */
export const ANALYSE_NOW = 'analyse-now' as const;
/**
 * What the pipeline itself answers an approval before the first step with when a higher release waits for the service
 * (await-health, as that release starts waiting for the lock): this one gives way at once, nothing having changed.
 */
export const SUPERSEDED = 'superseded' as const;

/** The answer: what was decided, by whom (the caller's ARN, from STS), when, and why. Shown in the execution's history. */
export const operatorDecisionSchema = z.object({
  action: z.enum([...OPERATOR_ACTIONS, ANALYSE_NOW, SUPERSEDED]),
  by: z.string().min(1),
  at: z.iso.datetime({ offset: true }),
  reason: z.string().max(1000),
});
export type OperatorDecision = z.infer<typeof operatorDecisionSchema>;

/** What a human wait's waiter holds beside its token (its `check`): what the CLI tells the operator it answers. */
export const humanWaitSchema = z.object({
  tag: z.string().min(1),
  /** What started the release: an operator's rollback is never superseded by rank. */
  trigger: z.enum(TRIGGERS).optional(),
  /** The step traffic is on (null before the first step), of how many, at what canary weight. */
  step: z.number().int().positive().nullable(),
  of: z.number().int().positive(),
  weight: z.number().int().nonnegative(),
  /** Why it waits, as a sentence. */
  why: z.string().min(1),
  /** When an approval ends as configured (onTimeout) if nobody answers; a bake's next analysis. */
  until: z.iso.datetime({ offset: true }),
});
export type HumanWaitDetails = z.infer<typeof humanWaitSchema>;

/** The alert asking for approval (APPROVAL_REQUEST_EVENT's detail): for whom, why, until when, and the command. */
export interface ApprovalRequestAlert {
  severity: 'warning';
  service: string;
  environment: string;
  tag: string;
  digest: string;
  why: string;
  deadline: string;
  /** What happens at the deadline if nobody answers. */
  onTimeout: 'rollback' | 'continue';
  command: string;
  execution: string;
  stateMachine: string;
}
