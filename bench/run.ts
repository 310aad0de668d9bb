/**
 * `npm run bench`: the figures the README states, measured in one run, printed as `figure <name> <value> <unit>`.
 *
 * Bundles every Lambda function as `cdk deploy` would (local esbuild, no Docker) and, per function, reports the size
 * of its index.js and two medians over fresh Node.js 24 processes (the Lambda runtime's major version, from the `node`
 * package) loading the bundle with the function's environment (source maps enabled, as deployed):
 * - `cold-start-*`: wall time from spawning the process to its exit: Node's own start-up included;
 * - `cold-import-*`: the `require` of the bundle alone, timed inside the process.
 * Runs are interleaved across functions so that a slow moment of the machine spreads over all of them.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import { buildApp } from '../lib/build-app';
import { EVENT_FUNCTIONS, STEP_FUNCTIONS } from '../lib/state-names';

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

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function figure(name: string, value: number, unit: string): void {
  process.stdout.write(`figure ${name} ${value} ${unit}\n`);
}

function main(): void {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'model-rollout-bench-'));
  try {
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

main();
