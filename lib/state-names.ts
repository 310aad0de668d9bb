/**
 * State names are what operators read in the Step Functions console, and the keys the local run and the
 * workflow tests use to attach handlers: one list, so they cannot drift.
 */
export const STATES = {
  checkRelease: 'Check release against policy',
  recordRelease: 'Record the release in the ledger',
  isReleaseAllowed: 'Is the release allowed?',
  isReleaseNew: 'Is the release new?',
  verifySignature: 'Verify image signature',
  noteVerificationError: 'Note why the signature could not be verified',
  isSignatureTrusted: 'Is the signature trusted?',
  waitForSignature: 'Wait for the signature to arrive',
  takeLock: 'Take the service lock',
  holdsLock: 'Does this release hold the service lock?',
  waitForLock: 'Wait for the service to be free',
  registerRevision: 'Register new task definition revision',
  whichStrategy: 'How does the service take releases?',
  updateService: 'Update service to new revision',
  waitForHealth: 'Wait for the new revision to become healthy',
  checkHealth: 'Check service health',
  isHealthy: 'Is the new revision healthy?',
  noteUnhealthy: 'Note why the new revision is unhealthy',
  noteUpdateUncertain: 'Note the update may not have reached the service',
  hasRollbackTarget: 'Is there a known good version to roll back to?',
  rollBack: 'Roll back to last known good revision',
  didUpdateReachService: 'Did the update reach the service?',
  waitForRollback: 'Wait for the rolled-back revision to become stable',
  checkRollback: 'Check rolled-back service health',
  isRollbackStable: 'Is the rolled-back revision stable?',
  noteRollbackUnstable: 'Note why the rollback did not stabilise',
  // The gray release (lib/stages/rollout/gray-release.ts).
  checkTrafficSetup: 'Check the traffic set-up',
  isTrafficSetupReady: 'Is the traffic set-up ready?',
  recordTrafficSetupNotReady: 'Record outcome: traffic set-up not ready',
  scaleCanary: 'Scale the canary for the next step',
  waitForCanary: 'Wait for the canary to become healthy',
  checkCanary: 'Check canary health',
  isCanaryHealthy: 'Is the canary healthy?',
  noteCanaryUnhealthy: 'Note why the canary is unhealthy',
  shiftTraffic: 'Shift traffic to the next step',
  bakeStep: 'Bake the step until the next analysis',
  analyseStep: 'Analyse the canary against the stable version',
  decideStep: 'What does the step analysis decide?',
  noteAnalysisStops: 'Note why the analysis stops the release',
  returnToStable: 'Return all traffic to the stable service',
  noteSuperseded: 'Note a higher release supersedes this one',
  returnForNewerRelease: 'Return all traffic to the stable service for a newer release',
  drainCanary: 'Let the canary drain',
  retireCanary: 'Scale the canary to 0',
  whyBackOnStable: 'Why is all traffic back on the stable service?',
  recordGrayRolledBack: 'Record outcome: gray release rolled back to stable',
  recordGraySuperseded: 'Record outcome: gray release superseded by a higher version',
  recordTrafficNotRestored: 'Record outcome: traffic could not be returned to stable',
  promote: 'Promote the release to the stable service',
  waitForPromotion: 'Wait for the stable service to run the release',
  checkPromotion: 'Check promoted stable service health',
  isPromotionHealthy: 'Is the promoted stable service healthy?',
  notePromotionUnhealthy: 'Note why the promoted stable service is unhealthy',
  restoreStable: 'Return the stable service to the previous version',
  waitForRestoredStable: 'Wait for the stable service to run the previous version',
  checkRestoredStable: 'Check returned stable service health',
  isStableRestored: 'Is the stable service back on the previous version?',
  noteStableNotRestored: 'Note why the stable service did not return',
  recordPromotionFailed: 'Record outcome: promotion failed, traffic stays on the canary',
  finishGrayRelease: 'Return traffic to the promoted stable service',
  recordGrayDeployed: 'Record outcome: deployed through every traffic step',
  recordDeployedTrafficOnCanary: 'Record outcome: deployed, traffic stays on the canary',
  recordDeployed: 'Record outcome: deployed',
  recordRejectedByPolicy: 'Record outcome: rejected by policy',
  recordTagReused: 'Record outcome: release tag names another image',
  noteTagBoundMeanwhile: 'Note the release tag was bound to another image meanwhile',
  recordSignatureRejected: 'Record outcome: signature rejected',
  recordDeploymentFailed: 'Record outcome: deployment failed',
  recordUpdateNotApplied: 'Record outcome: update did not reach the service',
  recordRolledBack: 'Record outcome: rolled back',
  recordRollbackFailed: 'Record outcome: rollback failed',
  recordNoKnownGoodVersion: 'Record outcome: no known good version to roll back to',
  recordDuplicate: 'Record outcome: duplicate',
  recordRefused: 'Record outcome: refused by the ledger',
  recordSuperseded: 'Record outcome: superseded',
  recordSupersededOnArrival: 'Record outcome: superseded on arrival',
  recordInLedger: 'Record outcome in the ledger',
  ledgerNotUpdated: 'Outcome could not be recorded in the ledger',
  publishOutcome: 'Publish outcome alert',
  routeByOutcome: 'Route by outcome',
  releaseDeployed: 'Release deployed',
  releaseRejectedByPolicy: 'Release rejected by policy',
  signatureRejected: 'Signature rejected',
  deploymentFailed: 'Deployment failed before the service changed',
  releaseRolledBack: 'Release rolled back',
  releaseDuplicate: 'Release already handled',
  releaseSuperseded: 'Release superseded by a higher version',
  releaseRefused: 'Release refused by the ledger',
  rollbackFailed: 'Rollback failed',
  alertNotPublished: 'Outcome alert could not be published',
  unknownOutcome: 'Outcome not recognised',
} as const;

/** The Lambda steps, by the name of their handler module in lambdas/functions/ and lambdas/steps/. */
export const STEP_FUNCTIONS = [
  'check-release',
  'record-release',
  'verify-signature',
  'take-lock',
  'register-revision',
  'update-service',
  'await-health',
  'check-health',
  'steer-traffic',
  'analyse-step',
  'record-outcome',
] as const;
export type StepFunctionName = (typeof STEP_FUNCTIONS)[number];

/** Lambdas started by EventBridge rules rather than states: the crash finaliser and the scheduled reconciliation. */
export const EVENT_FUNCTIONS = ['finalise-execution', 'reconcile'] as const;
export type EventFunctionName = (typeof EVENT_FUNCTIONS)[number];
/** Every function of the pipeline. */
export type FunctionName = StepFunctionName | EventFunctionName;
/**
 * The functions EventBridge rules invoke: the event functions, and the health wait (a step too), which ECS deployment
 * and alarm events wake.
 */
export const RULE_TARGETS = [...EVENT_FUNCTIONS, 'await-health'] as const;
export type RuleTargetName = (typeof RULE_TARGETS)[number];

/**
 * The Task states that invoke a Lambda step, and the step each invokes: where the local run can make an invocation
 * time out or be throttled (a scenario's `lambdaFailures`). A test holds it to the synthesized definition.
 */
export const LAMBDA_STATES = {
  [STATES.checkRelease]: 'check-release',
  [STATES.recordRelease]: 'record-release',
  [STATES.verifySignature]: 'verify-signature',
  [STATES.takeLock]: 'take-lock',
  [STATES.registerRevision]: 'register-revision',
  [STATES.updateService]: 'update-service',
  [STATES.waitForHealth]: 'await-health',
  [STATES.checkHealth]: 'check-health',
  [STATES.rollBack]: 'update-service',
  [STATES.waitForRollback]: 'await-health',
  [STATES.checkRollback]: 'check-health',
  [STATES.checkTrafficSetup]: 'steer-traffic',
  [STATES.scaleCanary]: 'steer-traffic',
  [STATES.waitForCanary]: 'await-health',
  [STATES.checkCanary]: 'check-health',
  [STATES.shiftTraffic]: 'steer-traffic',
  [STATES.analyseStep]: 'analyse-step',
  [STATES.returnToStable]: 'steer-traffic',
  [STATES.retireCanary]: 'steer-traffic',
  [STATES.returnForNewerRelease]: 'steer-traffic',
  [STATES.promote]: 'update-service',
  [STATES.waitForPromotion]: 'await-health',
  [STATES.checkPromotion]: 'check-health',
  [STATES.finishGrayRelease]: 'steer-traffic',
  [STATES.restoreStable]: 'update-service',
  [STATES.waitForRestoredStable]: 'await-health',
  [STATES.checkRestoredStable]: 'check-health',
  [STATES.recordInLedger]: 'record-outcome',
} as const satisfies Record<string, StepFunctionName>;
export type LambdaStateName = keyof typeof LAMBDA_STATES;
