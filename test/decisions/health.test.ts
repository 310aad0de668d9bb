import { describe, expect, it } from 'vitest';
import type { HealthVerdict } from '../../lambdas/contract/steps';
import { evaluateHealth, type HealthCriteria, type HealthObservation, type PrimaryDeployment } from '../../lambdas/decisions/health';

const TARGET = 'arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment:8';
const PREVIOUS = 'arn:aws:ecs:us-east-1:123456789012:task-definition/sentiment:7';
const DEADLINE = new Date('2026-11-20T01:30:00.000Z');
const BEFORE_DEADLINE: HealthCriteria = { now: new Date('2026-11-20T01:20:00.000Z'), deadline: DEADLINE, checkAlarms: true };
const AT_DEADLINE: HealthCriteria = { now: DEADLINE, deadline: DEADLINE, checkAlarms: true };
const ROLLBACK: HealthCriteria = { ...BEFORE_DEADLINE, checkAlarms: false };
const UPDATE_STARTED = new Date('2026-11-20T01:15:00.000Z');
const sd = (status: string, rollbackReason: string | null = null) => ({ status, rollbackReason, statusReason: null });

/** A service that finished rolling out the target with every alarm OK. */
function observation(
  overrides: Partial<Omit<HealthObservation, 'primary'>> & { primary?: Partial<PrimaryDeployment> | null } = {},
): HealthObservation {
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
    serviceDeployment: sd('SUCCESSFUL'),
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
  ['a service with no PRIMARY deployment', observation({ primary: null }), BEFORE_DEADLINE, 'unhealthy', ['no PRIMARY deployment', TARGET]],
  [
    'a primary deployment of another revision (someone else deployed)',
    observation({ primary: { taskDefinitionArn: PREVIOUS }, serviceDeployment: sd('IN_PROGRESS') }),
    BEFORE_DEADLINE,
    'unhealthy',
    [`runs ${PREVIOUS}, not ${TARGET}`, 'IN_PROGRESS', 'someone else deployed'],
  ],

  // (1b) ECS rolled the release back itself: named as such, whatever the primary runs
  ...['ROLLBACK_REQUESTED', 'ROLLBACK_IN_PROGRESS', 'ROLLBACK_SUCCESSFUL', 'ROLLBACK_FAILED'].map(
    (status): Case => [
      `the release's service deployment ${status} (ECS's own rollback)`,
      observation({
        primary: { taskDefinitionArn: PREVIOUS },
        serviceDeployment: sd(status, 'Service deployment rolled back because the circuit breaker threshold was exceeded.'),
      }),
      BEFORE_DEADLINE,
      'unhealthy',
      [`ECS rolled the new revision back itself (service deployment ${status})`, 'circuit breaker threshold was exceeded'],
    ],
  ),

  // (1c) a rollback is judged by what the service runs and whether it is steady
  [
    'a rollback ECS did itself, settled on the target (ROLLBACK_SUCCESSFUL)',
    observation({ serviceDeployment: sd('ROLLBACK_SUCCESSFUL', 'circuit breaker') }),
    ROLLBACK,
    'healthy',
    [TARGET, 'alarms not checked'],
  ],
  [
    'a rollback ECS is still doing (ROLLBACK_IN_PROGRESS)',
    observation({
      primary: { rolloutState: 'IN_PROGRESS', runningCount: 0 },
      deploymentCount: 2,
      serviceDeployment: sd('ROLLBACK_IN_PROGRESS', 'circuit breaker'),
    }),
    ROLLBACK,
    'progressing',
    ['rollout IN_PROGRESS'],
  ],
  [
    'a rollback whose target is steady although the deployment that led there STOPPED',
    observation({ serviceDeployment: sd('STOPPED') }),
    ROLLBACK,
    'healthy',
    [TARGET],
  ],
  [
    'a rollback ECS could not complete (ROLLBACK_FAILED, the target FAILED)',
    observation({
      primary: { rolloutState: 'FAILED', rolloutStateReason: 'tasks failed to start', runningCount: 0 },
      serviceDeployment: sd('ROLLBACK_FAILED'),
    }),
    ROLLBACK,
    'unhealthy',
    ['rollout FAILED'],
  ],
  [
    'a rollback without rollout state (Classic Load Balancer) that ECS reports ROLLBACK_SUCCESSFUL',
    observation({ primary: { rolloutState: null }, serviceDeployment: sd('ROLLBACK_SUCCESSFUL') }),
    ROLLBACK,
    'healthy',
    [TARGET],
  ],

  // (2) ECS gave up
  [
    'a FAILED rollout',
    observation({ primary: { rolloutState: 'FAILED', rolloutStateReason: 'tasks failed to start', runningCount: 0 } }),
    BEFORE_DEADLINE,
    'unhealthy',
    ['rollout FAILED: tasks failed to start'],
  ],
  ...['STOPPED', 'STOP_REQUESTED'].map(
    (status): Case => [
      `a service deployment ${status}`,
      observation({ primary: { rolloutState: 'IN_PROGRESS', rolloutStateReason: null }, serviceDeployment: sd(status) }),
      BEFORE_DEADLINE,
      'unhealthy',
      [`service deployment ${status}`],
    ],
  ),

  // (3) alarms, fail closed
  [
    'an alarm in ALARM, even before the rollout completed',
    observation({ primary: { rolloutState: 'IN_PROGRESS' }, alarms: [{ name: 'sentiment-5xx', state: 'ALARM' }] }),
    BEFORE_DEADLINE,
    'unhealthy',
    ['Alarm sentiment-5xx is in ALARM'],
  ],
  [
    'an alarm that went to ALARM after the update started',
    observation({ alarms: [{ name: 'sentiment-5xx', state: 'ALARM', since: new Date('2026-11-20T01:16:00.000Z') }] }),
    { ...BEFORE_DEADLINE, updateStartedAt: UPDATE_STARTED },
    'unhealthy',
    ['Alarm sentiment-5xx is in ALARM'],
  ],
  [
    'an alarm already in ALARM when the update started (an incident of the running version)',
    observation({ alarms: [{ name: 'sentiment-5xx', state: 'ALARM', since: new Date('2026-11-20T01:10:00.000Z') }] }),
    { ...BEFORE_DEADLINE, updateStartedAt: UPDATE_STARTED },
    'progressing',
    ['alarm sentiment-5xx ALARM since before the update'],
  ],
  [
    'an alarm already in ALARM when the update started, still at the deadline',
    observation({ alarms: [{ name: 'sentiment-5xx', state: 'ALARM', since: new Date('2026-11-20T01:10:00.000Z') }] }),
    { ...AT_DEADLINE, updateStartedAt: UPDATE_STARTED },
    'unhealthy',
    ['Not healthy within the deadline', 'sentiment-5xx ALARM since before the update'],
  ],
  [
    'an alarm in ALARM whose age is unknown fails at once (fail closed)',
    observation({ alarms: [{ name: 'sentiment-5xx', state: 'ALARM', since: null }] }),
    { ...BEFORE_DEADLINE, updateStartedAt: UPDATE_STARTED },
    'unhealthy',
    ['Alarm sentiment-5xx is in ALARM'],
  ],
  [
    'a configured alarm that does not exist',
    observation({
      alarms: [
        { name: 'sentiment-5xx', state: 'OK' },
        { name: 'typo-alarm', state: 'MISSING' },
      ],
    }),
    BEFORE_DEADLINE,
    'unhealthy',
    ['Configured alarm typo-alarm does not exist'],
  ],

  // (5) still progressing, or out of time
  [
    'a rollout in progress',
    observation({ primary: { rolloutState: 'IN_PROGRESS', runningCount: 1 }, deploymentCount: 2, serviceDeployment: sd('IN_PROGRESS') }),
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
    observation({ primary: { rolloutState: null }, serviceDeployment: null }),
    BEFORE_DEADLINE,
    'progressing',
    ['rollout state unknown'],
  ],
  [
    'a rollout still in progress at the deadline',
    observation({ primary: { rolloutState: 'IN_PROGRESS', runningCount: 1 }, serviceDeployment: sd('IN_PROGRESS') }),
    AT_DEADLINE,
    'unhealthy',
    ['Not healthy within the deadline (2026-11-20T01:30:00.000Z)', 'rollout IN_PROGRESS', '1/2 tasks running'],
  ],
];

describe('evaluateHealth', () => {
  it.each(
    cases.map(([description, observed, criteria, verdict, reasonParts]) => ({ description, observed, criteria, verdict, reasonParts })),
  )('$description → $verdict', ({ observed, criteria, verdict, reasonParts }) => {
    const evaluation = evaluateHealth(observed, criteria);
    expect(evaluation.verdict).toBe(verdict);
    for (const part of reasonParts) expect(evaluation.reason).toContain(part);
  });

  it('puts the wrong revision before an ECS failure and an ECS failure before alarms', () => {
    const everythingWrong = observation({
      primary: { taskDefinitionArn: PREVIOUS, rolloutState: 'FAILED' },
      alarms: [{ name: 'sentiment-5xx', state: 'ALARM' }],
    });
    expect(evaluateHealth(everythingWrong, BEFORE_DEADLINE).reason).toContain(`runs ${PREVIOUS}`);
    const failedWithAlarm = observation({ primary: { rolloutState: 'FAILED' }, alarms: [{ name: 'sentiment-5xx', state: 'ALARM' }] });
    expect(evaluateHealth(failedWithAlarm, BEFORE_DEADLINE).reason).toContain('rollout FAILED');
  });

  it("names ECS's own rollback before the wrong revision it leaves running", () => {
    const rolledBack = observation({
      primary: { taskDefinitionArn: PREVIOUS },
      serviceDeployment: sd('ROLLBACK_IN_PROGRESS', 'alarm sentiment-5xx in ALARM'),
    });
    expect(evaluateHealth(rolledBack, BEFORE_DEADLINE).reason).toMatch(/^ECS rolled the new revision back itself.*alarm sentiment-5xx/);
  });
});
