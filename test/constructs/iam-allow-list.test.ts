/**
 * Every permission the synthesized stack grants — IAM policies (customer-managed and CDK's inline default ones), role
 * trust policies, KMS key policies, SNS topic and SQS queue policies, Lambda permissions — read from the template and
 * compared with the allow-list (test/fixtures/iam-allow-list.ts), which a security reviewer reads instead of the template. A grant not on the list
 * fails, and so does an entry of the list nothing grants any more, so the list cannot rot.
 *
 * How to read an entry: `<who>: <Allow|Deny> [<principal>] <action> on <resource>[ if <condition>]`, where `who` is the
 * construct path of the policy (or key, topic policy, queue policy, role trust policy) holding the statement and
 * `<Ledger/Table.Arn>` is a reference to a resource of the stack. An entry starting with `[example]` or `[variant]` is
 * granted with that configuration only (see CONFIGURATIONS); every other entry with both.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/build-app';
import { loadConfig, readSignerRootCertificate, toServiceCatalog } from '../../lib/config';
import { ModelRolloutStack } from '../../lib/model-rollout-stack';
import { EXAMPLE_CONFIG, readExampleConfig, temporaryFolder, writeConfig } from '../fixtures/example-config';
import { ACTIONS_WITHOUT_RESOURCE, ALLOW_LIST, WILDCARD_ACTIONS } from '../fixtures/iam-allow-list';
import { type Grant, grantsOf } from '../fixtures/policy-grants';

// ---------------------------------------------------------------------------------------------------------------------
// The configurations synthesized
// ---------------------------------------------------------------------------------------------------------------------

type ConfigurationName = 'example' | 'variant';

const folder = temporaryFolder('iam-allow-list');
afterAll(() => folder.remove());

/**
 * `example`: model-rollout.config.json as shipped. `variant`: the same with every conditional grant switched on or
 * off — the production service's cluster given as an ARN, KMS keys by alias name, alias ARN and key ARN, a signing
 * profile and a profile version of another account and Region (with the Notation test root pinned), and released gray
 * (examples/gray-release.config.json's traffic set-up, with an analysis alarm of its own); the staging service with no
 * roles to pass and no alarms.
 */
const CONFIGURATIONS: Readonly<Record<ConfigurationName, () => string>> = {
  example: () => EXAMPLE_CONFIG,
  variant: () => {
    const example = readExampleConfig();
    const [sentiment, summarizer] = example.services;
    return writeConfig(folder.path, 'variant', {
      ...example,
      signerRootCertificate: 'test/fixtures/notation/test-only-root-ca.cert.pem',
      services: [
        {
          ...sentiment,
          cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/models-prod',
          signing: {
            ...sentiment.signing,
            kmsKeys: [
              'alias/model-signing',
              'arn:aws:kms:us-east-1:123456789012:alias/release-signing',
              'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
            ],
            signingProfiles: [
              'arn:aws:signer:us-east-1:123456789012:/signing-profiles/ModelRelease',
              'arn:aws:signer:us-west-2:210987654321:/signing-profiles/Vendor/abcdEFGH12',
            ],
          },
          release: { ...grayExample().release, analysis: { ...grayExample().release.analysis, alarms: ['sentiment-canary-5xx'] } },
        },
        { ...summarizer, taskRoleArn: undefined, executionRoleArn: undefined, health: { ...summarizer.health, alarms: [] } },
      ],
    });
  },
};

/** The gray example's sentiment service (its release, in the configuration's terms). */
function grayExample(): { release: Record<string, any> } {
  return JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'examples', 'gray-release.config.json'), 'utf8')).services[0];
}

interface Synthesized {
  configFile: string;
  grants: Grant[];
}

const synthesized = new Map<ConfigurationName, Synthesized>();

/** The configuration synthesized through buildApp (cdk-nag included), once per file. */
function synth(name: ConfigurationName): Synthesized {
  let result = synthesized.get(name);
  if (result === undefined) {
    const configFile = CONFIGURATIONS[name]();
    const { app, stack } = buildApp(configFile, {
      outdir: path.join(folder.path, `${name}.out`),
      context: { 'aws:cdk:bundling-stacks': [] },
    });
    app.synth();
    result = { configFile, grants: grantsOf(stack, Template.fromStack(stack).toJSON()) };
    synthesized.set(name, result);
  }
  return result;
}

/** The allow-list entries that apply to `name`, without their `[example]` / `[variant]` tag. */
function allowListOf(name: ConfigurationName): string[] {
  return ALLOW_LIST.flatMap((entry) => {
    const tagged = /^\[(example|variant)\] (.*)$/.exec(entry);
    return tagged === null ? [entry] : tagged[1] === name ? [tagged[2]!] : [];
  });
}

/** Grants not on the list, and entries of the list nothing granted. */
function compareWithAllowList(allowList: readonly string[], grants: readonly Grant[]): { unexpected: string[]; unseen: string[] } {
  const granted = new Set(grants.map((g) => g.line));
  const allowed = new Set(allowList);
  return { unexpected: [...granted].filter((line) => !allowed.has(line)), unseen: [...allowed].filter((line) => !granted.has(line)) };
}

function listed(title: string, lines: readonly string[]): string {
  return lines.length === 0 ? '' : `\n${title} (${lines.length}):\n${lines.map((line) => `  ${line}`).join('\n')}`;
}

/** `iam:Pass*` matches `iam:PassRole`; IAM action names are case-insensitive. */
function actionMatches(pattern: string, action: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.?+^$(){}[\]|\\]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  );
  return regex.test(action);
}

const NAMES: readonly ConfigurationName[] = ['example', 'variant'];

// ---------------------------------------------------------------------------------------------------------------------

describe('IAM allow-list', () => {
  it('has no entry twice', () => {
    for (const name of NAMES) {
      const entries = allowListOf(name);
      expect(entries.filter((entry, index) => entries.indexOf(entry) !== index)).toEqual([]);
    }
  });

  it.each(NAMES)('%s configuration: grants exactly what the allow-list names', (name) => {
    const { unexpected, unseen } = compareWithAllowList(allowListOf(name), synth(name).grants);
    const message =
      listed('Granted but not on the allow-list (review, then add to ALLOW_LIST)', unexpected) +
      listed('On the allow-list but not granted (remove from ALLOW_LIST)', unseen);
    expect({ unexpected, unseen }, message).toEqual({ unexpected: [], unseen: [] });
  });

  it('allows a wildcard action only where WILDCARD_ACTIONS says why', () => {
    const wildcards = NAMES.flatMap((name) => synth(name).grants)
      .filter((g) => g.action.includes('*') || g.action.startsWith('not ') || g.principal.startsWith('not '))
      .map((g) => `${g.who}: ${g.effect} ${g.principal} ${g.action}`);
    const unexplained = [...new Set(wildcards)].filter((grant) => !WILDCARD_ACTIONS.includes(grant));
    expect(unexplained, listed('Wildcard actions not in WILDCARD_ACTIONS', unexplained)).toEqual([]);
    expect(WILDCARD_ACTIONS.filter((grant) => !wildcards.includes(grant))).toEqual([]);
  });

  it('passes roles only to ECS tasks, and only the task and execution roles the configuration names', () => {
    for (const name of NAMES) {
      const { configFile, grants } = synth(name);
      // The file as written, not as lib/config/ reads it.
      const { services } = JSON.parse(readFileSync(configFile, 'utf8')) as {
        services: { taskRoleArn?: string; executionRoleArn?: string }[];
      };
      const configured = services.flatMap((s) => [s.taskRoleArn, s.executionRoleArn].filter((arn) => arn !== undefined));
      const passRole = grants.filter((g) => g.effect === 'Allow' && actionMatches(g.action, 'iam:PassRole'));
      expect(
        passRole.filter(
          (g) => g.action !== 'iam:PassRole' || g.condition !== ' if StringEquals iam:PassedToService=ecs-tasks.amazonaws.com',
        ),
      ).toEqual([]);
      expect(passRole.map((g) => g.resource).sort()).toEqual([...new Set(configured)].sort());
    }
  });

  it('allows an action on * only when AWS offers no resource to name for it', () => {
    for (const name of NAMES) {
      // Identity policies only: in a key policy, `*` is the key itself.
      const onAnything = synth(name).grants.filter((g) => g.principal === '' && g.effect === 'Allow' && g.resource === '*');
      const scopable = onAnything.filter((g) => ACTIONS_WITHOUT_RESOURCE[g.action] === undefined).map((g) => g.line);
      expect(scopable, listed(`${name}: actions on * that AWS lets a policy scope`, scopable)).toEqual([]);
      expect(onAnything.length).toBeGreaterThan(0);
    }
  });

  it('reports a statement added to a function policy as the one grant not on the list', () => {
    // Without cdk-nag: the check under test must find the statement on its own.
    const config = loadConfig(EXAMPLE_CONFIG);
    const baseDir = path.dirname(EXAMPLE_CONFIG);
    const app = new App({ outdir: path.join(folder.path, 'extra.out'), context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new ModelRolloutStack(app, config.stackName, {
      config,
      catalog: toServiceCatalog(config, baseDir),
      signerRootCertificates: readSignerRootCertificate(config, baseDir),
    });
    stack.pipeline.policies['update-service'].addStatements(new iam.PolicyStatement({ actions: ['ecs:DeleteService'], resources: ['*'] }));

    const grants = grantsOf(stack, Template.fromStack(stack).toJSON());
    expect(compareWithAllowList(allowListOf('example'), grants)).toEqual({
      unexpected: ['Pipeline/UpdateServicePolicy: Allow ecs:DeleteService on *'],
      unseen: [],
    });
    expect(
      grants.filter((g) => g.principal === '' && g.resource === '*' && ACTIONS_WITHOUT_RESOURCE[g.action] === undefined).map((g) => g.line),
    ).toEqual(['Pipeline/UpdateServicePolicy: Allow ecs:DeleteService on *']);
  });
});
