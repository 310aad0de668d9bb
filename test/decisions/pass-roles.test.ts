import { describe, expect, it } from 'vitest';
import { roleRefusal, unconfiguredRoles, type PassRolesInput, type UnconfiguredRole } from '../../lambdas/decisions/pass-roles';
import { sentimentService } from '../fixtures/catalog';

const TASK_ROLE = 'arn:aws:iam::123456789012:role/sentiment-task';
const EXECUTION_ROLE = 'arn:aws:iam::123456789012:role/sentiment-execution';
const PATH_TASK_ROLE = 'arn:aws:iam::123456789012:role/service-role/sentiment-task';
const CONFIGURED: PassRolesInput['configured'] = { taskRoleArn: TASK_ROLE, executionRoleArn: EXECUTION_ROLE };
const NONE_CONFIGURED: PassRolesInput['configured'] = { taskRoleArn: null, executionRoleArn: null };

type Case = [string, PassRolesInput['taskDefinition'], PassRolesInput['configured'], UnconfiguredRole[]];

const cases: Case[] = [
  // Nothing to refuse
  ['both roles named by the configured ARNs', { taskRoleArn: TASK_ROLE, executionRoleArn: EXECUTION_ROLE }, CONFIGURED, []],
  ['no role named and none configured', {}, NONE_CONFIGURED, []],
  ['no role named (null) and none configured', { taskRoleArn: null, executionRoleArn: null }, NONE_CONFIGURED, []],
  ['no role named although both are configured', {}, CONFIGURED, []],
  ['both roles named by name only', { taskRoleArn: 'sentiment-task', executionRoleArn: 'sentiment-execution' }, CONFIGURED, []],
  [
    'a role named by name whose configured ARN has a path',
    { taskRoleArn: 'sentiment-task' },
    { ...CONFIGURED, taskRoleArn: PATH_TASK_ROLE },
    [],
  ],
  [
    'a role named by an ARN with a path, configured with the same path',
    { taskRoleArn: PATH_TASK_ROLE },
    { ...CONFIGURED, taskRoleArn: PATH_TASK_ROLE },
    [],
  ],
  [
    'only an execution role, and only that configured',
    { executionRoleArn: EXECUTION_ROLE },
    { taskRoleArn: null, executionRoleArn: EXECUTION_ROLE },
    [],
  ],

  // A role named but none configured
  [
    'a task role named but none configured',
    { taskRoleArn: TASK_ROLE, executionRoleArn: EXECUTION_ROLE },
    { ...CONFIGURED, taskRoleArn: null },
    [{ kind: 'task', named: TASK_ROLE, configured: null }],
  ],
  [
    'an execution role named by name but none configured',
    { executionRoleArn: 'sentiment-execution' },
    NONE_CONFIGURED,
    [{ kind: 'execution', named: 'sentiment-execution', configured: null }],
  ],

  // A role other than the configured one
  [
    'a different task role',
    { taskRoleArn: 'arn:aws:iam::123456789012:role/other', executionRoleArn: EXECUTION_ROLE },
    CONFIGURED,
    [{ kind: 'task', named: 'arn:aws:iam::123456789012:role/other', configured: TASK_ROLE }],
  ],
  [
    'a different execution role, by name',
    { taskRoleArn: TASK_ROLE, executionRoleArn: 'ecsTaskExecutionRole' },
    CONFIGURED,
    [{ kind: 'execution', named: 'ecsTaskExecutionRole', configured: EXECUTION_ROLE }],
  ],
  [
    "another account's role of the same name",
    { taskRoleArn: 'arn:aws:iam::210987654321:role/sentiment-task' },
    CONFIGURED,
    [{ kind: 'task', named: 'arn:aws:iam::210987654321:role/sentiment-task', configured: TASK_ROLE }],
  ],
  [
    'the same name under another path',
    { taskRoleArn: PATH_TASK_ROLE },
    CONFIGURED,
    [{ kind: 'task', named: PATH_TASK_ROLE, configured: TASK_ROLE }],
  ],
  [
    'the same name in another partition',
    { taskRoleArn: 'arn:aws-cn:iam::123456789012:role/sentiment-task' },
    CONFIGURED,
    [{ kind: 'task', named: 'arn:aws-cn:iam::123456789012:role/sentiment-task', configured: TASK_ROLE }],
  ],
  [
    'a name that is only a suffix of the configured name',
    { taskRoleArn: 'task' },
    CONFIGURED,
    [{ kind: 'task', named: 'task', configured: TASK_ROLE }],
  ],
  [
    'the task and execution roles swapped',
    { taskRoleArn: EXECUTION_ROLE, executionRoleArn: TASK_ROLE },
    CONFIGURED,
    [
      { kind: 'task', named: EXECUTION_ROLE, configured: TASK_ROLE },
      { kind: 'execution', named: TASK_ROLE, configured: EXECUTION_ROLE },
    ],
  ],
];

describe('unconfiguredRoles', () => {
  it.each(cases)('%s', (_, taskDefinition, configured, expected) => {
    expect(unconfiguredRoles({ taskDefinition, configured })).toEqual(expected);
  });
});

describe('roleRefusal', () => {
  const RUNNING_ARN = 'arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment:7';
  const named = { taskRoleArn: TASK_ROLE, executionRoleArn: EXECUTION_ROLE };
  const refusal = (service: ReturnType<typeof sentimentService>, taskDefinition: PassRolesInput['taskDefinition']) =>
    roleRefusal({ service, taskDefinitionArn: RUNNING_ARN, taskDefinition });

  it('refuses nothing when every role the task definition names is configured', () => {
    expect(refusal(sentimentService(), named)).toBeNull();
    expect(refusal(sentimentService({ taskRoleArn: null, executionRoleArn: null }), {})).toBeNull();
  });

  it('names a task role other than the configured one, and the field to set', () => {
    expect(refusal(sentimentService(), { ...named, taskRoleArn: 'arn:aws:iam::123456789012:role/other' })).toBe(
      `Task definition ${RUNNING_ARN} of ECS service "sentiment" in cluster "models-prod" names task role arn:aws:iam::123456789012:role/other, ` +
        'but services[].taskRoleArn for service "sentiment" is arn:aws:iam::123456789012:role/sentiment-task: ' +
        'the pipeline may pass only the configured roles to ECS; set taskRoleArn to the role the task definition uses.',
    );
  });

  it('names an execution role when the service configures none', () => {
    expect(refusal(sentimentService({ executionRoleArn: null }), named)).toBe(
      `Task definition ${RUNNING_ARN} of ECS service "sentiment" in cluster "models-prod" names execution role ` +
        'arn:aws:iam::123456789012:role/sentiment-execution, but services[].executionRoleArn for service "sentiment" is none: ' +
        'the pipeline may pass only the configured roles to ECS; set executionRoleArn to the role the task definition uses.',
    );
  });

  it('names both roles, and both fields to set, when neither is configured', () => {
    expect(refusal(sentimentService({ taskRoleArn: null, executionRoleArn: null }), named)).toBe(
      `Task definition ${RUNNING_ARN} of ECS service "sentiment" in cluster "models-prod" names task role ` +
        'arn:aws:iam::123456789012:role/sentiment-task, but services[].taskRoleArn for service "sentiment" is none, and execution role ' +
        'arn:aws:iam::123456789012:role/sentiment-execution, but services[].executionRoleArn for service "sentiment" is none: ' +
        'the pipeline may pass only the configured roles to ECS; set taskRoleArn and executionRoleArn to the roles the task definition uses.',
    );
  });
});
