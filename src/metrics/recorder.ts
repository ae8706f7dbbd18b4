/**
 * Per-worker recording of operations and of the harness's own lateness. Recording is cheap (two
 * histogram increments and a map update); snapshots are plain objects of strings and numbers so a
 * worker can post them to the main thread, where they merge without loss.
 *
 * Two histograms per operation, as wrk2 keeps them: latency runs from the moment the device meant
 * to act, service from the actual send. Their gap is time the harness itself was late.
 */
import { performance } from 'node:perf_hooks';
import { LatencyHistogram } from './histogram.js';
import { formatMs } from '../config/units.js';
import type { HarnessReport, LagSummary, LatencySummary, OperationReport } from '../report/types.js';

// ---------------------------------------------------------------------------------------------
// Operations

export interface OperationSnapshot {
  count: number;
  errors: number;
  byOutcome: Record<string, number>;
  /** Encoded histogram of latency (from intended). */
  latency: string;
  /** Encoded histogram of service time (from send). */
  service: string;
}

export interface MetricsSnapshot {
  operations: Record<string, OperationSnapshot>;
}

interface OperationCells {
  count: number;
  errors: number;
  readonly byOutcome: Map<string, number>;
  readonly latency: LatencyHistogram;
  readonly service: LatencyHistogram;
}

export class OperationRecorder {
  private readonly ops = new Map<string, OperationCells>();

  /**
   * Records one finished request. All three instants are real ms on one monotonic timeline.
   * An intended instant after the send (the device's timer fired early) counts as the send, so
   * latency is never below service time.
   */
  record(op: string, outcome: string, isError: boolean, intendedAtMs: number, sentAtMs: number, doneAtMs: number): void {
    const cells = this.cellsOf(op);
    const startedAt = intendedAtMs < sentAtMs ? intendedAtMs : sentAtMs;
    cells.latency.record(doneAtMs - startedAt);
    cells.service.record(doneAtMs - sentAtMs);
    cells.count += 1;
    if (isError) cells.errors += 1;
    cells.byOutcome.set(outcome, (cells.byOutcome.get(outcome) ?? 0) + 1);
  }

  snapshot(): MetricsSnapshot {
    const operations: Record<string, OperationSnapshot> = {};
    for (const [op, c] of this.ops) {
      operations[op] = {
        count: c.count,
        errors: c.errors,
        byOutcome: Object.fromEntries(c.byOutcome),
        latency: c.latency.encode(),
        service: c.service.encode(),
      };
    }
    return { operations };
  }

  private cellsOf(op: string): OperationCells {
    let cells = this.ops.get(op);
    if (cells === undefined) {
      cells = { count: 0, errors: 0, byOutcome: new Map(), latency: new LatencyHistogram(), service: new LatencyHistogram() };
      this.ops.set(op, cells);
    }
    return cells;
  }
}

/** Counts keyed by labels a server chose: kept in a Map, so no label can reach a prototype. */
function addCounts(into: Map<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into.set(k, (into.get(k) ?? 0) + v);
}

/** Sums counts and merges histograms bucket by bucket (never percentiles). */
export function mergeSnapshots(snaps: readonly MetricsSnapshot[]): MetricsSnapshot {
  const acc = new Map<string, { count: number; errors: number; byOutcome: Map<string, number>; latency: LatencyHistogram; service: LatencyHistogram }>();
  for (const snap of snaps) {
    for (const [op, s] of Object.entries(snap.operations)) {
      let a = acc.get(op);
      if (a === undefined) {
        a = { count: 0, errors: 0, byOutcome: new Map(), latency: new LatencyHistogram(), service: new LatencyHistogram() };
        acc.set(op, a);
      }
      a.count += s.count;
      a.errors += s.errors;
      addCounts(a.byOutcome, s.byOutcome);
      a.latency.merge(LatencyHistogram.decode(s.latency));
      a.service.merge(LatencyHistogram.decode(s.service));
    }
  }
  const operations: Record<string, OperationSnapshot> = {};
  for (const [op, a] of acc) {
    operations[op] = { count: a.count, errors: a.errors, byOutcome: Object.fromEntries(a.byOutcome), latency: a.latency.encode(), service: a.service.encode() };
  }
  return { operations };
}

/** Outcomes by count, most frequent first (ties by label), so reports read and diff the same. */
function sortedOutcomes(byOutcome: Record<string, number>): Record<string, number> {
  const entries = Object.entries(byOutcome).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return Object.fromEntries(entries);
}

/** The report's operations, operations sorted by name. */
export function operationsReport(snap: MetricsSnapshot): Record<string, OperationReport> {
  const out: Record<string, OperationReport> = {};
  for (const op of Object.keys(snap.operations).sort()) {
    const s = snap.operations[op]!;
    out[op] = {
      count: s.count,
      errors: s.errors,
      byOutcome: sortedOutcomes(s.byOutcome),
      latencyMs: LatencyHistogram.decode(s.latency).summary(),
      serviceMs: LatencyHistogram.decode(s.service).summary(),
      histogram: s.latency,
      serviceHistogram: s.service,
    };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Harness lag

export interface LagSnapshot {
  /** Encoded histogram of event-loop delay, ms. */
  eventLoop: string;
  /** Encoded histogram of how late device timers ran against their due time, ms. */
  schedule: string;
}

/** How often the event-loop probe looks: fine enough to see a 50 ms stall, cheap enough to ignore. */
export const EVENT_LOOP_PROBE_MS = 10;

/**
 * Lateness of the harness in one worker. Event-loop lag comes from a drift probe: a timer due
 * every 10 ms records how late it fired (Node's own monitorEventLoopDelay only exposes
 * percentiles, which cannot be merged). Schedule lag is recorded by the engine for every device
 * timer it runs.
 */
export class LagRecorder {
  private readonly eventLoop = new LatencyHistogram();
  private readonly schedule = new LatencyHistogram();
  private probe: NodeJS.Timeout | undefined;

  /** @param now monotonic real ms (injected for tests). */
  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Starts the event-loop probe; it runs until stop() and never keeps the process alive. */
  start(intervalMs: number = EVENT_LOOP_PROBE_MS): void {
    if (this.probe !== undefined) return;
    let due = this.now() + intervalMs;
    const tick = (): void => {
      const firedAt = this.now();
      this.eventLoop.record(firedAt - due);
      due = firedAt + intervalMs;
      this.probe = setTimeout(tick, intervalMs).unref();
    };
    this.probe = setTimeout(tick, intervalMs).unref();
  }

  get probing(): boolean {
    return this.probe !== undefined;
  }

  /** Stops the probe (idempotent). */
  stop(): void {
    if (this.probe === undefined) return;
    clearTimeout(this.probe);
    this.probe = undefined;
  }

  /** How late a device's timer ran against its due time, real ms (early counts as on time). */
  recordScheduleLag(ms: number): void {
    this.schedule.record(ms);
  }

  /** One event-loop delay sample, real ms. */
  recordEventLoopLag(ms: number): void {
    this.eventLoop.record(ms);
  }

  snapshot(): LagSnapshot {
    return { eventLoop: this.eventLoop.encode(), schedule: this.schedule.encode() };
  }
}

export function mergeLagSnapshots(list: readonly LagSnapshot[]): LagSnapshot {
  const eventLoop = new LatencyHistogram();
  const schedule = new LatencyHistogram();
  for (const s of list) {
    eventLoop.merge(LatencyHistogram.decode(s.eventLoop));
    schedule.merge(LatencyHistogram.decode(s.schedule));
  }
  return { eventLoop: eventLoop.encode(), schedule: schedule.encode() };
}

// ---------------------------------------------------------------------------------------------
// Harness verdict

/** When the harness counts as the bottleneck of a run (real ms). */
export const HARNESS_LIMITS = {
  /** Device timers ran this late (p99) or worse. */
  scheduleLagP99Ms: 50,
  /** The workers' event loops stalled this long (p99) or worse. */
  eventLoopLagP99Ms: 50,
  /** An operation's latency p50 exceeded its service p50 by this factor ... */
  queueingRatio: 1.2,
  /** ... and by at least this many ms: requests waited inside the harness before being sent. */
  queueingMinMs: 5,
} as const;

function lagSummary(encoded: string): LagSummary {
  const s = LatencyHistogram.decode(encoded).summary();
  return { p50: s.p50, p99: s.p99, max: s.max };
}

/** Whether one operation's requests queued in the harness: its latency far above its service time. */
function queueingNote(op: string, latency: LatencySummary, service: LatencySummary): string | undefined {
  const gap = latency.p50 - service.p50;
  if (latency.p50 <= service.p50 * HARNESS_LIMITS.queueingRatio || gap <= HARNESS_LIMITS.queueingMinMs) return undefined;
  return `${op}: latency p50 ${formatMs(latency.p50)} vs service p50 ${formatMs(service.p50)} (+${formatMs(gap)}): requests waited in the harness before they were sent`;
}

/**
 * The harness section of the report. The harness was the bottleneck when device timers or event
 * loops ran late (p99 over 50 ms), or when any operation queued inside the harness (latency p50
 * more than 20 % and 5 ms above service p50). Hits of the in-flight cap are noted but decide
 * nothing by themselves: their cost already shows as queueing.
 */
export function harnessReport(lag: LagSnapshot, workers: number, ops: Record<string, OperationReport>, extra: { maxInFlightHits?: number } = {}): HarnessReport {
  const eventLoopLagMs = lagSummary(lag.eventLoop);
  const scheduleLagMs = lagSummary(lag.schedule);
  const notes: string[] = [];
  let bottleneck = false;
  if (scheduleLagMs.p99 > HARNESS_LIMITS.scheduleLagP99Ms) {
    bottleneck = true;
    notes.push(`schedule lag p99 ${formatMs(scheduleLagMs.p99)} > ${formatMs(HARNESS_LIMITS.scheduleLagP99Ms)} (max ${formatMs(scheduleLagMs.max)}): device timers ran late, so devices acted late`);
  }
  if (eventLoopLagMs.p99 > HARNESS_LIMITS.eventLoopLagP99Ms) {
    bottleneck = true;
    notes.push(`event-loop lag p99 ${formatMs(eventLoopLagMs.p99)} > ${formatMs(HARNESS_LIMITS.eventLoopLagP99Ms)} (max ${formatMs(eventLoopLagMs.max)}): the workers were saturated`);
  }
  for (const op of Object.keys(ops).sort()) {
    const r = ops[op]!;
    if (r.count === 0) continue;
    const note = queueingNote(op, r.latencyMs, r.serviceMs);
    if (note !== undefined) {
      bottleneck = true;
      notes.push(note);
    }
  }
  const hits = extra.maxInFlightHits ?? 0;
  if (hits > 0) notes.push(`${hits} request(s) waited for a free in-flight slot (engine.maxInFlightPerWorker)`);
  return { workers, eventLoopLagMs, scheduleLagMs, bottleneck, notes };
}
