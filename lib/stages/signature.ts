/**
 * Stage "Signature": nothing in ECS changes before the image's signature is verified by digest. "Verify image
 * signature" (function verify-signature) counts valid signatures by trusted signers; a signature pushed after the image
 * is waited for ("Wait for the signature to arrive": a task token function await-health answers when an ECR push that
 * may bring it arrives, rule SignaturePushed); a verification that errors is a rejection (fail closed).
 */
import type * as events from 'aws-cdk-lib/aws-events';
import type * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { ServiceCatalog } from '../../lambdas/contract/catalog';
import { at, EXECUTION_CONTEXT } from '../../lambdas/contract/execution-state';
import type { AwaitSignatureInput } from '../../lambdas/contract/steps';
import type { VerifySignatureInput } from '../../lambdas/steps/verify-signature';
import type { EndpointName } from '../endpoints';
import { chunkedRules } from '../event-patterns';
import { completedPushesTo } from '../pipeline/push-triggers';
import { STATES } from '../state-names';
import { repositoryArns } from './resources';
import { from, resultFor, verdictIs } from './routing';
import type { GrantContext, Outcomes, Permission, PipelineFunctionSpec, Stage, StageContext } from './stage';

export const VERIFY_SIGNATURE: PipelineFunctionSpec = {
  name: 'verify-signature',
  readsSignerRoots: true,
  // Reads only.
  retriedOnTimeout: true,
  calls: signatureEndpoints,
  permissions: signatureReads,
};

/** "Verify image signature" … "Is the signature trusted?"; a trusted image goes on to `next`. */
export const SIGNATURE: Stage = { functions: [VERIFY_SIGNATURE], states: signature };

function signature(context: StageContext, outcomes: Outcomes, next: sfn.IChainable): sfn.IChainable {
  const { scope } = context;
  const verifySignature = context.invoke<VerifySignatureInput>(
    STATES.verifySignature,
    'verify-signature',
    {
      release: at('release'),
      signing: at('service', 'signing'),
      // A signature pushed after the image is waited for, counting from the start of the execution.
      waitingSince: EXECUTION_CONTEXT.startTime,
    },
    at('signature'),
  );
  const isSignatureTrusted = new sfn.Choice(scope, STATES.isSignatureTrusted, { stateName: STATES.isSignatureTrusted });
  // The verify step itself says how long a missing signature is worth waiting for (pending until then). Woken by a push
  // that may bring it; with none (ECR's events are best effort), it looks again after pollSeconds.
  const waitForSignature = context.invokeAndWait<AwaitSignatureInput>(
    STATES.waitForSignature,
    'await-health',
    {
      service: at('service'),
      digest: at('release', 'digest'),
      checkedAt: at('signature', 'checkedAt'),
      taskToken: '$$.Task.Token',
      executionArn: EXECUTION_CONTEXT.executionArn,
      waitingState: STATES.waitForSignature,
      waitsFor: 'signature',
      timeoutSeconds: at('service', 'signing', 'pollSeconds'),
    },
    sfn.JsonPath.DISCARD,
    at('service', 'signing', 'pollSeconds'),
  );
  // No push for pollSeconds: the verification looks (a missed push costs time, never the release; the verification
  // rejects once lateSignatureSeconds have passed). The wait itself failing past its retries: it pauses pollSeconds
  // first, so that a lasting failure (a permission, a missing table) polls as before rather than spins.
  const pauseBeforeLook = new sfn.Wait(scope, STATES.pauseBeforeSignatureLook, {
    stateName: STATES.pauseBeforeSignatureLook,
    time: sfn.WaitTime.secondsPath(at('service', 'signing', 'pollSeconds')),
  });
  waitForSignature.addCatch(verifySignature, { errors: [sfn.Errors.TIMEOUT], resultPath: sfn.JsonPath.DISCARD });
  waitForSignature.addCatch(pauseBeforeLook, { errors: [sfn.Errors.ALL], resultPath: sfn.JsonPath.DISCARD });
  pauseBeforeLook.next(verifySignature);
  const noteVerificationError = new sfn.Pass(scope, STATES.noteVerificationError, {
    stateName: STATES.noteVerificationError,
    parameters: resultFor('signature', {
      verdict: 'rejected',
      code: 'verification-error',
      digest: from(at('release', 'digest')),
      evidence: [],
      reason: from(`States.Format('The signature could not be verified, so the image is rejected: {}', ${at('failure', 'Cause')})`),
    }),
    resultPath: at('signature'),
  });

  verifySignature.addCatch(noteVerificationError, { errors: [sfn.Errors.ALL], resultPath: at('failure') });
  verifySignature.next(isSignatureTrusted);
  isSignatureTrusted
    .when(verdictIs('signature', 'verified'), next)
    .when(verdictIs('signature', 'pending'), waitForSignature)
    .otherwise(outcomes.signatureRejected);
  waitForSignature.next(verifySignature);
  noteVerificationError.next(outcomes.signatureRejected);
  return verifySignature;
}

/**
 * ECR's "ECR Image Action" for a completed push to `repositories` that may bring a signature: a cosign `….sig` tag, or
 * an untagged push (an OCI 1.1 referrer: Notation, cosign v3). Release tags and other tags never wake a signature wait.
 * ECR's page (https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html) shows a tagged push only:
 * an untagged one is matched both without `image-tag` and with an empty one. `$or` and `exists` may sit below the top
 * level (EventBridge user guide, "Comparison operators": they work on leaf nodes, `$or` excepted).
 */
export function signaturePushesTo(repositories: readonly string[]) {
  return completedPushesTo(repositories, {
    $or: [{ 'image-tag': [{ suffix: '.sig' }] }, { 'image-tag': [{ exists: false }] }, { 'image-tag': [''] }],
  });
}

/** The rules that wake a wait for a late signature (SignaturePushed, SignaturePushed2, …) when one may have arrived. */
export function signaturePushRules(scope: Construct, catalog: ServiceCatalog, target: targets.LambdaFunction): events.Rule[] {
  return chunkedRules(
    scope,
    {
      baseId: 'SignaturePushed',
      description: 'Wakes a rollout waiting for a late signature when a push that may bring it reaches a configured repository',
      targets: [target],
    },
    [...new Set(catalog.map((s) => s.repository))],
    signaturePushesTo,
  );
}

/** Signatures and blobs from ECR (blobs through S3), KMS and AWS Signer only for services that trust them. */
function signatureEndpoints(catalog: ServiceCatalog): EndpointName[] {
  return [
    'ecr.api',
    's3',
    ...(catalog.some((s) => s.signing.kmsKeys.length > 0) ? (['kms'] as const) : []),
    ...(catalog.some((s) => s.signing.signingProfiles.length > 0) ? (['signer'] as const) : []),
  ];
}

/**
 * Signatures (legacy tags and OCI referrers) and ECR managed signing status from the configured repositories only,
 * public halves of the configured KMS keys only, and revocation status from AWS Signer.
 */
function signatureReads(context: GrantContext): Permission[] {
  const { catalog, arn } = context;
  // ListImageReferrers has no action of its own: ecr:BatchGetImage authorises it.
  const permissions: Permission[] = [
    { actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:DescribeImageSigningStatus'], resources: repositoryArns(context) },
  ];
  const kmsKeys = [...new Set(catalog.flatMap((s) => s.signing.kmsKeys))];
  const keyArns = kmsKeys.filter((key) => /^arn:[^:]+:kms:[^:]+:\d{12}:key\//.test(key));
  // An alias is authorised on the key it points to, which synth cannot know: allow any key, but only when asked for by
  // one of the configured aliases (kms:RequestAlias).
  const aliases = kmsKeys.filter((key) => !keyArns.includes(key)).map((alias) => alias.replace(/^arn:[^:]+:kms:[^:]+:\d{12}:/, ''));
  if (keyArns.length > 0) permissions.push({ actions: ['kms:GetPublicKey'], resources: keyArns });
  if (aliases.length > 0) {
    permissions.push({
      actions: ['kms:GetPublicKey'],
      resources: [arn('kms', 'key/*')],
      // kms:RequestAlias is single-valued: StringEquals with a list matches any one of them.
      conditions: { StringEquals: { 'kms:RequestAlias': aliases } },
      whyWildcard:
        'the key a configured alias points to is unknown at synth; the condition kms:RequestAlias limits it to the configured aliases.',
    });
  }
  // GetRevocationStatus is authorised on the signing profile and on the signing job; job ids are only known from the
  // signature, so any job of the profile's account and Region.
  const profiles = [...new Set(catalog.flatMap((s) => s.signing.signingProfiles).map(signingProfileArnOf))];
  if (profiles.length > 0) {
    const jobs = [...new Set(profiles.map((profile) => profile.replace(/:\/signing-profiles\/.*$/, ':/signing-jobs/*')))];
    permissions.push({
      actions: ['signer:GetRevocationStatus'],
      resources: [...profiles, ...jobs],
      whyWildcard:
        "signing job IDs are known only from the signature being verified; the ARN pattern is limited to the trusted profiles' account and Region.",
    });
  }
  return permissions;
}

/** A profile version ARN (`…/signing-profiles/<name>/<version>`) → its profile ARN; a profile ARN stays as it is. */
function signingProfileArnOf(arn: string): string {
  return arn.replace(/(:\/signing-profiles\/[^/]+)\/[^/]+$/, '$1');
}
