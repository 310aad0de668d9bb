/**
 * "What did the operator decide?" as the local runner (aws-local-stepfunctions, which plays every scenario) evaluates
 * the synthesized Choice: each answer an operator's CLI sends takes its branch, and an answer that is not a decision
 * (anyone allowed states:SendTaskSuccess could send one) stops the release safely instead of failing the execution on
 * a missing field (a States.Runtime error no Catch can take).
 */
import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { STATES } from '../../lib/state-names';
import { grayRelease, sentimentService } from '../fixtures/catalog';
import { SENTIMENT, synth } from '../constructs/pipeline/fixture';

const { definition } = synth([SENTIMENT, sentimentService({ name: 'sentiment-gray', release: grayRelease() })]);
const choice = definition.States[STATES.operatorDecides];
/** The Choice alone, each state it may go to a Succeed that names itself. */
const targets = [...new Set([...choice.Choices.map((c: { Next: string }) => c.Next), choice.Default])] as string[];
const machine = new StateMachine(
  {
    StartAt: STATES.operatorDecides,
    States: { [STATES.operatorDecides]: choice, ...Object.fromEntries(targets.map((t) => [t, { Type: 'Pass', Result: t, End: true }])) },
  },
  { validationOptions: { checkArn: false } },
);
const routeOf = async (operator: unknown) => (await machine.run({ operator } as Parameters<typeof machine.run>[0]).result) as string;
const decision = (action: string) => ({
  action,
  by: 'arn:aws:sts::123456789012:assumed-role/operator/ana',
  at: '2026-12-06T10:00:00Z',
  reason: 'x',
});

describe('What did the operator decide? (the synthesized Choice, run by the local runner)', () => {
  it.each([
    ['approve', STATES.goOn],
    ['promote', STATES.goOn],
    ['promote-full', STATES.isLastStep],
    ['reject', STATES.noteOperatorStops],
    ['abort', STATES.noteOperatorStops],
    ['analyse-now', STATES.probeCanary],
    ['superseded', STATES.noteSupersededWhileWaiting],
  ])('routes %s to %s', async (action, next) => {
    await expect(routeOf(decision(action))).resolves.toBe(next);
  });

  it.each([
    ['an empty answer', {}],
    ['an action alone', { action: 'abort' }],
    ['an unknown action', decision('deploy-now')],
    ['a field of another type', { ...decision('approve'), by: 42 }],
    ['no answer at all', null],
  ])('stops the release safely on %s', async (_, operator) => {
    await expect(routeOf(operator)).resolves.toBe(STATES.noteUnreadableAnswer);
  });
});

/**
 * The synthesized states `own` alone, starting at the first; every state they go to is a Pass that ends with its own
 * name. Returns where an input goes.
 */
function routeThrough(own: string[]) {
  const states = Object.fromEntries(own.map((name) => [name, definition.States[name]]));
  const exits = [
    ...new Set(Object.values<any>(states).flatMap((s) => [s.Next, s.Default, ...(s.Choices ?? []).map((c: { Next: string }) => c.Next)])),
  ].filter((name): name is string => typeof name === 'string' && !own.includes(name));
  const partial = new StateMachine(
    { StartAt: own[0]!, States: { ...states, ...Object.fromEntries(exits.map((t) => [t, { Type: 'Pass', Result: t, End: true }])) } },
    { validationOptions: { checkArn: false } },
  );
  return async (input: object) => (await partial.run(input as Parameters<typeof partial.run>[0]).result) as string;
}

describe("the canary's wait, answered by its function or by an operator (the synthesized states, run by the local runner)", () => {
  const route = routeThrough([STATES.whoEndedCanaryWait, STATES.takeScalingAnswer, STATES.operatorAbortsScaling]);
  const routeOfAnswer = (canaryHealth: unknown) => route({ canaryHealth });

  it('never takes a verdict from the answer: whoever holds the token could have sent "healthy", so the check re-reads it', async () => {
    expect(definition.States[STATES.waitForCanary].Next).toBe(STATES.whoEndedCanaryWait);
    for (const verdict of ['healthy', 'progressing', 'unhealthy']) {
      await expect(routeOfAnswer({ verdict, reason: 'x', checkedAt: '2026-12-06T10:00:00Z' })).resolves.toBe(STATES.checkCanary);
    }
    // Answers that are no object with an action: looked at too, never a States.Runtime error.
    for (const answer of [null, 'healthy', 5, [], {}]) await expect(routeOfAnswer(answer)).resolves.toBe(STATES.checkCanary);
  });

  it("stops the release on an operator's abort, and on any other answer that has an action", async () => {
    await expect(routeOfAnswer(decision('abort'))).resolves.toBe(STATES.noteOperatorStops);
    for (const answer of [decision('promote'), decision('approve'), { action: 'abort' }, { ...decision('abort'), by: 42 }]) {
      await expect(routeOfAnswer(answer)).resolves.toBe(STATES.noteUnreadableAnswer);
    }
  });
});

describe("the promotion's wait, answered by its function or by an operator (the synthesized states, run by the local runner)", () => {
  const route = routeThrough([STATES.whoEndedPromotionWait, STATES.takePromotionAnswer, STATES.operatorAbortsPromotion]);
  const routeOfAnswer = (promotionHealth: unknown) => route({ promotionHealth });

  it('re-reads every answer without an action, and stops the promotion (stable service back first) on any with one', async () => {
    expect(definition.States[STATES.waitForPromotion].Next).toBe(STATES.whoEndedPromotionWait);
    for (const answer of [{ verdict: 'healthy', reason: 'x' }, null, 'healthy', {}])
      await expect(routeOfAnswer(answer)).resolves.toBe(STATES.checkPromotion);
    await expect(routeOfAnswer(decision('abort'))).resolves.toBe(STATES.noteOperatorStopsPromotion);
    for (const answer of [decision('promote'), { action: 'abort' }])
      await expect(routeOfAnswer(answer)).resolves.toBe(STATES.noteUnreadablePromotionAnswer);
    for (const note of [STATES.noteOperatorStopsPromotion, STATES.noteUnreadablePromotionAnswer]) {
      expect(definition.States[note]).toMatchObject({ Next: STATES.restoreStable, ResultPath: '$.failure' });
    }
  });
});
