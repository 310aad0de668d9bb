/**
 * The synthesized bundles, not the TypeScript sources, through the workflow: the stack is synthesized with real
 * bundling (local esbuild, as `cdk deploy` would), and every Task state of the synthesized definition is answered by
 * `require()`-ing its function's bundled index.js from the assembly and calling its exported `handler`. The bundles
 * build their own AWS SDK clients at load, from the SDK the runtime would provide (left external, resolved here from
 * this repository's node_modules); those clients reach the simulated account over HTTP on loopback (its ECR, KMS,
 * ECS and CloudWatch wire protocols, AWS_ENDPOINT_URL) and the ledger on dynalite (AWS_ENDPOINT_URL_DYNAMODB). Each
 * function's environment is the one the template sets. Each invocation signs with an access key ID naming its
 * function, and the endpoint authorizes every call as that function's role against the synthesized policies (the
 * ledger's calls, which go to dynalite directly, are not authorized on this path). Nothing reaches the network.
 */
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeploymentLedger } from '../../lambdas/adapters/ledger';
import { iamLogOf } from '../../local/iam/authorize';
import type { PrincipalName } from '../../local/iam/policies';
import { serveSimulatedAccount, type AwsEndpoint } from '../../local/aws-endpoint';
import { createCosignSignature } from '../../local/cosign-signer';
import { startLedgerDatabase, type LedgerDatabase } from '../../local/ledger-database';
import { DEMO_SIGNING_KEY, ecrPushEvent } from '../../local/play';
import { SimulatedAccount, type RolloutBehaviour } from '../../local/simulated-account';
import { SimulatedTime } from '../../local/simulated-time';
import { LocalTaskTokens } from '../../local/task-tokens';
import {
  runExecution,
  synthesizePipeline,
  type ExecutionReport,
  type LocalWorld,
  type RunOptions,
  type SynthesizedPipeline,
} from '../../local/workflow';
import { STATES, STEP_FUNCTIONS, type StepFunctionName } from '../../lib/state-names';

const ROOT = path.resolve(__dirname, '..', '..');
const BUNDLING_TIMEOUT_MS = 180_000;
const SERVICE = 'sentiment';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

let outdir: string;
let pipeline: SynthesizedPipeline;
let account: SimulatedAccount;
let endpoint: AwsEndpoint;
let database: LedgerDatabase;
let world: LocalWorld;
/** Each step's bundled handler, and the bundle file it came from. */
const bundled = {} as Record<StepFunctionName, { handler: Handler; file: string }>;
const restoreEnvironment: Record<string, string | undefined> = {};

function setEnvironment(variables: Record<string, string>): void {
  for (const [name, value] of Object.entries(variables)) {
    if (!(name in restoreEnvironment)) restoreEnvironment[name] = process.env[name];
    process.env[name] = value;
  }
}

beforeAll(async () => {
  outdir = mkdtempSync(path.join(tmpdir(), 'model-rollout-bundles-'));
  // The Node.js runtime provides the AWS SDK from its own node_modules, beside the function's code: here, this
  // repository's, found by `require` from the assembly folder.
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(outdir, 'node_modules'), 'dir');
  pipeline = synthesizePipeline(path.join(ROOT, 'model-rollout.config.json'), {}, { bundleInto: path.join(outdir, 'cdk.out') });

  // The bundles read the wall clock (their own Date), the simulated account its simulated one: starting it now keeps
  // the two in order (simulated time only runs ahead), so "after the update started" means the same to both.
  account = new SimulatedAccount({ account: pipeline.env.account, region: pipeline.env.region, start: new Date() });
  // The ledger table is the one the template names (its Ref, resolved): every ledger function has the same.
  database = await startLedgerDatabase({ tableName: pipeline.environmentOf['record-outcome'].LEDGER_TABLE_NAME });
  const time = new SimulatedTime(account);
  world = {
    pipeline,
    account,
    time,
    ledgerTable: { documentClient: database.documentClient, tableName: database.tableName },
    tokens: new LocalTaskTokens(time),
  };
  // A request signed with a step's name as its access key ID is authorized as that step's function role.
  const principalOf = (accessKeyId: string) =>
    (STEP_FUNCTIONS as readonly string[]).includes(accessKeyId) ? (accessKeyId as PrincipalName) : null;
  endpoint = await serveSimulatedAccount(account, { world, principalOf });
  setEnvironment({
    AWS_ENDPOINT_URL: endpoint.url,
    AWS_ENDPOINT_URL_DYNAMODB: database.endpoint,
    AWS_REGION: pipeline.env.region,
    AWS_ACCESS_KEY_ID: 'test-only',
  });

  const load = createRequire(__filename);
  for (const step of STEP_FUNCTIONS) {
    const file = path.join(pipeline.bundleOf![step], 'index.js');
    // What the function reads at cold start (catalog, ledger table, root certificates) comes from its own environment.
    const { NODE_OPTIONS: _sourceMaps, ...variables } = pipeline.environmentOf[step];
    const before = Object.fromEntries(Object.keys(variables).map((name) => [name, process.env[name]]));
    Object.assign(process.env, variables);
    try {
      bundled[step] = { handler: (load(file) as { handler: Handler }).handler, file };
    } finally {
      for (const [name, value] of Object.entries(before)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  }
  stageAccount();
}, BUNDLING_TIMEOUT_MS);

afterAll(async () => {
  await endpoint?.close();
  await database?.close();
  for (const [name, value] of Object.entries(restoreEnvironment)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

const entry = () => pipeline.catalog.find((s) => s.name === SERVICE)!;
const trustedKey = () => readFileSync(path.join(ROOT, DEMO_SIGNING_KEY), 'utf8');
const tagOfDigest = new Map<string, string>();

/** The account the example configuration expects: the sentiment service running v1.2.0 (signed), settled. */
function stageAccount(): void {
  const service = entry();
  const digest = push('v1.2.0', { result: 'completes', settlesAfterSeconds: 60 });
  account.createService(
    {
      cluster: service.cluster,
      service: service.service,
      container: service.container,
      desiredCount: 2,
      repositoryName: service.repository,
      alarms: service.health.alarms,
    },
    { uri: `${account.repositoryUri(service.repository)}@${digest}`, versionTag: 'v1.2.0' },
  );
}

function push(tag: string, rollout: RolloutBehaviour): string {
  const { repository: repositoryName } = entry();
  const digest = account.pushImage(repositoryName, tag, rollout, { model_id: `sentiment-${tag}` });
  account.pushSignature(
    repositoryName,
    createCosignSignature({ privateKey: trustedKey(), repositoryUri: account.repositoryUri(repositoryName), digest }),
  );
  tagOfDigest.set(digest, tag);
  return digest;
}

function runningTag(): string {
  const image = account.runningImage(entry().cluster, entry().service).image;
  return tagOfDigest.get(image.split('@')[1] ?? '') ?? image;
}

/**
 * The bundled handlers, invoked as Lambda invokes them (event, context), each with its function role's credentials:
 * the SDK clients of a bundle resolve them from the environment at their first call, which is made in that function's
 * invocation (one execution runs at a time here). The Waits before steps elapse around them, as for the sources.
 */
function bundledHandlers(): NonNullable<RunOptions['handlers']> {
  const invoke = (step: StepFunctionName) => (input: unknown) => {
    process.env.AWS_ACCESS_KEY_ID = step;
    return bundled[step].handler(input, { functionName: step, awsRequestId: `local-${step}`, getRemainingTimeInMillis: () => 30_000 });
  };
  return Object.fromEntries(STEP_FUNCTIONS.map((step) => [step, invoke(step)])) as NonNullable<RunOptions['handlers']>;
}

async function release(tag: string, rollout: RolloutBehaviour): Promise<ExecutionReport> {
  account.advance(60);
  const digest = push(tag, rollout);
  return world.time.participate(() =>
    runExecution(world, ecrPushEvent(account, entry().repository, tag, digest), { handlers: bundledHandlers() }),
  );
}

function callsSince(before: number, command: string): any[] {
  return account.calls
    .slice(before)
    .filter((c) => c.command === command)
    .map((c) => c.input);
}

describe('the bundled functions run the workflow', () => {
  it('loaded every step from its bundle, not from the sources', () => {
    for (const step of STEP_FUNCTIONS) {
      expect(bundled[step].file.startsWith(outdir), step).toBe(true);
      expect(typeof bundled[step].handler, step).toBe('function');
    }
  });

  it('deploys a signed release: the ledger, ECR, ECS and CloudWatch reached over the wire', async () => {
    const before = account.calls.length;
    const checked = iamLogOf(account).allowed;
    const report = await release('v1.3.0', { result: 'completes', settlesAfterSeconds: 90 });

    expect({ status: report.status, error: report.error, cause: report.cause }).toEqual({ status: 'SUCCEEDED', error: null, cause: null });
    expect(report.output).toMatchObject({ status: 'succeeded', tag: 'v1.3.0', service: SERVICE, signature: { code: 'verified' } });
    expect(runningTag()).toBe('v1.3.0');
    expect(report.alerts.map((a) => a.severity)).toEqual(['info']);
    // The bundles' own SDK clients made these calls through the HTTP endpoint (the sources' never talk HTTP here).
    const commands = new Set(account.calls.slice(before).map((c) => c.command));
    for (const command of [
      'BatchGetImage',
      'GetDownloadUrlForLayer',
      'ListImageReferrers',
      'DescribeServices',
      'DescribeTaskDefinition',
      'RegisterTaskDefinition',
      'UpdateService',
      'DescribeServiceDeployments',
      'DescribeAlarms',
    ]) {
      expect(commands, command).toContain(command);
    }
    // Every one of those calls was authorized as its function's role first (some need several checks).
    expect(iamLogOf(account).allowed - checked).toBeGreaterThanOrEqual(account.calls.length - before);
    expect(iamLogOf(account).denials).toEqual([]);
    const [registered] = callsSince(before, 'RegisterTaskDefinition');
    expect(registered.containerDefinitions.find((c: { name: string }) => c.name === 'model').image).toMatch(
      /models\/sentiment@sha256:[0-9a-f]{64}$/,
    );
    const ledger = new DeploymentLedger(database.documentClient, database.tableName);
    const [record] = (await ledger.listDeployments(SERVICE)).filter((r) => r.executionArn === report.executionArn);
    expect(record).toMatchObject({ status: 'succeeded', final: true, model: { model_id: 'sentiment-v1.3.0' } });
  });

  it('rolls an unhealthy release back, and its failures keep their words', async () => {
    const before = account.calls.length;
    const report = await release('v1.4.0', { result: 'completes', settlesAfterSeconds: 60, tripsAlarm: 'sentiment-5xx-rate' });

    expect({ status: report.status, error: report.error }).toEqual({ status: 'FAILED', error: 'ReleaseRolledBack' });
    expect(report.cause).toMatch(/sentiment-5xx-rate/);
    expect(runningTag()).toBe('v1.3.0');
    expect(callsSince(before, 'UpdateService').map((u) => u.taskDefinition)).toEqual([
      expect.stringMatching(/sentiment-task:3$/),
      expect.stringMatching(/sentiment-task:2$/),
    ]);
    expect(report.history.some((h) => h.state === STATES.rollBack)).toBe(true);
  });

  it('fails as the runtime reports a bundled handler’s error: its name kept through minification, JSON Cause', async () => {
    account.failNext('RegisterTaskDefinition', 'AccessDeniedException');
    const report = await release('v1.5.0', { result: 'completes', settlesAfterSeconds: 60 });

    expect(report.error).toBe('DeploymentFailed');
    const failed = report.history.find((h) => h.type === 'StateFailed' && h.state === STATES.registerRevision) as
      | { Error?: string; Cause?: string }
      | undefined;
    expect(failed?.Error).toBe('AccessDeniedException');
    expect(JSON.parse(failed!.Cause!)).toMatchObject({
      errorType: 'AccessDeniedException',
      trace: expect.arrayContaining([expect.stringMatching(/index\.js/)]),
    });
    expect(report.cause).toContain('AccessDeniedException');
    expect(report.cause).not.toMatch(/"errorType"|"trace"|index\.js/);
  });
});

describe('the endpoint authorizes as the role a request is signed for', () => {
  it('refuses an UpdateService signed as check-health, whose role may only describe, and changes nothing', async () => {
    const service = entry();
    const ecs = new ECSClient({
      endpoint: endpoint.url,
      region: pipeline.env.region,
      credentials: { accessKeyId: 'check-health', secretAccessKey: 'test-only' },
      maxAttempts: 1,
    });
    const before = account.calls.length;

    await expect(
      ecs.send(new UpdateServiceCommand({ cluster: service.cluster, service: service.service, forceNewDeployment: true })),
    ).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringMatching(/PipelineCheckHealth.* is not authorized to perform: ecs:UpdateService/),
    });
    expect(account.calls.slice(before)).toEqual([]);
  });
});
