/** What a scenario expects of an execution: its outcome, alerts, AWS calls, the ledger after it, its outcome alert. */
import * as z from 'zod';
import { CRASH_STATUSES, IN_PROGRESS_STATUSES } from '../lambdas/contract/ledger-records';
import { OUTCOMES, SEVERITIES } from '../lambdas/contract/outcomes';
import { ANSWERED_COMMANDS } from './simulated-account';

/**
 * `none`: the execution failed before it could record an outcome (the execution-status rule alerts instead);
 * `not-started`: the synthesized trigger rule does not match the push event, so EventBridge starts nothing.
 */
export const NOT_STARTED = 'not-started';
const outcomeStatuses: [string, ...string[]] = ['none', NOT_STARTED, ...Object.values(OUTCOMES).map((o) => o.status)];

const LEDGER_STATUSES: [string, ...string[]] = [
  ...IN_PROGRESS_STATUSES,
  ...outcomeStatuses.filter((s) => s !== 'none' && s !== NOT_STARTED),
  ...CRASH_STATUSES,
];

export const expectSchema = z
  .strictObject({
    status: z.enum(outcomeStatuses),
    /** The Fail state's error, or null when the execution succeeds. */
    error: z.string().nullable(),
    /** The tag the service runs once the execution has ended; not compared when left out (executions side by side). */
    running: z.string().min(1).optional(),
    /** Which alert topics receive something, in any order. */
    alerts: z.array(z.enum(SEVERITIES)),
    /** The signature check's final code (verified, unsigned, invalid-signature, …); not compared when left out. */
    signature: z.string().min(1).optional(),
    /**
     * How many times this execution called each AWS command the simulated account answers (calls IAM refused never
     * reach it): e.g. `{ "UpdateService": 0 }` for "ECS untouched". Commands left out are not compared.
     */
    calls: z
      .record(
        z.string().refine((command) => ANSWERED_COMMANDS.includes(command)),
        z.number().int().nonnegative(),
        {
          error: (issue) =>
            issue.code === 'invalid_key'
              ? `not a command the simulated account answers (one of ${ANSWERED_COMMANDS.join(', ')})`
              : undefined,
        },
      )
      .optional(),
    /** The ledger once the execution has ended (and the crash finaliser has run): its deployment record, its digest. */
    ledger: z
      .strictObject({
        /** The status of this execution's deployment record (an outcome, or execution-aborted / -failed / -timed-out). */
        status: z
          .enum(LEDGER_STATUSES, {
            error: (issue) => `${JSON.stringify(issue.input)} is not a ledger status (one of ${LEDGER_STATUSES.join(', ')})`,
          })
          .optional(),
        /** Whether the digest it released is quarantined. */
        quarantined: z.boolean().optional(),
      })
      .optional(),
    /**
     * Fields of the outcome alert's `detail`, by dotted path (`status`, `reason`, `signature.code`, `serviceState`…):
     * a value to equal, or `{ "contains": "text" }` for text the field must contain. Expecting any means an outcome
     * alert must have been published.
     */
    alert: z
      .record(z.string().min(1), z.union([z.string(), z.number(), z.boolean(), z.null(), z.strictObject({ contains: z.string().min(1) })]))
      .optional(),
  })
  .superRefine((expected, ctx) => {
    // An event the trigger rule does not match starts nothing: no error, no alert, no call, no record to expect.
    if (expected.status !== NOT_STARTED) return;
    const nothing = (field: string, message: string) =>
      ctx.addIssue({ code: 'custom', path: [field], message: `${message}: a ${NOT_STARTED} event starts no execution` });
    if (expected.error !== null) nothing('error', 'expected null');
    if (expected.alerts.length > 0) nothing('alerts', 'expected []');
    for (const field of ['running', 'signature', 'calls', 'ledger', 'alert'] as const) {
      if (expected[field] !== undefined) nothing(field, 'nothing to compare');
    }
  });
export type Expectation = z.infer<typeof expectSchema>;
