/**
 * `resolveIntrinsics` turns the synthesized `DefinitionString` into what a real account would run; anything it cannot
 * resolve must stop the local run with a message naming it, never leave a half-resolved token behind.
 */
import { describe, expect, it } from 'vitest';
import { lambdaArnFor, resolveIntrinsics, type SimulatedEnvironment } from '../../local/cloudformation';

const ENV: SimulatedEnvironment = { account: '123456789012', region: 'eu-west-1', partition: 'aws' };

const RESOURCES: Record<string, { Type: string }> = {
  CheckReleaseFunction1A2B3C4D: { Type: 'AWS::Lambda::Function' },
  RolloutStateMachine5E6F7A8B: { Type: 'AWS::StepFunctions::StateMachine' },
  AlertsCriticalTopic9C0D: { Type: 'AWS::SNS::Topic' },
};

const resolve = (value: unknown, refs?: Record<string, string>) => resolveIntrinsics(value, ENV, RESOURCES, refs);

describe('lambdaArnFor', () => {
  it('builds the function ARN from the environment and the logical ID', () => {
    expect(lambdaArnFor(ENV, 'CheckReleaseFunction1A2B3C4D')).toBe(
      'arn:aws:lambda:eu-west-1:123456789012:function:CheckReleaseFunction1A2B3C4D',
    );
  });

  it('uses the partition it is given', () => {
    expect(lambdaArnFor({ account: '210987654321', region: 'cn-north-1', partition: 'aws-cn' }, 'Fn')).toBe(
      'arn:aws-cn:lambda:cn-north-1:210987654321:function:Fn',
    );
  });
});

describe('resolveIntrinsics', () => {
  describe('values without intrinsics', () => {
    it.each<[string, unknown]>([
      ['a string', 'Check release against policy'],
      ['a number', 42],
      ['a boolean', false],
      ['null', null],
      ['a plain object', { Type: 'Task', Next: 'Verify image signature', Retry: [{ ErrorEquals: ['TransientAwsError'], MaxAttempts: 3 }] }],
      ['an array', ['a', 1, { b: 'c' }]],
      ['an object whose one key only looks like an intrinsic', { Reference: 'x' }],
    ])('returns %s unchanged', (_case, value) => {
      expect(resolve(value)).toEqual(value);
    });
  });

  describe('Fn::Join', () => {
    it('joins literal parts with the separator', () => {
      expect(resolve({ 'Fn::Join': ['-', ['a', 'b', 'c']] })).toBe('a-b-c');
    });

    it('joins with an empty separator, resolving the intrinsic parts', () => {
      const definitionString = {
        'Fn::Join': [
          '',
          ['{"Resource":"', { 'Fn::GetAtt': ['CheckReleaseFunction1A2B3C4D', 'Arn'] }, '","Region":"', { Ref: 'AWS::Region' }, '"}'],
        ],
      };

      expect(resolve(definitionString)).toBe(
        '{"Resource":"arn:aws:lambda:eu-west-1:123456789012:function:CheckReleaseFunction1A2B3C4D","Region":"eu-west-1"}',
      );
    });

    it('resolves a Join nested in a Join', () => {
      expect(
        resolve({ 'Fn::Join': [':', ['arn', { Ref: 'AWS::Partition' }, { 'Fn::Join': ['/', ['x', { Ref: 'AWS::AccountId' }]] }]] }),
      ).toBe('arn:aws:x/123456789012');
    });
  });

  describe('Ref', () => {
    it.each([
      ['AWS::AccountId', '123456789012'],
      ['AWS::Region', 'eu-west-1'],
      ['AWS::Partition', 'aws'],
      ['AWS::URLSuffix', 'amazonaws.com'],
    ])('resolves the pseudo parameter %s to %s', (name, expected) => {
      expect(resolve({ Ref: name })).toBe(expected);
    });

    it('resolves a Ref to a resource to its logical ID', () => {
      expect(resolve({ Ref: 'AlertsCriticalTopic9C0D' })).toBe('AlertsCriticalTopic9C0D');
    });

    it('prefers what `refs` says a Ref returns (e.g. a state machine ARN) over the logical ID', () => {
      const arn = 'arn:aws:states:eu-west-1:123456789012:stateMachine:ModelRollout';

      expect(resolve({ Ref: 'RolloutStateMachine5E6F7A8B' }, { RolloutStateMachine5E6F7A8B: arn })).toBe(arn);
      expect(resolve({ Ref: 'AlertsCriticalTopic9C0D' }, { RolloutStateMachine5E6F7A8B: arn })).toBe('AlertsCriticalTopic9C0D');
    });

    it('resolves Refs nested inside objects and arrays', () => {
      expect(
        resolve({ Parameters: { 'TopicArn.$': '$.topic', Targets: [{ Ref: 'AWS::AccountId' }, { Ref: 'AlertsCriticalTopic9C0D' }] } }),
      ).toEqual({
        Parameters: { 'TopicArn.$': '$.topic', Targets: ['123456789012', 'AlertsCriticalTopic9C0D'] },
      });
    });

    it.each(['AWS::StackName', 'AWS::NoValue', 'MissingResource'])(
      'throws naming %s when it is neither a pseudo parameter, a resource nor in refs',
      (name) => {
        expect(() => resolve({ Ref: name })).toThrowError(`The local run cannot resolve Ref ${name}`);
      },
    );
  });

  describe('Fn::GetAtt', () => {
    it("resolves a Lambda function's Arn", () => {
      expect(resolve({ 'Fn::GetAtt': ['CheckReleaseFunction1A2B3C4D', 'Arn'] })).toBe(lambdaArnFor(ENV, 'CheckReleaseFunction1A2B3C4D'));
    });

    it.each([
      [
        'another attribute of a Lambda function',
        ['CheckReleaseFunction1A2B3C4D', 'SnapStartResponse'],
        'CheckReleaseFunction1A2B3C4D.SnapStartResponse',
      ],
      ['the Arn of a resource that is not a Lambda function', ['AlertsCriticalTopic9C0D', 'Arn'], 'AlertsCriticalTopic9C0D.Arn'],
      ['an unknown resource', ['NoSuchFunction', 'Arn'], 'NoSuchFunction.Arn'],
    ])('throws naming %s', (_case, args, named) => {
      expect(() => resolve({ 'Fn::GetAtt': args })).toThrowError(`The local run cannot resolve Fn::GetAtt ${named}`);
    });

    it('throws from inside a Join, so no half-resolved definition comes out', () => {
      expect(() => resolve({ 'Fn::Join': ['', ['"', { 'Fn::GetAtt': ['NoSuchFunction', 'Arn'] }, '"']] })).toThrowError(
        /NoSuchFunction\.Arn/,
      );
    });
  });

  describe('unsupported functions', () => {
    it.each([
      ['Fn::Sub', { 'Fn::Sub': 'arn:${AWS::Partition}:states:::lambda:invoke' }],
      ['Fn::Select', { 'Fn::Select': [0, ['a']] }],
      ['Fn::ImportValue', { 'Fn::ImportValue': 'SharedTopicArn' }],
    ])('throws naming %s', (fn, value) => {
      expect(() => resolve(value)).toThrowError(`The local run cannot resolve ${fn} in the state machine definition`);
    });

    it('throws for an unsupported function nested deep in the definition', () => {
      expect(() => resolve({ States: { Deploy: { Parameters: { Cluster: { 'Fn::Sub': '${Cluster}' } } } } })).toThrowError(/Fn::Sub/);
    });
  });
});
