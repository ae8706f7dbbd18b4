/** Counts over real and virtual time: bucket sizes at a time scale and under `max`. */
import { describe, expect, it } from 'vitest';
import { mergeSeries, SeriesRecorder } from '../../src/metrics/series.js';

const START = 1_800_000_000_000;
const HOUR = 3_600_000;

describe('SeriesRecorder', () => {
  it('at a time scale, reads the real second off virtual time, and a virtual bucket spans one real second', () => {
    const s = new SeriesRecorder(START, 60);
    s.request(START + 59_999, false);
    s.request(START + 60_000, true);
    const snap = s.snapshot();
    expect(snap.virtualBucketSeconds).toBe(60);
    expect(snap.real.requests).toEqual([1, 1]);
    expect(snap.real.errors).toEqual([0, 1]);
    expect(snap.virtual.requests).toEqual([1, 1]);
  });

  it('under max, reads real seconds off the wall clock and sizes virtual buckets to the capped span', () => {
    // The run started 2.5 real seconds ago: whatever the virtual instant, this is real second 2.
    const s = new SeriesRecorder(START, 'max', { realStartWallMs: Date.now() - 2500, virtualSpanMs: 25 * HOUR });
    s.arrival(START);
    s.arrival(START + 24 * HOUR);
    const snap = s.snapshot();
    expect(snap.virtualBucketSeconds).toBe(150);
    expect(snap.real.arrivals).toEqual([0, 0, 2]);
    expect(snap.virtual.arrivals[0]).toBe(1);
    expect(snap.virtual.arrivals[(24 * HOUR) / 150_000]).toBe(1);
    // Without a cap, a minute per bucket.
    expect(new SeriesRecorder(START, 'max').virtualBucketMs).toBe(60_000);
  });

  it('merges workers bucket by bucket', () => {
    const a = new SeriesRecorder(START, 'max', { virtualSpanMs: HOUR });
    const b = new SeriesRecorder(START, 'max', { virtualSpanMs: HOUR });
    a.request(START + 1000, false);
    b.request(START + 1000, true);
    b.request(START + 7000, false);
    const merged = mergeSeries([a.snapshot(), b.snapshot()], (k) => k);
    expect(merged.virtual.bucketSeconds).toBe(6);
    expect(merged.virtual.requests).toEqual([2, 1]);
    expect(merged.virtual.errors).toEqual([1, 0]);
  });
});
