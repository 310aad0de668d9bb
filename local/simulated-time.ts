/**
 * Simulated time for executions that run side by side. Each execution (or a push waiting to arrive) is a participant;
 * when it waits (`sleep`), it stops counting as running. Once no participant is running, the clock jumps to the
 * earliest wake-up and wakes whoever was waiting for it. So twenty executions polling a lock see time pass the way
 * they would in AWS, in order, and a run takes milliseconds however many simulated minutes it spans.
 */
import type { SimulatedAccount } from './simulated-account';

interface Sleeper {
  wakeAt: number;
  order: number;
  wake: () => void;
}

/** A sleep another participant can end early (a task token answered before its timeout). */
export interface InterruptibleSleep {
  /** 'interrupted' when `interrupt` ended it, 'elapsed' when its time ran out. */
  ended: Promise<'interrupted' | 'elapsed'>;
  /** Ends the sleep now, from a running participant; false when it had already ended. */
  interrupt(): boolean;
  /**
   * Ends the sleep of a participant that is gone (its execution stopped): it resumes without counting as running, so
   * it must end without sleeping again. False when it had already ended.
   */
  cancel(): boolean;
}

export class SimulatedTime {
  private running = 0;
  private sequence = 0;
  private readonly sleepers: Sleeper[] = [];

  constructor(private readonly account: Pick<SimulatedAccount, 'clock' | 'advance'>) {}

  /** Runs `work` as a participant: time does not pass while it is busy, only while every participant sleeps. */
  async participate<T>(work: () => Promise<T>): Promise<T> {
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
      this.advanceWhenIdle();
    }
  }

  /** Waits `seconds` of simulated time (0: lets every other participant that is due run first). */
  sleep(seconds: number): Promise<void> {
    // A sleeper that never wakes would stop the time of every participant.
    if (!Number.isFinite(seconds) || seconds < 0) return Promise.reject(new Error(`Cannot sleep ${seconds} s of simulated time`));
    return new Promise((resolve) => this.addSleeper(seconds, resolve));
  }

  /**
   * Sleeps at most `seconds`, unless another participant interrupts it first: the sleeper then resumes at once, as a
   * running participant, before time moves on. `onElapsed` runs when the time runs out, before the sleeper resumes.
   */
  sleepInterruptibly(seconds: number, onElapsed: () => void = () => {}): InterruptibleSleep {
    if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`Cannot sleep ${seconds} s of simulated time`);
    let end!: (how: 'interrupted' | 'elapsed') => void;
    const ended = new Promise<'interrupted' | 'elapsed'>((resolve) => {
      end = resolve;
    });
    // onElapsed runs the moment time runs out, before any participant woken at the same instant can interrupt.
    const sleeper = this.addSleeper(seconds, () => {
      onElapsed();
      end('elapsed');
    });
    /** Takes the sleeper out of the queue; false when its time already ran out. */
    const remove = () => {
      const at = this.sleepers.indexOf(sleeper);
      if (at >= 0) this.sleepers.splice(at, 1);
      return at >= 0;
    };
    return {
      ended,
      interrupt: () => {
        if (!remove()) return false;
        this.running++;
        end('interrupted');
        return true;
      },
      cancel: () => {
        if (!remove()) return false;
        end('interrupted');
        this.advanceWhenIdle();
        return true;
      },
    };
  }

  private addSleeper(seconds: number, wake: () => void): Sleeper {
    const sleeper = { wakeAt: this.account.clock().getTime() + seconds * 1000, order: this.sequence++, wake };
    this.sleepers.push(sleeper);
    this.running--;
    this.advanceWhenIdle();
    return sleeper;
  }

  private advanceWhenIdle(): void {
    if (this.running > 0 || this.sleepers.length === 0) return;
    this.sleepers.sort((a, b) => a.wakeAt - b.wakeAt || a.order - b.order);
    const wakeAt = this.sleepers[0]!.wakeAt;
    const now = this.account.clock().getTime();
    if (wakeAt > now) this.account.advance((wakeAt - now) / 1000);
    while (this.sleepers.length > 0 && this.sleepers[0]!.wakeAt <= wakeAt) {
      // Counted as running before it resumes, so nobody else sees an idle moment in between.
      this.running++;
      this.sleepers.shift()!.wake();
    }
  }
}
