import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../src/metrics/histogram.js';
import {
  HARNESS_LIMITS,
  LagRecorder,
  OperationRecorder,
  harnessReport,
  mergeLagSnapshots,
  mergeSnapshots,
  operationsReport,
  type LagSnapshot,
} from '../../src/metrics/recorder.js';
import type { LatencySummary, OperationReport } from '../../src/report/types.js';
import { Rng } from '../../src/random/rng.js';

function near(actual: number, expected: number): void {
  expect(Math.abs(actual / expected - 1)).toBeLessThan(0.001);
}

/** Feeds `n` requests with service ~ U(5, 50) ms and a harness delay ~ U(0, delay) ms. */
function feed(rec: OperationRecorder, seed: number, n: number, op = 'check', delay = 0): void {
  const rng = new Rng(seed);
  let t = 1000;
  for (let i = 0; i < n; i++) {
    const intended = t;
    const sent = intended + rng.next() * delay;
    const done = sent + 5 + rng.next() * 45;
    const outcome = rng.chance(0.1) ? 'http:503' : 'errno:0';
    rec.record(op, outcome, outcome !== 'errno:0', intended, sent, done);
    t += 7;
  }
}

describe('OperationRecorder', () => {
  it('keeps the wait from intended to the socket write as a third histogram, only for written requests', () => {
    const rec = new OperationRecorder();
    rec.record('check', 'errno:0', false, 100, { atMs: 130, written: true }, 150);
    // Never written (a refused connection): no queued sample, service from the hand-over.
    rec.record('check', 'net:ECONNREFUSED', true, 100, { atMs: 101, written: false }, 102);
    const r = operationsReport(rec.snapshot())['check']!;
    expect(r.count).toBe(2);
    expect(LatencyHistogram.decode(r.queuedHistogram!).count).toBe(1);
    near(r.queuedMs!.p50, 30);
    near(r.serviceMs.max, 20);
    expect(r.unfinished).toBeUndefined();
  });

  it('counts requests the end caught unanswered, per operation, and merges them across workers', () => {
    const a = new OperationRecorder();
    const b = new OperationRecorder();
    a.unfinished('check', true);
    a.unfinished('check', false);
    b.unfinished('check', true);
    b.record('download', 'http:206', false, 0, { atMs: 1, written: true }, 5);
    const ops = operationsReport(mergeSnapshots([a.snapshot(), b.snapshot()]));
    expect(ops['check']).toMatchObject({ count: 0, unfinished: { inFlight: 2, queued: 1 } });
    expect(ops['download']?.unfinished).toBeUndefined();
  });

  it('measures latency from the intended moment and service from the send', () => {
    const rec = new OperationRecorder();
    rec.record('check', 'errno:0', false, 100, 130, 150); // 30 ms late in the harness
    const r = operationsReport(rec.snapshot())['check']!;
    near(r.latencyMs.p50, 50);
    near(r.serviceMs.p50, 20);
  });

  it('clamps an intended moment after the send, so latency never falls below service', () => {
    const rec = new OperationRecorder();
    rec.record('check', 'errno:0', false, 140, 130, 150);
    const r = operationsReport(rec.snapshot())['check']!;
    near(r.latencyMs.p50, 20);
    near(r.serviceMs.p50, 20);
  });

  it('counts requests, errors and outcomes per operation', () => {
    const rec = new OperationRecorder();
    rec.record('check', 'errno:0', false, 0, 0, 10);
    rec.record('check', 'http:503', true, 0, 0, 10);
    rec.record('check', 'http:503', true, 0, 0, 10);
    rec.record('download', 'net:ECONNRESET', true, 0, 0, 10);
    const ops = operationsReport(rec.snapshot());
    expect(Object.keys(ops)).toEqual(['check', 'download']);
    expect(ops['check']).toMatchObject({ count: 3, errors: 2, byOutcome: { 'http:503': 2, 'errno:0': 1 } });
    // Most frequent outcome first.
    expect(Object.keys(ops['check']!.byOutcome)).toEqual(['http:503', 'errno:0']);
    expect(ops['download']).toMatchObject({ count: 1, errors: 1, byOutcome: { 'net:ECONNRESET': 1 } });
    expect(LatencyHistogram.decode(ops['check']!.histogram).count).toBe(3);
    expect(LatencyHistogram.decode(ops['check']!.serviceHistogram).count).toBe(3);
  });

  it('snapshots are plain data that survive structured cloning and JSON', () => {
    const rec = new OperationRecorder();
    feed(rec, 1, 50);
    const snap = rec.snapshot();
    expect(structuredClone(snap)).toEqual(snap);
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
  });

  it('merged worker snapshots equal one recorder that saw every request', () => {
    const a = new OperationRecorder();
    const b = new OperationRecorder();
    const all = new OperationRecorder();
    feed(a, 1, 400, 'check', 30);
    feed(b, 2, 300, 'check', 0);
    feed(b, 3, 200, 'download', 5);
    feed(all, 1, 400, 'check', 30);
    feed(all, 2, 300, 'check', 0);
    feed(all, 3, 200, 'download', 5);
    const merged = operationsReport(mergeSnapshots([a.snapshot(), b.snapshot()]));
    const whole = operationsReport(all.snapshot());
    for (const op of ['check', 'download']) {
      const m = merged[op]!;
      const w = whole[op]!;
      expect(m.count).toBe(w.count);
      expect(m.errors).toBe(w.errors);
      expect(m.byOutcome).toEqual(w.byOutcome);
      expect(m.latencyMs).toEqual(w.latencyMs);
      expect(m.serviceMs).toEqual(w.serviceMs);
    }
    expect(merged['check']!.count).toBe(700);
  });

  it('keeps any outcome label a server can provoke as a plain count', () => {
    const rec = new OperationRecorder();
    rec.record('check', '__proto__', true, 0, 0, 1);
    rec.record('check', 'constructor', true, 0, 0, 1);
    const merged = mergeSnapshots([rec.snapshot(), rec.snapshot()]);
    const byOutcome = operationsReport(merged)['check']!.byOutcome;
    expect(Object.hasOwn(byOutcome, '__proto__')).toBe(true);
    expect(Object.entries(byOutcome)).toEqual([['__proto__', 2], ['constructor', 2]]);
  });

  it('merging nothing gives no operations; merging one is that one', () => {
    expect(mergeSnapshots([])).toEqual({ operations: {} });
    const rec = new OperationRecorder();
    feed(rec, 4, 20);
    expect(operationsReport(mergeSnapshots([rec.snapshot()]))['check']!.latencyMs).toEqual(operationsReport(rec.snapshot())['check']!.latencyMs);
  });
});

describe('LagRecorder', () => {
  it('records schedule lag, snapshots and merges', () => {
    const a = new LagRecorder();
    const b = new LagRecorder();
    for (let i = 1; i <= 100; i++) a.recordScheduleLag(i);
    b.recordScheduleLag(1000);
    b.recordEventLoopLag(3);
    const merged = mergeLagSnapshots([a.snapshot(), b.snapshot()]);
    expect(LatencyHistogram.decode(merged.schedule).count).toBe(101);
    expect(LatencyHistogram.decode(merged.eventLoop).count).toBe(1);
    near(LatencyHistogram.decode(merged.schedule).summary().max, 1000);
    expect(structuredClone(merged)).toEqual(merged);
  });

  it('measures the event loop\'s utilisation while probed, and merges workers by the busiest', async () => {
    const lag = new LagRecorder();
    expect(lag.snapshot().busiestUtilization).toBeUndefined();
    lag.start(10);
    const until = performance.now() + 150;
    while (performance.now() < until) {
      /* busy */
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    lag.stop();
    const busy = lag.snapshot().busiestUtilization!;
    // 150 ms busy of about 170: far above an idle loop, whatever else the machine does.
    expect(busy).toBeGreaterThan(0.5);
    expect(busy).toBeLessThanOrEqual(1);
    const idle = { eventLoop: lag.snapshot().eventLoop, schedule: lag.snapshot().schedule, busiestUtilization: 0.1 };
    expect(mergeLagSnapshots([idle, lag.snapshot()]).busiestUtilization).toBe(busy);
    expect(mergeLagSnapshots([{ eventLoop: idle.eventLoop, schedule: idle.schedule }]).busiestUtilization).toBeUndefined();
  });

  it('the event-loop probe sees a blocked loop', async () => {
    const lag = new LagRecorder();
    lag.start(10);
    lag.start(10); // a second start is a no-op
    expect(lag.probing).toBe(true);
    // Block the loop for 120 ms: the probe's timer, due 10 ms after start, fires at least 100 ms late.
    const until = performance.now() + 120;
    while (performance.now() < until) {
      /* busy */
    }
    await new Promise((resolve) => setTimeout(resolve, 40));
    lag.stop();
    lag.stop();
    expect(lag.probing).toBe(false);
    const h = LatencyHistogram.decode(lag.snapshot().eventLoop);
    expect(h.count).toBeGreaterThanOrEqual(1);
    expect(h.summary().max).toBeGreaterThanOrEqual(100);
  });
});

function lagOf(scheduleMs: number[], eventLoopMs: number[]): LagSnapshot {
  const lag = new LagRecorder();
  for (const ms of scheduleMs) lag.recordScheduleLag(ms);
  for (const ms of eventLoopMs) lag.recordEventLoopLag(ms);
  return lag.snapshot();
}

function summary(p50: number): LatencySummary {
  return { p50, p90: p50, p99: p50, p999: p50, max: p50, mean: p50 };
}

function op(latencyP50: number, serviceP50: number, count = 10): OperationReport {
  return { count, errors: 0, byOutcome: {}, latencyMs: summary(latencyP50), serviceMs: summary(serviceP50), histogram: '', serviceHistogram: '' };
}

describe('harnessReport', () => {
  const calm = lagOf([1, 2, 3], [1, 1, 2]);

  it('a calm harness is not the bottleneck', () => {
    const h = harnessReport(calm, 2, { check: op(12, 11) }, {});
    expect(h).toMatchObject({ workers: 2, bottleneck: false, notes: [] });
    near(h.scheduleLagMs.max, 3);
    near(h.eventLoopLagMs.p99, 2);
  });

  it('flags schedule lag over 50 ms at p99, with the figure', () => {
    const h = harnessReport(lagOf(Array(100).fill(80), []), 1, {}, {});
    expect(h.bottleneck).toBe(true);
    expect(h.notes).toHaveLength(1);
    expect(h.notes[0]).toMatch(/schedule lag p99 80\.\dms/);
  });

  it('flags event-loop lag over 50 ms at p99', () => {
    const h = harnessReport(lagOf([], Array(100).fill(60)), 1, {}, {});
    expect(h.bottleneck).toBe(true);
    expect(h.notes[0]).toMatch(/event-loop lag p99 60\.\dms/);
  });

  it('does not flag lag just under the limit', () => {
    const h = harnessReport(lagOf([HARNESS_LIMITS.scheduleLagP99Ms - 1], [HARNESS_LIMITS.eventLoopLagP99Ms - 1]), 1, {}, {});
    expect(h.bottleneck).toBe(false);
  });

  it('flags an operation that queued in the harness, naming it and both figures', () => {
    const h = harnessReport(calm, 1, { check: op(12, 11), 'download-chunk': op(40, 20) }, {});
    expect(h.bottleneck).toBe(true);
    expect(h.notes).toHaveLength(1);
    expect(h.notes[0]).toContain('download-chunk');
    expect(h.notes[0]).toContain('40.0ms');
    expect(h.notes[0]).toContain('20.0ms');
  });

  it('calls it queueing past 5 % of service p99 plus 1 ms, not before', () => {
    // Service 1000 ms: the tolerance is 51 ms, and a timer may fire 1 ms late.
    expect(harnessReport(calm, 1, { a: op(1052, 1000) }, {}).bottleneck).toBe(false);
    expect(harnessReport(calm, 1, { a: op(1053, 1000) }, {}).bottleneck).toBe(true);
    // An operation with no requests says nothing.
    expect(harnessReport(calm, 1, { c: op(0, 0, 0) }, {}).bottleneck).toBe(false);
  });

  it('notes in-flight cap hits without calling them a bottleneck', () => {
    const h = harnessReport(calm, 1, {}, { maxInFlightHits: 42 });
    expect(h.bottleneck).toBe(false);
    expect(h.notes).toEqual([expect.stringContaining('42')]);
  });

  it('reads an empty lag snapshot as zeros', () => {
    const h = harnessReport(mergeLagSnapshots([]), 0, {}, {});
    expect(h.eventLoopLagMs).toEqual({ p50: 0, p99: 0, max: 0 });
    expect(h.scheduleLagMs).toEqual({ p50: 0, p99: 0, max: 0 });
  });
});
