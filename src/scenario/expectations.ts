/**
 * Expectations (thresholds) as data: `check.p99 < 200ms`, `devices.succeeded >= 99%`,
 * `transitions.violations == 0`. Parsing turns the text into an `Expectation`; evaluation reads the
 * measured value out of a report and compares. Pure.
 */
import { verdictStatus, type ExpectationResult, type LatencySummary, type Report } from '../report/types.js';
import { ONENET_OPERATIONS } from '../device/onenet/types.js';
import type { Expectation } from './types.js';

export { ONENET_OPERATIONS };
/** The Luat dialect has one call, hence one operation (histogram). */
export const LUAT_OPERATIONS: readonly string[] = ['luat'];

const LATENCY_STATS = ['p50', 'p90', 'p99', 'p999', 'max', 'mean'] as const;
const LAG_STATS = ['p50', 'p99', 'max'] as const;
/** First parts of a metric that are not operation names. */
const FAMILIES = new Set(['devices', 'transitions', 'requests', 'harness', 'verdicts']);

type Stat = (typeof LATENCY_STATS)[number];
type LagStat = (typeof LAG_STATS)[number];

/** What a metric names, once its text is read. */
export type Metric =
  | { kind: 'latency'; op: string; stat: Stat; of: 'latency' | 'service' | 'queued' }
  | { kind: 'op-count'; op: string }
  | { kind: 'op-errors'; op: string }
  | { kind: 'devices-total' }
  | { kind: 'devices-started' }
  | { kind: 'devices-state'; state: string }
  | { kind: 'transitions'; field: 'violations' | 'checked' | 'unfinished' }
  | { kind: 'requests-total' }
  | { kind: 'requests-errors' }
  | { kind: 'harness-lag'; lag: 'scheduleLag' | 'eventLoopLag'; stat: LagStat }
  /** `verdicts.violations`, `verdicts.checked`: summed over the rules. */
  | { kind: 'verdicts-total'; field: 'violations' | 'checked' }
  /** `verdicts.RULE.violations`, `verdicts.RULE.checked`, `verdicts.RULE.COUNT` (a rule's count). */
  | { kind: 'verdict'; rule: string; field: string };

/** Which units a metric takes: a latency (ms), a count, or a count that may be given as a share. */
type Measure = 'latency' | 'count' | 'count-or-share';

const METRIC_HELP =
  'expected OP.p50|p90|p99|p999|max|mean, OP.service.p99 (etc.), OP.queued.p99 (etc.), OP.count, OP.errors, devices.total, devices.started, devices.STATE, transitions.violations, transitions.checked, transitions.unfinished, requests.total, requests.errors, harness.scheduleLag.p50|p99|max, verdicts.violations, verdicts.checked or verdicts.RULE.violations|checked|COUNT';

const NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

const includes = <T extends string>(list: readonly T[], s: string): s is T => (list as readonly string[]).includes(s);

/** Reads a metric name; undefined when it names nothing known. */
export function parseMetric(metric: string): Metric | undefined {
  const parts = metric.split('.');
  const [head = '', a, b] = parts;
  if (!parts.every((p) => NAME.test(p))) return undefined;
  switch (head) {
    case 'devices':
      if (parts.length !== 2 || a === undefined) return undefined;
      if (a === 'total') return { kind: 'devices-total' };
      if (a === 'started') return { kind: 'devices-started' };
      return { kind: 'devices-state', state: a };
    case 'transitions':
      return parts.length === 2 && (a === 'violations' || a === 'checked' || a === 'unfinished') ? { kind: 'transitions', field: a } : undefined;
    case 'requests':
      if (parts.length !== 2) return undefined;
      return a === 'total' ? { kind: 'requests-total' } : a === 'errors' ? { kind: 'requests-errors' } : undefined;
    case 'verdicts':
      if (parts.length === 2 && (a === 'violations' || a === 'checked')) return { kind: 'verdicts-total', field: a };
      if (parts.length === 3 && a !== undefined && b !== undefined) return { kind: 'verdict', rule: a, field: b };
      return undefined;
    case 'harness':
      if (parts.length === 3 && (a === 'scheduleLag' || a === 'eventLoopLag') && b !== undefined && includes(LAG_STATS, b)) {
        return { kind: 'harness-lag', lag: a, stat: b };
      }
      return undefined;
  }
  if (FAMILIES.has(head) || a === undefined) return undefined;
  if (parts.length === 2) {
    if (includes(LATENCY_STATS, a)) return { kind: 'latency', op: head, stat: a, of: 'latency' };
    if (a === 'count') return { kind: 'op-count', op: head };
    if (a === 'errors') return { kind: 'op-errors', op: head };
    return undefined;
  }
  if (parts.length === 3 && (a === 'service' || a === 'queued') && b !== undefined && includes(LATENCY_STATS, b)) {
    return { kind: 'latency', op: head, stat: b, of: a };
  }
  return undefined;
}

function measureOf(m: Metric): Measure {
  switch (m.kind) {
    case 'latency':
    case 'harness-lag':
      return 'latency';
    case 'op-errors':
    case 'devices-state':
    case 'requests-errors':
      return 'count-or-share';
    default:
      return 'count';
  }
}

/** The operation an expectation is about, if any (to check it against the dialect's operations). */
export function operationOf(e: Pick<Expectation, 'metric'>): string | undefined {
  const m = parseMetric(e.metric);
  return m && (m.kind === 'latency' || m.kind === 'op-count' || m.kind === 'op-errors') ? m.op : undefined;
}

const SHAPE = /^\s*([^\s<>=!]+)\s*(<=|>=|==|!=|<|>)\s*(.*?)\s*$/;
const VALUE = /^(\d+(?:\.\d+)?)\s*(ms|s|%)?$/;

/** `METRIC OP VALUE[UNIT]` → Expectation; throws Error with a one-line reason. */
export function parseExpectation(text: string): Expectation {
  const shape = SHAPE.exec(text);
  if (!shape) throw new Error(`"${text}": expected METRIC OP VALUE[UNIT], OP one of < <= > >= == !=, e.g. check.p99 < 200ms`);
  const [, metricText = '', opText = '', valueText = ''] = shape;
  const op = opText as Expectation['op'];
  const value = VALUE.exec(valueText);
  if (!value) throw new Error(`"${text}": bad value "${valueText}": expected a number, with ms, s or % after it where it fits`);
  const metric = parseMetric(metricText);
  if (!metric) throw new Error(`"${text}": unknown metric "${metricText}": ${METRIC_HELP}`);
  const n = Number(value[1]);
  const unit = value[2] ?? '';
  const measure = measureOf(metric);
  const base = { text: text.trim(), metric: metricText, op };
  switch (measure) {
    case 'latency':
      if (unit === '%') throw new Error(`"${text}": ${metricText} is a latency: give ms or s, not %`);
      return { ...base, value: unit === 's' ? n * 1000 : n, unit: 'ms' };
    case 'count':
      if (unit !== '') throw new Error(`"${text}": ${metricText} is a count: give a bare number, not ${unit}`);
      return { ...base, value: n, unit: '' };
    case 'count-or-share':
      if (unit === 'ms' || unit === 's') throw new Error(`"${text}": ${metricText} is a count or a share: give a bare number or %, not ${unit}`);
      if (unit === '%' && n > 100) throw new Error(`"${text}": a share cannot exceed 100%`);
      return { ...base, value: n, unit: unit === '%' ? '%' : '' };
  }
}

/** What was measured for one expectation, or why nothing was. */
type Reading = { value: number; shown: string } | { missing: string };

type Measured = Omit<Report, 'expectations' | 'passed'>;

/** Compares each expectation with the report's figures; the detail names the value and the bound. */
export function evaluateExpectations(expectations: Expectation[], report: Measured): ExpectationResult[] {
  return expectations.map((e) => evaluateOne(e, report));
}

function evaluateOne(e: Expectation, report: Measured): ExpectationResult {
  const bound = `bound ${e.op} ${formatNumber(e.value)}${e.unit}`;
  const metric = parseMetric(e.metric);
  if (!metric) return { name: e.text, passed: false, detail: `${e.metric}: unknown metric (${bound})` };
  const reading = read(metric, e.unit, report);
  if ('missing' in reading) return { name: e.text, passed: false, detail: `${e.metric}: ${reading.missing} (${bound})` };
  return { name: e.text, passed: compare(reading.value, e.op, e.value), detail: `${e.metric} = ${reading.shown} (${bound})` };
}

function read(m: Metric, unit: Expectation['unit'], r: Measured): Reading {
  const ops = Object.values(r.operations);
  switch (m.kind) {
    case 'latency': {
      const op = r.operations[m.op];
      if (!op || op.count === 0) return { missing: `no ${m.op} request was made: no latency to judge` };
      // Failures' latencies are how fast the harness gave up, not how fast the server answered.
      if (op.errors >= op.count) return { missing: `every one of the ${op.count} ${m.op} requests failed (${topOutcomes(op.byOutcome)}): no latency to judge` };
      const summary: LatencySummary | undefined = m.of === 'latency' ? op.latencyMs : m.of === 'service' ? op.serviceMs : op.queuedMs;
      // A report from before the queued histogram: not judged, rather than read as zero.
      if (summary === undefined) return { missing: 'no queued histogram in this report' };
      return latency(summary[m.stat]);
    }
    case 'harness-lag':
      return latency(r.harness[m.lag === 'scheduleLag' ? 'scheduleLagMs' : 'eventLoopLagMs'][m.stat]);
    case 'op-count':
      return count(r.operations[m.op]?.count ?? 0);
    case 'op-errors': {
      const op = r.operations[m.op];
      return countOrShare(op?.errors ?? 0, op?.count ?? 0, unit, `no ${m.op} requests`);
    }
    case 'requests-total':
      return count(sum(ops.map((o) => o.count)));
    case 'requests-errors':
      return countOrShare(sum(ops.map((o) => o.errors)), sum(ops.map((o) => o.count)), unit, 'no requests');
    case 'devices-total':
      return count(r.devices.total);
    case 'devices-started':
      return count(r.devices.started);
    case 'devices-state':
      return countOrShare(r.devices.byFinalState[m.state] ?? 0, r.devices.total, unit, 'no devices');
    case 'transitions':
      return count(r.transitions[m.field]);
    case 'verdicts-total': {
      if (r.verdicts === undefined) return { missing: 'no verdicts in this report' };
      const n = sum(r.verdicts.map((v) => v[m.field]));
      const unjudged = r.verdicts.filter((v) => verdictStatus(v) === 'not-judged').map((v) => v.rule);
      return unjudged.length === 0 ? count(n) : { value: n, shown: `${n} (over the judged rules; not judged: ${unjudged.join(', ')})` };
    }
    case 'verdict': {
      if (r.verdicts === undefined) return { missing: 'no verdicts in this report' };
      const v = r.verdicts.find((x) => x.rule === m.rule);
      if (v === undefined) return { missing: `no rule ${m.rule} in this report's verdicts` };
      // "0 checked, 0 found" of a rule that could not judge is not a pass.
      if (verdictStatus(v) === 'not-judged') return { missing: `not judged (${v.reason ?? v.note ?? 'no reason given'})` };
      if (m.field === 'violations' || m.field === 'checked') return count(v[m.field]);
      return count(v.counts?.[m.field] ?? 0);
    }
  }
}

const latency = (ms: number): Reading => ({ value: ms, shown: `${formatNumber(ms)}ms` });
const count = (n: number): Reading => ({ value: n, shown: String(n) });

/** A share of nothing is not a pass: with no denominator the reading is missing. */
function countOrShare(n: number, of: number, unit: Expectation['unit'], none: string): Reading {
  if (unit !== '%') return count(n);
  if (of === 0) return { missing: none };
  const pct = (100 * n) / of;
  return { value: pct, shown: `${n} of ${of} = ${formatNumber(pct)}%` };
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

/** The most frequent outcomes, e.g. `net:ECONNREFUSED 40, http:503 2`. */
function topOutcomes(byOutcome: Record<string, number>): string {
  const top = Object.entries(byOutcome).sort((a, b) => b[1] - a[1]);
  return top.slice(0, 3).map(([k, n]) => `${k} ${n}`).join(', ') + (top.length > 3 ? ', …' : '');
}

/** Shares are ratios: `==` on 100 × 2985 / 3000 must not fail on the last bit. */
function compare(a: number, op: Expectation['op'], b: number): boolean {
  const eps = 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  const eq = Math.abs(a - b) <= eps;
  switch (op) {
    case '<':
      return a < b && !eq;
    case '<=':
      return a < b || eq;
    case '>':
      return a > b && !eq;
    case '>=':
      return a > b || eq;
    case '==':
      return eq;
    case '!=':
      return !eq;
  }
}

/** At most three decimals, no trailing zeros: 12.3, 99.5, 0.125. */
function formatNumber(x: number): string {
  return String(Number(x.toFixed(3)));
}
