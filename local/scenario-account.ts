/**
 * The simulated account a scenario describes: the service as it runs before the first step (its image signed with
 * the trusted demo key, its alarms, any deployment still rolling out), and the images the steps push, signed as each
 * step says; for a service released gray, its load balancer, canary service and traffic too (scenario-gray.ts).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { CatalogEntry } from '../lambdas/contract/catalog';
import { startEvent } from '../lambdas/contract/start-events';
import { createCosignSignature, generateSigningKeyPair } from './cosign-signer';
import { isPush, type Scenario, type ScenarioPush } from './scenario';
import { grayWorld, refuseGrayKnobs, type ScenarioGray } from './scenario-gray';
import { SimulatedAccount } from './simulated-account';
import type { SynthesizedPipeline } from './synthesized-pipeline';

/** The demo key the example configuration trusts (test-only; see examples/keys/README.md). */
export const DEMO_SIGNING_KEY = 'examples/keys/demo-cosign.key';

/** The scenario's images in the service's repository, by tag and digest, and the keys that sign them. */
export class ScenarioImages {
  private readonly tagOfDigest = new Map<string, string>();
  private readonly digestOfTag = new Map<string, string>();
  private readonly untrustedKey = generateSigningKeyPair().privateKeyPem;
  private readonly repositoryUri: string;

  constructor(
    private readonly account: SimulatedAccount,
    private readonly scenario: Scenario,
    private readonly entry: CatalogEntry,
    private readonly trustedKey: string,
  ) {
    this.repositoryUri = account.repositoryUri(entry.repository);
  }

  /** An image the service runs or was deploying before the scenario starts, signed with the trusted key. */
  pushRunning(tag: string, behaviour: ScenarioPush['rollout']): string {
    const digest = this.pushed(tag, this.account.pushImage(this.entry.repository, tag, behaviour));
    this.account.pushSignature(
      this.entry.repository,
      createCosignSignature({ privateKey: this.trustedKey, repositoryUri: this.repositoryUri, digest }),
    );
    return digest;
  }

  /** A push step's image (or a new tag on an image pushed before), signed as the step says; its digest. */
  push(push: ScenarioPush): string {
    const { repository: repositoryName } = this.entry;
    if (push.sameImageAs) {
      const digest = this.digestOfTag.get(push.sameImageAs);
      if (!digest)
        throw new Error(
          `Scenario "${this.scenario.name}": push ${push.tag} is sameImageAs ${push.sameImageAs}, which was not pushed before`,
        );
      this.account.tagImage(repositoryName, push.tag, digest);
      this.digestOfTag.set(push.tag, digest);
      return digest;
    }
    const digest = this.pushed(push.tag, this.account.pushImage(repositoryName, push.tag, push.rollout, push.labels));
    if (push.signature !== 'none') {
      this.account.pushSignature(repositoryName, this.signature(push, digest), { appearsAfterSeconds: push.signatureArrivesAfterSeconds });
    }
    return digest;
  }

  /** The digest a tag was pushed with, if it was. */
  digestOf(tag: string): string | undefined {
    return this.digestOfTag.get(tag);
  }

  /** The tag the service's running image was pushed with (else the image as ECS names it). */
  runningTag(): string {
    return this.tagOfImage(this.account.runningImage(this.entry.cluster, this.entry.service).image);
  }

  /** The tag an image (as a task definition names it) was pushed with, else the image as named. */
  tagOfImage(image: string): string {
    return this.tagOfDigest.get(this.account.services.ecr.resolveImage(image) ?? '') ?? image;
  }

  private pushed(tag: string, digest: string): string {
    this.tagOfDigest.set(digest, tag);
    this.digestOfTag.set(tag, digest);
    return digest;
  }

  private signature(push: ScenarioPush, digest: string) {
    return createCosignSignature({
      privateKey: push.signature === 'untrusted' ? this.untrustedKey : this.trustedKey,
      repositoryUri: this.repositoryUri,
      digest,
      payloadDigest: push.signature === 'another-digest' ? `sha256:${'0'.repeat(64)}` : undefined,
      dockerReference: push.signature === 'another-repository' ? this.account.repositoryUri('models/someone-elses-model') : undefined,
    });
  }
}

/**
 * The scenario's account, with its service running as `scenario.running` says; `gray` when the service is released
 * gray (its load balancer, canary service and traffic: scenario-gray.ts).
 * @throws Error naming the scenario field that names an alarm the service does not configure, or that only a gray
 *   release reads for a service that is not released gray
 */
export function scenarioAccount(
  scenario: Scenario,
  entry: CatalogEntry,
  pipeline: Pick<SynthesizedPipeline, 'env'>,
  root: string,
): { account: SimulatedAccount; images: ScenarioImages; gray?: ScenarioGray } {
  refuseGrayKnobs(scenario, entry);
  const account = new SimulatedAccount({ account: pipeline.env.account, region: pipeline.env.region });
  const images = new ScenarioImages(account, scenario, entry, readFileSync(path.resolve(root, DEMO_SIGNING_KEY), 'utf8'));
  const { running } = scenario;
  const runningDigest = images.pushRunning(running.tag, running.onRedeploy);
  const { deploying } = running;
  const deployingDigest = deploying ? images.pushRunning(deploying.tag, deploying) : undefined;
  checkAlarmsConfigured(scenario, entry);
  const repositoryUri = account.repositoryUri(entry.repository);
  account.createService(
    {
      cluster: entry.cluster,
      service: entry.service,
      container: entry.container,
      family: entry.taskDefinitionFamily,
      desiredCount: running.desiredCount,
      repositoryName: entry.repository,
      alarms: entry.health.alarms,
      deploymentController: running.deploymentController,
      circuitBreakerRollback: running.circuitBreakerRollback,
      ...(running.deploymentAlarms
        ? { deploymentAlarms: { ...running.deploymentAlarms, alarmNames: running.deploymentAlarms.alarmNames ?? entry.health.alarms } }
        : {}),
    },
    // A drifted revision was registered by hand: the image by tag, none of the pipeline's tags on the revision.
    running.drifted ? { uri: `${repositoryUri}:${running.tag}` } : { uri: `${repositoryUri}@${runningDigest}`, versionTag: running.tag },
    deploying && deployingDigest ? { uri: `${repositoryUri}@${deployingDigest}`, behaviour: deploying } : undefined,
  );
  const gray = entry.release.strategy === 'gray' ? grayWorld(account, scenario, entry, images) : undefined;
  for (const alarm of running.alarmsInAlarm) account.setAlarm(alarm, 'ALARM');
  account.losesEvents = running.eventsLost;
  return { account, images, ...(gray ? { gray } : {}) };
}

/** Every alarm the scenario names must be one the service configures: otherwise the scenario would test nothing. */
function checkAlarmsConfigured(scenario: Scenario, entry: CatalogEntry): void {
  const configuredAlarms = new Set(entry.health.alarms);
  const alarmsNamed = [
    ...scenario.running.alarmsInAlarm.map((alarm) => ['running.alarmsInAlarm', alarm]),
    ...(scenario.running.deploymentAlarms?.alarmNames ?? []).map((alarm) => ['running.deploymentAlarms.alarmNames', alarm]),
    ...[scenario.running.onRedeploy, ...scenario.steps.filter(isPush).map((push) => push.rollout)].flatMap((b) =>
      b.tripsAlarm ? [['rollout.tripsAlarm', b.tripsAlarm]] : [],
    ),
  ];
  for (const [field, alarm] of alarmsNamed) {
    if (!configuredAlarms.has(alarm)) {
      throw new Error(
        `Scenario "${scenario.name}": ${field} names alarm "${alarm}", which service ${entry.name} does not configure (its alarms: ${[...configuredAlarms].join(', ') || 'none'})`,
      );
    }
  }
}

/**
 * The event ECR sends for a push (shape: shared/samples/events/ecr-image-push.json); an untagged push carries no
 * image-tag, a failed one result FAILURE (ecr-image-push-failed.json).
 */
export function ecrPushEvent(
  account: SimulatedAccount,
  repositoryName: string,
  tag: string,
  digest: string,
  kind: ScenarioPush['event'] = 'tagged',
) {
  const detail = {
    result: kind === 'failed' ? 'FAILURE' : 'SUCCESS',
    'repository-name': repositoryName,
    'image-digest': digest,
    'action-type': 'PUSH',
    'image-tag': tag,
  };
  if (kind === 'untagged') delete (detail as Partial<typeof detail>)['image-tag'];
  return startEvent(
    'push',
    { id: `local-${digest.slice(7, 15)}-${tag}`, account: account.account, region: account.region, time: account.clock().toISOString() },
    detail as never,
  );
}
