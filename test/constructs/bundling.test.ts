/**
 * The one test that really bundles every Lambda, with the local esbuild (no Docker): other tests skip bundling
 * (`aws:cdk:bundling-stacks`), so only this one shows that what `cdk deploy` uploads loads and exports its handler,
 * carries everything it needs with it (the AWS SDK at the lock file's versions too) and says which SDK it carries.
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/build-app';
import { EVENT_FUNCTIONS, STEP_FUNCTIONS } from '../../lib/state-names';
import { configWithServices, temporaryFolder, writeConfig } from '../fixtures/example-config';

const ROOT = path.resolve(__dirname, '..', '..');
const BUNDLING_TIMEOUT_MS = 120_000;
/** An index.js carrying zod and Powertools is well above this; one that left them out (or stubbed them) is not. */
const MIN_BUNDLE_BYTES = 20 * 1024;

interface LambdaFunction {
  logicalId: string;
  handler: string;
  environment: Record<string, string>;
  assetDirectory: string;
}

/** What loading a bundle in a fresh `node` process showed. */
interface LoadReport {
  handlerType: string;
  /** Every module the bundle asked `require` for at load time that is not a Node.js builtin. */
  externalRequires: string[];
  /** The JSON log lines the bundle wrote while loading (its cold start). */
  logLines: Record<string, unknown>[];
}

const LOAD_REPORT_PREFIX = 'load-report ';

let outdir: string;
let assembly: CloudAssembly;
let functions: LambdaFunction[];
/** Logical IDs of the pipeline's functions (its steps, the crash finaliser and the reconciliation), from the construct tree. */
let pipelineFunctionIds: string[];
let pipelineFunctionIdOf: Map<string, string>;
/** The services of the configuration the bundles were synthesized from. */
let catalog: readonly { name: string; repository: string }[];

beforeAll(() => {
  outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'model-rollout-bundling-'));
  // No `aws:cdk:bundling-stacks` context: every NodejsFunction is bundled for real.
  const { app, stack } = buildApp(path.join(ROOT, 'model-rollout.config.json'), { outdir });
  assembly = app.synth();
  pipelineFunctionIdOf = new Map(
    [...STEP_FUNCTIONS, ...EVENT_FUNCTIONS].map((name) => [
      name,
      stack.getLogicalId(stack.pipeline.functions[name].node.defaultChild as CfnElement),
    ]),
  );
  pipelineFunctionIds = [...pipelineFunctionIdOf.values()];
  catalog = stack.pipeline.catalog;
  const template = assembly.getStackArtifact(stack.artifactId).template as {
    Resources: Record<string, { Type: string; Properties: any }>;
  };
  functions = Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
    .map(([logicalId, { Properties }]) => ({
      logicalId,
      handler: Properties.Handler,
      environment: Properties.Environment?.Variables ?? {},
      assetDirectory: path.join(assembly.directory, `asset.${assetHash(logicalId, Properties.Code)}`),
    }));
}, BUNDLING_TIMEOUT_MS);

afterAll(() => {
  if (outdir) fs.rmSync(outdir, { recursive: true, force: true });
});

/** The default synthesizer names a file asset `<hash>.zip` in S3 and stages it as `asset.<hash>` in the assembly. */
function assetHash(logicalId: string, code: { S3Key?: unknown }): string {
  const match = typeof code?.S3Key === 'string' ? /^([0-9a-f]{64})\.zip$/.exec(code.S3Key) : null;
  if (!match) throw new Error(`test setup: ${logicalId} has no file asset S3Key (Code: ${JSON.stringify(code)})`);
  return match[1];
}

/**
 * Requires the bundle in a child `node` process, with the function's own environment variables, and reports what it
 * exports and which packages it needed from outside the bundle. The AWS SDK resolves from this repository's
 * node_modules, as it would from the Lambda runtime; nothing is called, so nothing reaches the network.
 */
const loadReports = new Map<string, LoadReport>();
function loadInChildProcess(fn: LambdaFunction): LoadReport {
  const report = loadReports.get(fn.logicalId) ?? spawnLoad(fn);
  loadReports.set(fn.logicalId, report);
  return report;
}

function spawnLoad(fn: LambdaFunction): LoadReport {
  // Records only what the bundle itself requires, not what those packages require in turn.
  const script = `
    const Module = require('node:module');
    const bundlePath = process.argv[1];
    const externalRequires = new Set();
    const load = Module._load;
    Module._load = function (request, parent, ...rest) {
      if (parent?.filename === bundlePath && !Module.isBuiltin(request)) externalRequires.add(request);
      return load.call(this, request, parent, ...rest);
    };
    const bundle = require(bundlePath);
    process.stdout.write('\\n${LOAD_REPORT_PREFIX}' + JSON.stringify({ handlerType: typeof bundle.handler, externalRequires: [...externalRequires].sort() }) + '\\n');
  `;
  const result = spawnSync(process.execPath, ['-e', script, path.join(fn.assetDirectory, 'index.js')], {
    cwd: fn.assetDirectory,
    encoding: 'utf8',
    timeout: 30_000,
    env: {
      PATH: process.env.PATH,
      NODE_PATH: path.join(ROOT, 'node_modules'),
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test-only',
      AWS_SECRET_ACCESS_KEY: 'test-only',
      AWS_EC2_METADATA_DISABLED: 'true',
      ...fn.environment,
    },
  });
  if (result.status !== 0) throw new Error(`loading ${fn.logicalId}'s bundle failed (exit ${result.status}): ${result.stderr}`);
  const lines = result.stdout.split('\n').filter((line) => line.trim() !== '');
  const report = lines.find((line) => line.startsWith(LOAD_REPORT_PREFIX));
  if (!report) throw new Error(`loading ${fn.logicalId}'s bundle printed no load report: ${result.stdout}`);
  const logLines = lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
  return { ...(JSON.parse(report.slice(LOAD_REPORT_PREFIX.length)) as Omit<LoadReport, 'logLines'>), logLines };
}

describe('Lambda bundles (real esbuild bundling)', () => {
  it('bundles one function per pipeline step and per event rule target, and no other function', () => {
    expect(functions.map((fn) => fn.logicalId).sort()).toEqual([...pipelineFunctionIds].sort());
    expect(functions).toHaveLength(STEP_FUNCTIONS.length + EVENT_FUNCTIONS.length);
    expect(functions).toHaveLength(15);
    for (const fn of functions) {
      expect(fn.handler, fn.logicalId).toBe('index.handler');
      expect(fs.existsSync(fn.assetDirectory), `${fn.logicalId}: ${fn.assetDirectory}`).toBe(true);
    }
  });

  it('stages every function as an index.js (with its source map) of more than 20 KB', () => {
    for (const fn of functions) {
      const files = fs
        .readdirSync(fn.assetDirectory)
        .filter((file) => file !== 'service-catalog.json')
        .sort();
      expect(files, fn.logicalId).toEqual(['index.js', 'index.js.map']);
      expect(fs.statSync(path.join(fn.assetDirectory, 'index.js')).size, fn.logicalId).toBeGreaterThan(MIN_BUNDLE_BYTES);
    }
  });

  it(
    'produces bundles that load in plain Node.js and export a `handler` function',
    () => {
      for (const fn of functions) {
        expect(loadInChildProcess(fn).handlerType, fn.logicalId).toBe('function');
      }
    },
    BUNDLING_TIMEOUT_MS,
  );

  it(
    'requires nothing from outside the bundle but Node.js builtins: the AWS SDK is bundled, not the runtime one',
    () => {
      for (const fn of functions) {
        const text = fs.readFileSync(path.join(fn.assetDirectory, 'index.js'), 'utf8');
        expect(loadInChildProcess(fn).externalRequires, fn.logicalId).toEqual([]);
        // Nor later, at a call: no SDK client or Smithy package is left to a `require` (an SDK error message names one).
        expect(text.match(/require\("@(?:aws-sdk\/client-|aws-sdk\/lib-|smithy\/)[^"]*"\)/g), fn.logicalId).toBeNull();
      }
    },
    BUNDLING_TIMEOUT_MS,
  );

  it('carries zod, Powertools and the AWS SDK (with its Smithy runtime) inside every bundle', () => {
    for (const fn of functions) {
      const sources = sourceMapSources(fn);
      expect(
        sources.some((source) => source.includes('node_modules/zod/')),
        `${fn.logicalId} bundles zod`,
      ).toBe(true);
      expect(
        sources.some((source) => source.includes('node_modules/@aws-lambda-powertools/logger/')),
        `${fn.logicalId} bundles the Powertools logger`,
      ).toBe(true);
      expect(
        sources.some((source) => source.includes('node_modules/@aws-sdk/client-')),
        `${fn.logicalId} bundles an AWS SDK client`,
      ).toBe(true);
      expect(
        sources.some((source) => source.includes('node_modules/@smithy/core/')),
        `${fn.logicalId} bundles the Smithy runtime`,
      ).toBe(true);
      // Of zod's error messages only the English ones are carried along (all its languages were over half of every bundle).
      const zodLocales = sources.filter((source) => /node_modules\/zod\/.*\/locales\//.test(source)).map((source) => path.basename(source));
      expect(zodLocales, fn.logicalId).toEqual(['en.js']);
    }
  });

  it('carries the service catalog as a file beside index.js in the functions that read it, and in no other', () => {
    const readers = new Set(
      ['check-release', 'await-health', 'finalise-execution', 'reconcile'].map((name) => pipelineFunctionIdOf.get(name)),
    );
    for (const fn of functions) {
      const file = path.join(fn.assetDirectory, 'service-catalog.json');
      expect(fs.existsSync(file), `${fn.logicalId} carries the catalog`).toBe(readers.has(fn.logicalId));
      if (fs.existsSync(file)) expect(JSON.parse(fs.readFileSync(file, 'utf8')), fn.logicalId).toEqual(catalog);
      expect(Object.keys(fn.environment), fn.logicalId).not.toContain('SERVICE_CATALOG');
    }
  });

  it(
    'logs at cold start the AWS SDK packages it carries, at the versions package-lock.json pins',
    () => {
      const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
        packages: Record<string, { version: string }>;
      };
      for (const fn of functions) {
        const coldStart = loadInChildProcess(fn).logLines.find((line) => line.message === 'AWS SDK bundled with this function');
        expect(coldStart, `${fn.logicalId} logs its SDK at cold start`).toBeDefined();
        const logged = coldStart!.awsSdk as Record<string, string>;
        // The packages it logs are exactly the SDK clients (and the DynamoDB document client) it bundles...
        const bundledClients = [
          ...new Set(
            sourceMapSources(fn).flatMap(
              (source) => /node_modules\/(@aws-sdk\/(?:client-[a-z0-9-]+|lib-dynamodb))\/(?!package\.json$)/.exec(source)?.[1] ?? [],
            ),
          ),
        ];
        expect(Object.keys(logged).sort(), fn.logicalId).toEqual(bundledClients.sort());
        // ...at the lock file's versions.
        for (const [name, version] of Object.entries(logged))
          expect(version, `${fn.logicalId} ${name}`).toBe(lock.packages[`node_modules/${name}`].version);
      }
    },
    BUNDLING_TIMEOUT_MS,
  );
});

function sourceMapSources(fn: LambdaFunction): string[] {
  return JSON.parse(fs.readFileSync(path.join(fn.assetDirectory, 'index.js.map'), 'utf8')).sources;
}

describe('a hundred services, each trusting an RSA-4096 key (a catalog of over 100 KB)', () => {
  it(
    'bundles the catalog into the functions that read it: no command line carries it',
    () => {
      const folder = temporaryFolder('model-rollout-large-catalog');
      try {
        // A test-only key: its private half is thrown away.
        const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 4096 });
        const keyFile = path.join(folder.path, 'rsa-4096.pub');
        fs.writeFileSync(keyFile, publicKey.export({ type: 'spki', format: 'pem' }));
        const config = JSON.parse(fs.readFileSync(configWithServices(folder.path, 100), 'utf8'));
        for (const service of config.services) service.signing = { ...service.signing, publicKeys: [keyFile] };
        const configFile = writeConfig(folder.path, 'large-catalog', config);

        const { app, stack } = buildApp(configFile, { outdir: path.join(folder.path, 'cdk.out') });
        const assembly = app.synth();
        const resources = assembly.getStackArtifact(stack.artifactId).template.Resources as Record<string, { Properties: any }>;
        const { Properties } = resources[stack.getLogicalId(stack.pipeline.functions['check-release'].node.defaultChild as CfnElement)];
        const carried = path.join(assembly.directory, `asset.${assetHash('check-release', Properties.Code)}`, 'service-catalog.json');
        const catalog = JSON.parse(fs.readFileSync(carried, 'utf8'));
        expect(fs.statSync(carried).size).toBeGreaterThan(100 * 1024);
        expect(catalog).toHaveLength(100);
      } finally {
        folder.remove();
      }
    },
    BUNDLING_TIMEOUT_MS,
  );
});
