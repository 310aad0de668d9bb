/**
 * Plays a scenario: builds the simulated account it describes, pushes each image (signed as the scenario says),
 * runs the synthesized state machine for each push event, and compares what happened with what was expected.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createCosignSignature, generateSigningKeyPair } from './cosign-signer';
import type { Scenario, ScenarioPush } from './scenario';
import { SimulatedAccount } from './simulated-account';
import { runExecution, synthesizePipeline, type ExecutionReport, type SynthesizedPipeline } from './workflow';

/** The demo key the example configuration trusts (test-only; see examples/keys/README.md). */
export const DEMO_SIGNING_KEY = 'examples/keys/demo-cosign.key';

export interface PushResult {
  push: ScenarioPush;
  digest: string;
  report: ExecutionReport;
  observed: { status: string; signature: string | null; error: string | null; running: string; alerts: string[] };
  /** Empty when everything expected happened. */
  mismatches: string[];
}

export interface ScenarioResult {
  scenario: Scenario;
  /** The account after the last execution, for tests to inspect (e.g. which ECS calls were made). */
  account: SimulatedAccount;
  service: { name: string; environment: string; cluster: string; service: string };
  pushes: PushResult[];
}

const pipelines = new Map<string, SynthesizedPipeline>();

/** Synthesizes each configuration once per process: several scenarios usually share one. */
export function pipelineFor(configPath: string): SynthesizedPipeline {
  const resolved = path.resolve(configPath);
  if (!pipelines.has(resolved)) pipelines.set(resolved, synthesizePipeline(resolved));
  return pipelines.get(resolved)!;
}

export async function playScenario(scenario: Scenario, root: string): Promise<ScenarioResult> {
  const pipeline = pipelineFor(path.resolve(root, scenario.config));
  const entry = pipeline.catalog.find((s) => s.name === scenario.service);
  if (!entry) {
    throw new Error(`Scenario "${scenario.name}": service "${scenario.service}" is not in ${scenario.config} (configured: ${pipeline.catalog.map((s) => s.name).join(', ')})`);
  }
  const trustedKey = readFileSync(path.resolve(root, DEMO_SIGNING_KEY), 'utf8');
  const untrustedKey = generateSigningKeyPair().privateKeyPem;
  const account = new SimulatedAccount({ account: pipeline.env.account, region: pipeline.env.region });
  const repositoryUri = account.repositoryUri(entry.repositoryName);
  const tagOfDigest = new Map<string, string>();

  const runningDigest = account.pushImage(entry.repositoryName, scenario.running.tag, scenario.running.onRedeploy);
  tagOfDigest.set(runningDigest, scenario.running.tag);
  account.pushSignature(entry.repositoryName, createCosignSignature({ privateKey: trustedKey, repositoryUri, digest: runningDigest }));
  account.createService(
    { cluster: entry.cluster, service: entry.service, container: entry.container, desiredCount: scenario.running.desiredCount, repositoryName: entry.repositoryName, alarms: entry.health.alarms },
    { uri: `${repositoryUri}@${runningDigest}`, versionTag: scenario.running.tag },
  );

  const pushes: PushResult[] = [];
  for (const push of scenario.pushes) {
    const digest = account.pushImage(entry.repositoryName, push.tag, push.rollout);
    tagOfDigest.set(digest, push.tag);
    if (push.signature !== 'none') {
      const otherDigest = `sha256:${'0'.repeat(64)}`;
      account.pushSignature(
        entry.repositoryName,
        createCosignSignature({
          privateKey: push.signature === 'untrusted' ? untrustedKey : trustedKey,
          repositoryUri,
          digest,
          payloadDigest: push.signature === 'another-digest' ? otherDigest : undefined,
          dockerReference: push.signature === 'another-repository' ? account.repositoryUri('models/someone-elses-model') : undefined,
        }),
        { appearsAfterSeconds: push.signatureArrivesAfterSeconds },
      );
    }
    for (const [command, errors] of Object.entries(push.awsFailures)) {
      for (const error of [errors].flat()) account.failNext(command, error);
    }

    const report = await runExecution(pipeline, account, ecrPushEvent(account, entry.repositoryName, push.tag, digest));
    const runningImage = account.runningImage(entry.cluster, entry.service).image;
    const outcome = report.alerts.find((a) => a.event.source === 'model-rollout')?.event.detail ?? report.output;
    const observed = {
      status: outcome?.status ?? 'none',
      signature: outcome?.signature?.code ?? null,
      error: report.error,
      running: tagOfDigest.get(runningImage.split('@')[1] ?? '') ?? runningImage,
      alerts: [...new Set(report.alerts.map((a) => a.severity))].sort(),
    };
    pushes.push({ push, digest, report, observed, mismatches: compare(push.expect, observed) });
    account.advance(60);
  }
  return { scenario, account, service: { name: entry.name, environment: entry.environment, cluster: entry.cluster, service: entry.service }, pushes };
}

function compare(expected: ScenarioPush['expect'], observed: PushResult['observed']): string[] {
  const mismatches: string[] = [];
  if (expected.status !== observed.status) mismatches.push(`status: expected ${expected.status}, got ${observed.status}`);
  if (expected.signature !== undefined && expected.signature !== observed.signature) {
    mismatches.push(`signature: expected ${expected.signature}, got ${observed.signature ?? 'not checked'}`);
  }
  if (expected.error !== observed.error) mismatches.push(`error: expected ${expected.error ?? 'none'}, got ${observed.error ?? 'none'}`);
  if (expected.running !== observed.running) mismatches.push(`running: expected ${expected.running}, got ${observed.running}`);
  const wanted = [...new Set(expected.alerts)].sort();
  if (wanted.join(',') !== observed.alerts.join(',')) {
    mismatches.push(`alerts: expected [${wanted.join(', ')}], got [${observed.alerts.join(', ')}]`);
  }
  return mismatches;
}

/** The event ECR sends for a tagged push (shape: shared/samples/events/ecr-image-push.json). */
export function ecrPushEvent(account: SimulatedAccount, repositoryName: string, tag: string, digest: string) {
  return {
    version: '0',
    id: `local-${digest.slice(7, 15)}-${tag}`,
    'detail-type': 'ECR Image Action',
    source: 'aws.ecr',
    account: account.account,
    time: account.clock().toISOString(),
    region: account.region,
    resources: [],
    detail: { result: 'SUCCESS', 'repository-name': repositoryName, 'image-digest': digest, 'action-type': 'PUSH', 'image-tag': tag },
  };
}
