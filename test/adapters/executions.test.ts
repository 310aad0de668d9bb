import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  InvalidArn,
  InvalidName,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { executionArnOf, PipelineExecutions } from '../../lambdas/adapters/executions';
import { TransientAwsError } from '../../lambdas/errors';

const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:ModelRollout';
const EXECUTION_ARN = 'arn:aws:states:us-east-1:123456789012:execution:ModelRollout:reconcile-sentiment-7f5b2640fe6fb4f46592dfd3';
const NAME = 'reconcile-sentiment-7f5b2640fe6fb4f46592dfd3';
const START_EVENT = { source: 'model-rollout.reconciliation', detail: { 'repository-name': 'models/sentiment', 'image-tag': 'v1.3.0' } };

const sfn = mockClient(SFNClient);
const executions = () => new PipelineExecutions(new SFNClient({}), STATE_MACHINE_ARN);
const awsError = (name: string, fault: 'client' | 'server' = 'client') =>
  Object.assign(new Error(`simulated ${name}`), { name, $fault: fault, $metadata: {} });

beforeEach(() => {
  sfn.reset();
});

describe('PipelineExecutions.start', () => {
  it('starts an execution of the state machine under the name, with the input as JSON', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION_ARN, startDate: new Date() });

    await expect(executions().start(NAME, START_EVENT)).resolves.toEqual({ executionArn: EXECUTION_ARN, alreadyStarted: false });

    const calls = sfn.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    const { input, ...rest } = calls[0]!.args[0].input;
    expect(rest).toEqual({ stateMachineArn: STATE_MACHINE_ARN, name: NAME });
    expect(JSON.parse(input!)).toEqual(START_EVENT);
  });

  it.each([
    [
      'the SDK’s ExecutionAlreadyExists',
      () => new ExecutionAlreadyExists({ message: `Execution Already Exists: '${EXECUTION_ARN}'`, $metadata: {} }),
    ],
    ['an error named ExecutionAlreadyExists', () => awsError('ExecutionAlreadyExists')],
  ])('reports an execution of that name as already started: %s', async (_, error) => {
    sfn.on(StartExecutionCommand).rejects(error());

    await expect(executions().start(NAME, START_EVENT)).resolves.toEqual({ executionArn: null, alreadyStarted: true });
  });

  it.each([
    ['throttled', () => awsError('ThrottlingException')],
    ['failing on the server side', () => awsError('InternalServerError', 'server')],
  ])('throws TransientAwsError naming the execution when Step Functions is %s', async (_, error) => {
    sfn.on(StartExecutionCommand).rejects(error());

    const thrown = await executions()
      .start(NAME, START_EVENT)
      .catch((e: unknown) => e);

    expect(thrown).toBeInstanceOf(TransientAwsError);
    expect((thrown as Error).message).toContain(`StartExecution ${NAME}`);
  });

  it('rethrows any other failure unchanged', async () => {
    const invalid = new InvalidName({ message: 'Invalid Name', $metadata: {} });
    sfn.on(StartExecutionCommand).rejects(invalid);

    await expect(executions().start(NAME, START_EVENT)).rejects.toBe(invalid);
  });

  it('throws when Step Functions answers without an execution ARN', async () => {
    sfn.on(StartExecutionCommand).resolves({});

    await expect(executions().start(NAME, START_EVENT)).rejects.toThrow(`StartExecution ${NAME} returned no execution ARN`);
  });
});

describe('PipelineExecutions.describe', () => {
  it("asks DescribeExecution for the state machine's execution of that name and answers its ARN and status", async () => {
    sfn
      .on(DescribeExecutionCommand)
      .resolves({ executionArn: EXECUTION_ARN, stateMachineArn: STATE_MACHINE_ARN, status: 'FAILED', startDate: new Date() });

    await expect(executions().describe(NAME)).resolves.toEqual({ executionArn: EXECUTION_ARN, status: 'FAILED' });
    expect(sfn.commandCalls(DescribeExecutionCommand).map((c) => c.args[0].input)).toEqual([{ executionArn: EXECUTION_ARN }]);
  });

  it('answers missing when Step Functions knows no execution of that name', async () => {
    sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }));

    await expect(executions().describe(NAME)).resolves.toEqual({ executionArn: EXECUTION_ARN, status: 'missing' });
  });

  it('throws TransientAwsError when throttled, and rethrows any other failure unchanged', async () => {
    sfn.on(DescribeExecutionCommand).rejectsOnce(awsError('ThrottlingException'));
    await expect(executions().describe(NAME)).rejects.toThrow(TransientAwsError);

    const invalid = new InvalidArn({ message: 'Invalid Arn', $metadata: {} });
    sfn.on(DescribeExecutionCommand).rejects(invalid);
    await expect(executions().describe(NAME)).rejects.toBe(invalid);
  });
});

describe('PipelineExecutions.ownExecutionName', () => {
  const executions = new PipelineExecutions({ send: async () => ({}) }, STATE_MACHINE_ARN);

  it('answers the name of an execution of this state machine, whatever characters Step Functions allows in it', () => {
    for (const name of ['reconcile-sentiment-7f5b2640', 'release.v1.3.0', 'a=b', 'ñame-1']) {
      expect(executions.ownExecutionName(`arn:aws:states:us-east-1:123456789012:execution:ModelRollout:${name}`), name).toBe(name);
    }
  });

  it('answers null for an execution of another state machine, or an ARN that names no execution', () => {
    expect(executions.ownExecutionName('arn:aws:states:us-east-1:123456789012:execution:ModelRolloutOther:x')).toBeNull();
    expect(executions.ownExecutionName('arn:aws:states:us-east-1:123456789012:execution:ModelRollout:')).toBeNull();
    expect(executions.ownExecutionName('arn:aws:states:us-east-1:123456789012:execution:ModelRollout:a:b')).toBeNull();
    expect(executions.ownExecutionName(STATE_MACHINE_ARN)).toBeNull();
  });
});

describe('executionArnOf', () => {
  it('turns the state machine ARN into the ARN of its execution of that name', () => {
    expect(executionArnOf(STATE_MACHINE_ARN, NAME)).toBe(EXECUTION_ARN);
    expect(executionArnOf('arn:aws-cn:states:cn-north-1:123456789012:stateMachine:M', 'x')).toBe(
      'arn:aws-cn:states:cn-north-1:123456789012:execution:M:x',
    );
  });
});
