/**
 * `model-rollout approve | reject | promote [--full] | abort`: an operator's say in a gray release. The release waits for
 * it in a Task whose task token a waiter in the ledger holds (an approval, a step's bake, or — abort only — its canary
 * scaling for a step or its promotion); the command finds the
 * service's newest such waiter and answers its token with an OperatorDecision, signed by the caller's own ARN.
 *
 * Exit 0: answered; 1: nothing of the service waits for an operator, the wait does not take this action, or it ended
 * before the answer (run the command again); 2: usage, configuration or AWS access error.
 */
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LedgerTable } from '../lambdas/adapters/ledger-table';
import { LedgerWaiters } from '../lambdas/adapters/ledger-waiters';
import { TaskTokens } from '../lambdas/adapters/task-tokens';
import type { WaitKind, Waiter } from '../lambdas/contract/ledger-records';
import {
  ACTIONS_BY_WAIT,
  HUMAN_WAITS,
  type HumanWait,
  type HumanWaitDetails,
  humanWaitSchema,
  type OperatorAction,
  type OperatorDecision,
  operatorDecisionSchema,
} from '../lambdas/contract/operator-decisions';
import { type CommandIo, UsageError } from './io';
import { type AwsClients, defaultClients, findResources, LOCATION_USAGE, parseLocation, parseLocationArgs } from './stack-resources';

/** A wait an operator can answer: its waiter, and what it tells about the release. */
export interface HumanWaiter {
  waiter: Waiter & { waitsFor: HumanWait };
  details: HumanWaitDetails;
}

/** What the command decided to do with the service's waiters. Pure: see `chooseAnswer`. */
export type AnswerChoice = { verdict: 'answer'; wait: HumanWaiter } | { verdict: 'refused'; reason: string };

/** What each command is called, and its action as the operator types it. */
const VERBS: Record<OperatorAction, string> = {
  approve: 'approved',
  reject: 'rejected',
  promote: 'promoted',
  'promote-full': 'fully promoted',
  abort: 'aborted',
};
const TYPED: Record<OperatorAction, string> = {
  approve: 'approve',
  reject: 'reject',
  promote: 'promote',
  'promote-full': 'promote --full',
  abort: 'abort',
};

/** What a wait the operator cannot answer waits for, as the refusal names it. */
const OTHER_WAITS: Record<WaitKind, string> = {
  deployment: "the new revision's health",
  rollback: "the rollback's health",
  canary: 'canary health',
  approval: 'approval',
  bake: 'bake',
  scaling: 'its canary to scale',
  promoting: 'its promotion',
  signature: 'its signature',
  lock: 'the service lock',
};

/** The waiters an operator can answer: approvals and bakes whose details this version understands. */
export function humanWaiters(waiters: readonly Waiter[]): HumanWaiter[] {
  return waiters.flatMap((waiter) => {
    if (!isHumanWait(waiter.waitsFor)) return [];
    const details = humanWaitSchema.safeParse(waiter.check);
    return details.success ? [{ waiter: { ...waiter, waitsFor: waiter.waitsFor }, details: details.data }] : [];
  });
}

/**
 * Which wait `action` answers among the service's waiters (the newest an operator can answer), or why none.
 * @param waiters the service's unexpired waiters, oldest first (as LedgerWaiters.waitingOn returns them)
 */
export function chooseAnswer(service: string, action: OperatorAction, waiters: readonly Waiter[], tag?: string): AnswerChoice {
  const wait = humanWaiters(waiters).at(-1);
  if (wait === undefined) {
    // An approval or bake left here had details this version cannot read (a newer state machine's, say).
    const others = [
      ...new Set(
        waiters.map((w) =>
          isHumanWait(w.waitsFor)
            ? `${w.waitsFor} (details this version of model-rollout cannot read)`
            : (OTHER_WAITS[w.waitsFor] ?? w.waitsFor),
        ),
      ),
    ];
    return {
      verdict: 'refused',
      reason:
        others.length === 0
          ? `nothing of ${service} waits for an operator now (\`model-rollout status --service ${service}\` says what its release waits for)`
          : `nothing of ${service} waits for an operator: its release waits for ${others.join(' and ')}; ` +
            'try again when it bakes, asks for approval, scales its canary or is promoted',
    };
  }
  // The release the operator read about (the alert's --tag) must be the one waiting: another may have taken its place.
  if (tag !== undefined && wait.details.tag !== tag) {
    return { verdict: 'refused', reason: `${describeWait(wait)}, not ${tag}: nothing answered (drop --tag to answer ${wait.details.tag})` };
  }
  const allowed = ACTIONS_BY_WAIT[wait.waiter.waitsFor];
  if (!allowed.includes(action)) {
    return {
      verdict: 'refused',
      reason:
        `${describeWait(wait)}: nothing waits for ${action === 'approve' || action === 'reject' ? 'approval' : TYPED[action]}; ` +
        `it takes ${orList(allowed.map((a) => TYPED[a]))}`,
    };
  }
  return { verdict: 'answer', wait };
}

/** "v1.3.0 is baking step 2 of 5 (10 %)", "v1.3.0 is waiting for approval before its first step (of 5)". */
export function describeWait(wait: HumanWaiter): string {
  return `${wait.details.tag} is ${waitPosition(wait)}`;
}

/** "baking step 2 of 5 (10 %)", "waiting for approval at step 2 of 5 (10 %)", "scaling its canary for step 3 of 5 (30 %) …". */
function waitPosition({ waiter, details: { step, of, weight, why, until } }: HumanWaiter): string {
  if (waiter.waitsFor === 'promoting') return `waiting while ${why} (due by ${until})`;
  if (waiter.waitsFor === 'scaling')
    return `waiting while ${why} (its tasks due by ${until}); ${step === null ? 'no traffic is on it yet' : `${weight} % of the traffic is on it`}`;
  if (step === null)
    return waiter.waitsFor === 'bake' ? `baking before its first step (of ${of})` : `waiting for approval before its first step (of ${of})`;
  const where = `step ${step} of ${of} (${weight} %)`;
  return waiter.waitsFor === 'bake' ? `baking ${where}` : `waiting for approval at ${where}`;
}

/** What the release does next once `action` is taken in `wait`. */
export function whatHappensNext(action: OperatorAction, { waiter, details }: HumanWaiter): string {
  switch (action) {
    case 'approve':
    case 'promote': {
      const next = (details.step ?? 0) + 1;
      return next > details.of ? 'it goes on to promotion' : `it goes on to step ${next} of ${details.of}`;
    }
    case 'promote-full':
      return details.step === details.of
        ? 'it is on the last step already: it goes on to promotion'
        : `it skips to the last step, ${details.of} of ${details.of} (100 %)`;
    case 'reject':
    case 'abort':
      return waiter.waitsFor === 'promoting'
        ? 'the stable service returns to the previous version, then all traffic returns to it, and the release ends rolled back'
        : 'all traffic returns to the stable service and the release ends rolled back';
  }
}

function isHumanWait(kind: WaitKind): kind is HumanWait {
  return (HUMAN_WAITS as readonly string[]).includes(kind);
}

function orList(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

const DESCRIPTIONS: Record<'approve' | 'reject' | 'promote' | 'abort', string> = {
  approve: 'Approves the gray release waiting for approval: it goes on to its next step (or to promotion after the last).',
  reject: 'Rejects the gray release waiting for approval: all traffic returns to the stable service, the release ends rolled back.',
  promote:
    'Promotes the gray release waiting for approval or baking a step: it goes on to its next step without waiting for the\n' +
    'rest of the bake (or to promotion after the last). --full skips to the last step (100 %).',
  abort:
    'Aborts the gray release waiting for approval, baking a step, scaling its canary or being promoted: all traffic\nreturns to the stable service (at promotion, once it runs the previous version again), the release ends rolled back.',
};

/** The usage of one of the four commands. */
export function decideUsage(command: 'approve' | 'reject' | 'promote' | 'abort'): string {
  const full = command === 'promote' ? ' [--full]' : '';
  return `Usage:
  model-rollout ${command} --service NAME (--config FILE | --stack NAME | --table NAME)${full} [--reason TEXT]
                 ${' '.repeat(command.length)}[--tag vX.Y.Z] [--region REGION] [--json]

${DESCRIPTIONS[command]}
The answer goes to the service's newest wait for an operator, signed with the caller's ARN (STS GetCallerIdentity).
  --reason TEXT            why, shown in the execution's history (default: "${defaultReason(command)}")
  --tag vX.Y.Z             answer only if this release is the one waiting (the approval alert's command names it)
  --json                   print the decision and the wait it answered as JSON

${LOCATION_USAGE}
Exit status: 0 answered, 1 nothing waits for this answer (or the wait ended before it: run the command again), 2 usage,
configuration or AWS access error.`;
}

function defaultReason(command: string): string {
  return `${VERBS[command as OperatorAction]} from the command line`;
}

const MAX_REASON = 1000;

/** The command `model-rollout <command>`: approve, reject, promote (promote-full with --full) or abort. */
export function decideCommand(command: 'approve' | 'reject' | 'promote' | 'abort') {
  return async (args: string[], io: CommandIo, clients?: AwsClients): Promise<number> => {
    const values = parseLocationArgs(args, {
      reason: { type: 'string' },
      tag: { type: 'string' },
      json: { type: 'boolean', default: false },
      ...(command === 'promote' ? { full: { type: 'boolean', default: false } } : {}),
    });
    const location = parseLocation(values);
    const action: OperatorAction = command === 'promote' && values.full === true ? 'promote-full' : command;
    const reason = values.reason ?? defaultReason(command);
    if (reason.length > MAX_REASON) throw new UsageError(`--reason is at most ${MAX_REASON} characters (got ${reason.length})`);
    const aws = clients ?? defaultClients(location.region);
    const { tableName } = await findResources(location, ['tableName'], () => aws.cloudFormation);

    const table = new LedgerTable(DynamoDBDocumentClient.from(aws.dynamoDb), tableName);
    const waiters = await new LedgerWaiters(table).waitingOn(location.service, io.now().toISOString(), 'operators');
    const choice = chooseAnswer(location.service, action, waiters, values.tag);
    if (choice.verdict === 'refused') {
      io.stderr(`no ${TYPED[action]}: ${choice.reason}`);
      return 1;
    }

    const { Arn: by } = await aws.sts.send(new GetCallerIdentityCommand({}));
    if (!by) throw new Error('STS GetCallerIdentity answered no ARN: cannot say who decides');
    const decision: OperatorDecision = operatorDecisionSchema.parse({ action, by, at: io.now().toISOString(), reason });
    const { waiter, details } = choice.wait;
    const answer = await new TaskTokens(aws.sfn).succeed(waiter.taskToken, decision);
    if (answer === 'closed') {
      io.stderr(
        `no ${TYPED[action]}: the wait of ${details.tag} ended before the answer (answered already, timed out for its next ` +
          'analysis or look — it then waits again within moments — or the release went on or ended): ' +
          `\`model-rollout status --service ${location.service}\` says what it waits for now; run the command again if it waits for you`,
      );
      return 1;
    }

    if (values.json) {
      const { taskToken: _secret, ...answered } = waiter;
      io.stdout(JSON.stringify({ service: location.service, decision, answered: { ...answered, check: details } }, null, 2));
      return 0;
    }
    io.stdout(`${VERBS[action]} ${details.tag}, ${waitPosition(choice.wait)}, as ${by}: ${whatHappensNext(action, choice.wait)}`);
    return 0;
  };
}
