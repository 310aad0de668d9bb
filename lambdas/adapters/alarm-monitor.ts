/** The CloudWatch alarms that vouch for a release. Uses only DescribeAlarms. */
import { DescribeAlarmsCommand, type CloudWatchClient, type DescribeAlarmsCommandOutput } from '@aws-sdk/client-cloudwatch';
import type { AlarmState } from '../decisions/health';
import { callAws } from '../errors';
import type { AlarmMonitor as AlarmMonitorPort, AlarmStatus } from '../steps/ports/alarm-monitor';

/** DescribeAlarms accepts at most 100 alarm names per request. */
const MAX_NAMES_PER_REQUEST = 100;

export class AlarmMonitor implements AlarmMonitorPort {
  constructor(private readonly cloudWatch: Pick<CloudWatchClient, 'send'>) {}

  /** One entry per distinct name, in the given order; 'MISSING' for an alarm CloudWatch does not know. */
  async states(names: string[]): Promise<AlarmStatus[]> {
    const distinctNames = [...new Set(names)];
    const found = new Map<string, Omit<AlarmStatus, 'name'>>();
    for (let start = 0; start < distinctNames.length; start += MAX_NAMES_PER_REQUEST) {
      for (const [name, status] of await this.describe(distinctNames.slice(start, start + MAX_NAMES_PER_REQUEST))) {
        found.set(name, status);
      }
    }
    return distinctNames.map((name) => ({ name, ...(found.get(name) ?? { state: 'MISSING', since: null }) }));
  }

  private async describe(alarmNames: string[]): Promise<Map<string, Omit<AlarmStatus, 'name'>>> {
    const states = new Map<string, Omit<AlarmStatus, 'name'>>();
    let nextToken: string | undefined;
    do {
      const page = await this.describePage(alarmNames, nextToken);
      for (const alarm of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
        if (alarm.AlarmName) {
          // StateTransitionedTimestamp: when StateValue last changed. Not StateUpdatedTimestamp, which also moves when
          // only the EvaluationState changes (API_MetricAlarm), so an alarm in ALARM since before the update would look new.
          const since = alarm.StateTransitionedTimestamp ? new Date(alarm.StateTransitionedTimestamp) : null;
          states.set(alarm.AlarmName, { state: toAlarmState(alarm.StateValue), since });
        }
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return states;
  }

  private async describePage(alarmNames: string[], nextToken: string | undefined): Promise<DescribeAlarmsCommandOutput> {
    return callAws('DescribeAlarms', () =>
      this.cloudWatch.send(
        new DescribeAlarmsCommand({
          AlarmNames: alarmNames,
          // Without AlarmTypes, CloudWatch returns metric alarms only and a composite alarm would look missing.
          AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
          MaxRecords: MAX_NAMES_PER_REQUEST,
          NextToken: nextToken,
        }),
      ),
    );
  }
}

/** A state CloudWatch may add later is not OK, so it counts as not yet known. */
function toAlarmState(stateValue: string | undefined): AlarmState {
  return stateValue === 'OK' || stateValue === 'ALARM' ? stateValue : 'INSUFFICIENT_DATA';
}
