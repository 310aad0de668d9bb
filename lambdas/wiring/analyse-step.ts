/** One analysis of a gray release's step, built from CloudWatch (ALB metrics, alarms), Elastic Load Balancing and ECS. */
import { AlarmMonitor } from '../adapters/alarm-monitor';
import { DeploymentTarget } from '../adapters/deployment-target';
import { TargetGroupMetrics } from '../adapters/target-group-metrics';
import { TrafficRouter } from '../adapters/traffic-router';
import { createAnalyseStepHandler } from '../steps/analyse-step';
import type { FunctionClients, FunctionSettings } from './clients';

export function wireAnalyseStep(
  clients: Pick<FunctionClients, 'ecs' | 'elbv2' | 'cloudwatch'>,
  { clock }: Pick<FunctionSettings, 'clock'>,
) {
  return createAnalyseStepHandler({
    metrics: new TargetGroupMetrics(clients.cloudwatch),
    alarms: new AlarmMonitor(clients.cloudwatch),
    router: new TrafficRouter(clients.elbv2),
    target: new DeploymentTarget(clients.ecs),
    clock,
  });
}
