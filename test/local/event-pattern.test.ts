/**
 * The local run decides which synthesized rules an event reaches with `matchesEventPattern`, so it has to agree with
 * EventBridge on every piece of pattern syntax this project's rules use — and refuse the rest.
 */
import { describe, expect, it } from 'vitest';
import { matchesEventPattern } from '../../local/event-pattern';

type Pattern = Parameters<typeof matchesEventPattern>[1];

// ---------------------------------------------------------------------------------------------------------------
// Real event shapes, copied from shared/samples/events/*.json (kept inline so the test needs nothing outside the repo).
// ---------------------------------------------------------------------------------------------------------------

const ecrImageAction = (detail: Record<string, unknown>, id: string, time: string) => ({
  version: '0',
  id,
  'detail-type': 'ECR Image Action',
  source: 'aws.ecr',
  account: '123456789012',
  time,
  region: 'us-east-1',
  resources: [],
  detail,
});

const IMAGE_DIGEST = 'sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234abcd';

const SAMPLES = {
  'ecr-image-push.json': ecrImageAction(
    {
      result: 'SUCCESS',
      'repository-name': 'models/sentiment',
      'image-digest': IMAGE_DIGEST,
      'action-type': 'PUSH',
      'image-tag': 'v1.2.0',
    },
    '13cde686-328b-6117-af20-0e5566167482',
    '2026-11-20T01:16:47Z',
  ),
  'ecr-signature-push.json': ecrImageAction(
    {
      result: 'SUCCESS',
      'repository-name': 'models/sentiment',
      'image-digest': 'sha256:aa11bb22cc33dd44ee55ff66aa11bb22cc33dd44ee55ff66aa11bb22cc33dd44',
      'action-type': 'PUSH',
      'image-tag': 'sha256-7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234abcd.sig',
    },
    '5c2e1f3a-7b8d-4e9f-a0b1-c2d3e4f5a6b7',
    '2026-11-20T01:16:52Z',
  ),
  'ecr-image-push-failed.json': ecrImageAction(
    {
      result: 'FAILURE',
      'repository-name': 'models/sentiment',
      'image-digest': 'sha256:1111111111111111111111111111111111111111111111111111111111111111',
      'action-type': 'PUSH',
      'image-tag': 'v1.2.1',
    },
    '2ab9b7a8-ce3b-4d37-98a4-3f1a1c4d2b11',
    '2026-11-20T01:18:02Z',
  ),
  'ecr-image-delete.json': ecrImageAction(
    {
      result: 'SUCCESS',
      'repository-name': 'models/sentiment',
      'image-digest': IMAGE_DIGEST,
      'action-type': 'DELETE',
      'image-tag': 'v1.2.0',
    },
    '9f1d0a52-0e2b-4f0d-9d51-7b2d3c4e5f60',
    '2026-11-20T02:00:00Z',
  ),
  'sfn-execution-failed.json': {
    version: '0',
    id: '315c1398-40ff-a850-213b-158f73e60175',
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: '123456789012',
    time: '2026-11-20T01:40:00Z',
    region: 'us-east-1',
    resources: ['arn:aws:states:us-east-1:123456789012:execution:ModelRollout:0a1b2c3d-4e5f-6789-abcd-ef0123456789'],
    detail: {
      executionArn: 'arn:aws:states:us-east-1:123456789012:execution:ModelRollout:0a1b2c3d-4e5f-6789-abcd-ef0123456789',
      stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:ModelRollout',
      name: '0a1b2c3d-4e5f-6789-abcd-ef0123456789',
      status: 'FAILED',
      startDate: 1763601000000,
      stopDate: 1763602800000,
      input: '{}',
      output: null,
      inputDetails: { included: true },
      outputDetails: null,
      error: 'States.Runtime',
      cause: "An error occurred while executing the state 'Deploy new revision'.",
    },
  },
} as const;

/** The trigger rule's pattern, as the pipeline synthesizes it for the `models/sentiment` repository. */
const TRIGGER_PATTERN: Pattern = {
  source: ['aws.ecr'],
  'detail-type': ['ECR Image Action'],
  detail: {
    'action-type': ['PUSH'],
    result: ['SUCCESS'],
    'repository-name': ['models/sentiment'],
    'image-tag': [{ 'anything-but': { prefix: 'sha256-' } }],
  },
};

describe('matchesEventPattern', () => {
  describe('against the sample events, with the pipeline trigger pattern', () => {
    it.each<[keyof typeof SAMPLES, boolean, string]>([
      ['ecr-image-push.json', true, 'a completed tagged push starts a rollout'],
      ['ecr-signature-push.json', false, 'a cosign sha256-….sig tag is not an image to deploy'],
      ['ecr-image-push-failed.json', false, 'a failed push is ignored'],
      ['ecr-image-delete.json', false, 'a deleted tag never deploys'],
      ['sfn-execution-failed.json', false, 'another source entirely'],
    ])('%s → %s (%s)', (file, expected) => {
      expect(matchesEventPattern(SAMPLES[file], TRIGGER_PATTERN)).toBe(expected);
    });

    it('ignores an untagged push (ECR sends no image-tag at all)', () => {
      const { 'image-tag': _tag, ...untagged } = SAMPLES['ecr-image-push.json'].detail;
      const event = { ...SAMPLES['ecr-image-push.json'], detail: untagged };

      expect('image-tag' in event.detail).toBe(false);
      expect(matchesEventPattern(event, TRIGGER_PATTERN)).toBe(false);
    });

    it('still matches the push when only the image-tag rule is dropped (so the tag rule is what rejects the others)', () => {
      const { 'image-tag': _rule, ...detail } = TRIGGER_PATTERN.detail as Record<string, unknown>;
      const withoutTagRule: Pattern = { ...TRIGGER_PATTERN, detail };

      expect(matchesEventPattern(SAMPLES['ecr-signature-push.json'], withoutTagRule)).toBe(true);
    });
  });

  describe('exact values', () => {
    it.each<[string, unknown, Pattern, boolean]>([
      ['equal string', { source: 'aws.ecr' }, { source: ['aws.ecr'] }, true],
      ['different string', { source: 'aws.ecs' }, { source: ['aws.ecr'] }, false],
      ['one of several allowed values', { state: 'running' }, { state: ['initializing', 'running'] }, true],
      ['none of several allowed values', { state: 'stopped' }, { state: ['initializing', 'running'] }, false],
      ['equal number', { count: 5 }, { count: [5] }, true],
      ['number vs its string form', { count: 5 }, { count: ['5'] }, false],
      ['string vs a number', { count: '5' }, { count: [5] }, false],
      ['equal boolean', { included: true }, { included: [true] }, true],
      ['null matches null', { output: null }, { output: [null] }, true],
      ['null does not match a string', { output: null }, { output: ['null'] }, false],
      ['case matters', { source: 'AWS.ECR' }, { source: ['aws.ecr'] }, false],
      ['every field must match (AND)', { source: 'aws.ecr', region: 'eu-west-1' }, { source: ['aws.ecr'], region: ['us-east-1'] }, false],
      ['fields not in the pattern are ignored', { source: 'aws.ecr', region: 'eu-west-1' }, { source: ['aws.ecr'] }, true],
      ['an empty pattern matches anything', { source: 'aws.ecr' }, {}, true],
    ])('%s', (_case, event, pattern, expected) => {
      expect(matchesEventPattern(event, pattern)).toBe(expected);
    });
  });

  describe('arrays in the event (matches when any element matches)', () => {
    const resources = [
      'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:asg',
      'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
    ];
    it.each<[string, Pattern, boolean]>([
      ['second element equals a pattern value', { resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f'] }, true],
      ['no element equals any pattern value', { resources: ['arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f'] }, false],
      ['prefix on any element', { resources: [{ prefix: 'arn:aws:ec2:' }] }, true],
      ['prefix on no element', { resources: [{ prefix: 'arn:aws:lambda:' }] }, false],
      ['suffix on any element', { resources: [{ suffix: ':instance/i-b188560f' }] }, true],
      ['suffix on no element', { resources: [{ suffix: ':instance/i-0000' }] }, false],
      ['anything-but when no element is excluded', { resources: [{ 'anything-but': ['arn:aws:s3:::bucket'] }] }, true],
    ])('%s', (_case, pattern, expected) => {
      expect(matchesEventPattern({ resources }, pattern)).toBe(expected);
    });

    it('does not match an empty array by value', () => {
      expect(matchesEventPattern({ resources: [] }, { resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f'] })).toBe(false);
    });

    it('does not match anything-but when the only element is excluded', () => {
      expect(matchesEventPattern({ category: ['blocked'] }, { category: [{ 'anything-but': ['blocked'] }] })).toBe(false);
    });
  });

  describe('nested objects', () => {
    const event = { detail: { state: 'running', instance: { type: 'm5.large', zone: 'us-east-1a' } } };
    it.each<[string, Pattern, boolean]>([
      ['one level down', { detail: { state: ['running'] } }, true],
      ['one level down, wrong value', { detail: { state: ['stopped'] } }, false],
      ['two levels down', { detail: { instance: { zone: ['us-east-1a'] } } }, true],
      ['two levels down, wrong value', { detail: { instance: { zone: ['us-east-1b'] } } }, false],
      ['the same field name at the wrong level', { state: ['running'] }, false],
      ['an object pattern where the event holds a string', { detail: { state: { name: ['running'] } } }, false],
      ['a value pattern where the event holds an object', { detail: { instance: ['m5.large'] } }, false],
    ])('%s', (_case, pattern, expected) => {
      expect(matchesEventPattern(event, pattern)).toBe(expected);
    });
  });

  describe('missing fields', () => {
    it.each<[string, unknown, Pattern]>([
      ['a missing top-level field', { source: 'aws.ecr' }, { region: ['us-east-1'] }],
      ['a missing nested field', { detail: {} }, { detail: { state: ['running'] } }],
      ['a missing parent object', { source: 'aws.ecr' }, { detail: { state: ['running'] } }],
      ['a missing field, with prefix', { detail: {} }, { detail: { state: [{ prefix: '' }] } }],
      ['a missing field, with anything-but a list', { detail: {} }, { detail: { state: [{ 'anything-but': ['stopped'] }] } }],
      ['a missing field, with anything-but a value', { detail: {} }, { detail: { state: [{ 'anything-but': 'stopped' }] } }],
      [
        'a missing field, with anything-but a prefix',
        { detail: {} },
        { detail: { 'image-tag': [{ 'anything-but': { prefix: 'sha256-' } }] } },
      ],
      ['a non-object event', 'aws.ecr', { source: ['aws.ecr'] }],
      ['a null event', null, { source: ['aws.ecr'] }],
    ])('never matches %s', (_case, event, pattern) => {
      expect(matchesEventPattern(event, pattern)).toBe(false);
    });
  });

  describe('prefix', () => {
    it.each<[string, unknown, boolean]>([
      ['starts with it', 'us-east-1', true],
      ['is exactly it', 'us-', true],
      ['contains it elsewhere', 'eu-us-1', false],
      ['differs in case', 'US-east-1', false],
      ['is a number', 12, false],
    ])('a value that %s → %s', (_case, value, expected) => {
      expect(matchesEventPattern({ region: value }, { region: [{ prefix: 'us-' }] })).toBe(expected);
    });
  });

  describe('anything-but', () => {
    it.each<[string, unknown, unknown, boolean]>([
      ['a value outside the list', 'running', ['stopped', 'overloaded'], true],
      ['a value in the list', 'stopped', ['stopped', 'overloaded'], false],
      ['a value other than the single one', 'running', 'stopped', true],
      ['the single excluded value', 'stopped', 'stopped', false],
      ['a number outside a numeric list', 150, [100, 200, 300], true],
      ['a number in a numeric list', 200, [100, 200, 300], false],
      ['a tag without the prefix', 'v1.2.0', { prefix: 'sha256-' }, true],
      ['a tag with the prefix', 'sha256-abc.sig', { prefix: 'sha256-' }, false],
      ['the prefix itself', 'sha256-', { prefix: 'sha256-' }, false],
      ['the prefix in another case', 'SHA256-abc.sig', { prefix: 'sha256-' }, true],
    ])('%s → %s', (_case, value, argument, expected) => {
      expect(matchesEventPattern({ field: value }, { field: [{ 'anything-but': argument }] })).toBe(expected);
    });

    it('excludes the Fail-state error names the alert rule skips, and lets every other error through', () => {
      const pattern: Pattern = {
        detail: { status: ['FAILED'], error: [{ 'anything-but': ['ReleaseRejectedByPolicy', 'RollbackFailed'] }] },
      };

      expect(matchesEventPattern(SAMPLES['sfn-execution-failed.json'], pattern)).toBe(true);
      expect(matchesEventPattern({ detail: { status: 'FAILED', error: 'RollbackFailed' } }, pattern)).toBe(false);
    });
  });

  describe('exists', () => {
    it.each<[string, unknown, boolean, boolean]>([
      ['a present field', { detail: { 'image-tag': 'v1.2.0' } }, true, true],
      ['a present field', { detail: { 'image-tag': 'v1.2.0' } }, false, false],
      ['a missing field', { detail: {} }, true, false],
      ['a missing field', { detail: {} }, false, true],
      ['a present empty string', { detail: { 'image-tag': '' } }, true, true],
    ])('%s with exists: %s', (_case, event, exists, expected) => {
      expect(matchesEventPattern(event, { detail: { 'image-tag': [{ exists }] } })).toBe(expected);
    });

    it('combines with other values of the same field as alternatives (OR)', () => {
      const pattern: Pattern = { detail: { 'image-tag': [{ exists: false }, 'latest'] } };

      expect(matchesEventPattern({ detail: {} }, pattern)).toBe(true);
      expect(matchesEventPattern({ detail: { 'image-tag': 'latest' } }, pattern)).toBe(true);
      expect(matchesEventPattern({ detail: { 'image-tag': 'v1.2.0' } }, pattern)).toBe(false);
    });
  });

  describe('$or', () => {
    // The shape of the execution-ended alert rule.
    const pattern: Pattern = {
      source: ['aws.states'],
      detail: {
        stateMachineArn: ['arn:aws:states:us-east-1:123456789012:stateMachine:ModelRollout'],
        $or: [{ status: ['TIMED_OUT', 'ABORTED'] }, { status: ['FAILED'], error: [{ 'anything-but': ['RollbackFailed'] }] }],
      },
    };
    const execution = (detail: Record<string, unknown>) => ({
      ...SAMPLES['sfn-execution-failed.json'],
      detail: { ...SAMPLES['sfn-execution-failed.json'].detail, ...detail },
    });

    it.each<[string, Record<string, unknown>, boolean]>([
      ['the first alternative (TIMED_OUT)', { status: 'TIMED_OUT', error: null }, true],
      ['the first alternative (ABORTED)', { status: 'ABORTED', error: null }, true],
      ['the second alternative (an unexpected failure)', { status: 'FAILED', error: 'States.Runtime' }, true],
      ['neither: failed at a Fail state that already alerted', { status: 'FAILED', error: 'RollbackFailed' }, false],
      ['neither: succeeded', { status: 'SUCCEEDED', error: null }, false],
      [
        'an alternative, but fields outside $or still apply',
        { status: 'ABORTED', stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:Other' },
        false,
      ],
    ])('%s → %s', (_case, detail, expected) => {
      expect(matchesEventPattern(execution(detail), pattern)).toBe(expected);
    });

    it('matches the sample failed execution', () => {
      expect(matchesEventPattern(SAMPLES['sfn-execution-failed.json'], pattern)).toBe(true);
    });
  });

  describe('unsupported syntax', () => {
    it.each([
      ['numeric', [{ numeric: ['>', 0] }]],
      ['equals-ignore-case', [{ 'equals-ignore-case': 'PUSH' }]],
      ['wildcard', [{ wildcard: 'v1.*' }]],
    ])('throws naming the operator %s, rather than guessing', (operator, rule) => {
      expect(() => matchesEventPattern({ detail: { field: 'v1.2.0' } }, { detail: { field: rule } })).toThrowError(
        `The local run does not emulate the event pattern operator "${operator}"`,
      );
    });

    it('throws on an unsupported operator even when the field is missing', () => {
      expect(() => matchesEventPattern({}, { count: [{ numeric: ['>', 0] }] })).toThrowError(/"numeric"/);
    });

    it('throws naming the field when its rule is neither an array nor an object', () => {
      expect(() => matchesEventPattern({ source: 'aws.ecr' }, { source: 'aws.ecr' })).toThrowError(
        'Event pattern field "source" must be an array or an object, got "aws.ecr"',
      );
    });
  });
});
