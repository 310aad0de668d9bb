/**
 * The ALB metrics of a gray release's two target groups over one analysis window, as the step analysis reads them.
 * Declared here, where it is used; `adapters/target-group-metrics.ts` implements it on CloudWatch GetMetricData.
 */
import type { TargetGroupWindow } from '../../decisions/step-analysis';

export interface WindowQuery {
  /**
   * The gray release's traffic route (its listener-rule ARN, or its listener's ARN for the default action): it names
   * the load balancer whose metrics are read. A load balancer ARN is accepted too.
   */
  routeArn: string;
  /** The target group ARNs of the stable and the canary service. */
  targetGroups: { stable: string; canary: string };
  /** The window, rounded down to whole minutes (see the adapter). */
  start: Date;
  end: Date;
}

export interface TargetGroupMetrics {
  /** Each target group's requests, errors, p99 and unhealthy hosts over the window. */
  observeWindow(query: WindowQuery): Promise<{ stable: TargetGroupWindow; canary: TargetGroupWindow }>;
}
