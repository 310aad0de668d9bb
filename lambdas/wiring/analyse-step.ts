/** One analysis of a gray release's step, built from CloudWatch (ALB metrics, alarms), Elastic Load Balancing, ECS and the ledger. */
import { AlarmMonitor } from '../adapters/alarm-monitor';
import { DeploymentLedger } from '../adapters/ledger';
import { DeploymentTarget } from '../adapters/deployment-target';
import { TargetGroupMetrics } from '../adapters/target-group-metrics';
import { TrafficRouter } from '../adapters/traffic-router';
import { createAnalyseStepHandler } from '../steps/analyse-step';
import type { FunctionClients, FunctionSettings } from './clients';

export function wireAnalyseStep(
  clients: Pick<FunctionClients, 'ecs' | 'elbv2' | 'cloudwatch' | 'ledger'>,
  { clock, ledgerTableName }: Pick<FunctionSettings, 'clock' | 'ledgerTableName'>,
) {
  return createAnalyseStepHandler({
    ledger: new DeploymentLedger(clients.ledger, ledgerTableName),
    metrics: new TargetGroupMetrics(clients.cloudwatch),
    alarms: new AlarmMonitor(clients.cloudwatch),
    router: new TrafficRouter(clients.elbv2),
    target: new DeploymentTarget(clients.ecs),
    clock,
  });
}
