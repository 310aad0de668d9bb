/**
 * The CloudWatch alarms that vouch for a release, as "Check service health" uses them. Declared here, where it is used;
 * `adapters/alarm-monitor.ts` implements it on CloudWatch.
 */
import type { AlarmState } from '../../decisions/health';

export interface AlarmStatus {
  name: string;
  state: AlarmState;
  /** When the alarm's state value last changed; null when CloudWatch does not say (or the alarm is missing). */
  since: Date | null;
}

export interface AlarmMonitor {
  /** One entry per distinct name, in the given order; 'MISSING' for an alarm CloudWatch does not know. */
  states(names: string[]): Promise<AlarmStatus[]>;
}
