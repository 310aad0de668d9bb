/**
 * CloudWatch alarms, as DescribeAlarms reports them
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html): `StateValue`;
 * `StateTransitionedTimestamp`, "the date and time that the alarm's StateValue most recently changed", and
 * `StateUpdatedTimestamp`, "the last update to the value of either the StateValue or EvaluationState parameters"
 * (API_MetricAlarm); only metric alarms unless `AlarmTypes` asks for composite ones too; names CloudWatch does not
 * know are simply absent from the answer. A change of StateValue puts a "CloudWatch Alarm State Change" event on the
 * default bus, with `detail.alarmName`, `detail.state` and `detail.previousState`
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html).
 */
import type { Clock } from './clock';
import type { AwsEvent } from './ecs-model';

export type AlarmValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** MetricAlarm EvaluationState: absent while the alarm evaluates normally. */
export type EvaluationState = 'PARTIAL_DATA' | 'EVALUATION_ERROR' | 'EVALUATION_FAILURE' | null;

interface Alarm {
  value: AlarmValue;
  evaluationState: EvaluationState;
  /** StateValue last changed. */
  transitionedAt: Date;
  /** StateValue or EvaluationState last changed. */
  updatedAt: Date;
}

export class SimulatedCloudWatch {
  private readonly alarms = new Map<string, Alarm>();

  private events = 0;

  constructor(
    private readonly clock: Clock,
    private readonly arnPrefix: string,
    private readonly emit: (event: AwsEvent) => void = () => {},
  ) {}

  /** Creates the alarm, or changes its state; the timestamps move only when the value changes, as in CloudWatch. */
  setAlarm(name: string, value: AlarmValue, at: Date = this.clock()): void {
    const existing = this.alarms.get(name);
    if (existing?.value === value) return;
    this.alarms.set(name, { value, evaluationState: existing?.evaluationState ?? null, transitionedAt: at, updatedAt: at });
    // Created in its first state: no change of state to announce.
    if (existing) this.emit(this.stateChange(name, value, existing.value, at));
  }

  private stateChange(name: string, value: AlarmValue, previous: AlarmValue, at: Date): AwsEvent {
    const [, , , region, account] = this.arnPrefix.split(':');
    return {
      version: '0',
      id: `local-alarm-event-${++this.events}`,
      'detail-type': 'CloudWatch Alarm State Change',
      source: 'aws.cloudwatch',
      account: account!,
      time: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: region!,
      resources: [`${this.arnPrefix}:alarm:${name}`],
      detail: {
        alarmName: name,
        state: { value, reason: `simulated: ${value}`, timestamp: at.toISOString() },
        previousState: { value: previous, reason: `simulated: ${previous}`, timestamp: at.toISOString() },
      },
    };
  }

  /** Changes an alarm's EvaluationState (e.g. PARTIAL_DATA while data is missing): only StateUpdatedTimestamp moves. */
  setEvaluationState(name: string, evaluationState: EvaluationState, at: Date = this.clock()): void {
    const existing = this.alarms.get(name);
    if (!existing) throw new Error(`simulated CloudWatch: no alarm ${name}`);
    if (existing.evaluationState === evaluationState) return;
    Object.assign(existing, { evaluationState, updatedAt: at });
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
                StateTransitionedTimestamp: new Date(alarm.transitionedAt),
                ...(alarm.evaluationState ? { EvaluationState: alarm.evaluationState } : {}),
              };
            })
        : [],
      CompositeAlarms: [],
    };
  }
}
