/**
 * Whether one analysis window of a gray release's step passed, failed or could not tell, and what the step does next.
 * Pure: the caller reads the target groups' ALB metrics, the alarms, the probe and the drift guard, and passes them in.
 */
import type { AnalysisCriteria } from '../contract/release-strategy';
import type { AlarmObservation } from './health';

/**
 * One target group's ALB metrics over the analysis window (namespace AWS/ApplicationELB, dimensions LoadBalancer and
 * TargetGroup). ALB publishes HTTPCode_Target_5XX_Count and TargetConnectionErrorCount only for minutes in which they
 * are non-zero, so a missing datapoint is 0 there; a missing RequestCount means no request reached the group.
 */
export interface TargetGroupWindow {
  /** RequestCount, Sum over the window. */
  requests: number;
  /** HTTPCode_Target_5XX_Count, Sum over the window (0 when no datapoint). */
  targetErrors: number;
  /** TargetConnectionErrorCount, Sum over the window (0 when no datapoint). */
  connectionErrors: number;
  /** TargetResponseTime p99 over the whole window, in milliseconds; null when no request was answered. */
  p99Ms: number | null;
  /** UnHealthyHostCount, Maximum over the window (0 when no datapoint). */
  unhealthyHosts: number;
}
