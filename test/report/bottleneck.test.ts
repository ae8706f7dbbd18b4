import { describe, expect, it } from 'vitest';
import { adviceFor, bottleneckVerdict, isBackPressureNote } from '../../src/report/bottleneck.js';
import { judgeHarness, type HarnessFigures } from '../../src/metrics/harness-rule.js';
import type { LatencySummary, OperationReport } from '../../src/report/types.js';

describe('bottleneck verdict', () => {
  const lag = 'event-loop lag p99 80.0ms > 50.0ms (max 90ms): the workers were saturated';
  const held = 'devices were held back 3 time(s) while the send queue was full: the target was slower than the fleet';
  it('sorts notes into the harness\'s own lateness and back-pressure', () => {
    expect(isBackPressureNote(held)).toBe(true);
    expect(isBackPressureNote('9 request(s) waited for a free in-flight slot (engine.maxInFlightPerWorker)')).toBe(true);
    expect(isBackPressureNote(lag)).toBe(false);
  });
  it('names exactly one limit', () => {
    expect(bottleneckVerdict({ bottleneck: true, notes: [lag, held] })).toMatchObject({ limit: 'harness', evidence: [lag], alsoSeen: ['devices were held back 3 time(s) while the send queue was full'] });
    expect(bottleneckVerdict({ bottleneck: false, notes: [held] })).toMatchObject({ limit: 'target', evidence: ['devices were held back 3 time(s) while the send queue was full'], alsoSeen: [] });
    expect(bottleneckVerdict({ bottleneck: false, notes: [] })).toMatchObject({ limit: 'neither', evidence: [], alsoSeen: [] });
  });
});

describe('what a harness verdict means, and what to do', () => {
  const flat = (ms: number): LatencySummary => ({ p50: ms, p90: ms, p99: ms, p999: ms, max: ms, mean: ms });
  const op = (serviceP99: number, queuedP99: number): OperationReport => ({ count: 100, errors: 0, byOutcome: {}, latencyMs: flat(serviceP99 + queuedP99), serviceMs: flat(serviceP99), queuedMs: flat(queuedP99), histogram: '', serviceHistogram: '' });
  const lagOf = (p99: number) => ({ p50: p99 / 2, p99, max: p99 });
  const verdictOf = (f: Partial<HarnessFigures>) => bottleneckVerdict(judgeHarness({ eventLoopLagMs: lagOf(1), scheduleLagMs: lagOf(1), operations: {}, ...f }));

  it('the default run at loopback speed (sub-ms service, a few ms of loop lag): says the figures measure this machine too, and how to get the target\'s', () => {
    const v = verdictOf({ eventLoopLagMs: lagOf(4), operations: { check: op(0.5, 0.2) } });
    expect(v.limit).toBe('harness');
    expect(v.whatToDo).toEqual([expect.stringMatching(/^answers waited longer to be read than the 5 % \+ 1 ms .*measure this machine as well as the target.*fewer devices per worker.*\/admin\/counters/)]);
  });

  it('one line per kind of evidence, in the checks\' order, each naming what to change', () => {
    const v = verdictOf({ scheduleLagMs: lagOf(900), eventLoopLagMs: lagOf(80), operations: { check: op(20, 400), download: op(5, 300) } });
    expect(v.whatToDo).toEqual([
      expect.stringMatching(/^devices acted late: .*--devices.*arrival\.over.*--workers.*--time-scale/),
      expect.stringMatching(/^the workers were saturated.*--workers/),
      expect.stringMatching(/^requests waited before their write .*engine\.maxInFlightPerWorker and engine\.connectionsPerWorker/),
    ]);
    expect(verdictOf({ eventLoopUtilization: 0.95 }).whatToDo).toEqual([expect.stringMatching(/^the workers were saturated/)]);
  });

  it('no advice when the harness kept up, nor for notes that are not evidence', () => {
    expect(verdictOf({ operations: { check: op(20, 0.5) } })).toMatchObject({ limit: 'neither', whatToDo: [] });
    expect(bottleneckVerdict({ bottleneck: false, notes: ['devices were held back 3 time(s) while the send queue was full: the target was slower than the fleet'] }).whatToDo).toEqual([]);
    expect(adviceFor(['7 request(s) waited for a free in-flight slot (engine.maxInFlightPerWorker); their wait is in queued'])).toEqual([]);
  });
});
