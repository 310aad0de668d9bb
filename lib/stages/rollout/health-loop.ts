/**
 * Waits one poll interval, checks health (function check-health) and decides: healthy goes on, progressing waits again
 * (the check itself turns "not healthy by the deadline" into unhealthy), unhealthy notes why in `Error`/`Cause` form and
 * goes on. One shape for the rollout and for the rollback.
 */
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { at } from '../../../lambdas/contract/execution-state';
import type { CheckHealthInput } from '../../../lambdas/contract/steps';
import { verdictIs } from '../routing';
import type { StageContext } from '../stage';

export interface HealthLoop {
  /** State names, as the console shows them. */
  readonly wait: string;
  readonly check: string;
  readonly decide: string;
  /** Where the health check's result goes: the rollout's or the rollback's. */
  readonly resultKey: 'health' | 'rollbackHealth';
  /** What the check judges: the revision, the update's deadline and when it started. */
  readonly judge: { taskDefinitionArn: string; deadline: string; updateStartedAt: string; checkAlarms: boolean };
  readonly onHealthy: sfn.IChainable;
  readonly onUnhealthy: { note: string; error: string; resultKey: 'failure' | 'rollbackFailure'; next: sfn.IChainable };
}

/** The loop's first state (its Wait), and its check (for the caller's Catch). */
export function healthLoop(context: StageContext, loop: HealthLoop): { start: sfn.Wait; check: tasks.LambdaInvoke } {
  const { scope } = context;
  const wait = new sfn.Wait(scope, loop.wait, {
    stateName: loop.wait,
    time: sfn.WaitTime.secondsPath(at('service', 'health', 'pollSeconds')),
  });
  const check = context.invoke<CheckHealthInput>(loop.check, 'check-health', { service: at('service'), ...loop.judge }, at(loop.resultKey));
  const decide = new sfn.Choice(scope, loop.decide, { stateName: loop.decide });
  const note = new sfn.Pass(scope, loop.onUnhealthy.note, {
    stateName: loop.onUnhealthy.note,
    parameters: { Error: loop.onUnhealthy.error, 'Cause.$': at(loop.resultKey, 'reason') },
    resultPath: at(loop.onUnhealthy.resultKey),
  });

  wait.next(check).next(decide);
  decide.when(verdictIs(loop.resultKey, 'healthy'), loop.onHealthy).when(verdictIs(loop.resultKey, 'progressing'), wait).otherwise(note);
  note.next(loop.onUnhealthy.next);
  return { start: wait, check };
}
