import { CloudWatchClient, DescribeAlarmsCommand, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { AlarmMonitor } from '../../lambdas/adapters/alarm-monitor';
import { TransientAwsError } from '../../lambdas/errors';

const cloudWatch = mockClient(CloudWatchClient);
const monitor = new AlarmMonitor(new CloudWatchClient({ region: 'us-east-1' }));

function metricAlarm(name: string, state: MetricAlarm['StateValue']): MetricAlarm {
  return { AlarmName: name, StateValue: state };
}

beforeEach(() => {
  cloudWatch.reset();
});

describe('AlarmMonitor.states', () => {
  it('reads metric and composite alarms by name, and reports the ones CloudWatch does not know as MISSING', async () => {
    const since = new Date('2026-11-20T01:00:00Z');
    cloudWatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [metricAlarm('sentiment-5xx', 'OK'), metricAlarm('sentiment-latency', 'INSUFFICIENT_DATA')],
      CompositeAlarms: [{ AlarmName: 'sentiment-overall', StateValue: 'ALARM', StateTransitionedTimestamp: since }],
    });

    await expect(monitor.states(['sentiment-overall', 'sentiment-5xx', 'typo-alarm', 'sentiment-latency'])).resolves.toEqual([
      { name: 'sentiment-overall', state: 'ALARM', since },
      { name: 'sentiment-5xx', state: 'OK', since: null },
      { name: 'typo-alarm', state: 'MISSING', since: null },
      { name: 'sentiment-latency', state: 'INSUFFICIENT_DATA', since: null },
    ]);
    expect(cloudWatch.commandCalls(DescribeAlarmsCommand).map((call) => call.args[0].input)).toEqual([
      {
        AlarmNames: ['sentiment-overall', 'sentiment-5xx', 'typo-alarm', 'sentiment-latency'],
        AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
        MaxRecords: 100,
        NextToken: undefined,
      },
    ]);
  });

  it('dates an alarm by when its state value changed, not by its last evaluation-state update', async () => {
    const raised = new Date('2026-11-20T01:00:00Z');
    cloudWatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        {
          ...metricAlarm('sentiment-latency', 'ALARM'),
          StateTransitionedTimestamp: raised,
          StateUpdatedTimestamp: new Date('2026-11-20T01:30:00Z'),
          EvaluationState: 'PARTIAL_DATA',
        },
      ],
    });

    await expect(monitor.states(['sentiment-latency'])).resolves.toEqual([{ name: 'sentiment-latency', state: 'ALARM', since: raised }]);
  });

  it('makes no call for no alarms', async () => {
    await expect(monitor.states([])).resolves.toEqual([]);
    expect(cloudWatch.commandCalls(DescribeAlarmsCommand)).toHaveLength(0);
  });

  it('asks for at most 100 names at a time', async () => {
    const names = Array.from({ length: 250 }, (_, i) => `alarm-${i}`);
    cloudWatch.on(DescribeAlarmsCommand).callsFake((input: { AlarmNames: string[] }) => ({
      MetricAlarms: input.AlarmNames.map((name) => metricAlarm(name, 'OK')),
    }));

    const states = await monitor.states(names);

    expect(cloudWatch.commandCalls(DescribeAlarmsCommand).map((call) => call.args[0].input.AlarmNames?.length)).toEqual([100, 100, 50]);
    expect(states).toHaveLength(250);
    expect(states.every((alarm) => alarm.state === 'OK')).toBe(true);
  });

  it('follows NextToken until the last page', async () => {
    cloudWatch
      .on(DescribeAlarmsCommand)
      .resolvesOnce({ MetricAlarms: [metricAlarm('a', 'OK')], NextToken: 'page-2' })
      .resolvesOnce({ MetricAlarms: [metricAlarm('b', 'ALARM')] });

    await expect(monitor.states(['a', 'b'])).resolves.toEqual([
      { name: 'a', state: 'OK', since: null },
      { name: 'b', state: 'ALARM', since: null },
    ]);
    expect(cloudWatch.commandCalls(DescribeAlarmsCommand)[1].args[0].input.NextToken).toBe('page-2');
  });

  it('asks once per distinct name and answers once per distinct name', async () => {
    cloudWatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [metricAlarm('a', 'OK')] });

    await expect(monitor.states(['a', 'a'])).resolves.toEqual([{ name: 'a', state: 'OK', since: null }]);
    expect(cloudWatch.commandCalls(DescribeAlarmsCommand)[0].args[0].input.AlarmNames).toEqual(['a']);
  });

  it('turns throttling into TransientAwsError', async () => {
    cloudWatch.on(DescribeAlarmsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $fault: 'client' }));

    await expect(monitor.states(['a'])).rejects.toThrow(TransientAwsError);
  });
});
