/**
 * Shard reports (one per fleet slice, engine/fleet-slice.ts) into the report of the whole fleet,
 * without loss: histograms added bucket by bucket (never percentiles), counts and outcomes summed,
 * time series aligned by bucket, transition and verdict results combined (a rule not judged on a
 * shard stays visible), expectations evaluated again on the merged figures. A shard that is
 * missing, unreadable or failed makes the merged report say so, by index, and fail. Pure: the
 * files are found and written by cli/merge-command.ts. It lives beside run.ts: both make a run's
 * report from its parts (workers there, machines here).
 */
import { LatencyHistogram } from '../metrics/histogram.js';
import { mergeSnapshots, operationsReport, type MetricsSnapshot } from '../metrics/recorder.js';
import { judgeHarness } from '../metrics/harness-rule.js';
import { sumCounts, sumRecords } from '../metrics/counts.js';
import { toSeries } from '../metrics/series.js';
import { evaluateExpectations, parseExpectation } from '../scenario/expectations.js';
import { sliceSize } from './fleet-slice.js';
import { startNotes } from './start-barrier.js';
import type { Expectation } from '../scenario/types.js';
import type { ExpectationResult, HarnessReport, MergedFrom, Report, StateSeries, TransitionsReport, VerdictReport, VerdictStatus } from '../report/types.js';
import { verdictStatus } from '../report/types.js';

/** Traces kept per rule and for the transitions, as a single run keeps. */
const MAX_SAMPLES = 5;
/** State of the devices of a shard that left no report. */
export const MISSING_SHARD_STATE = 'shard-missing';

/** What was found for one shard folder: its report, or why there is none. */
export interface ShardInput {
  /** The folder (or file) it was read from, as the user named it. */
  source: string;
  report?: Report;
  /** Why no report could be read from `source`. */
  problem?: string;
}

/** Shard reports that cannot be merged at all (different scenarios, not shard reports): exit 2. */
export class MergeInputError extends Error {}

interface Slot {
  index: number;
  source: string;
  report: Report;
  failed?: string;
}

/** Why a shard's own run failed (its figures are still merged: no late data is dropped). */
function shardFailure(r: Report): string | undefined {
  if (r.endedBy === 'error' || r.errors.length > 0) return r.errors[0] ?? 'ended by an error';
  if (r.interrupted) return 'interrupted';
  return undefined;
}

/** Checks the inputs belong to one sharded run; returns the shard count. */
function shardCount(found: readonly { source: string; report: Report }[], expected: number | undefined): number {
  const first = found[0];
  if (first === undefined) throw new MergeInputError('no shard report was found in any folder given');
  for (const { source, report } of found) {
    if (report.fleetSlice === undefined) throw new MergeInputError(`${source}: not a shard report (run with --shard i/N or JOB_COMPLETION_INDEX and OTA_SWARM_SHARDS)`);
    if (report.merged !== undefined) throw new MergeInputError(`${source}: already a merged report`);
    const a = first.report;
    const b = { ...report, fleetSlice: report.fleetSlice };
    const differs =
      a.scenario !== b.scenario ? `scenario "${a.scenario}" vs "${b.scenario}"`
      : a.dialect !== b.dialect ? `dialect ${a.dialect} vs ${b.dialect}`
      : a.seed !== b.seed ? `seed ${a.seed} vs ${b.seed}`
      : a.timeScale !== b.timeScale ? `time scale ${a.timeScale} vs ${b.timeScale}`
      : a.fleetSlice!.count !== b.fleetSlice.count ? `${a.fleetSlice!.count} shards vs ${b.fleetSlice.count}`
      : a.fleetSlice!.fleetDevices !== b.fleetSlice.fleetDevices ? `fleet of ${a.fleetSlice!.fleetDevices} vs ${b.fleetSlice.fleetDevices}`
      : undefined;
    if (differs !== undefined) throw new MergeInputError(`${first.source} and ${source} are not shards of one run: ${differs}`);
  }
  const n = first.report.fleetSlice!.count;
  if (expected !== undefined && expected !== n) throw new MergeInputError(`--shards ${expected}: the reports are shards of ${n}`);
  return n;
}

/** Merges shard reports into the whole fleet's report. Throws MergeInputError when they do not belong together. */
export function mergeShardReports(inputs: readonly ShardInput[], opts: { shards?: number } = {}): Report {
  const found = inputs.flatMap((i) => (i.report ? [{ source: i.source, report: i.report }] : []));
  const n = shardCount(found, opts.shards);
  const bySlice = new Map<number, Slot>();
  for (const { source, report } of found) {
    const index = report.fleetSlice!.index;
    const twice = bySlice.get(index);
    if (twice) throw new MergeInputError(`shard ${index} is given twice: ${twice.source} and ${source}`);
    const failed = shardFailure(report);
    bySlice.set(index, { index, source, report, ...(failed !== undefined ? { failed } : {}) });
  }
  const unreadable = inputs.filter((i) => !i.report);
  const slots = [...bySlice.values()].sort((a, b) => a.index - b.index);
  const reports = slots.map((s) => s.report);
  const base = reports[0] as Report;
  const fleetDevices = base.fleetSlice!.fleetDevices;

  const merged: MergedFrom = { shards: n, slices: [] };
  const errors: string[] = [];
  const missingIndices: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = bySlice.get(i);
    if (s === undefined) {
      missingIndices.push(i);
      merged.slices.push({ index: i, source: '', status: 'missing', reason: 'no report' });
      errors.push(`shard ${i} of ${n}: no report (missing, or its folder had none): its ${sliceSize(fleetDevices, { index: i, count: n })} devices are counted ${MISSING_SHARD_STATE}`);
    } else if (s.failed !== undefined) {
      merged.slices.push({ index: i, source: s.source, status: 'failed', reason: s.failed });
      errors.push(`shard ${i} of ${n} (${s.source}) failed: ${s.failed}`);
    } else {
      merged.slices.push({ index: i, source: s.source, status: 'merged' });
    }
  }
  for (const u of unreadable) errors.push(`${u.source}: ${u.problem ?? 'no report'}`);
  const missingDevices = missingIndices.reduce((sum, i) => sum + sliceSize(fleetDevices, { index: i, count: n }), 0);

  const operations = operationsReport(mergeSnapshots(reports.map(snapshotOf)));
  const byFinalState = sumRecords(reports.map((r) => r.devices.byFinalState));
  if (missingDevices > 0) byFinalState[MISSING_SHARD_STATE] = (byFinalState[MISSING_SHARD_STATE] ?? 0) + missingDevices;
  const notJudgedShards = missingIndices.map((i) => `shard ${i} missing: its devices were not judged`);

  const report: Report = {
    format: 1,
    scenario: base.scenario,
    target: targetsOf(reports),
    dialect: base.dialect,
    seed: base.seed,
    timeScale: base.timeScale,
    startedAt: reports.map((r) => r.startedAt).sort()[0] as string,
    virtualStartMs: Math.min(...reports.map((r) => r.virtualStartMs)),
    durationMs: Math.max(...reports.map((r) => r.durationMs)),
    virtualDurationMs: Math.max(...reports.map((r) => r.virtualDurationMs)),
    devices: { total: fleetDevices, byFinalState, started: sum(reports.map((r) => r.devices.started)) },
    operations,
    transitions: mergeTransitions(slots),
    expectations: [],
    harness: mergeHarness(slots, operations),
    interrupted: reports.some((r) => r.interrupted),
    endedBy: errors.length > 0 ? 'error' : reports.some((r) => r.interrupted) ? 'interrupted' : reports.some((r) => r.endedBy === 'duration') ? 'duration' : 'completed',
    errors: [...errors, ...slots.flatMap((s) => s.report.errors.map((e) => `shard ${s.index}: ${e}`))],
    merged,
    passed: false,
  };
  const wire = sumCounts(reports.map((r) => r.wire));
  if (wire !== undefined) report.wire = wire;
  const series = mergeTimeseries(reports);
  if (series) report.timeseries = series;
  if (base.profile) report.profile = base.profile;
  const hints = distinct(reports.flatMap((r) => r.hints ?? []));
  if (hints.length > 0) report.hints = hints;
  if (reports.some((r) => r.verdicts !== undefined)) report.verdicts = mergeVerdicts(slots, notJudgedShards);
  if (reports.some((r) => r.violationsFile !== undefined)) report.violationsFile = 'violations.jsonl';
  report.expectations = reevaluate(base.expectations, report);
  report.passed =
    report.errors.length === 0 &&
    !report.interrupted &&
    report.expectations.every((e) => e.passed) &&
    report.transitions.violations === 0 &&
    (report.transitions.serverAgreement?.disagreements ?? 0) === 0 &&
    (report.verdicts ?? []).every((v) => v.violations === 0);
  return report;
}

/** The operations of a report as the snapshot they were made from (the histograms are the report's). */
function snapshotOf(r: Report): MetricsSnapshot {
  const empty = new LatencyHistogram().encode();
  const operations: MetricsSnapshot['operations'] = {};
  for (const [op, o] of Object.entries(r.operations)) {
    operations[op] = {
      count: o.count,
      errors: o.errors,
      byOutcome: o.byOutcome,
      latency: o.histogram,
      service: o.serviceHistogram,
      queued: o.queuedHistogram ?? empty,
      unfinished: o.unfinished ?? { inFlight: 0, queued: 0 },
    };
  }
  return { operations };
}

/** Expectations as the shards wrote them, judged again on the whole fleet's figures. */
function reevaluate(written: readonly ExpectationResult[], report: Report): ExpectationResult[] {
  const parsed: Expectation[] = [];
  const unreadable: ExpectationResult[] = [];
  for (const e of written) {
    try {
      parsed.push(parseExpectation(e.name));
    } catch (err) {
      unreadable.push({ name: e.name, passed: false, detail: `not judged on the merged figures: ${err instanceof Error ? err.message : String(err)}` });
    }
  }
  return [...evaluateExpectations(parsed, report), ...unreadable];
}

function mergeTransitions(slots: readonly Slot[]): TransitionsReport {
  const list = slots.map((s) => s.report.transitions);
  const out: TransitionsReport = {
    checked: sum(list.map((t) => t.checked)),
    violations: sum(list.map((t) => t.violations)),
    byRule: sumRecords(list.map((t) => t.byRule)),
    unfinished: sum(list.map((t) => t.unfinished)),
    samples: list.flatMap((t) => t.samples).slice(0, MAX_SAMPLES),
  };
  const agreements = slots.map((s) => ({ index: s.index, a: s.report.transitions.serverAgreement }));
  if (agreements.some((x) => x.a !== undefined)) {
    const present = agreements.flatMap((x) => (x.a ? [{ index: x.index, a: x.a }] : []));
    const statuses = agreements.map((x) => ({ index: x.index, status: x.a?.status ?? (x.a ? 'judged' : 'not-judged'), reason: x.a?.reason ?? (x.a ? undefined : 'no server agreement in this shard') }));
    const combined = combineStatus(statuses);
    out.serverAgreement = {
      status: combined.status,
      ...(combined.reason !== undefined ? { reason: combined.reason } : {}),
      checked: sum(present.map((x) => x.a.checked)),
      disagreements: sum(present.map((x) => x.a.disagreements)),
      samples: present.flatMap((x) => x.a.samples).slice(0, MAX_SAMPLES),
    };
  }
  return out;
}

/**
 * One status from the shards': judged only when every shard judged; not judged when none did;
 * partly judged otherwise, the reason naming each shard that did not judge in full.
 */
export function combineStatus(list: readonly { index: number; status: VerdictStatus; reason?: string | undefined }[], extra: readonly string[] = []): { status: VerdictStatus; reason?: string } {
  const short = list.filter((x) => x.status !== 'judged');
  if (short.length === 0 && extra.length === 0) return { status: 'judged' };
  // Shards that fell short alike are named together: "shards 0, 2 not judged (why)".
  const groups = new Map<string, number[]>();
  for (const x of short) {
    const key = `${x.status === 'not-judged' ? 'not judged' : 'partly judged'}${x.reason ? ` (${x.reason})` : ''}`;
    groups.set(key, [...(groups.get(key) ?? []), x.index]);
  }
  const whole = short.length === list.length && groups.size === 1;
  const reasons = [...[...groups].map(([why, shards]) => (whole ? `on every shard: ${why}` : `${shards.length === 1 ? 'shard' : 'shards'} ${shards.join(', ')} ${why}`)), ...extra];
  const none = list.length > 0 && list.every((x) => x.status === 'not-judged') && extra.length === 0;
  if (none && groups.size === 1) return { status: 'not-judged', reason: list[0]?.reason !== undefined ? `on every shard: ${list[0].reason}` : 'on every shard' };
  if (none) return { status: 'not-judged', reason: reasons.join('; ') };
  // Every shard partly judged for one reason: the fleet is partly judged for that reason.
  if (whole && extra.length === 0 && short[0]?.status === 'partly-judged') return { status: 'partly-judged', ...(short[0].reason !== undefined ? { reason: short[0].reason } : {}) };
  return { status: 'partly-judged', reason: reasons.join('; ') };
}

function mergeVerdicts(slots: readonly Slot[], extra: readonly string[]): VerdictReport[] {
  const rules = distinct(slots.flatMap((s) => (s.report.verdicts ?? []).map((v) => v.rule)));
  return rules.map((rule): VerdictReport => {
    const per = slots.map((s) => ({ index: s.index, v: s.report.verdicts?.find((x) => x.rule === rule) }));
    const present = per.flatMap((p) => (p.v ? [{ index: p.index, v: p.v }] : []));
    const first = present[0]!.v;
    const statuses = per.map((p) => (p.v ? { index: p.index, status: verdictStatus(p.v), reason: p.v.reason } : { index: p.index, status: 'not-judged' as const, reason: 'the rule is absent from this shard\'s report' }));
    const combined = combineStatus(statuses, extra);
    const counts = present.some((p) => p.v.counts) ? sumRecords(present.map((p) => p.v.counts ?? {})) : undefined;
    const notes = distinct(present.flatMap((p) => (p.v.note ? [p.v.note] : [])));
    return {
      rule,
      description: first.description,
      status: combined.status,
      ...(combined.reason !== undefined ? { reason: combined.reason } : {}),
      checked: sum(present.map((p) => p.v.checked)),
      violations: sum(present.map((p) => p.v.violations)),
      ...(counts ? { counts } : {}),
      ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
      samples: present.flatMap((p) => p.v.samples).slice(0, MAX_SAMPLES),
    };
  });
}

function mergeHarness(slots: readonly Slot[], operations: Report['operations']): HarnessReport {
  const harnesses = slots.map((s) => s.report.harness);
  const lossless = harnesses.every((h) => h.lagHistograms !== undefined);
  const eventLoop = new LatencyHistogram();
  const schedule = new LatencyHistogram();
  if (lossless) {
    for (const h of harnesses) {
      eventLoop.merge(LatencyHistogram.decode(h.lagHistograms!.eventLoop));
      schedule.merge(LatencyHistogram.decode(h.lagHistograms!.schedule));
    }
  }
  const lag = (encoded: LatencyHistogram, pick: (h: HarnessReport) => { p50: number; p99: number; max: number }): { p50: number; p99: number; max: number } => {
    if (lossless) {
      const s = encoded.summary();
      return { p50: s.p50, p99: s.p99, max: s.max };
    }
    // Reports without their lag histograms: the worst shard's figures, said so in the notes.
    const all = harnesses.map(pick);
    return { p50: Math.max(...all.map((x) => x.p50)), p99: Math.max(...all.map((x) => x.p99)), max: Math.max(...all.map((x) => x.max)) };
  };
  const eventLoopLagMs = lag(eventLoop, (h) => h.eventLoopLagMs);
  const scheduleLagMs = lag(schedule, (h) => h.scheduleLagMs);
  const utilizations = harnesses.flatMap((h) => (h.eventLoopUtilization !== undefined ? [h.eventLoopUtilization] : []));
  const busiest = utilizations.length > 0 ? Math.max(...utilizations) : undefined;
  const judged = judgeHarness({ eventLoopLagMs, scheduleLagMs, operations, ...(busiest !== undefined ? { eventLoopUtilization: busiest } : {}) });
  // The bottleneck is judged again on the merged figures; of the shards' own notes, those every
  // shard wrote are kept once, a shard's late start and clock skew by shard, and a shard that was
  // its own bottleneck is named (its report has the detail).
  const common = harnesses[0]!.notes.filter((note) => harnesses.every((h) => h.notes.includes(note)) && !judged.notes.includes(note));
  const byShard = slots.flatMap((s) => [
    ...(s.report.harness.start ? startNotes(s.report.harness.start).map((note) => `shard ${s.index}: ${note}`) : []),
    ...(s.report.harness.bottleneck ? [`shard ${s.index}: the harness was its own bottleneck (see that shard's report)`] : []),
  ]);
  const notes = [...judged.notes, ...common, ...byShard];
  if (!lossless) notes.push('some shard reports carry no lag histograms (an older ota-swarm): the lag figures are the worst shard\'s, not merged');
  const out: HarnessReport = {
    workers: sum(harnesses.map((h) => h.workers)),
    eventLoopLagMs,
    scheduleLagMs,
    ...(busiest !== undefined ? { eventLoopUtilization: busiest } : {}),
    bottleneck: judged.bottleneck || harnesses.some((h) => h.bottleneck),
    notes,
  };
  if (lossless) out.lagHistograms = { eventLoop: eventLoop.encode(), schedule: schedule.encode() };
  const starts = harnesses.flatMap((h) => (h.start ? [h.start] : []));
  if (starts.length > 0) out.start = { at: starts[0]!.at, lateByMs: Math.max(...starts.map((s) => s.lateByMs)) };
  return out;
}

/**
 * The shards' series summed bucket by bucket, each shifted by where its run started against the
 * earliest: virtual buckets by virtual start, real buckets (and state samples) by wall start.
 * With an agreed start (--start-at) every shift is zero.
 */
function mergeTimeseries(reports: readonly Report[]): Report['timeseries'] | undefined {
  const withSeries = reports.filter((r) => r.timeseries !== undefined);
  if (withSeries.length === 0) return undefined;
  const v0 = Math.min(...withSeries.map((r) => r.virtualStartMs));
  const w0 = Math.min(...withSeries.map((r) => Date.parse(r.startedAt)));
  const vBucket = withSeries[0]!.timeseries!.virtual.bucketSeconds;
  const real = toSeries(1, withSeries.map((r) => ({ ...r.timeseries!.real, shift: Math.round((Date.parse(r.startedAt) - w0) / 1000) })));
  const virtual = toSeries(vBucket, withSeries.map((r) => ({ ...r.timeseries!.virtual, shift: Math.round((r.virtualStartMs - v0) / (vBucket * 1000)) })));
  const states = sumStates(withSeries.map((r) => ({ s: r.timeseries!.states, shift: Math.round((Date.parse(r.startedAt) - w0) / 1000) })));
  return { real, virtual, states };
}

/** Devices by category per real second; a shard before its first sample counts as its first, after its last as its last. */
function sumStates(parts: readonly { s: StateSeries; shift: number }[]): StateSeries {
  const samples = Math.max(0, ...parts.map(({ s, shift }) => s.t.length + shift));
  const byCategory: Record<string, number[]> = {};
  for (const { s, shift } of parts) {
    const len = s.t.length;
    if (len === 0) continue;
    for (const [cat, values] of Object.entries(s.byCategory)) {
      const out = (byCategory[cat] ??= new Array<number>(samples).fill(0));
      for (let i = 0; i < samples; i++) {
        const at = Math.min(Math.max(0, i - shift), len - 1);
        out[i] = (out[i] as number) + (values[at] ?? 0);
      }
    }
  }
  return { t: Array.from({ length: samples }, (_, i) => i), byCategory };
}

/** One target, or each shard's own embedded server. */
function targetsOf(reports: readonly Report[]): string {
  const all = distinct(reports.map((r) => r.target));
  if (all.length === 1) return all[0] as string;
  if (all.every((t) => t.startsWith('embedded'))) return `embedded (one per shard, ${all.length})`;
  return all.join(', ');
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
const distinct = <T>(xs: readonly T[]): T[] => [...new Set(xs)];
