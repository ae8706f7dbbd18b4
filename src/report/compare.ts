/**
 * `ota-swarm compare BASE NEW`: the regression gate. Compares two reports figure by figure and says
 * which got worse by more than a bound (a fraction: 0.1 = 10 %). Pure; the CLI reads the files.
 *
 * What counts as a regression, and why:
 * - latency p50 / p99 of an operation (from the moment the device meant to act): up by more than
 *   the bound, relative, and by more than 0.5 ms (below half a millisecond a difference is timer
 *   and scheduler noise on a loopback run), and beyond sampling noise: the 95 % confidence
 *   intervals of the two percentiles, read from the reports' histograms by order statistics, do
 *   not overlap. A p99 of 2,000 requests rests on 20 of them, and two runs of the same scenario
 *   differ by 10 % there by chance alone; the gate must not flap on that.
 * - error rate of an operation (errors / count): up by more than the bound, relative, by more than
 *   0.1 percentage points absolute (0 % → 0.01 %, one unlucky request, is not a regression while
 *   0 % → 2 % is), and significantly (two-proportion z-test, z ≥ 2.58, one-sided 0.5 %).
 * - final states: `succeeded` down by more than the bound; a failure state (failed, banned,
 *   gave-up, rejected, harness-error, plugin-error, lost-with-worker, no-progress) up by more than the bound and by at least one device. Both
 *   are judged on the share of the fleet, so a run with a bigger fleet is not a regression by its
 *   size alone; when the fleets are the same size that is the same as judging the counts.
 * Operations present in only one report, other states and the fleet size are listed but never
 * regress: a missing operation shows in the final states anyway.
 */
import { formatMs } from '../config/units.js';
import { LatencyHistogram } from '../metrics/histogram.js';
import type { OperationReport, Report } from './types.js';

export interface ComparisonRow {
  /** Operation name, or `devices` for final states. */
  subject: string;
  /** `p50`, `p99`, `error rate`, `count` (operations); the state name or `total` (devices). */
  metric: string;
  base: number;
  next: number;
  /** (next − base) / base; 0 when both are 0, Infinity when only base is 0. */
  change: number;
  regressed: boolean;
}

export interface Comparison {
  rows: ComparisonRow[];
  regressed: boolean;
}

/** Smallest latency rise (ms) that can be a regression. */
export const MIN_LATENCY_RISE_MS = 0.5;
/** Smallest error-rate rise (fraction: 0.001 = 0.1 percentage points) that can be a regression. */
export const MIN_ERROR_RATE_RISE = 0.001;
/** z of each side's confidence interval of a percentile (95 %): two that do not overlap differ at ~99.5 %. */
const PERCENTILE_Z = 1.96;
/** z an error-rate rise must reach (one-sided 0.5 %). */
const ERROR_RATE_Z = 2.58;
/** Final states that are bad news for a device. */
export const FAILURE_STATES: readonly string[] = ['failed', 'banned', 'gave-up', 'rejected', 'harness-error', 'plugin-error', 'lost-with-worker', 'no-progress'];
const SUCCESS_STATE = 'succeeded';

export function compareReports(base: Report, next: Report, maxRegression: number): Comparison {
  if (!Number.isFinite(maxRegression) || maxRegression < 0) throw new RangeError(`maxRegression must be a fraction ≥ 0, got ${maxRegression}`);
  const rows = [...operationRows(base, next, maxRegression), ...stateRows(base, next, maxRegression)];
  return { rows, regressed: rows.some((r) => r.regressed) };
}

/**
 * Why two reports are not runs of the same test, or undefined when they are. A different scenario
 * or dialect measures other operations under other rules: a "no regression" between them would be
 * a verdict on nothing. Fleet size, seed and target may differ: comparing those is the gate's job.
 */
export function unrelatedRuns(base: Report, next: Report): string | undefined {
  const differs: string[] = [];
  if (base.scenario !== next.scenario) differs.push(`scenario "${printable(base.scenario)}" vs "${printable(next.scenario)}"`);
  if (base.dialect !== next.dialect) differs.push(`dialect ${printable(base.dialect)} vs ${printable(next.dialect)}`);
  return differs.length === 0 ? undefined : `the runs are of different tests (${differs.join(', ')})`;
}

function operationRows(base: Report, next: Report, bound: number): ComparisonRow[] {
  const rows: ComparisonRow[] = [];
  for (const op of union(Object.keys(base.operations), Object.keys(next.operations))) {
    const b = own(base.operations, op);
    const n = own(next.operations, op);
    if (b === undefined || n === undefined || b.count === 0 || n.count === 0) {
      rows.push(row(op, 'count', b?.count ?? 0, n?.count ?? 0, false));
      continue;
    }
    const [hb, hn] = [decode(b.histogram), decode(n.histogram)];
    for (const [stat, percent] of [['p50', 50], ['p99', 99]] as const) {
      const [x, y] = [b.latencyMs[stat], n.latencyMs[stat]];
      const worse = y > x * (1 + bound) && y - x > MIN_LATENCY_RISE_MS;
      rows.push(row(op, stat, x, y, worse && beyondNoise(hb, hn, percent)));
    }
    const [x, y] = [errorRate(b), errorRate(n)];
    const worse = y > x * (1 + bound) && y - x > MIN_ERROR_RATE_RISE;
    rows.push(row(op, 'error rate', x, y, worse && proportionZ(b.errors, b.count, n.errors, n.count) >= ERROR_RATE_Z));
  }
  return rows;
}

function stateRows(base: Report, next: Report, bound: number): ComparisonRow[] {
  const [bt, nt] = [base.devices.total, next.devices.total];
  const rows: ComparisonRow[] = [row('devices', 'total', bt, nt, false)];
  // Shares when both fleets have devices, else raw counts.
  const shareOf = (count: number, total: number): number => (bt > 0 && nt > 0 ? count / total : count);
  for (const state of union(Object.keys(base.devices.byFinalState), Object.keys(next.devices.byFinalState))) {
    const x = own(base.devices.byFinalState, state) ?? 0;
    const y = own(next.devices.byFinalState, state) ?? 0;
    const [bs, ns] = [shareOf(x, bt), shareOf(y, nt)];
    let regressed = false;
    if (state === SUCCESS_STATE) regressed = ns < bs * (1 - bound);
    else if (FAILURE_STATES.includes(state)) {
      const expected = bt > 0 && nt > 0 ? (x * nt) / bt : x;
      regressed = ns > bs * (1 + bound) && y - expected >= 1;
    }
    rows.push(row('devices', state, x, y, regressed));
  }
  return rows;
}

function decode(encoded: string): LatencyHistogram | undefined {
  try {
    return LatencyHistogram.decode(encoded);
  } catch {
    return undefined;
  }
}

/**
 * Range (ms) the percentile of the population lies in, at PERCENTILE_Z, from the sample's order
 * statistics: ranks n·p ± z·√(n·p·(1−p)).
 */
export function percentileInterval(h: LatencyHistogram, percent: number): { low: number; high: number } {
  const n = h.count;
  const p = percent / 100;
  const spread = PERCENTILE_Z * Math.sqrt(n * p * (1 - p));
  const lowPct = Math.max(0, ((n * p - spread) / n) * 100);
  const highPct = Math.min(100, ((n * p + spread) / n) * 100);
  const [low, high] = h.percentiles([lowPct, highPct]).map((x) => x.ms);
  return { low: low!, high: high! };
}

/** Whether the new percentile is above the base one by more than sampling noise (true when a histogram is unreadable: the summaries then decide alone). */
function beyondNoise(base: LatencyHistogram | undefined, next: LatencyHistogram | undefined, percent: number): boolean {
  if (base === undefined || next === undefined || base.count === 0 || next.count === 0) return true;
  return percentileInterval(next, percent).low > percentileInterval(base, percent).high;
}

/** Two-proportion z statistic of a rise from e1/n1 to e2/n2 (pooled); Infinity when both are certain. */
export function proportionZ(e1: number, n1: number, e2: number, n2: number): number {
  if (n1 <= 0 || n2 <= 0) return 0;
  const pooled = (e1 + e2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  const diff = e2 / n2 - e1 / n1;
  if (se === 0) return diff > 0 ? Infinity : diff < 0 ? -Infinity : 0;
  return diff / se;
}

function row(subject: string, metric: string, base: number, next: number, regressed: boolean): ComparisonRow {
  return { subject, metric, base, next, change: relativeChange(base, next), regressed };
}

export function relativeChange(base: number, next: number): number {
  if (base === next) return 0;
  if (base === 0) return next > 0 ? Infinity : -Infinity;
  return (next - base) / Math.abs(base);
}

function errorRate(o: OperationReport): number {
  return o.count > 0 ? o.errors / o.count : 0;
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...a, ...b.filter((k) => !a.includes(k))];
}

function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

// ---------------------------------------------------------------------------------------------
// Reading a bound and printing a comparison

/**
 * `10%` → 0.1; a bare number is a fraction (`0.1`). A bare number above 1 is refused rather than
 * guessed at: `10` could mean 10 % or 1000 %.
 */
export function parseRegressionBound(text: string): number | undefined {
  const t = text.trim();
  const pct = /^(\d+(?:\.\d+)?)\s*%$/.exec(t);
  if (pct) return Number(pct[1]) / 100;
  if (!/^\d+(?:\.\d+)?$/.test(t)) return undefined;
  const f = Number(t);
  return f <= 1 ? f : undefined;
}

/** The comparison as an aligned text table, one figure a line, then the verdict. */
export function formatComparison(c: Comparison): string {
  const head = ['subject', 'metric', 'base', 'new', 'change', ''];
  const body = c.rows.map((r) => [printable(r.subject), printable(r.metric), value(r.metric, r.subject, r.base), value(r.metric, r.subject, r.next), change(r), r.regressed ? 'REGRESSED' : '']);
  const all = [head, ...body];
  const widths = head.map((_, i) => Math.max(...all.map((cells) => cells[i]!.length)));
  const right = new Set([2, 3, 4]);
  const lines = all.map((cells) =>
    cells
      .map((cell, i) => (right.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
  const bad = c.rows.filter((r) => r.regressed);
  const verdict =
    bad.length === 0
      ? 'no regression'
      : `REGRESSED: ${bad.length} figure${bad.length === 1 ? '' : 's'} (${bad.map((r) => `${r.subject} ${r.metric}`).join(', ')})`;
  return `${lines.join('\n')}\n\n${verdict}\n`;
}

/** Names from a report, for a terminal: control characters (escape sequences) become U+FFFD. */
export function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '\ufffd');
}

function value(metric: string, subject: string, v: number): string {
  if (subject !== 'devices' && (metric === 'p50' || metric === 'p99')) return formatMs(v);
  if (metric === 'error rate') return `${(v * 100).toFixed(2)}%`;
  return String(v);
}

function change(r: ComparisonRow): string {
  if (r.change === 0) return '0%';
  if (!Number.isFinite(r.change)) return r.change > 0 ? 'new' : 'gone';
  const pct = r.change * 100;
  return `${pct > 0 ? '+' : ''}${Math.abs(pct) < 10 ? pct.toFixed(1) : pct.toFixed(0)}%`;
}
