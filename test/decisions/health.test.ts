import { describe, expect, it } from 'vitest';
import type { HealthVerdict } from '../../lambdas/contract';
import { evaluateHealth, type HealthCriteria, type HealthObservation, type PrimaryDeployment } from '../../lambdas/decisions/health';

const TARGET = 'arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment:8';
const PREVIOUS = 'arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment:7';
const DEADLINE = new Date('2026-11-20T01:30:00.000Z');
const BEFORE_DEADLINE: HealthCriteria = { now: new Date('2026-11-20T01:20:00.000Z'), deadline: DEADLINE, checkAlarms: true };
const AT_DEADLINE: HealthCriteria = { now: DEADLINE, deadline: DEADLINE, checkAlarms: true };

/** A service that finished rolling out the target with every alarm OK. */
function observation(overrides: Partial<Omit<HealthObservation, 'primary'>> & { primary?: Partial<PrimaryDeployment> | null } = {}): HealthObservation {
  const { primary, ...rest } = overrides;
  return {
    targetTaskDefinitionArn: TARGET,
    primary:
      primary === null
        ? null
        : {
            taskDefinitionArn: TARGET,
            rolloutState: 'COMPLETED',
            rolloutStateReason: 'ECS deployment ecs-svc/1 completed.',
            runningCount: 2,
            desiredCount: 2,
            failedTasks: 0,
            ...primary,
          },
    deploymentCount: 1,
    serviceDeploymentStatus: 'SUCCESSFUL',
    alarms: [
      { name: 'sentiment-5xx', state: 'OK' },
      { name: 'sentiment-latency', state: 'OK' },
    ],
    ...rest,
  };
}

type Case = [string, HealthObservation, HealthCriteria, HealthVerdict, string[]];

const cases: Case[] = [
  // (4) healthy
  ['a completed rollout with every alarm OK', observation(), BEFORE_DEADLINE, 'healthy', [TARGET, '2/2 tasks', 'all 2 alarm(s) OK']],
  ['a completed rollout, even past the deadline', observation(), AT_DEADLINE, 'healthy', [TARGET]],
  [
    'a rollout ECS reports SUCCESSFUL without a rollout state',
    observation({ primary: { rolloutState: null } }),
    BEFORE_DEADLINE,
    'healthy',
    [TARGET],
  ],
  [
    'a rollback (alarms not checked) while an alarm still fires',
    observation({ alarms: [{ name: 'sentiment-5xx', state: 'ALARM' }] }),
    { ...BEFORE_DEADLINE, checkAlarms: false },
    'healthy',
    ['alarms not checked'],
  ],
  ['a service with no alarms configured', observation({ alarms: [] }), BEFORE_DEADLINE, 'healthy', ['all 0 alarm(s) OK']],

  // (1) another revision runs
  [
    'a service with no PRIMARY deployment',
    observation({ primary: null }),
    BEFORE_DEADLINE,
    'unhealthy',
    ['no PRIMARY deployment', TARGET],
  ],
  [
    'a primary deployment of the previous revision (circuit breaker rolled back)',
    observation({ primary: { taskDefinitionArn: PREVIOUS }, serviceDeploymentStatus: 'ROLLBACK_SUCCESSFUL' }),
    BEFORE_DEADLINE,
    'unhealthy',
    [`runs ${PREVIOUS}, not ${TARGET}`, 'ROLLBACK_SUCCESSFUL', 'circuit breaker', 'someone else deployed'],
  ],

  // (2) ECS gave up
  [
    'a FAILED rollout',
    observation({ primary: { rolloutState: 'FAILED', rolloutStateReason: 'tasks failed to start', runningCount: 0 } }),
    BEFORE_DEADLINE,
    'unhealthy',
    ['rollout FAILED: tasks failed to start'],
  ],
  ...(['FAILED', 'STOPPED', 'STOP_REQUESTED', 'ROLLBACK_REQUESTED', 'ROLLBACK_IN_PROGRESS', 'ROLLBACK_SUCCESSFUL', 'ROLLBACK_FAILED'].map(
    (status): Case => [
      `a service deployment ${status}`,
      observation({ primary: { rolloutState: 'IN_PROGRESS', rolloutStateReason: null }, serviceDeploymentStatus: status }),
      BEFORE_DEADLINE,
      'unhealthy',
      [`service deployment ${status}`],
    ],
  )),

  // (3) alarms, fail closed
  [
    'an alarm in ALARM, even before the rollout completed',
    observation({ primary: { rolloutState: 'IN_PROGRESS' }, alarms: [{ name: 'sentiment-5xx', state: 'ALARM' }] }),
    BEFORE_DEADLINE,
    'unhealthy',
    ['Alarm sentiment-5xx is in ALARM'],
  ],
  [
    'a configured alarm that does not exist',
    observation({ alarms: [{ name: 'sentiment-5xx', state: 'OK' }, { name: 'typo-alarm', state: 'MISSING' }] }),
    BEFORE_DEADLINE,
    'unhealthy',
    ['Configured alarm typo-alarm does not exist'],
  ],

  // (5) still progressing, or out of time
  [
    'a rollout in progress',
    observation({ primary: { rolloutState: 'IN_PROGRESS', runningCount: 1 }, deploymentCount: 2, serviceDeploymentStatus: 'IN_PROGRESS' }),
    BEFORE_DEADLINE,
    'progressing',
    ['rollout IN_PROGRESS', '1/2 tasks running', '2 deployments active'],
  ],
  [
    'a completed rollout whose alarm has no data yet',
    observation({ alarms: [{ name: 'sentiment-latency', state: 'INSUFFICIENT_DATA' }] }),
    BEFORE_DEADLINE,
    'progressing',
    ['alarm sentiment-latency INSUFFICIENT_DATA'],
  ],
  [
    'all tasks running while the old deployment drains',
    observation({ deploymentCount: 2 }),
    BEFORE_DEADLINE,
    'progressing',
    ['2 deployments active'],
  ],
  [
    'a rollout with failed task launches',
    observation({ primary: { rolloutState: 'IN_PROGRESS', runningCount: 0, failedTasks: 3 } }),
    BEFORE_DEADLINE,
    'progressing',
    ['0/2 tasks running', '3 task(s) failed to start'],
  ],
  [
    'no rollout state and no service deployment status',
    observation({ primary: { rolloutState: null }, serviceDeploymentStatus: null }),
    BEFORE_DEADLINE,
    'progressing',
    ['rollout state unknown'],
  ],
  [
    'a rollout still in progress at the deadline',
    observation({ primary: { rolloutState: 'IN_PROGRESS', runningCount: 1 }, serviceDeploymentStatus: 'IN_PROGRESS' }),
    AT_DEADLINE,
    'unhealthy',
    ['Not healthy within the deadline (2026-11-20T01:30:00.000Z)', 'rollout IN_PROGRESS', '1/2 tasks running'],
  ],
];

describe('evaluateHealth', () => {
  it.each(cases.map(([description, observed, criteria, verdict, reasonParts]) => ({ description, observed, criteria, verdict, reasonParts })))(
    '$description → $verdict',
    ({ observed, criteria, verdict, reasonParts }) => {
    const evaluation = evaluateHealth(observed, criteria);
    expect(evaluation.verdict).toBe(verdict);
    for (const part of reasonParts) expect(evaluation.reason).toContain(part);
    },
  );

  it('puts the wrong revision before an ECS failure and an ECS failure before alarms', () => {
    const everythingWrong = observation({
      primary: { taskDefinitionArn: PREVIOUS, rolloutState: 'FAILED' },
      alarms: [{ name: 'sentiment-5xx', state: 'ALARM' }],
    });
    expect(evaluateHealth(everythingWrong, BEFORE_DEADLINE).reason).toContain(`runs ${PREVIOUS}`);
    const failedWithAlarm = observation({ primary: { rolloutState: 'FAILED' }, alarms: [{ name: 'sentiment-5xx', state: 'ALARM' }] });
    expect(evaluateHealth(failedWithAlarm, BEFORE_DEADLINE).reason).toContain('rollout FAILED');
  });
});
