import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lib/config';
import { example, exampleWithGray, grayRelease, issuesOf, LISTENER_ARN, listenerRuleArn, ROOT, targetGroupArn } from '../config-fixture';

describe('defaults', () => {
  it('reconciles every 15 minutes when reconcileEveryMinutes is left out', () => {
    const raw = example();
    delete raw.reconcileEveryMinutes;

    expect(parseConfig(raw, ROOT).reconcileEveryMinutes).toBe(15);
  });

  it.each([1, 60, 1440])('keeps reconcileEveryMinutes %i as given (1 to 1440)', (minutes) => {
    const raw = example();
    raw.reconcileEveryMinutes = minutes;

    expect(parseConfig(raw, ROOT).reconcileEveryMinutes).toBe(minutes);
  });

  it('runs 5 of each function at once when concurrencyPerFunction is left out', () => {
    const raw = example();
    delete raw.concurrencyPerFunction;

    expect(parseConfig(raw, ROOT).concurrencyPerFunction).toBe(5);
  });

  it('keeps concurrencyPerFunction "none": no reserved concurrency, for a low account quota', () => {
    const raw = example();
    raw.concurrencyPerFunction = 'none';

    expect(parseConfig(raw, ROOT).concurrencyPerFunction).toBe('none');
  });

  it.each([1, 100])('keeps concurrencyPerFunction %i as given (1 to 100)', (concurrency) => {
    const raw = example();
    raw.concurrencyPerFunction = concurrency;

    expect(parseConfig(raw, ROOT).concurrencyPerFunction).toBe(concurrency);
  });

  it('fills in each alert list on its own', () => {
    const raw = example();
    raw.alerts = { critical: ['oncall@example.com'] };

    expect(parseConfig(raw, ROOT).alerts).toEqual({ critical: ['oncall@example.com'], warning: [], info: [] });
  });
});

describe('invalid configurations name the field and the value', () => {
  const cases: { name: string; breakIt: (raw: any) => void; issue: string }[] = [
    {
      name: 'a repository configured for two services',
      breakIt: (raw) => (raw.services[1].repository = 'models/sentiment'),
      issue:
        'services[1].repository: "models/sentiment" is already configured for service "sentiment" (services[0]); ' +
        'this version starts one execution per push, so a repository can feed at most one service',
    },
    {
      name: 'two services with the same name',
      breakIt: (raw) => (raw.services[1].name = 'sentiment'),
      issue: 'services[1].name: "sentiment" is already the name of services[0]; service names must be unique',
    },
    {
      name: 'an alert address that is not an e-mail address',
      breakIt: (raw) => (raw.alerts.warning = ['ml-platform at example.com']),
      issue: 'alerts.warning[0]: "ml-platform at example.com" is not a valid e-mail address',
    },
    {
      name: 'the same alert address twice in one list',
      breakIt: (raw) => (raw.alerts.critical = ['oncall@example.com', 'oncall@example.com']),
      issue: 'alerts.critical[1]: "oncall@example.com" is already listed at alerts.critical[0]',
    },
    {
      name: 'an unknown key at the top level',
      breakIt: (raw) => (raw.alert = {}),
      issue:
        '(configuration): unknown key "alert" ' +
        '(allowed: stackName, account, region, alerts, signerRootCertificate, reconcileEveryMinutes, concurrencyPerFunction, ' +
        'network, services)',
    },
    {
      name: 'a signing profile without the pinned AWS Signer root',
      breakIt: (raw) =>
        (raw.services[0].signing.signingProfiles = ['arn:aws:signer:us-east-1:123456789012:/signing-profiles/ModelRelease']),
      issue:
        'services[0].signing.signingProfiles: trusts AWS Signer signing profiles, so signerRootCertificate must name the pinned ' +
        'AWS Signer root certificate file',
    },
    {
      name: 'no services',
      breakIt: (raw) => (raw.services = []),
      issue: 'services: must list at least one service',
    },
    {
      name: 'a reconciliation every 0 minutes',
      breakIt: (raw) => (raw.reconcileEveryMinutes = 0),
      issue: 'reconcileEveryMinutes: 0 is not a whole number from 1 to 1440',
    },
    {
      name: 'a reconciliation less often than once a day',
      breakIt: (raw) => (raw.reconcileEveryMinutes = 1441),
      issue: 'reconcileEveryMinutes: 1441 is not a whole number from 1 to 1440',
    },
    {
      name: 'a fractional reconciliation interval',
      breakIt: (raw) => (raw.reconcileEveryMinutes = 7.5),
      issue: 'reconcileEveryMinutes: 7.5 is not a whole number from 1 to 1440',
    },
    {
      name: 'a reconciliation interval given as text',
      breakIt: (raw) => (raw.reconcileEveryMinutes = '15'),
      issue: 'reconcileEveryMinutes: "15" is not a whole number from 1 to 1440',
    },
    {
      name: 'a concurrency of 0',
      breakIt: (raw) => (raw.concurrencyPerFunction = 0),
      issue: 'concurrencyPerFunction: 0 is not a whole number from 1 to 100, nor "none"',
    },
    {
      name: 'a concurrency above 100',
      breakIt: (raw) => (raw.concurrencyPerFunction = 101),
      issue: 'concurrencyPerFunction: 101 is not a whole number from 1 to 100, nor "none"',
    },
    {
      name: 'a fractional concurrency',
      breakIt: (raw) => (raw.concurrencyPerFunction = 2.5),
      issue: 'concurrencyPerFunction: 2.5 is not a whole number from 1 to 100, nor "none"',
    },
    {
      name: 'an account without a region',
      breakIt: (raw) => (raw.account = '123456789012'),
      issue: `account: "123456789012" is set but region is not: set both to pin the stack's environment, or neither`,
    },
    {
      name: 'an account ID of the wrong length',
      breakIt: (raw) => Object.assign(raw, { account: '12345', region: 'us-east-1' }),
      issue: 'account: "12345" is not a 12-digit AWS account ID',
    },
  ];

  it('accepts the unbroken example (so that each case below fails for its own reason)', () => {
    expect(() => parseConfig(example(), ROOT)).not.toThrow();
  });

  it.each(cases)('rejects $name', ({ breakIt, issue }) => {
    const raw = example();
    breakIt(raw);

    expect(issuesOf(raw)).toEqual([issue]);
  });

  it('reports every problem at once, in the error message too', () => {
    const raw = example();
    raw.services[1].environment = 'prod';
    raw.services[0].health.deadlineMinutes = 121;

    expect(() => parseConfig(raw, ROOT)).toThrow(
      [
        'Invalid configuration:',
        '  - services[0].health.deadlineMinutes: 121 is not a whole number from 1 to 120',
        '  - services[1].environment: "prod" is not one of production | staging | development',
      ].join('\n'),
    );
  });

  it('rejects something that is not an object', () => {
    expect(issuesOf(['services'])).toEqual(['(configuration): expected object, got ["services"]']);
  });
});

describe('gray releases of different services share nothing they move', () => {
  /** sentiment (services[0]) gray, and summarizer (services[1]) gray too with its own rule and target groups, both in models-prod. */
  function twoGray(change: (summarizer: any, sentiment: any) => void = () => {}) {
    const raw = exampleWithGray();
    raw.services[1].cluster = 'models-prod';
    raw.services[1].release = grayRelease('summarizer', '1111222233334444');
    change(raw.services[1], raw.services[0]);
    return raw;
  }

  it('accepts two gray releases with their own canaries, rules and target groups in one cluster', () => {
    expect(() => parseConfig(twoGray(), ROOT)).not.toThrow();
  });

  it('accepts the same canary service name in different clusters', () => {
    const raw = twoGray((summarizer) => {
      summarizer.cluster = 'models-staging';
      summarizer.release.traffic.canaryService = 'sentiment-canary';
    });

    expect(() => parseConfig(raw, ROOT)).not.toThrow();
  });

  const cases: { name: string; change: (summarizer: any, sentiment: any) => void; issue: string }[] = [
    {
      name: 'the same canary service in the same cluster',
      change: (summarizer) => (summarizer.release.traffic.canaryService = 'sentiment-canary'),
      issue:
        'services[1].release.traffic.canaryService: "sentiment-canary" is already the canary service of service "sentiment" ' +
        "(services[0]); two gray releases would scale and replace each other's canary",
    },
    {
      name: 'the same canary service in the same cluster, named once by ARN',
      change: (summarizer) => {
        summarizer.cluster = 'arn:aws:ecs:us-east-1:123456789012:cluster/models-prod';
        summarizer.release.traffic.canaryService = 'sentiment-canary';
      },
      issue:
        'services[1].release.traffic.canaryService: "sentiment-canary" is already the canary service of service "sentiment" ' +
        "(services[0]); two gray releases would scale and replace each other's canary",
    },
    {
      name: 'the same listener rule',
      change: (summarizer) => (summarizer.release.traffic.listenerRuleArn = listenerRuleArn('9683b2d02a6cabee')),
      issue:
        `services[1].release.traffic.listenerRuleArn: ${JSON.stringify(listenerRuleArn('9683b2d02a6cabee')).slice(0, 77)}... is already ` +
        `the listener rule of service "sentiment" (services[0]); two gray releases would overwrite each other's weights`,
    },
    {
      name: 'the same listener',
      change: (summarizer, sentiment) => {
        for (const { traffic } of [summarizer.release, sentiment.release]) {
          delete traffic.listenerRuleArn;
          traffic.listenerArn = LISTENER_ARN;
        }
      },
      issue:
        `services[1].release.traffic.listenerArn: ${JSON.stringify(LISTENER_ARN).slice(0, 77)}... is already the listener of service ` +
        `"sentiment" (services[0]); two gray releases would overwrite each other's weights`,
    },
    {
      name: 'another service’s canary target group as the stable one',
      change: (summarizer) => (summarizer.release.traffic.stableTargetGroupArn = targetGroupArn('sentiment-canary')),
      issue:
        `services[1].release.traffic.stableTargetGroupArn: ${JSON.stringify(targetGroupArn('sentiment-canary')).slice(0, 77)}... is ` +
        'already the canary target group of service "sentiment" (services[0]); a target group serves one service: two would share ' +
        "its weight and mix their metrics in each other's analysis",
    },
    {
      name: 'another service’s ECS service (same cluster) as the canary',
      change: (_, sentiment) => (sentiment.release.traffic.canaryService = 'summarizer'),
      issue:
        'services[0].release.traffic.canaryService: "summarizer" is the ECS service of service "summarizer-staging" (services[1]) ' +
        'in the same cluster: a canary is scaled to 0 after each release, so it cannot serve another service',
    },
  ];

  it.each(cases)('rejects $name, naming the other service', ({ change, issue }) => {
    expect(issuesOf(twoGray(change))).toEqual([issue]);
  });

  it('rejects a rolling service’s ECS service as a canary in its cluster, and accepts it in another cluster', () => {
    const raw = exampleWithGray();
    raw.services[0].release.traffic.canaryService = 'summarizer';
    expect(() => parseConfig(raw, ROOT)).not.toThrow(); // summarizer runs in models-staging

    raw.services[1].cluster = 'models-prod';
    expect(issuesOf(raw)).toEqual([
      'services[0].release.traffic.canaryService: "summarizer" is the ECS service of service "summarizer-staging" (services[1]) ' +
        'in the same cluster: a canary is scaled to 0 after each release, so it cannot serve another service',
    ]);
  });
});
