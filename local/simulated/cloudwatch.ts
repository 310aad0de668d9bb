/**
 * CloudWatch alarms, as DescribeAlarms reports them
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html): `StateValue`, and
 * `StateUpdatedTimestamp`, the time the alarm last changed state; only metric alarms unless `AlarmTypes` asks for
 * composite ones too; names CloudWatch does not know are simply absent from the answer.
 */
import type { Clock } from './clock';

export type AlarmValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

interface Alarm {
  value: AlarmValue;
  updatedAt: Date;
}

export class SimulatedCloudWatch {
  private readonly alarms = new Map<string, Alarm>();

  constructor(
    private readonly clock: Clock,
    private readonly arnPrefix: string,
  ) {}

  /** Creates the alarm, or changes its state; the state's timestamp moves only when the value changes, as in CloudWatch. */
  setAlarm(name: string, value: AlarmValue, at: Date = this.clock()): void {
    const existing = this.alarms.get(name);
    if (existing?.value === value) return;
    this.alarms.set(name, { value, updatedAt: at });
  }

  has(name: string): boolean {
    return this.alarms.has(name);
  }

  describeAlarms(input: { AlarmNames?: string[]; AlarmTypes?: string[] }) {
    const names = input.AlarmNames ?? [...this.alarms.keys()];
    const metricAlarmsAsked = !input.AlarmTypes || input.AlarmTypes.includes('MetricAlarm');
    return {
      MetricAlarms: metricAlarmsAsked
        ? names
            .filter((name) => this.alarms.has(name))
            .map((name) => {
              const alarm = this.alarms.get(name)!;
              return {
                AlarmName: name,
                AlarmArn: `${this.arnPrefix}:alarm:${name}`,
                StateValue: alarm.value,
                StateReason: `simulated: ${alarm.value}`,
                StateUpdatedTimestamp: new Date(alarm.updatedAt),
              };
            })
        : [],
      CompositeAlarms: [],
    };
  }
}
