/**
 * `npm run bench`: the figures the README states, measured in one run, printed as `figure <name> <value> <unit>`.
 *
 * Bundles every Lambda function as `cdk deploy` would (local esbuild, no Docker) and, per function, reports the size
 * of its index.js and two medians over fresh Node.js 24 processes (the Lambda runtime's major version, from the `node`
 * package) loading the bundle with the function's environment (source maps enabled, as deployed):
 * - `cold-start-*`: wall time from spawning the process to its exit: Node's own start-up included;
 * - `cold-import-*`: the `require` of the bundle alone, timed inside the process.
 * Runs are interleaved across functions so that a slow moment of the machine spreads over all of them.
 *
 * Then, for 1, 10 and 100 services of the example's shape: the seconds `cdk synth` takes (without bundling, which the
 * figures above measure), the template's resources, the largest customer-managed policy in characters (as IAM counts
 * them, references resolved as the local run names resources) and the most managed policies one role needs; and the
 * wall time of `npm start`.
 *
 * And, through the local run in simulated time (bench/rollout-figures.ts says which configuration and how): the state
 * transitions and Lambda invocations of one successful deployment whose ECS rollout settles after 5 and after 120
 * minutes, and the median delay between ECS finishing the deployment and the execution knowing it.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../lib/build-app';
import { EVENT_FUNCTIONS, STEP_FUNCTIONS } from '../lib/state-names';
import { resolvePolicy } from '../local/iam/policies';
import { configWithServices } from '../test/fixtures/example-config';
import { median } from './median';

const ROOT = path.resolve(__dirname, '..');
const NODE_24 = path.join(ROOT, 'node_modules', 'node', 'bin', 'node');
const COLD_IMPORT_RUNS = Number(process.env.BENCH_RUNS ?? 11);

interface Bundle {
  name: string;
  indexJs: string;
  environment: Record<string, string>;
}

function bundleEveryFunction(outdir: string): Bundle[] {
  const { app, stack } = buildApp(path.join(ROOT, 'model-rollout.config.json'), { outdir });
  const assembly = app.synth();
  const resources = assembly.getStackArtifact(stack.artifactId).template.Resources as Record<
    string,
    { Properties: { Code: { S3Key: unknown }; Environment?: { Variables?: Record<string, unknown> } } }
  >;
  return [...STEP_FUNCTIONS, ...EVENT_FUNCTIONS].map((name) => {
    const { Properties } = resources[stack.getLogicalId(stack.pipeline.functions[name].node.defaultChild as CfnElement)];
    // The default synthesizer stages a file asset `<hash>.zip` as the assembly's folder `asset.<hash>`.
    const assetDirectory = path.join(assembly.directory, `asset.${String(Properties.Code.S3Key).replace(/\.zip$/, '')}`);
    const environment = Object.fromEntries(
      Object.entries<unknown>(Properties.Environment?.Variables ?? {}).map(([key, value]) => [
        key,
        typeof value === 'string' ? value : 'unresolved-at-synth',
      ]),
    );
    return { name, indexJs: path.join(assetDirectory, 'index.js'), environment };
  });
}

/** One cold load of the bundle (nothing is called, nothing reaches the network): process wall time and require time, in seconds. */
function coldLoad(bundle: Bundle): { start: number; require: number } {
  // The require time goes to stderr: the bundle's own cold-start log line is on stdout.
  const script =
    'const t = process.hrtime.bigint(); require(process.argv[1]); process.stderr.write(String(Number(process.hrtime.bigint() - t) / 1e9));';
  const started = process.hrtime.bigint();
  const result = spawnSync(NODE_24, ['-e', script, bundle.indexJs], {
    cwd: path.dirname(bundle.indexJs),
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      // An SDK the bundle leaves external resolves from here, as it would from the runtime's own node_modules.
      NODE_PATH: path.join(ROOT, 'node_modules'),
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench-only',
      AWS_SECRET_ACCESS_KEY: 'bench-only',
      AWS_EC2_METADATA_DISABLED: 'true',
      ...bundle.environment,
    },
  });
  const start = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) throw new Error(`loading ${bundle.name}'s bundle failed (exit ${result.status}): ${result.stderr}`);
  return { start, require: Number(result.stderr) };
}

function figure(name: string, value: number, unit: string): void {
  process.stdout.write(`figure ${name} ${value} ${unit}\n`);
}

/** Synthesizes `count` services of the example's shape (no bundling) and reports its time, size and largest policy. */
function stackScale(folder: string, count: number): void {
  const configFile = configWithServices(folder, count);
  const started = process.hrtime.bigint();
  const { app, stack } = buildApp(configFile, {
    outdir: path.join(folder, `scale-${count}.out`),
    context: { 'aws:cdk:bundling-stacks': [] },
  });
  app.synth();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
  const env = { account: '123456789012', region: 'us-east-1', partition: 'aws' };
  const managed = Object.values(resources).filter((resource) => resource.Type === 'AWS::IAM::ManagedPolicy');
  const largest = Math.max(
    ...managed.map((policy) => JSON.stringify(resolvePolicy(policy.Properties.PolicyDocument, env, resources)).length),
  );
  const perRole = new Map<string, number>();
  // ApproverPolicy is attached to no role of the stack (operators attach it to theirs).
  for (const policy of managed)
    for (const role of (policy.Properties.Roles ?? []) as { Ref: string }[]) perRole.set(role.Ref, (perRole.get(role.Ref) ?? 0) + 1);
  figure(`synth-seconds-${count}-services`, Number(seconds.toFixed(2)), 's');
  figure(`resources-${count}-services`, Object.keys(resources).length, 'resources');
  figure(`largest-policy-${count}-services`, largest, 'characters');
  figure(`most-policies-per-role-${count}-services`, Math.max(...perRole.values()), 'policies');
}

/** Wall time of the README's `npm start`: every demo scenario, played against the simulated account. */
function npmStartSeconds(): number {
  const started = process.hrtime.bigint();
  const result = spawnSync('npm', ['start', '--silent'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`npm start failed (exit ${result.status}): ${result.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** The rollout figures (bench/rollout-figures.ts), printed for each duration, and the gray release's (bench/gray-figures.ts). */
async function rolloutFigures(outdir: string): Promise<void> {
  // Handler logs would bury the figures; the local modules' Logger reads the level once, when first imported.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  const { measureRollouts } = await import('./rollout-figures');
  for (const { settleMinutes, work, detectionDelaySeconds } of await measureRollouts(outdir, [5, 120])) {
    figure(`state-transitions-${settleMinutes}-min-rollout`, work.stateTransitions, 'transitions');
    figure(`lambda-invocations-${settleMinutes}-min-rollout`, work.lambdaInvocations, 'invocations');
    figure(`detection-delay-${settleMinutes}-min-rollout`, detectionDelaySeconds, 's');
  }
  const { measureGrayReleases } = await import('./gray-figures');
  for (const { bakeMinutes, work, analyses } of await measureGrayReleases(outdir, [5, 30])) {
    figure(`state-transitions-gray-release-${bakeMinutes}-min-bakes`, work.stateTransitions, 'transitions');
    figure(`lambda-invocations-gray-release-${bakeMinutes}-min-bakes`, work.lambdaInvocations, 'invocations');
    figure(`analyses-gray-release-${bakeMinutes}-min-bakes`, analyses, 'analyses');
  }
}

async function main(): Promise<void> {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'model-rollout-bench-'));
  try {
    // The first synth of a process also loads aws-cdk-lib: warm up once, untimed.
    buildApp(configWithServices(outdir, 1), {
      outdir: path.join(outdir, 'warm-up.out'),
      context: { 'aws:cdk:bundling-stacks': [] },
    }).app.synth();
    for (const count of [1, 10, 100]) stackScale(outdir, count);
    figure('npm-start-seconds', Number(npmStartSeconds().toFixed(1)), 's');
    await rolloutFigures(outdir);

    const bundles = bundleEveryFunction(outdir);
    for (const bundle of bundles) figure(`bundle-size-${bundle.name}`, Math.round(fs.statSync(bundle.indexJs).size / 1000), 'KB');

    const runs = new Map<string, { start: number; require: number }[]>(bundles.map((bundle) => [bundle.name, []]));
    for (let run = 0; run < COLD_IMPORT_RUNS; run++) {
      for (const bundle of bundles) runs.get(bundle.name)?.push(coldLoad(bundle));
    }
    for (const kind of ['start', 'require'] as const) {
      for (const bundle of bundles) {
        const seconds = median((runs.get(bundle.name) ?? []).map((r) => r[kind]));
        figure(`cold-${kind === 'start' ? 'start' : 'import'}-${bundle.name}`, Number(seconds.toFixed(3)), 's');
      }
    }
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  console.error(`npm run bench failed: ${error.stack ?? error.message}`);
  process.exitCode = 1;
});
