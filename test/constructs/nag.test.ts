/**
 * cdk-nag at every synth: buildApp registers the AwsSolutions, NIST 800-53 rev 5 and Serverless packs, a finding nobody
 * acknowledged fails the synth, and every acknowledgement names one rule and says why about the construct it is on.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { type App, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../lib/build-app';
import type { ModelRolloutStack } from '../../lib/model-rollout-stack';
import { EXAMPLE_CONFIG, readExampleConfig, temporaryFolder, writeConfig } from '../fixtures/example-config';

/** The shape of `validation-report.json` in the cloud assembly, as far as these tests read it. */
interface ValidationReport {
  pluginReports: {
    pluginName: string;
    violations: { ruleName: string; description: string; severity: string; violatingConstructs: { constructPath: string }[] }[];
  }[];
}

const PACKS = ['AwsSolutions', 'NIST.800.53.R5', 'Serverless'];
const RULE_ID = /^(AwsSolutions|NIST\.800\.53\.R5|Serverless)-[A-Za-z0-9]+(\[.+\])?$/;
const MIN_REASON_LENGTH = 40;

const folder = temporaryFolder('nag');
afterAll(() => folder.remove());

interface Synth {
  app: App;
  /** What `app.synth()` threw, if it did. */
  error?: Error;
  /** The assembly's validation report; absent when none was written. */
  report?: ValidationReport;
}

/**
 * Builds `configFile` with buildApp, lets `change` add to the stack, and synthesizes it into its own folder. The
 * report cdk-nag prints on a failed synth is kept out of the test output.
 */
function synth(name: string, configFile: string, change?: (stack: ModelRolloutStack) => void): Synth {
  const outdir = path.join(folder.path, `${name}.out`);
  const { app, stack } = buildApp(configFile, { outdir, context: { 'aws:cdk:bundling-stacks': [] } });
  change?.(stack);
  const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  let error: Error | undefined;
  try {
    app.synth();
  } catch (thrown) {
    error = thrown as Error;
  } finally {
    quiet.mockRestore();
  }
  const reportFile = path.join(outdir, 'validation-report.json');
  const report = existsSync(reportFile) ? (JSON.parse(readFileSync(reportFile, 'utf8')) as ValidationReport) : undefined;
  return { app, error, report };
}

const synths = new Map<string, Synth>();
function once(name: string, make: () => Synth): Synth {
  if (!synths.has(name)) synths.set(name, make());
  return synths.get(name)!;
}

const example = () => once('example', () => synth('example', EXAMPLE_CONFIG));
/** The example deployed to one account and Region: ARNs the stack builds hold them literally, not as pseudo parameters. */
const pinned = () =>
  once('pinned', () =>
    synth('pinned', writeConfig(folder.path, 'pinned', { ...readExampleConfig(), account: '123456789012', region: 'eu-west-1' })),
  );
/** The example with the acknowledgements that depend on the configuration switched on: KMS aliases, signing profiles. */
const signing = () =>
  once('signing', () => {
    const config = readExampleConfig();
    const [sentiment, ...others] = config.services;
    const file = writeConfig(folder.path, 'signing', {
      ...config,
      signerRootCertificate: 'test/fixtures/notation/test-only-root-ca.cert.pem',
      services: [
        {
          ...sentiment,
          signing: {
            ...sentiment.signing,
            kmsKeys: ['alias/model-signing', 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab'],
            signingProfiles: ['arn:aws:signer:us-east-1:123456789012:/signing-profiles/ModelRelease'],
          },
        },
        ...others,
      ],
    });
    return synth('signing', file);
  });

/** Every finding in the report, as `rule at construct path`. */
function findings(report: ValidationReport | undefined): string[] {
  return (report?.pluginReports ?? []).flatMap((plugin) =>
    plugin.violations.flatMap((v) =>
      v.violatingConstructs.map((c) => `${v.ruleName} at ${c.constructPath} (${plugin.pluginName}: ${v.description})`),
    ),
  );
}

function expectNoFinding({ error, report }: Synth): void {
  const found = findings(report);
  expect(found, `Unacknowledged cdk-nag findings:\n${found.map((f) => `  ${f}`).join('\n')}`).toEqual([]);
  expect(error).toBeUndefined();
  expect(report, 'the assembly has a validation report').toBeDefined();
}

interface Acknowledgement {
  path: string;
  rule: string;
  reason: string;
}

/** Every acknowledgement recorded on the app's constructs (`Validations.of(construct).acknowledge`). */
function acknowledgementsOf(app: App): Acknowledgement[] {
  return app.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          // aws-cdk-lib records an id without a plugin prefix as `Annotation::<id>`; cdk-nag reads it without the prefix.
          rule: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

/** Names a reason can use for the construct at `constructPath`: `CheckReleasePolicy`, `check-release-policy`, `check-release`. */
function namesOf(constructPath: string): string[] {
  const id = constructPath.split('/').pop()!;
  const kebab = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
  const base = id.replace(/(Policy|Role|Resource)$/, '');
  return [id, kebab(id), base, kebab(base)];
}

describe('cdk-nag at synth', () => {
  it('synthesizes the example configuration with no unacknowledged finding', () => {
    expectNoFinding(example());
  });

  it('synthesizes the example pinned to an account and Region with no unacknowledged finding', () => {
    expectNoFinding(pinned());
  });

  it('synthesizes KMS key aliases and signing profiles with no unacknowledged finding', () => {
    expectNoFinding(signing());
  });

  it('fails the synth on a finding nobody acknowledged, from either pack, naming the rule and the construct', () => {
    const { error, report } = synth('unacknowledged', EXAMPLE_CONFIG, (stack) => {
      new sqs.Queue(stack, 'UnencryptedQueue', { encryption: sqs.QueueEncryption.UNENCRYPTED, enforceSSL: true });
      new logs.LogGroup(stack, 'UnencryptedLogs', { retention: logs.RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.RETAIN });
    });

    // The message is the report itself (or, outside an in-memory synth, where to find it).
    expect(error).toBeDefined();
    expect(error!.message).toContain('validation-report.json');
    for (const named of [
      'AwsSolutions-SQS2',
      'ModelRollout/UnencryptedQueue/Resource',
      'NIST.800.53.R5-CloudWatchLogGroupEncrypted',
      'ModelRollout/UnencryptedLogs/Resource',
    ]) {
      expect(error!.message).toContain(named);
    }
    expect(report?.pluginReports.map((p) => p.pluginName).sort()).toEqual(PACKS);
    const byRule = (pack: string, rule: string) =>
      report?.pluginReports
        .find((p) => p.pluginName === pack)
        ?.violations.find((v) => v.ruleName === rule)
        ?.violatingConstructs.map((c) => c.constructPath);
    expect(byRule('AwsSolutions', 'AwsSolutions-SQS2')).toEqual(['ModelRollout/UnencryptedQueue/Resource']);
    expect(byRule('NIST.800.53.R5', 'NIST.800.53.R5-CloudWatchLogGroupEncrypted')).toEqual(['ModelRollout/UnencryptedLogs/Resource']);
    // Nothing else of the stack fails: the two added constructs are the only ones named.
    const named = new Set(
      report?.pluginReports.flatMap((p) => p.violations.flatMap((v) => v.violatingConstructs.map((c) => c.constructPath))),
    );
    expect([...named].sort()).toEqual(['ModelRollout/UnencryptedLogs/Resource', 'ModelRollout/UnencryptedQueue/Resource']);
  });

  it('acknowledges each finding with one rule and a reason about the construct it is on', () => {
    const acknowledgements = [example(), pinned(), signing()].flatMap(({ app }) => acknowledgementsOf(app));
    expect(acknowledgements.length).toBeGreaterThan(0);

    const malformed = acknowledgements.filter((a) => !RULE_ID.test(a.rule)).map((a) => `${a.path}: ${a.rule}`);
    expect(
      malformed,
      `Acknowledgements that do not name one AwsSolutions, NIST.800.53.R5 or Serverless rule:\n${malformed.join('\n')}`,
    ).toEqual([]);

    const short = acknowledgements
      .filter((a) => a.reason.trim().length < MIN_REASON_LENGTH)
      .map((a) => `${a.path} ${a.rule}: "${a.reason}"`);
    expect(short, `Reasons shorter than ${MIN_REASON_LENGTH} characters:\n${short.join('\n')}`).toEqual([]);

    // The same reason for the same rule on two constructs is a blanket excuse, unless it names each of them.
    const paths = new Map<string, Set<string>>();
    for (const a of acknowledgements) {
      const key = `${a.rule}\n${a.reason}`;
      paths.set(key, (paths.get(key) ?? new Set()).add(a.path));
    }
    const shared = [...paths]
      .filter(([key, at]) => at.size > 1 && ![...at].every((p) => namesOf(p).some((name) => key.split('\n')[1]!.includes(name))))
      .map(([key, at]) => `${key.split('\n')[0]} on ${[...at].join(', ')}: "${key.split('\n')[1]}"`);
    expect(shared, `Reasons shared by several constructs without naming them:\n${shared.join('\n')}`).toEqual([]);
  });
});
