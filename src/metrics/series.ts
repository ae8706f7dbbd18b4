/**
 * Counts over time: requests, errors and arrivals per bucket of real and of virtual time, and the
 * devices in each state once per real second. Workers keep their own; the main thread sums them
 * bucket by bucket (counts merge exactly, like histograms).
 */
import type { StateSeries, TimeSeries } from '../report/types.js';
import type { TimeScale } from '../time/clock.js';

/** Virtual buckets over a capped run under --time-scale max. */
const MAX_SCALE_BUCKETS = 600;

/** Growable counters indexed by bucket. */
class Buckets {
  requests: number[] = [];
  errors: number[] = [];
  arrivals: number[] = [];
  add(field: 'requests' | 'errors' | 'arrivals', bucket: number): void {
    if (bucket < 0 || !Number.isFinite(bucket)) return;
    const a = this[field];
    while (a.length <= bucket) a.push(0);
    a[bucket] = (a[bucket] as number) + 1;
  }
}

export interface SeriesSnapshot {
  realBucketSeconds: number;
  virtualBucketSeconds: number;
  real: { requests: number[]; errors: number[]; arrivals: number[] };
  virtual: { requests: number[]; errors: number[]; arrivals: number[] };
  /** Per real-second sample: state kind → devices in it. */
  states: Record<string, number>[];
}

export class SeriesRecorder {
  private readonly real = new Buckets();
  private readonly virtual = new Buckets();
  private readonly states: Record<string, number>[] = [];
  private readonly counts = new Map<string, number>();
  readonly virtualBucketMs: number;

  /** Under `max`: wall-clock ms (epoch) at the run's start, where real second 0 begins. */
  private readonly realStartWallMs: number;

  /**
   * `scale` virtual ms per real ms: a virtual bucket spans as much virtual time as one real
   * second does, so both series have about as many buckets. Under `max` virtual and real time
   * are unrelated: real seconds are read off the wall clock from `realStartWallMs`, and a virtual
   * bucket is a 600th of `virtualSpanMs` (the run's virtual cap, when it has one), else a minute.
   */
  constructor(
    private readonly runStartVirtual: number,
    private readonly scale: TimeScale,
    opts: { realStartWallMs?: number; virtualSpanMs?: number | undefined } = {},
  ) {
    this.realStartWallMs = opts.realStartWallMs ?? Date.now();
    this.virtualBucketMs =
      scale !== 'max' ? 1000 * Math.max(1, scale)
      : opts.virtualSpanMs !== undefined ? 1000 * Math.max(1, Math.ceil(opts.virtualSpanMs / MAX_SCALE_BUCKETS / 1000))
      : 60_000;
  }

  private buckets(tVirtual: number): [number, number] {
    const sinceStart = tVirtual - this.runStartVirtual;
    const realSecond =
      this.scale === 'max' ? Math.floor((performance.timeOrigin + performance.now() - this.realStartWallMs) / 1000) : Math.floor(sinceStart / this.scale / 1000);
    return [realSecond, Math.floor(sinceStart / this.virtualBucketMs)];
  }

  request(tVirtual: number, isError: boolean): void {
    const [r, v] = this.buckets(tVirtual);
    this.real.add('requests', r);
    this.virtual.add('requests', v);
    if (isError) {
      this.real.add('errors', r);
      this.virtual.add('errors', v);
    }
  }

  arrival(tVirtual: number): void {
    const [r, v] = this.buckets(tVirtual);
    this.real.add('arrivals', r);
    this.virtual.add('arrivals', v);
  }

  /** A device moved from one state kind to another (undefined: it had none yet). */
  moved(from: string | undefined, to: string): void {
    if (from !== undefined) this.counts.set(from, (this.counts.get(from) ?? 0) - 1);
    this.counts.set(to, (this.counts.get(to) ?? 0) + 1);
  }

  /** Devices by state kind right now; `asleep` = not woken yet. */
  currentStates(asleep: number): Record<string, number> {
    const sample: Record<string, number> = { asleep };
    for (const [k, n] of this.counts) if (n > 0) sample[k] = n;
    return sample;
  }

  /** Takes the state sample for real second `second` (samples missed by a busy loop repeat the last). */
  sampleStates(tVirtual: number, asleep: number): void {
    const second = this.buckets(tVirtual)[0];
    if (second < 0) return;
    const sample = this.currentStates(asleep);
    while (this.states.length < second) this.states.push(this.states[this.states.length - 1] ?? { asleep });
    this.states[second] = sample;
  }

  snapshot(): SeriesSnapshot {
    return {
      realBucketSeconds: 1,
      virtualBucketSeconds: this.virtualBucketMs / 1000,
      real: { requests: this.real.requests, errors: this.real.errors, arrivals: this.real.arrivals },
      virtual: { requests: this.virtual.requests, errors: this.virtual.errors, arrivals: this.virtual.arrivals },
      states: this.states,
    };
  }
}

/** Adds `add` into `into` bucket by bucket, `shift` buckets later. */
function sumInto(into: number[], add: readonly number[], shift = 0): void {
  while (into.length < add.length + shift) into.push(0);
  for (let i = 0; i < add.length; i++) into[i + shift] = (into[i + shift] as number) + (add[i] as number);
}

/**
 * Series summed bucket by bucket; a part's `shift` (buckets) places its first bucket later, for
 * parts that started later than the first (the shards of a merged run, engine/merge-shards.ts).
 */
export function toSeries(bucketSeconds: number, parts: readonly { requests: readonly number[]; errors: readonly number[]; arrivals: readonly number[]; shift?: number }[]): TimeSeries {
  const requests: number[] = [];
  const errors: number[] = [];
  const arrivals: number[] = [];
  for (const p of parts) {
    sumInto(requests, p.requests, p.shift);
    sumInto(errors, p.errors, p.shift);
    sumInto(arrivals, p.arrivals, p.shift);
  }
  const n = Math.max(requests.length, errors.length, arrivals.length);
  const pad = (a: number[]): number[] => a.concat(new Array<number>(n - a.length).fill(0));
  return { bucketSeconds, t: Array.from({ length: n }, (_, i) => i * bucketSeconds), requests: pad(requests), errors: pad(errors), arrivals: pad(arrivals) };
}

/**
 * Merges the workers' series. `categoryOf` maps a dialect's state kind to a chart category
 * (asleep, checking, downloading, upgrading, succeeded, failed, banned, other).
 */
export function mergeSeries(snaps: SeriesSnapshot[], categoryOf: (kind: string) => string): { real: TimeSeries; virtual: TimeSeries; states: StateSeries } {
  const real = toSeries(1, snaps.map((s) => s.real));
  const virtual = toSeries(snaps[0]?.virtualBucketSeconds ?? 1, snaps.map((s) => s.virtual));
  const samples = Math.max(0, ...snaps.map((s) => s.states.length));
  const byCategory: Record<string, number[]> = {};
  for (let i = 0; i < samples; i++) {
    for (const s of snaps) {
      // A worker that ended early keeps its last picture for the rest of the run.
      const sample = s.states[Math.min(i, s.states.length - 1)];
      if (!sample) continue;
      for (const kind in sample) {
        const cat = kind === 'asleep' ? 'asleep' : categoryOf(kind);
        const series = (byCategory[cat] ??= new Array<number>(samples).fill(0));
        series[i] = (series[i] as number) + (sample[kind] as number);
      }
    }
  }
  return { real, virtual, states: { t: Array.from({ length: samples }, (_, i) => i), byCategory } };
}
