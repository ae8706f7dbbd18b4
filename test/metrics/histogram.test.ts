import { describe, expect, it } from 'vitest';
import { DEFAULT_PERCENTILE_POINTS, HIGHEST_RECORDABLE_US, LatencyHistogram, mergeEncoded, toMicros } from '../../src/metrics/histogram.js';
import { Rng } from '../../src/random/rng.js';

/** Log-uniform samples between lo and hi ms: spans many HDR buckets. */
function samples(seed: number, n: number, lo: number, hi: number): number[] {
  const rng = new Rng(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(lo * Math.pow(hi / lo, rng.next()));
  return out;
}

function histogramOf(values: readonly number[]): LatencyHistogram {
  const h = new LatencyHistogram();
  for (const v of values) h.record(v);
  return h;
}

/** The value at a percentile by HdrHistogram's rank rule: the ceil(p·n)-th smallest. */
function exactPercentile(sorted: readonly number[], percentile: number): number {
  const rank = Math.max(1, Math.ceil((percentile / 100) * sorted.length));
  return sorted[rank - 1]!;
}

const POINTS = [...DEFAULT_PERCENTILE_POINTS, 1, 5, 33.3, 66.6, 99.999];

describe('LatencyHistogram', () => {
  it('merging two encoded histograms equals the histogram of all samples', () => {
    const a = samples(1, 5000, 0.2, 800);
    const b = samples(2, 3000, 50, 3_600_000);
    const merged = LatencyHistogram.decode(histogramOf(a).encode());
    merged.merge(LatencyHistogram.decode(histogramOf(b).encode()));
    const whole = histogramOf([...a, ...b]);
    expect(merged.count).toBe(8000);
    expect(merged.percentiles(POINTS)).toEqual(whole.percentiles(POINTS));
    expect(merged.summary()).toEqual(whole.summary());
    // The same through the helper the report merger uses.
    const viaHelper = LatencyHistogram.decode(mergeEncoded([histogramOf(a).encode(), histogramOf(b).encode()]));
    expect(viaHelper.percentiles(POINTS)).toEqual(whole.percentiles(POINTS));
  });

  it('merge changes nothing when the other is empty, and takes everything when this one is', () => {
    const h = histogramOf(samples(3, 100, 1, 100));
    const before = h.percentiles(POINTS);
    h.merge(new LatencyHistogram());
    expect(h.percentiles(POINTS)).toEqual(before);
    const empty = new LatencyHistogram();
    empty.merge(h);
    expect(empty.count).toBe(100);
    expect(empty.percentiles(POINTS)).toEqual(before);
  });

  it('round-trips through encode/decode', () => {
    const h = histogramOf(samples(4, 2000, 0.05, 120_000));
    const back = LatencyHistogram.decode(h.encode());
    expect(back.count).toBe(h.count);
    expect(back.summary()).toEqual(h.summary());
    expect(back.percentiles(POINTS)).toEqual(h.percentiles(POINTS));
    // A decoded histogram keeps growing: a merge beyond its range must not throw.
    back.record(3_600_000);
    expect(back.count).toBe(2001);
  });

  it('records values up to an hour with 0.1 % precision', () => {
    const h = new LatencyHistogram();
    h.record(3_600_000);
    h.record(1);
    const s = h.summary();
    expect(s.max).toBeGreaterThanOrEqual(3_600_000);
    expect(s.max / 3_600_000 - 1).toBeLessThan(0.001);
    expect(h.count).toBe(2);
  });

  it('gives p50 of a known sample set within 0.1 %', () => {
    const values = samples(5, 10_001, 1, 10_000);
    const sorted = [...values].sort((x, y) => x - y);
    const h = histogramOf(values);
    for (const p of [50, 90, 99]) {
      const exact = exactPercentile(sorted, p);
      expect(Math.abs(h.summary()[`p${p}` as 'p50' | 'p90' | 'p99'] / exact - 1)).toBeLessThan(0.001);
    }
    // A plain set: 1..1000 ms, p50 is 500 ms.
    const plain = histogramOf(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(Math.abs(plain.summary().p50 / 500 - 1)).toBeLessThan(0.001);
    expect(plain.summary().mean).toBeCloseTo(500.5, 0);
  });

  it('keeps sub-millisecond values', () => {
    const h = histogramOf([0.25, 0.25, 0.25]);
    expect(h.summary().p50).toBeCloseTo(0.25, 6);
  });

  it('never drops a sample: ≤ 0 counts as 1 µs, absurdly large values at the ceiling', () => {
    const h = new LatencyHistogram();
    h.record(0);
    h.record(-12);
    expect(h.count).toBe(2);
    expect(h.summary().max).toBe(0.001);
    h.record(1e15);
    expect(h.count).toBe(3);
    expect(h.summary().max).toBeGreaterThanOrEqual(HIGHEST_RECORDABLE_US / 1000);
    expect(toMicros(1e15)).toBe(HIGHEST_RECORDABLE_US);
    expect(toMicros(0.0004)).toBe(1);
    expect(toMicros(1.2345)).toBe(1235);
  });

  it('refuses NaN and infinities instead of corrupting the counts', () => {
    const h = new LatencyHistogram();
    expect(() => h.record(Number.NaN)).toThrow(/finite/);
    expect(() => h.record(Number.POSITIVE_INFINITY)).toThrow(/finite/);
    expect(h.count).toBe(0);
  });

  it('summarises an empty histogram as zeros', () => {
    const h = new LatencyHistogram();
    expect(h.summary()).toEqual({ p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 });
    expect(h.percentiles([50, 99])).toEqual([{ percentile: 50, ms: 0 }, { percentile: 99, ms: 0 }]);
    expect(LatencyHistogram.decode(h.encode()).count).toBe(0);
  });

  it('percentiles() are non-decreasing and end at max', () => {
    const h = histogramOf(samples(6, 500, 1, 1000));
    const pts = h.percentiles();
    expect(pts.map((p) => p.percentile)).toEqual([...DEFAULT_PERCENTILE_POINTS]);
    for (let i = 1; i < pts.length; i++) expect(pts[i]!.ms).toBeGreaterThanOrEqual(pts[i - 1]!.ms);
    expect(pts[pts.length - 1]!.ms).toBe(h.summary().max);
  });

  it('rejects text that is not an encoded histogram with a one-line error', () => {
    expect(() => LatencyHistogram.decode('not a histogram')).toThrow(/not an encoded HdrHistogram/);
  });
});
