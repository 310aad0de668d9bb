import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lib/config';
import { example, exampleWithGray, issuesOf, LISTENER_ARN, listenerRuleArn, ROOT, targetGroupArn } from '../config-fixture';

/** sentiment's release (services[0], production) after parsing. */
const releaseOf = (raw: unknown, index = 0) => parseConfig(raw, ROOT).services[index]!.release;

describe('defaults', () => {
  it('releases with ECS’s rolling deployment when release is left out', () => {
    const raw = example();
    delete raw.services[0].release;

    expect(releaseOf(raw)).toEqual({ strategy: 'rolling' });
  });

  it('fills in every field of a gray release but traffic and probe.port: 5/10/30/60/100 in 30-minute steps', () => {
    expect(releaseOf(exampleWithGray())).toEqual({
      strategy: 'gray',
      traffic: {
        listenerRuleArn: listenerRuleArn('9683b2d02a6cabee'),
        stableTargetGroupArn: targetGroupArn('sentiment-stable'),
        canaryTargetGroupArn: targetGroupArn('sentiment-canary'),
        canaryService: 'sentiment-canary',
        taskSecurityGroupId: 'sg-0a1b2c3d4e5f60011',
      },
      steps: [5, 10, 30, 60, 100].map((weight) => ({ weight, bakeMinutes: 30, approval: false })),
      approval: { beforeFirstStep: true, timeoutMinutes: 240, onTimeout: 'rollback' },
      keepPreviousMinutes: 60,
      canary: { minTasks: 1 },
      analysis: {
        intervalMinutes: 5,
        windowMinutes: 5,
        metricLagSeconds: 180,
        minRequests: 200,
        maxErrorRatePercent: 1,
        maxErrorRateIncrease: 0.5,
        maxP99Ms: 2000,
        maxP99Ratio: 1.25,
        failureLimit: 0,
        inconclusiveLimit: 2,
        onInconclusive: 'pause',
        alarms: [],
      },
      probe: { path: '/health', port: 8080, expectStatus: 200, maxLatencyMs: 200, attempts: 5, timeoutMs: 1000, warmup: true },
    });
  });

  it.each([
    ['production', undefined, true],
    ['staging', undefined, false],
    ['development', undefined, false],
    ['production', false, false],
    ['staging', true, true],
  ] as const)(
    'asks for an approval before the first step of a %s service (beforeFirstStep given: %s): %s',
    (environment, given, expected) => {
      const raw = exampleWithGray();
      raw.services[0].environment = environment;
      if (given !== undefined) raw.services[0].release.approval = { beforeFirstStep: given };

      expect(releaseOf(raw)).toMatchObject({ approval: { beforeFirstStep: expected, timeoutMinutes: 240, onTimeout: 'rollback' } });
    },
  );

  it('fills in a step’s approval (false) and keeps what is given', () => {
    const raw = exampleWithGray();
    raw.services[0].release.steps = [
      { weight: 25, bakeMinutes: 60, approval: true },
      { weight: 100, bakeMinutes: 15 },
    ];

    expect(releaseOf(raw)).toMatchObject({
      steps: [
        { weight: 25, bakeMinutes: 60, approval: true },
        { weight: 100, bakeMinutes: 15, approval: false },
      ],
    });
  });

  it('gives every parse its own default steps', () => {
    const first = releaseOf(exampleWithGray());
    if (first.strategy !== 'gray') expect.fail('expected a gray release');
    (first.steps[0] as { weight: number }).weight = 1;

    expect(releaseOf(exampleWithGray())).toMatchObject({ steps: [{ weight: 5 }, {}, {}, {}, {}] });
  });

  it('takes a listener’s default action instead of a listener rule', () => {
    const raw = exampleWithGray();
    delete raw.services[0].release.traffic.listenerRuleArn;
    raw.services[0].release.traffic.listenerArn = LISTENER_ARN;

    expect(releaseOf(raw)).toMatchObject({ traffic: { listenerArn: LISTENER_ARN } });
  });

  it.each([
    ['aws-cn', 'cn-north-1'],
    ['aws-us-gov', 'us-gov-west-1'],
  ])('accepts ARNs of the %s partition and a security group ID of 8 digits', (partition, region) => {
    const raw = exampleWithGray();
    const { traffic } = raw.services[0].release;
    for (const field of ['listenerRuleArn', 'stableTargetGroupArn', 'canaryTargetGroupArn']) {
      traffic[field] = traffic[field].replace('arn:aws:elasticloadbalancing:us-east-1', `arn:${partition}:elasticloadbalancing:${region}`);
    }
    traffic.taskSecurityGroupId = 'sg-0a1b2c3d';

    expect(() => parseConfig(raw, ROOT)).not.toThrow();
  });
});

describe('invalid releases name the field and the value', () => {
  const NLB_RULE = listenerRuleArn('9683b2d02a6cabee').replace('listener-rule/app/', 'listener-rule/net/');
  const GWLB_LISTENER = LISTENER_ARN.replace('listener/app/', 'listener/gwy/');
  const ALB_ONLY = 'a gray release needs an Application Load Balancer (app/), the only kind whose forward action weighs target groups';
  const RULE_SHAPE =
    'an Application Load Balancer listener rule ARN ' +
    '(arn:aws:elasticloadbalancing:<region>:<account>:listener-rule/app/<load-balancer>/<id>/<listener-id>/<rule-id>)';
  const TARGET_GROUP_SHAPE = 'a target group ARN (arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>)';
  const show = (arn: string) => `${JSON.stringify(arn).slice(0, 77)}...`;

  const cases: { name: string; breakIt: (release: any) => any; issue: string }[] = [
    {
      name: 'an unknown strategy',
      breakIt: () => ({ strategy: 'canary' }),
      issue: 'services[0].release.strategy: "canary" is not one of rolling | gray',
    },
    {
      name: 'a release block without a strategy',
      breakIt: (release) => ({ ...release, strategy: undefined }),
      issue: 'services[0].release.strategy: is required (one of rolling | gray)',
    },
    {
      name: 'gray release settings under the rolling strategy',
      breakIt: () => ({ strategy: 'rolling', steps: [] }),
      issue: 'services[0].release: unknown key "steps" (allowed: strategy)',
    },
    {
      name: 'an unknown key (a typo) in a gray release',
      breakIt: (release) => ({ ...release, keepPreviousMinute: 30 }),
      issue:
        'services[0].release: unknown key "keepPreviousMinute" ' +
        '(allowed: strategy, traffic, steps, approval, keepPreviousMinutes, canary, analysis, probe)',
    },
    {
      name: 'neither a listener rule nor a listener',
      breakIt: (release) => void delete release.traffic.listenerRuleArn,
      issue:
        "services[0].release.traffic: needs listenerRuleArn (a listener rule) or listenerArn (a listener's default action): " +
        'where the forward action that weighs the two target groups is',
    },
    {
      name: 'both a listener rule and a listener',
      breakIt: (release) => void (release.traffic.listenerArn = LISTENER_ARN),
      issue:
        'services[0].release.traffic: sets both listenerRuleArn and listenerArn: give the one whose forward action weighs the two target groups',
    },
    {
      name: 'a Network Load Balancer’s listener rule, saying why only an ALB will do',
      breakIt: (release) => void (release.traffic.listenerRuleArn = NLB_RULE),
      issue: `services[0].release.traffic.listenerRuleArn: ${show(NLB_RULE)} is not ${RULE_SHAPE}: ${ALB_ONLY}`,
    },
    {
      name: 'a Gateway Load Balancer’s listener, saying why only an ALB will do',
      breakIt: (release) => {
        delete release.traffic.listenerRuleArn;
        release.traffic.listenerArn = GWLB_LISTENER;
      },
      issue:
        `services[0].release.traffic.listenerArn: ${show(GWLB_LISTENER)} is not an Application Load Balancer listener ARN ` +
        `(arn:aws:elasticloadbalancing:<region>:<account>:listener/app/<load-balancer>/<id>/<listener-id>): ${ALB_ONLY}`,
    },
    {
      name: 'a listener ARN given as the listener rule',
      breakIt: (release) => void (release.traffic.listenerRuleArn = LISTENER_ARN),
      issue: `services[0].release.traffic.listenerRuleArn: ${show(LISTENER_ARN)} is not ${RULE_SHAPE}`,
    },
    {
      name: 'a target group given by name',
      breakIt: (release) => void (release.traffic.stableTargetGroupArn = 'sentiment-stable'),
      issue: `services[0].release.traffic.stableTargetGroupArn: "sentiment-stable" is not ${TARGET_GROUP_SHAPE}`,
    },
    {
      name: 'the stable target group as the canary’s too',
      breakIt: (release) => void (release.traffic.canaryTargetGroupArn = targetGroupArn('sentiment-stable')),
      issue:
        `services[0].release.traffic.canaryTargetGroupArn: ${show(targetGroupArn('sentiment-stable'))} is also stableTargetGroupArn: ` +
        'the canary needs a target group of its own',
    },
    {
      name: 'the service itself as its canary',
      breakIt: (release) => void (release.traffic.canaryService = 'sentiment'),
      issue:
        'services[0].release.traffic.canaryService: "sentiment" is the service itself (service): the canary must be a second ECS ' +
        'service beside it',
    },
    {
      name: 'a canary service given by ARN',
      breakIt: (release) => void (release.traffic.canaryService = 'service/models-prod/sentiment-canary'),
      issue:
        'services[0].release.traffic.canaryService: "service/models-prod/sentiment-canary" is not an ECS service name ' +
        '(up to 255 letters, digits, _ and -)',
    },
    {
      name: 'a security group ID of 9 digits',
      breakIt: (release) => void (release.traffic.taskSecurityGroupId = 'sg-0a1b2c3d4'),
      issue:
        'services[0].release.traffic.taskSecurityGroupId: "sg-0a1b2c3d4" is not a security group ID (sg- and 8 or 17 hexadecimal digits)',
    },
    {
      name: 'weights that do not increase',
      breakIt: (release) => void (release.steps = [5, 30, 30, 100].map((weight) => ({ weight, bakeMinutes: 30 }))),
      issue:
        "services[0].release.steps: weights [5,30,30,100]: step 3 weight 30 is not above step 2's 30 " +
        '(weights are whole percents, strictly increasing, the last one 100)',
    },
    {
      name: 'a last step below 100',
      breakIt: (release) => void (release.steps = [10, 50].map((weight) => ({ weight, bakeMinutes: 30 }))),
      issue:
        "services[0].release.steps: weights [10,50]: the last step's weight is 50, not 100: the release would never take all traffic " +
        '(weights are whole percents, strictly increasing, the last one 100)',
    },
    {
      name: 'a fractional weight',
      breakIt: (release) => void (release.steps = [2.5, 100].map((weight) => ({ weight, bakeMinutes: 30 }))),
      issue:
        'services[0].release.steps: weights [2.5,100]: step 1 weight 2.5 is not a whole percent from 1 to 100 ' +
        '(weights are whole percents, strictly increasing, the last one 100)',
    },
    {
      name: 'no steps',
      breakIt: (release) => void (release.steps = []),
      issue:
        'services[0].release.steps: weights []: no step: a gray release needs at least the 100 % step ' +
        '(weights are whole percents, strictly increasing, the last one 100)',
    },
    {
      name: 'a weight given as text',
      breakIt: (release) => void (release.steps = [{ weight: '100', bakeMinutes: 30 }]),
      issue: 'services[0].release.steps[0].weight: expected number, got "100"',
    },
    {
      name: 'a bake of 0 minutes',
      breakIt: (release) => void (release.steps = [{ weight: 100, bakeMinutes: 0 }]),
      issue: 'services[0].release.steps[0].bakeMinutes: 0 is not a whole number from 1 to 20160',
    },
    {
      name: 'a step without its bake',
      breakIt: (release) => void (release.steps = [{ weight: 100 }]),
      issue: 'services[0].release.steps[0].bakeMinutes: is required (a whole number from 1 to 20160)',
    },
    {
      name: 'an unknown key in a step',
      breakIt: (release) => void (release.steps = [{ weight: 100, bakeMinutes: 30, bake: 30 }]),
      issue: 'services[0].release.steps[0]: unknown key "bake" (allowed: weight, bakeMinutes, approval)',
    },
    {
      name: 'an approval that never times out',
      breakIt: (release) => void (release.approval = { timeoutMinutes: 0 }),
      issue: 'services[0].release.approval.timeoutMinutes: 0 is not a whole number from 1 to 20160',
    },
    {
      name: 'an unknown action on an approval timeout',
      breakIt: (release) => void (release.approval = { onTimeout: 'abort' }),
      issue: 'services[0].release.approval.onTimeout: "abort" is not one of rollback | continue',
    },
    {
      name: 'beforeFirstStep given as text',
      breakIt: (release) => void (release.approval = { beforeFirstStep: 'yes' }),
      issue: 'services[0].release.approval.beforeFirstStep: expected boolean, got "yes"',
    },
    {
      name: 'a negative standby',
      breakIt: (release) => void (release.keepPreviousMinutes = -1),
      issue: 'services[0].release.keepPreviousMinutes: -1 is not a whole number from 0 to 20160',
    },
    {
      name: 'a canary of no task',
      breakIt: (release) => void (release.canary = { minTasks: 0 }),
      issue: 'services[0].release.canary.minTasks: 0 is not a whole number from 1 to 100',
    },
    {
      name: 'an analysis interval of more than an hour',
      breakIt: (release) => void (release.analysis = { intervalMinutes: 61 }),
      issue: 'services[0].release.analysis.intervalMinutes: 61 is not a whole number from 1 to 60',
    },
    {
      name: 'a window given in seconds',
      breakIt: (release) => void (release.analysis = { windowMinutes: 300 }),
      issue: 'services[0].release.analysis.windowMinutes: 300 is not a whole number from 1 to 60',
    },
    {
      name: 'a metric lag above 15 minutes',
      breakIt: (release) => void (release.analysis = { metricLagSeconds: 901 }),
      issue: 'services[0].release.analysis.metricLagSeconds: 901 is not a whole number from 0 to 900',
    },
    {
      name: 'an error rate given as a fraction above 100 %',
      breakIt: (release) => void (release.analysis = { maxErrorRatePercent: 101 }),
      issue: 'services[0].release.analysis.maxErrorRatePercent: 101 is not a number from 0 to 100',
    },
    {
      name: 'a p99 ratio below 1',
      breakIt: (release) => void (release.analysis = { maxP99Ratio: 0.9 }),
      issue: 'services[0].release.analysis.maxP99Ratio: 0.9 is not a number from 1 to 10',
    },
    {
      name: 'an unknown action on inconclusive analyses',
      breakIt: (release) => void (release.analysis = { onInconclusive: 'continue' }),
      issue: 'services[0].release.analysis.onInconclusive: "continue" is not one of pause | rollback',
    },
    {
      name: 'the same alarm twice',
      breakIt: (release) => void (release.analysis = { alarms: ['sentiment-canary-5xx', 'sentiment-canary-5xx'] }),
      issue: 'services[0].release.analysis.alarms[1]: "sentiment-canary-5xx" is already listed at alarms[0]',
    },
    {
      name: 'a probe without a port',
      breakIt: (release) => void (release.probe = {}),
      issue: 'services[0].release.probe.port: is required (a whole number from 1 to 65535)',
    },
    {
      name: 'a port above 65535',
      breakIt: (release) => void (release.probe = { port: 80800 }),
      issue: 'services[0].release.probe.port: 80800 is not a whole number from 1 to 65535',
    },
    {
      name: 'a probe path without its leading slash',
      breakIt: (release) => void (release.probe = { port: 8080, path: 'health' }),
      issue: 'services[0].release.probe.path: "health" is not a URL path (starting with /, no spaces, at most 1024 characters)',
    },
    {
      name: 'an expected status that is no HTTP status',
      breakIt: (release) => void (release.probe = { port: 8080, expectStatus: 2000 }),
      issue: 'services[0].release.probe.expectStatus: 2000 is not a whole number from 100 to 599',
    },
    {
      name: 'no probe',
      breakIt: (release) => void delete release.probe,
      issue: 'services[0].release.probe: is required (object)',
    },
  ];

  it.each(cases)('rejects $name', ({ breakIt, issue }) => {
    const raw = exampleWithGray();
    const replaced = breakIt(raw.services[0].release);
    if (replaced !== undefined) raw.services[0].release = replaced;

    expect(issuesOf(raw)).toEqual([issue]);
  });

  it('reports every problem at once', () => {
    const raw = exampleWithGray();
    raw.services[0].release.probe = { port: 0 };
    raw.services[0].release.canary = { minTasks: 0 };

    expect(issuesOf(raw)).toEqual([
      'services[0].release.canary.minTasks: 0 is not a whole number from 1 to 100',
      'services[0].release.probe.port: 0 is not a whole number from 1 to 65535',
    ]);
  });
});

/** Each cross-field rule, on the edge that passes and one past it that fails: a rule test that cannot fail proves nothing. */
