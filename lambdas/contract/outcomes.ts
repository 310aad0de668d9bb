/** Outcomes: the statuses every path ends in, their alert severities, the alert event and the Fail states' error names. */

/**
 * Outcome statuses, as published in alerts, written to the ledger and returned as the execution output. Severity
 * `none` is published on the bus but routed to no alert topic (a duplicate event is not news).
 */
export const OUTCOMES = {
  succeeded: { status: 'succeeded', severity: 'info' },
  /**
   * A gray release whose stable service runs the release, healthy, but whose traffic could not be returned to it from
   * the canary (which runs the release too): deployed, and someone must move the traffic.
   */
  deployedTrafficOnCanary: { status: 'succeeded', severity: 'critical' },
  rejected: { status: 'rejected', severity: 'warning' },
  deploymentFailed: { status: 'deployment-failed', severity: 'warning' },
  rolledBack: { status: 'rolled-back', severity: 'warning' },
  rollbackFailed: { status: 'rollback-failed', severity: 'critical' },
  /** A higher version arrived while this one waited for the service: not deployed, not a failure, not alerted. */
  superseded: { status: 'superseded', severity: 'none' },
  /** The digest is already handled, in progress or running: nothing to do. */
  duplicate: { status: 'duplicate', severity: 'none' },
} as const;
export type OutcomeStatus = (typeof OUTCOMES)[keyof typeof OUTCOMES]['status'];
/** Alert severities, one SNS topic each. */
export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];
export type OutcomeSeverity = Severity | 'none';

/** The alert event every execution publishes once (EventBridge `source` and `detail-type`). */
export const ALERT_EVENT = { source: 'model-rollout', detailType: 'Model Rollout Outcome' } as const;

/**
 * The alert a gray release publishes when it asks an operator for approval (once per approval), routed like an outcome
 * by its `detail.severity` (warning). It names the exact command that answers it.
 */
export const APPROVAL_REQUEST_EVENT = { source: ALERT_EVENT.source, detailType: 'Model Rollout Approval Requested' } as const;

/** Error names of the Fail states that end an execution; the execution-status alert rule skips these (already alerted). */
export const TERMINAL_ERRORS = {
  rejectedByPolicy: 'ReleaseRejectedByPolicy',
  signatureRejected: 'SignatureRejected',
  deploymentFailed: 'DeploymentFailed',
  rolledBack: 'ReleaseRolledBack',
  rollbackFailed: 'RollbackFailed',
  /** Refused by the ledger: a quarantined digest, or a rollback to a version that never succeeded. */
  refused: 'ReleaseRefused',
} as const;

/**
 * Error names the state machine itself writes (not thrown by any function): the notes of a failed health check, and
 * the Fail states an execution ends in when its outcome could not be recorded, published or recognised (those end
 * unexpectedly, so the execution-status alert reports them).
 */
export const STATE_ERRORS = {
  serviceUnhealthy: 'ServiceUnhealthy',
  rollbackUnstable: 'RollbackUnstable',
  /** A gray release's canary did not become healthy for its step. */
  canaryUnhealthy: 'CanaryUnhealthy',
  /** A gray release's step analysis aborted it (failed, or inconclusive beyond its limit). */
  canaryAnalysisFailed: 'CanaryAnalysisFailed',
  /** An operator rejected or aborted a gray release (model-rollout reject / abort). */
  stoppedByOperator: 'StoppedByOperator',
  /** Nobody answered the approval before the first step in time, and it ends with a rollback. */
  approvalUnanswered: 'ApprovalUnanswered',
  /** A gray release stopped for a higher release waiting for the service (not a failure). */
  releaseSuperseded: 'ReleaseSuperseded',
  /** The stable service did not become healthy on the release it was promoted to. */
  promotionUnhealthy: 'PromotionUnhealthy',
  ledgerNotUpdated: 'LedgerNotUpdated',
  alertNotPublished: 'AlertPublishFailed',
  unknownOutcome: 'UnknownOutcome',
} as const;
