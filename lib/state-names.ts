/**
 * State names are what operators read in the Step Functions console, and the keys the local run and the
 * workflow tests use to attach handlers: one list, so they cannot drift.
 */
export const STATES = {
  checkRelease: 'Check release against policy',
  isReleaseAllowed: 'Is the release allowed?',
  verifySignature: 'Verify image signature',
  noteVerificationError: 'Note why the signature could not be verified',
  isSignatureTrusted: 'Is the signature trusted?',
  waitForSignature: 'Wait for the signature to arrive',
  registerRevision: 'Register new task definition revision',
  updateService: 'Update service to new revision',
  waitForHealth: 'Wait before checking health',
  checkHealth: 'Check service health',
  isHealthy: 'Is the new revision healthy?',
  noteUnhealthy: 'Note why the new revision is unhealthy',
  rollBack: 'Roll back to previous revision',
  waitForRollback: 'Wait before checking the rollback',
  checkRollback: 'Check rolled-back service health',
  isRollbackStable: 'Is the previous revision stable?',
  noteRollbackUnstable: 'Note why the rollback did not stabilise',
  recordDeployed: 'Record outcome: deployed',
  recordRejectedByPolicy: 'Record outcome: rejected by policy',
  recordSignatureRejected: 'Record outcome: signature rejected',
  recordDeploymentFailed: 'Record outcome: deployment failed',
  recordRolledBack: 'Record outcome: rolled back',
  recordRollbackFailed: 'Record outcome: rollback failed',
  publishOutcome: 'Publish outcome alert',
  routeByOutcome: 'Route by outcome',
  releaseDeployed: 'Release deployed',
  releaseRejectedByPolicy: 'Release rejected by policy',
  signatureRejected: 'Signature rejected',
  deploymentFailed: 'Deployment failed before the service changed',
  releaseRolledBack: 'Release rolled back',
  rollbackFailed: 'Rollback failed',
  alertNotPublished: 'Outcome alert could not be published',
  unknownOutcome: 'Outcome not recognised',
} as const;

/** The Lambda steps, by the name of their handler module in lambdas/functions/ and lambdas/steps/. */
export const STEP_FUNCTIONS = ['check-release', 'verify-signature', 'register-revision', 'update-service', 'check-health'] as const;
export type StepFunctionName = (typeof STEP_FUNCTIONS)[number];
