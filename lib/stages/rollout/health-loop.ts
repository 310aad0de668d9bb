/**
 * Waits for the service's health to be decided, without polling: "Wait for …" invokes function await-health with a task
 * token, and the function answers it when an ECS deployment or alarm event (or its own first look) finds the service
 * healthy or unhealthy. When no event came for a quarter of the deadline (the update's `recheckSeconds`), the wait times
 * out and "Check …" looks once (past the deadline, a service not yet healthy is unhealthy): a lost event costs at most
 * that long, and a wait at most four looks however long ECS takes (a wait operators may answer too re-reads every
 * answer with "Check …", so each of their answers costs a look more; the deadline still ends it). Healthy goes on, progressing waits again, unhealthy
 * notes why in `Error`/`Cause` form and goes on. One shape for the rollout and for the rollback.
 */
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { at } from '../../../lambdas/contract/execution-state';
import type { AwaitHealthInput, CheckHealthInput } from '../../../lambdas/contract/steps';
import { verdictIs } from '../routing';
import type { StageContext } from '../stage';

export interface HealthLoop {
  /** State names, as the console shows them. */
  readonly wait: string;
  readonly check: string;
  readonly decide: string;
  /** What the waiter is recorded as waiting for. */
  readonly waitsFor: AwaitHealthInput['waitsFor'];
  /** Where the health verdict goes: the rollout's, the rollback's, a gray release's canary's or promotion's. */
  readonly resultKey: 'health' | 'rollbackHealth' | 'canaryHealth' | 'promotionHealth';
  /** What is judged: the revision, the update's deadline and when it started (and the ECS service, when not the entry's own). */
  readonly judge: { taskDefinitionArn: string; deadline: string; updateStartedAt: string; checkAlarms: boolean; ecsService?: string };
  /** The update's `recheckSeconds`: how long the wait waits for an event before it looks itself. */
  readonly recheckSeconds: string;
  readonly onHealthy: sfn.IChainable;
  readonly onUnhealthy: { note: string; error: string; resultKey: 'failure' | 'rollbackFailure'; next: sfn.IChainable };
  /**
   * A wait operators may answer too (a gray release's canary scaling or promotion: abort only): the release's
   * progress, tag and trigger for the payload, the Choice that tells their answer (it has an `action`) from the
   * function's, and where it goes. The function's own answer is then not taken as the verdict — whoever can read the
   * token could have sent it — but re-read by the check.
   */
  readonly operators?: { gray: string; tag: string; trigger: string; whoEnded: string; onAnswer: sfn.IChainable };
}

/** The loop's first state (its wait), and its two Tasks (for the caller's Catch of any other failure). */
export function healthLoop(context: StageContext, loop: HealthLoop): { start: tasks.LambdaInvoke; tasks: tasks.LambdaInvoke[] } {
  const { scope } = context;
  const wait = context.invokeAndWait<AwaitHealthInput>(
    loop.wait,
    'await-health',
    {
      service: at('service'),
      ...loop.judge,
      taskToken: '$$.Task.Token',
      executionArn: '$$.Execution.Id',
      waitingState: loop.wait,
      waitsFor: loop.waitsFor,
      timeoutSeconds: loop.recheckSeconds,
      ...(loop.operators ? { abortable: true, gray: loop.operators.gray, tag: loop.operators.tag, trigger: loop.operators.trigger } : {}),
    },
    at(loop.resultKey),
    loop.recheckSeconds,
  );
  const check = context.invoke<CheckHealthInput>(loop.check, 'check-health', { service: at('service'), ...loop.judge }, at(loop.resultKey));
  const decide = new sfn.Choice(scope, loop.decide, { stateName: loop.decide });
  const note = new sfn.Pass(scope, loop.onUnhealthy.note, {
    stateName: loop.onUnhealthy.note,
    parameters: { Error: loop.onUnhealthy.error, 'Cause.$': at(loop.resultKey, 'reason') },
    resultPath: at(loop.onUnhealthy.resultKey),
  });

  // No event for a while: look once, with the state as it was (the timeout's error is not kept).
  wait.addCatch(check, { errors: [sfn.Errors.TIMEOUT], resultPath: sfn.JsonPath.DISCARD });
  if (loop.operators) {
    wait.next(
      new sfn.Choice(scope, loop.operators.whoEnded, { stateName: loop.operators.whoEnded })
        .when(sfn.Condition.isPresent(`${at(loop.resultKey)}.action`), loop.operators.onAnswer)
        .otherwise(check),
    );
  } else {
    wait.next(decide);
  }
  check.next(decide);
  decide.when(verdictIs(loop.resultKey, 'healthy'), loop.onHealthy).when(verdictIs(loop.resultKey, 'progressing'), wait).otherwise(note);
  note.next(loop.onUnhealthy.next);
  return { start: wait, tasks: [wait, check] };
}
