/**
 * The charts of the HTML report as data: what each uPlot chart plots, computed here from the
 * report alone (histograms decoded, series aligned, stacks summed) so the page's script only
 * draws. Pure.
 */
import { durationText } from '../../config/units.js';
import { LatencyHistogram } from '../../metrics/histogram.js';
import type { OperationReport, StateSeries, TimeSeries } from '../types.js';

export interface SeriesSpec {
  label: string;
  color: string;
  /** One value per x (null: no value there). */
  values: (number | null)[];
  /** Stacked charts: the series' own counts (values hold the running sum), for the legend. */
  raw?: number[];
}

export interface ChartSpec {
  /** Element id of the chart's container. */
  id: string;
  kind: 'latency' | 'rate' | 'stacked';
  title: string;
  xLabel: string;
  yLabel: string;
  x: number[];
  series: SeriesSpec[];
  /** Labelled points drawn on top (latency: p50, p99, max). */
  marks?: { label: string; x: number; y: number }[];
}

/** A chart, or the reason there is none. */
export type ChartOrNote = { chart: ChartSpec } | { note: string };

export const COLORS = {
  latency: '#1f6fd1',
  service: '#e07b00',
  queued: '#7a7a7a',
  marks: '#c0262d',
  requests: '#1f6fd1',
  errors: '#d0312d',
  arrivals: '#2a9d5c',
} as const;

/** Device state categories bottom-up in the stack, with their colours; unknown ones follow in grey. */
export const STATE_CATEGORIES: readonly { name: string; color: string }[] = [
  { name: 'asleep', color: '#b9c3d3' },
  { name: 'checking', color: '#4c8bf5' },
  { name: 'downloading', color: '#27b5c4' },
  { name: 'upgrading', color: '#9461d9' },
  { name: 'succeeded', color: '#35a853' },
  { name: 'failed', color: '#dc3b3b' },
  { name: 'banned', color: '#7a1b1b' },
  { name: 'other', color: '#e8a628' },
];
const UNKNOWN_CATEGORY_COLORS = ['#8d8d8d', '#6f6f6f', '#a8a8a8', '#555555'];

// ---------------------------------------------------------------------------------------------
// Latency by percentile ("the HdrHistogram picture")

/**
 * x is 1/(1-p): 1 at p0, 10 at p90, 100 at p99, ... so each further "nine" gets the same width on a
 * log axis. Points per decade at these multiples; 2 (p50) and 1 (p0, p90, p99 ...) are among them
 * so the marked percentiles sit on the curve.
 */
const MULTIPLES = [1, 1.25, 1.6, 2, 2.5, 3.2, 4, 5, 6.3, 8];
/** Decades shown: at least to p99.9 (so p99 and max are apart), at most to p99.9999. */
const MIN_DECADES = 3;
const MAX_DECADES = 6;

export const P50_X = 2;
export const P99_X = 100;

/** How many nines the curve shows: enough that the samples still resolve them. */
export function decadesFor(count: number): number {
  const d = Math.ceil(Math.log10(Math.max(1, count)));
  return Math.min(MAX_DECADES, Math.max(MIN_DECADES, d));
}

/** The x grid (1/(1-p)) for `decades` nines; the last point is where the maximum is drawn. */
export function percentileGrid(decades: number): number[] {
  const xs: number[] = [];
  for (let k = 0; k < decades; k++) for (const m of MULTIPLES) xs.push(sig(m * 10 ** k));
  xs.push(10 ** decades);
  return xs;
}

/** Percent (0–100) at grid point x; the last point is 100 (the maximum). */
function percentAt(x: number, isLast: boolean): number {
  return isLast ? 100 : 100 * (1 - 1 / x);
}

function decode(encoded: string): LatencyHistogram | undefined {
  try {
    return LatencyHistogram.decode(encoded);
  } catch {
    return undefined;
  }
}

export function latencyChart(id: string, op: string, o: OperationReport): ChartOrNote {
  if (o.count === 0) return { note: `${op}: no requests, so no latency distribution` };
  const latency = decode(o.histogram);
  const service = decode(o.serviceHistogram);
  if (latency === undefined) return { note: `${op}: the latency histogram in report.json cannot be read` };
  if (latency.count === 0) return { note: `${op}: the latency histogram is empty` };
  const decades = decadesFor(Math.max(latency.count, service?.count ?? 0));
  const x = percentileGrid(decades);
  const percents = x.map((v, i) => percentAt(v, i === x.length - 1));
  const curve = (h: LatencyHistogram): number[] => h.percentiles(percents).map((p) => sig(p.ms));
  const series: SeriesSpec[] = [{ label: 'latency (from intended)', color: COLORS.latency, values: curve(latency) }];
  if (service !== undefined && service.count > 0) {
    series.push({ label: 'service (from send)', color: COLORS.service, values: curve(service) });
  }
  // The harness's own wait: where latency and service part, this is why.
  const queued = o.queuedHistogram === undefined ? undefined : decode(o.queuedHistogram);
  if (queued !== undefined && queued.count > 0) {
    series.push({ label: 'queued (harness wait)', color: COLORS.queued, values: curve(queued) });
  }
  const maxX = x[x.length - 1]!;
  const marks = [
    { label: `p50 ${ms(o.latencyMs.p50)}`, x: P50_X, y: o.latencyMs.p50 },
    { label: `p99 ${ms(o.latencyMs.p99)}`, x: P99_X, y: o.latencyMs.p99 },
    { label: `max ${ms(o.latencyMs.max)}`, x: maxX, y: o.latencyMs.max },
  ];
  const markValues = x.map((v) => marks.find((m) => m.x === v)?.y ?? null);
  series.push({ label: 'p50 · p99 · max', color: COLORS.marks, values: markValues });
  return {
    chart: {
      id,
      kind: 'latency',
      title: `${op}: p50 ${ms(o.latencyMs.p50)} · p99 ${ms(o.latencyMs.p99)} · max ${ms(o.latencyMs.max)}`,
      xLabel: 'percentile',
      yLabel: 'ms',
      x,
      series,
      marks,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Over time

/**
 * Points per chart over time at most: a day-long soak has 86,400 one-second buckets, more than a
 * chart has pixels; merged buckets keep the page small and its drawing quick.
 */
export const MAX_TIME_POINTS = 4000;

/** Requests, errors and arrivals per second over real or virtual time. */
export function rateChart(id: string, title: string, xLabel: string, series: TimeSeries): ChartOrNote {
  if (series.t.length === 0) return { note: `${title}: no buckets recorded` };
  const ts = coarsen(series, MAX_TIME_POINTS);
  const n = ts.t.length;
  const width = ts.bucketSeconds > 0 ? ts.bucketSeconds : 1;
  const perSecond = (a: readonly number[]): number[] => fit(a, n).map((v) => sig(v / width));
  const unit = width === 1 ? 'per second' : `per second (${durationText(width)} buckets)`;
  return {
    chart: {
      id,
      kind: 'rate',
      title,
      xLabel,
      yLabel: unit,
      x: ts.t.slice(),
      series: [
        { label: 'requests/s', color: COLORS.requests, values: perSecond(ts.requests) },
        { label: 'errors/s', color: COLORS.errors, values: perSecond(ts.errors) },
        { label: 'arrivals/s', color: COLORS.arrivals, values: perSecond(ts.arrivals) },
      ],
    },
  };
}

/** `ts` with every `k` consecutive buckets summed into one, k the least that fits `maxPoints`. */
export function coarsen(ts: TimeSeries, maxPoints: number): TimeSeries {
  const n = ts.t.length;
  const k = Math.ceil(n / maxPoints);
  if (k <= 1) return ts;
  const sums = (a: readonly number[]): number[] => {
    const full = fit(a, n);
    const out: number[] = [];
    for (let i = 0; i < n; i += k) out.push(full.slice(i, i + k).reduce((x, y) => x + y, 0));
    return out;
  };
  // The last merged bucket may be partial; its rate is then slightly low, which a chart of this size cannot show.
  return {
    bucketSeconds: ts.bucketSeconds * k,
    t: ts.t.filter((_, i) => i % k === 0),
    requests: sums(ts.requests),
    errors: sums(ts.errors),
    arrivals: sums(ts.arrivals),
  };
}

/**
 * Devices by state, stacked: the series hold running sums and are listed top of the stack first,
 * so each one, filled down to zero, paints over the ones above it and leaves a band of its own.
 */
export function statesChart(id: string, states: StateSeries): ChartOrNote {
  const s = thinStates(states, MAX_TIME_POINTS);
  const n = s.t.length;
  const names = orderedCategories(Object.keys(s.byCategory));
  if (n === 0 || names.length === 0) return { note: 'devices by state: no samples recorded' };
  const raws = names.map((c) => fit(Object.hasOwn(s.byCategory, c.name) ? s.byCategory[c.name]! : [], n));
  const running = new Array<number>(n).fill(0);
  const layers: SeriesSpec[] = names.map((c, i) => {
    const raw = raws[i]!;
    for (let j = 0; j < n; j++) running[j]! += raw[j]!;
    return { label: c.name, color: c.color, values: running.slice(), raw };
  });
  return {
    chart: { id, kind: 'stacked', title: 'Devices by state', xLabel: 'real time', yLabel: 'devices', x: s.t.slice(), series: layers.reverse() },
  };
}

/** Every k-th sample (states are levels, not counts: a sample stands for its neighbours). */
function thinStates(s: StateSeries, maxPoints: number): StateSeries {
  const k = Math.ceil(s.t.length / maxPoints);
  if (k <= 1) return s;
  const keep = <T>(a: readonly T[]): T[] => a.filter((_, i) => i % k === 0);
  const byCategory = Object.fromEntries(Object.entries(s.byCategory).map(([c, values]) => [c, keep(fit(values, s.t.length))]));
  return { t: keep(s.t), byCategory };
}

function orderedCategories(present: readonly string[]): { name: string; color: string }[] {
  const known = STATE_CATEGORIES.filter((c) => present.includes(c.name));
  const unknown = present
    .filter((p) => !STATE_CATEGORIES.some((c) => c.name === p))
    .sort()
    .map((name, i) => ({ name, color: UNKNOWN_CATEGORY_COLORS[i % UNKNOWN_CATEGORY_COLORS.length]! }));
  return [...known, ...unknown];
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** `a` cut or zero-padded to `n` values (a hand-edited report may have ragged arrays). */
function fit(a: readonly number[], n: number): number[] {
  const out = a.slice(0, n);
  while (out.length < n) out.push(0);
  return out;
}

/** Six significant digits: plenty for a chart, and the page's JSON stays small. */
function sig(v: number): number {
  return Number(v.toPrecision(6));
}

/** Milliseconds for a chart label: 3 significant digits. */
export function ms(v: number): string {
  if (v >= 1000) return `${Number((v / 1000).toPrecision(3))}s`;
  return `${Number(v.toPrecision(3))}ms`;
}


