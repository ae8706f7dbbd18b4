import { describe, expect, it } from 'vitest';
import { judgeHarness, toleranceMs, HARNESS_LIMITS, type HarnessFigures } from '../../src/metrics/harness-rule.js';
import type { LatencySummary, OperationReport } from '../../src/report/types.js';

const flat = (ms: number): LatencySummary => ({ p50: ms, p90: ms, p99: ms, p999: ms, max: ms, mean: ms });
const lag = (p99: number) => ({ p50: p99 / 2, p99, max: p99 });

function op(serviceP99: number, queuedP99: number | undefined, count = 100): OperationReport {
  const r: OperationReport = {
    count,
    errors: 0,
    byOutcome: {},
    latencyMs: flat(serviceP99 + (queuedP99 ?? 0)),
    serviceMs: flat(serviceP99),
    histogram: '',
    serviceHistogram: '',
  };
  if (queuedP99 !== undefined) r.queuedMs = flat(queuedP99);
  return r;
}

function figures(over: Partial<HarnessFigures>): HarnessFigures {
  return { eventLoopLagMs: lag(1), scheduleLagMs: lag(1), operations: {}, ...over };
}

describe('the harness rule', () => {
  it('the tolerance is 5 % of service p99 plus 1 ms', () => {
    expect(toleranceMs(20)).toBeCloseTo(2);
    expect(toleranceMs(0)).toBe(1);
  });

  it('a wait before the write past the tolerance bends latency from intended only, and says by how much', () => {
    const { bottleneck, notes } = judgeHarness(figures({ operations: { check: op(20, 38) } }));
    expect(bottleneck).toBe(true);
    expect(notes).toEqual([expect.stringMatching(/^check: queued p99 38\.0ms .*percentiles from send are true, from intended include up to 38\.0ms of harness wait/)]);
  });

  it('a wait within the tolerance (and a timer\'s 1 ms granularity) is not a bottleneck', () => {
    // 20 ms service: 2 ms allowed, plus 1 ms for the device's timer.
    expect(judgeHarness(figures({ operations: { check: op(20, 2.9) } }))).toEqual({ bottleneck: false, notes: [] });
    expect(judgeHarness(figures({ operations: { check: op(20, 3.1) } })).bottleneck).toBe(true);
  });

  it('reads the wait from the gap of the two other histograms in reports without a queued one', () => {
    expect(judgeHarness(figures({ operations: { check: op(20, undefined) } })).bottleneck).toBe(false);
    const old = op(20, undefined);
    old.latencyMs = flat(40);
    expect(judgeHarness(figures({ operations: { check: old } })).notes[0]).toContain('queued p99 20.0ms');
  });

  it('an event-loop lag past an operation\'s tolerance bends its percentiles from send', () => {
    // 6 ms lag, 1 ms of it timer granularity: up to 5 ms on a 20 ms service (2 ms allowed).
    const hit = judgeHarness(figures({ eventLoopLagMs: lag(6), operations: { check: op(20, 0.5), download: op(400, 0.5) } }));
    expect(hit.bottleneck).toBe(true);
    expect(hit.notes).toEqual([expect.stringMatching(/^check: event-loop lag p99 5\.00ms .*from send may read above the server's service time by about 5\.00ms, at worst 5\.00ms/)]);
    // 2 ms lag: 1 ms of blocking, within 2 ms.
    expect(judgeHarness(figures({ eventLoopLagMs: lag(2), operations: { check: op(20, 0.5) } })).bottleneck).toBe(false);
  });

  it('a saturated event loop is the bottleneck, named with its utilisation', () => {
    const hot = judgeHarness(figures({ eventLoopUtilization: 0.97 }));
    expect(hot.bottleneck).toBe(true);
    expect(hot.notes[0]).toMatch(/event-loop utilisation 97% ≥ 90%/);
    expect(judgeHarness(figures({ eventLoopUtilization: HARNESS_LIMITS.eventLoopUtilization - 0.01 })).bottleneck).toBe(false);
  });

  it('in-flight cap hits are a note, not a verdict: their cost is in queued', () => {
    expect(judgeHarness(figures({ maxInFlightHits: 7 }))).toEqual({ bottleneck: false, notes: [expect.stringContaining('7 request(s) waited')] });
  });
});

describe('the harness rule, both at once', () => {
  it('does not call from send true when the loop bent it as well', () => {
    const { notes } = judgeHarness(figures({ eventLoopLagMs: lag(60), operations: { check: op(20, 38) } }));
    expect(notes[0]).toMatch(/^event-loop lag p99 60\.0ms > 50\.0ms .*from send may read high by about 59\.0ms, at worst 59\.0ms/);
    expect(notes[1]).toMatch(/^check: queued p99 38\.0ms .*: percentiles from intended include up to 38\.0ms/);
    expect(notes.join('\n')).not.toContain('are true');
  });
});
