/** `services[].release`: the rules that span its fields (the fields themselves: release.test.ts). */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lib/config';
import { plannedAnalyses } from '../../../lib/config/schema/release';
import { exampleWithGray, grayRelease, issuesOf, ROOT } from '../config-fixture';

/** sentiment's release (services[0], production) after parsing. */
const releaseOf = (raw: unknown, index = 0) => parseConfig(raw, ROOT).services[index]!.release;

describe('rules across fields', () => {
  /** The example's sentiment service (production) with its gray release changed by `change`. */
  function withGray(change: (release: any) => void, environment = 'production') {
    const raw = exampleWithGray();
    raw.services[0].environment = environment;
    change(raw.services[0].release);
    return raw;
  }

  describe('every step bakes at least one analysis interval', () => {
    const bakes = (bakeMinutes: number) => (release: any) => {
      release.analysis = { intervalMinutes: 10 };
      release.steps = [
        { weight: 50, bakeMinutes: 30 },
        { weight: 100, bakeMinutes },
      ];
    };

    it('accepts a bake as long as the interval', () => {
      expect(() => parseConfig(withGray(bakes(10)), ROOT)).not.toThrow();
    });

    it('rejects a shorter one, at the step, naming both values', () => {
      expect(issuesOf(withGray(bakes(9)))).toEqual([
        'services[0].release.steps[1].bakeMinutes: 9 is shorter than analysis.intervalMinutes 10: the step would pass before its first analysis',
      ]);
    });
  });

  describe("every step bakes long enough for its last analysis to see only the step's traffic", () => {
    const bakes = (bakeMinutes: number) => (release: any) => {
      release.analysis = { intervalMinutes: 5, windowMinutes: 30, metricLagSeconds: 900 };
      release.steps = [{ weight: 100, bakeMinutes }];
    };

    it('accepts a bake of the window + the lag + one minute of rounding', () => {
      expect(() => parseConfig(withGray(bakes(46)), ROOT)).not.toThrow();
    });

    it('rejects a shorter one, naming the window and the lag', () => {
      expect(issuesOf(withGray(bakes(45)))).toEqual([
        'services[0].release.steps[0].bakeMinutes: 45 is shorter than analysis.windowMinutes 30 + metricLagSeconds 900 (15 min) + 1 ' +
          "minute of rounding: the step's last analysis would still judge traffic from before the step",
      ]);
    });
  });

  describe('the probe waits at least as long as an answer may take', () => {
    const probe = (timeoutMs: number) => (release: any) => void (release.probe = { port: 8080, maxLatencyMs: 300, timeoutMs });

    it('accepts a timeout equal to maxLatencyMs', () => {
      expect(() => parseConfig(withGray(probe(300)), ROOT)).not.toThrow();
    });

    it('rejects a shorter one, naming both values', () => {
      expect(issuesOf(withGray(probe(299)))).toEqual([
        'services[0].release.probe.timeoutMs: 299 is shorter than maxLatencyMs 300: a slow answer would time out instead of being ' +
          'measured; set timeoutMs to at least maxLatencyMs',
      ]);
    });
  });

  describe("a task's attempts fit in the probe function's run", () => {
    const probe = (attempts: number, timeoutMs: number) => (release: any) =>
      void (release.probe = { port: 8080, attempts, timeoutMs, maxLatencyMs: 200 });

    it('accepts 20 s of attempts', () => {
      expect(() => parseConfig(withGray(probe(4, 5000)), ROOT)).not.toThrow();
    });

    it('rejects attempts a task that never answers would make outlast the function, naming the product', () => {
      expect(issuesOf(withGray(probe(5, 10000)))).toEqual([
        'services[0].release.probe.timeoutMs: 10000 × attempts 5 is 50000 ms, more than the 20000 ms a probe of a task that never ' +
          'answers may take (its function runs at most 30 s); lower timeoutMs or attempts',
      ]);
    });
  });

  describe('a warm-up leaves at least one answer to judge', () => {
    const probe = (attempts: number, warmup: boolean) => (release: any) => void (release.probe = { port: 8080, attempts, warmup });

    it.each([
      [2, true],
      [1, false],
    ])('accepts %i attempt(s) with warmup %s', (attempts, warmup) => {
      expect(() => parseConfig(withGray(probe(attempts, warmup)), ROOT)).not.toThrow();
    });

    it('rejects a single attempt with warmup', () => {
      expect(issuesOf(withGray(probe(1, true)))).toEqual([
        "services[0].release.probe.attempts: 1 leaves no answer to judge once warmup discards each task's first; set attempts to 2 " +
          'or more, or warmup to false',
      ]);
    });
  });

  describe('the planned duration is at most 14 days (20160 minutes)', () => {
    // A production service waits for an approval before the first step (240 minutes by default), and the previous
    // version is kept 60 minutes: a single step of 19860 minutes makes exactly 20160. Hourly analyses keep their count
    // low; inconclusive analyses roll back here (a pause is an approval too: counted below).
    const plan =
      (bakeMinutes: number, stepApproval = false) =>
      (release: any) => {
        release.analysis = { intervalMinutes: 60, onInconclusive: 'rollback' };
        release.steps = [{ weight: 100, bakeMinutes, approval: stepApproval }];
      };

    it('accepts exactly 14 days', () => {
      expect(() => parseConfig(withGray(plan(19860)), ROOT)).not.toThrow();
    });

    it('rejects a minute more, listing what adds up', () => {
      expect(issuesOf(withGray(plan(19861)))).toEqual([
        "services[0].release: plans 20161 minutes (steps' bakeMinutes 19861 + 1 approval (before the first step) × " +
          'approval.timeoutMinutes 240 + keepPreviousMinutes 60), more than the 20160 (14 days) a gray release may take: ' +
          'shorten the bakes, the approval timeout or the standby',
      ]);
    });

    it('counts no approval before the first step of a staging service (its default), nor one turned off', () => {
      expect(() => parseConfig(withGray(plan(19861), 'staging'), ROOT)).not.toThrow();
      const off = withGray((release) => {
        plan(19861)(release);
        release.approval = { beforeFirstStep: false };
      });
      expect(() => parseConfig(off, ROOT)).not.toThrow();
    });

    it('counts each step’s approval', () => {
      expect(issuesOf(withGray(plan(19861, true), 'staging'))).toEqual([
        "services[0].release: plans 20161 minutes (steps' bakeMinutes 19861 + 1 approval (after steps[0]) × " +
          'approval.timeoutMinutes 240 + keepPreviousMinutes 60), more than the 20160 (14 days) a gray release may take: ' +
          'shorten the bakes, the approval timeout or the standby',
      ]);
    });

    it('counts a pause of each step that has no approval of its own, when inconclusive analyses pause', () => {
      const paused = withGray((release) => {
        plan(19861)(release);
        release.analysis.onInconclusive = 'pause';
      }, 'staging');
      expect(issuesOf(paused)).toEqual([
        "services[0].release: plans 20161 minutes (steps' bakeMinutes 19861 + 1 approval (steps[0] paused) × " +
          'approval.timeoutMinutes 240 + keepPreviousMinutes 60), more than the 20160 (14 days) a gray release may take: ' +
          'shorten the bakes, the approval timeout or the standby',
      ]);
    });
  });

  describe('at most 1000 analyses', () => {
    const analyses = (bakeMinutes: number) => (release: any) => {
      release.analysis = { intervalMinutes: 1, onInconclusive: 'rollback' };
      release.steps = [
        { weight: 50, bakeMinutes: 500 },
        { weight: 100, bakeMinutes },
      ];
    };

    it('accepts 1000', () => {
      expect(() => parseConfig(withGray(analyses(500)), ROOT)).not.toThrow();
    });

    it('rejects 1001, at the interval, naming the count and the bake minutes', () => {
      expect(issuesOf(withGray(analyses(501)))).toEqual([
        "services[0].release.analysis.intervalMinutes: 1 plans 1001 analyses over the steps' 1001 bake minutes, more than 1000: " +
          "each adds events to the execution's history, which Step Functions caps at 25,000; analyse less often or bake shorter",
      ]);
    });

    it('counts a last, shorter interval of a step as one more analysis', () => {
      expect(plannedAnalyses([{ bakeMinutes: 7 }, { bakeMinutes: 5 }], 5)).toBe(3);
    });

    it('counts the analyses that go on while each step approval waits, up to its timeout', () => {
      expect(plannedAnalyses([{ bakeMinutes: 10, approval: true }, { bakeMinutes: 10 }], 5, 60)).toBe(2 + 12 + 2);
    });

    it('counts, when inconclusive analyses pause, an approval wait for every step (one each at most)', () => {
      expect(plannedAnalyses([{ bakeMinutes: 10, approval: true }, { bakeMinutes: 10 }], 5, 60, true)).toBe(2 + 12 + 2 + 12);
    });

    it('rejects approvals whose waits take the count past 1000, saying so', () => {
      const waits = (release: any) => {
        release.analysis = { intervalMinutes: 1, onInconclusive: 'rollback' };
        release.approval = { timeoutMinutes: 600 };
        release.steps = [
          { weight: 50, bakeMinutes: 10, approval: true },
          { weight: 100, bakeMinutes: 10, approval: true },
        ];
      };
      expect(issuesOf(withGray(waits))).toEqual([
        "services[0].release.analysis.intervalMinutes: 1 plans 1220 analyses over the steps' 20 bake minutes and 2 approval wait(s) of up to 600 minutes (analysed as they wait), more than 1000: " +
          "each adds events to the execution's history, which Step Functions caps at 25,000; analyse less often or bake shorter",
      ]);
    });

    it('counts the waits of steps that may pause on inconclusive analyses (the default), saying so', () => {
      const pausing = (release: any) => {
        release.analysis = { intervalMinutes: 1 };
        release.approval = { timeoutMinutes: 600 };
        release.steps = [
          { weight: 50, bakeMinutes: 10 },
          { weight: 100, bakeMinutes: 10 },
        ];
      };
      expect(issuesOf(withGray(pausing))).toEqual([
        'services[0].release.analysis.intervalMinutes: 1 plans 1220 analyses over the steps\' 20 bake minutes and 2 approval wait(s) of up to 600 minutes (analysed as they wait, each step able to pause on inconclusive analyses (onInconclusive "pause")), more than 1000: ' +
          "each adds events to the execution's history, which Step Functions caps at 25,000; analyse less often or bake shorter",
      ]);
    });
  });

  it('checks no rule on a rolling release, even when another service is gray', () => {
    const raw = exampleWithGray();
    raw.services[1].release = { strategy: 'rolling' };

    expect(releaseOf(raw, 1)).toEqual({ strategy: 'rolling' });
  });

  it('lets a staging service take a gray release too (its own rule and target groups)', () => {
    const raw = exampleWithGray();
    raw.services[1].release = grayRelease('summarizer', '1111222233334444');

    expect(releaseOf(raw, 1)).toMatchObject({ strategy: 'gray', approval: { beforeFirstStep: false } });
  });
});
