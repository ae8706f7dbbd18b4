import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../src/metrics/histogram.js';
import { MAX_TIME_POINTS, P50_X, P99_X, coarsen, decadesFor, latencyChart, percentileGrid, rateChart, statesChart, type ChartSpec } from '../../src/report/html/charts.js';
import { passingReport } from './fixtures/reports.js';

const report = passingReport();

function chartOf(c: ReturnType<typeof latencyChart>): ChartSpec {
  if (!('chart' in c)) throw new Error(`expected a chart, got: ${c.note}`);
  return c.chart;
}

describe('latency by percentile', () => {
  it('uses x = 1/(1-p) with 0%, p50, p99 on the grid and as many nines as the samples resolve', () => {
    expect(decadesFor(10)).toBe(3);
    expect(decadesFor(4_000)).toBe(4);
    expect(decadesFor(10_000)).toBe(4);
    expect(decadesFor(10_001)).toBe(5);
    expect(decadesFor(1e9)).toBe(6);
    const grid = percentileGrid(4);
    expect(grid[0]).toBe(1);
    expect(grid).toContain(P50_X);
    expect(grid).toContain(P99_X);
    expect(grid).toContain(10);
    expect(grid[grid.length - 1]).toBe(10_000);
    for (let i = 1; i < grid.length; i++) expect(grid[i]!).toBeGreaterThan(grid[i - 1]!);
  });

  it('plots the histogram itself: the curve at p50 and p99 is the summary, its end is the maximum', () => {
    for (const [name, o] of Object.entries(report.operations)) {
      const chart = chartOf(latencyChart('c', name, o));
      const [latency, service, marks] = chart.series;
      const at = (x: number): number => latency!.values[chart.x.indexOf(x)]!;
      expect(at(P50_X)).toBeCloseTo(o.latencyMs.p50, 3);
      expect(at(P99_X)).toBeCloseTo(o.latencyMs.p99, 3);
      expect(latency!.values[latency!.values.length - 1]).toBeCloseTo(o.latencyMs.max, 3);
      expect(service!.values[service!.values.length - 1]).toBeCloseTo(o.serviceMs.max, 3);
      for (let i = 1; i < latency!.values.length; i++) expect(latency!.values[i]!).toBeGreaterThanOrEqual(latency!.values[i - 1]!);
      // Independent check against the decoded histogram: the value at 90 % (x = 10).
      const h = LatencyHistogram.decode(o.histogram);
      expect(at(10)).toBeCloseTo(h.percentiles([90])[0]!.ms, 3);
      // Marks sit exactly at p50, p99 and max, and nowhere else.
      expect(marks!.values.filter((v) => v !== null)).toEqual([o.latencyMs.p50, o.latencyMs.p99, o.latencyMs.max]);
      expect(chart.marks!.map((m) => m.label.split(' ')[0])).toEqual(['p50', 'p99', 'max']);
      expect(chart.title).toContain(name);
    }
  });

  it('draws the harness\'s wait as a third curve when the report has it, and only then', () => {
    const o = report.operations['check']!;
    const queued = new LatencyHistogram();
    for (let i = 1; i <= 100; i++) queued.record(i / 10);
    const chart = chartOf(latencyChart('c', 'check', { ...o, queuedHistogram: queued.encode() }));
    expect(chart.series.map((s) => s.label)).toEqual(['latency (from intended)', 'service (from send)', 'queued (harness wait)', 'p50 · p99 · max']);
    // Its end is the wait's maximum (histogram precision: 0.1 %).
    expect(chart.series[2]!.values[chart.series[2]!.values.length - 1]).toBeCloseTo(queued.summary().max, 3);
    expect(chartOf(latencyChart('c', 'check', { ...o, queuedHistogram: new LatencyHistogram().encode() })).series).toHaveLength(3);
  });

  it('no requests or an unreadable histogram: a note, not a chart', () => {
    const o = { ...report.operations['check']! };
    expect(latencyChart('c', 'check', { ...o, count: 0 })).toEqual({ note: 'check: no requests, so no latency distribution' });
    expect('note' in latencyChart('c', 'check', { ...o, histogram: '%%%' })).toBe(true);
    const empty = new LatencyHistogram().encode();
    expect('note' in latencyChart('c', 'check', { ...o, histogram: empty })).toBe(true);
    // A broken service histogram alone drops only the service curve.
    const chart = chartOf(latencyChart('c', 'check', { ...o, serviceHistogram: '%%%' }));
    expect(chart.series.map((s) => s.label)).toEqual(['latency (from intended)', 'p50 · p99 · max']);
  });
});

describe('over time', () => {
  it('plots requests, errors and arrivals per second of the bucket', () => {
    const ts = report.timeseries!.virtual;
    const chart = chartOf(rateChart('v', 'virtual', 'virtual time', ts));
    expect(chart.x).toEqual(ts.t);
    const [requests, errors, arrivals] = chart.series;
    ts.requests.forEach((n, i) => expect(requests!.values[i]).toBeCloseTo(n / ts.bucketSeconds, 4));
    ts.errors.forEach((n, i) => expect(errors!.values[i]).toBeCloseTo(n / ts.bucketSeconds, 4));
    ts.arrivals.forEach((n, i) => expect(arrivals!.values[i]).toBeCloseTo(n / ts.bucketSeconds, 4));
    expect(chart.yLabel).toBe('per second (1m buckets)');
    // A bucket of 70 s reads as minutes and seconds, not "1.17min".
    expect(chartOf(rateChart('v', 'virtual', 'virtual time', { ...ts, bucketSeconds: 70 })).yLabel).toBe('per second (1m 10s buckets)');
  });

  it('pads ragged arrays to the time axis', () => {
    const chart = chartOf(rateChart('r', 'real', 'real time', { bucketSeconds: 1, t: [0, 1, 2], requests: [5], errors: [1, 2, 3, 4], arrivals: [] }));
    expect(chart.series.map((s) => s.values)).toEqual([
      [5, 0, 0],
      [1, 2, 3],
      [0, 0, 0],
    ]);
  });

  it('stacks devices by state: top of the stack first, each layer the running sum, raw counts kept', () => {
    const s = report.timeseries!.states;
    const chart = chartOf(statesChart('s', s));
    const order = ['asleep', 'checking', 'downloading', 'upgrading', 'succeeded', 'failed', 'banned'];
    expect(chart.series.map((x) => x.label)).toEqual([...order].reverse());
    const top = chart.series[0]!;
    const bottom = chart.series[chart.series.length - 1]!;
    s.t.forEach((_, i) => {
      const total = order.reduce((n, c) => n + s.byCategory[c]![i]!, 0);
      expect(top.values[i]).toBe(total);
      expect(total).toBe(report.devices.total);
      expect(bottom.values[i]).toBe(s.byCategory['asleep']![i]);
    });
    for (const layer of chart.series) expect(layer.raw).toEqual(s.byCategory[layer.label]);
  });

  it('a day-long soak is merged to at most MAX_TIME_POINTS points, keeping every request', () => {
    const n = 86_400;
    const ts = { bucketSeconds: 1, t: Array.from({ length: n }, (_, i) => i), requests: new Array<number>(n).fill(3), errors: new Array<number>(n).fill(0), arrivals: new Array<number>(n).fill(0) };
    ts.errors[50_000] = 44;
    const merged = coarsen(ts, MAX_TIME_POINTS);
    expect(merged.t.length).toBeLessThanOrEqual(MAX_TIME_POINTS);
    expect(merged.bucketSeconds).toBe(22);
    expect(merged.requests.reduce((a, b) => a + b, 0)).toBe(3 * n);
    expect(merged.errors.reduce((a, b) => a + b, 0)).toBe(44);
    expect(merged.t.slice(0, 3)).toEqual([0, 22, 44]);
    const chart = chartOf(rateChart('r', 'real', 'real time', ts));
    expect(chart.x).toHaveLength(merged.t.length);
    expect(chart.series[0]!.values[0]).toBe(3);
    expect(chart.yLabel).toBe('per second (22s buckets)');
    expect(coarsen(report.timeseries!.real, MAX_TIME_POINTS)).toBe(report.timeseries!.real);
    const states = chartOf(statesChart('s', { t: ts.t, byCategory: { asleep: ts.t.map((t) => n - t), succeeded: ts.t.slice() } }));
    expect(states.x.length).toBeLessThanOrEqual(MAX_TIME_POINTS);
    expect(states.series[0]!.values.every((v) => v === n)).toBe(true);
  });

  it('no samples: a note', () => {
    expect('note' in statesChart('s', { t: [], byCategory: {} })).toBe(true);
    expect('note' in rateChart('r', 'real', 'real time', { bucketSeconds: 1, t: [], requests: [], errors: [], arrivals: [] })).toBe(true);
  });
});
