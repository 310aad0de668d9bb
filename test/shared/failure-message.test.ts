/** Failures told in words: a Lambda error's JSON Cause becomes its message, wherever it sits in a sentence. */
import { describe, expect, it } from 'vitest';
import { errorMessageOf, withoutRuntimeErrorJson } from '../../lambdas/shared/failure-message';

const runtimeJson = (errorType: string, errorMessage: string) =>
  JSON.stringify({ errorType, errorMessage, trace: [`${errorType}: ${errorMessage}`, '    at handler (/var/task/index.js:1:2)'] });

describe('errorMessageOf', () => {
  it.each([
    [
      'a Lambda error’s JSON',
      runtimeJson('ServiceNotFoundError', 'ECS service "sentiment" was not found.'),
      'ECS service "sentiment" was not found.',
    ],
    ['plain text', 'Alarm sentiment-5xx is in ALARM.', undefined],
    ['JSON without errorMessage', '{"detail":1}', undefined],
    ['a JSON array', '["errorMessage"]', undefined],
    ['an empty errorMessage', '{"errorType":"Error","errorMessage":""}', undefined],
  ])('%s', (_case, cause, expected) => {
    expect(errorMessageOf(cause)).toBe(expected);
  });
});

describe('withoutRuntimeErrorJson', () => {
  it.each([
    [
      'a whole Cause',
      runtimeJson('AccessDeniedException', 'not authorized to perform: ecs:UpdateService'),
      'AccessDeniedException: not authorized to perform: ecs:UpdateService',
    ],
    [
      'a Cause inside a sentence, twice',
      `Rollback to td:1 failed (${runtimeJson('TransientAwsError', 'DescribeServices failed: ThrottlingException: Rate exceeded')}). It was rolling back because: ${runtimeJson('Sandbox.Timedout', 'RequestId: 1 Error: Task timed out after 30.00 seconds')}`,
      'Rollback to td:1 failed (TransientAwsError: DescribeServices failed: ThrottlingException: Rate exceeded). It was rolling back because: Sandbox.Timedout: RequestId: 1 Error: Task timed out after 30.00 seconds',
    ],
    ['a message that already names its type', runtimeJson('Error', 'Error: boom'), 'Error: boom'],
    [
      'Lambda.Unknown’s sentence around the payload Lambda returned',
      'The cause could not be determined because Lambda did not return an error type. Returned payload: {"errorMessage":"2026-11-20T01:16:47.000Z 1 Task timed out after 30.00 seconds"}',
      'The cause could not be determined because Lambda did not return an error type. Returned payload: 2026-11-20T01:16:47.000Z 1 Task timed out after 30.00 seconds',
    ],
    [
      'braces and quotes inside the message',
      runtimeJson('InvalidInputError', 'Invalid "x" input: {"a": "}"}'),
      'InvalidInputError: Invalid "x" input: {"a": "}"}',
    ],
    [
      'a Cause whose escapes a States.Format dropped (the local runner does)',
      `Rollback failed (${runtimeJson('UpdateRefusedError', 'ECS refused to update ECS service "sentiment"').replace(/\\"/g, '"')}). Because: x`,
      'Rollback failed (UpdateRefusedError: ECS refused to update ECS service "sentiment"). Because: x',
    ],
    ['other JSON, left as it is', 'States.Timeout: {"detail": {"x": 1}}', 'States.Timeout: {"detail": {"x": 1}}'],
    ['an unbalanced brace', 'half { open', 'half { open'],
    ['plain text', 'Alarm sentiment-5xx is in ALARM.', 'Alarm sentiment-5xx is in ALARM.'],
  ])('%s', (_case, text, expected) => {
    expect(withoutRuntimeErrorJson(text)).toBe(expected);
  });
});
