/**
 * Latency histogram: an HdrHistogram of integer microseconds, summarised in milliseconds.
 *
 * The pure-JS implementation is used on purpose: the WebAssembly one needs an async init per
 * thread, and worker threads record from their first request on.
 */
import * as hdr from 'hdr-histogram-js';
import type { LatencySummary } from '../report/types.js';

/** Three significant digits: every recorded value is known to within 1/1024 (< 0.1 %). */
const SIGNIFICANT_DIGITS = 3;
/** Initial range (1 minute); the histogram grows by itself beyond it, so no sample is dropped. */
const INITIAL_HIGHEST_US = 60_000_000;
/**
 * Values above this (2^40 µs, about 12.7 days) are recorded as this value. hdr-histogram-js
 * silently corrupts its counts for values near 2^53 and beyond, and no request takes days.
 */
export const HIGHEST_RECORDABLE_US = 2 ** 40;
/** Counts are 32-bit per bucket: ample for one run (4 billion samples of one value). */
const BIT_BUCKET_SIZE = 32;

const US_PER_MS = 1000;

/** Percentiles of `percentiles()` when none are asked for: enough points for a latency plot. */
export const DEFAULT_PERCENTILE_POINTS: readonly number[] = [
  0, 10, 20, 25, 30, 40, 50, 60, 70, 75, 80, 90, 95, 97.5, 99, 99.5, 99.9, 99.95, 99.99, 100,
];

function emptyHdr(): hdr.Histogram {
  return hdr.build({
    bitBucketSize: BIT_BUCKET_SIZE,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: INITIAL_HIGHEST_US,
    numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
    useWebAssembly: false,
  });
}

/** Milliseconds to the integer microseconds the histogram holds: at least 1, at most the ceiling. */
export function toMicros(ms: number): number {
  if (!Number.isFinite(ms)) throw new RangeError(`latency must be a finite number of ms, got ${ms}`);
  const us = Math.round(ms * US_PER_MS);
  if (us < 1) return 1;
  return us > HIGHEST_RECORDABLE_US ? HIGHEST_RECORDABLE_US : us;
}

interface RecordedValues {
  reset(): void;
  hasNext(): boolean;
  next(): { valueIteratedTo: number; countAtValueIteratedTo: number };
}

export class LatencyHistogram {
  private readonly h: hdr.Histogram;

  constructor(inner?: hdr.Histogram) {
    this.h = inner ?? emptyHdr();
    // A decoded histogram comes back with auto-resize off; merges must never throw on range.
    this.h.autoResize = true;
  }

  /** Records one latency in milliseconds (≤ 0 counts as 1 µs; throws on NaN or infinity). */
  record(ms: number): void {
    this.h.recordValue(toMicros(ms));
  }

  get count(): number {
    return this.h.totalCount;
  }

  /** Adds every sample of `other` to this histogram (bucket counts, so nothing is lost). */
  merge(other: LatencyHistogram): void {
    if (other.count === 0) return;
    this.h.add(other.h);
  }

  /**
   * Percentiles, max and mean in ms. Values are the highest value equivalent to the bucket they
   * fell in, so a summary reads the same before and after an encode/decode round trip.
   */
  summary(): LatencySummary {
    if (this.count === 0) return { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
    return {
      p50: this.valueMs(50),
      p90: this.valueMs(90),
      p99: this.valueMs(99),
      p999: this.valueMs(99.9),
      max: this.valueMs(100),
      mean: this.h.mean / US_PER_MS,
    };
  }

  /** HdrHistogram V2 compressed encoding, base64: what the report carries. */
  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.h);
  }

  static decode(s: string): LatencyHistogram {
    let inner: hdr.Histogram;
    try {
      inner = hdr.decodeFromCompressedBase64(s, BIT_BUCKET_SIZE, false);
    } catch (e) {
      throw new Error(`not an encoded HdrHistogram: ${e instanceof Error ? e.message : String(e)}`);
    }
    return new LatencyHistogram(inner);
  }

  /** Value (ms) at each percentile asked for, e.g. for a latency-by-percentile plot. */
  percentiles(points: readonly number[] = DEFAULT_PERCENTILE_POINTS): { percentile: number; ms: number }[] {
    return points.map((percentile) => ({ percentile, ms: this.count === 0 ? 0 : this.valueMs(percentile) }));
  }

  /**
   * How many samples lie at or below each bound (ms, ascending): the cumulative buckets a
   * Prometheus histogram exposes. A sample counts by its bucket's lowest equivalent value, so it
   * is never counted under a bound it may exceed by more than the histogram's precision.
   */
  countsAtOrBelow(boundsMs: readonly number[]): number[] {
    const counts = boundsMs.map(() => 0);
    if (this.count === 0) return counts;
    const js = this.h as unknown as { recordedValuesIterator: RecordedValues; lowestEquivalentValue(v: number): number };
    const it = js.recordedValuesIterator;
    it.reset();
    while (it.hasNext()) {
      const v = it.next();
      const ms = js.lowestEquivalentValue(v.valueIteratedTo) / US_PER_MS;
      for (let i = 0; i < boundsMs.length; i++) if (ms <= (boundsMs[i] as number)) counts[i] = (counts[i] as number) + v.countAtValueIteratedTo;
    }
    return counts;
  }

  private valueMs(percentile: number): number {
    return this.h.getValueAtPercentile(percentile) / US_PER_MS;
  }
}

/** Merges encoded histograms into one encoded histogram (empty list: an empty histogram). */
export function mergeEncoded(encoded: readonly string[]): string {
  const total = new LatencyHistogram();
  for (const s of encoded) total.merge(LatencyHistogram.decode(s));
  return total.encode();
}
