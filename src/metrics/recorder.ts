/**
 * Per-worker recording of operations and of the harness's own lateness. Recording is cheap (a few
 * histogram increments and a map update); snapshots are plain objects of strings and numbers so a
 * worker can post them to the main thread, where they merge without loss.
 *
 * Three histograms per operation. Latency runs from the moment the device meant to act, service
 * from the write of the request to its connection's socket (as wrk2 keeps the first two); queued
 * is the wait between the two, the harness's own (late timer, in-flight slot, free connection).
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { LatencyHistogram } from './histogram.js';
import type { HarnessReport, LagSummary, OperationReport } from '../report/types.js';
import { judgeHarness, type HarnessFigures } from './harness-rule.js';

// ---------------------------------------------------------------------------------------------
// Operations

export interface OperationSnapshot {
  count: number;
  errors: number;
  byOutcome: Record<string, number>;
  /** Encoded histogram of latency (from intended). */
  latency: string;
  /** Encoded histogram of service time (from the socket write). */
  service: string;
  /** Encoded histogram of the wait from intended to the socket write. */
  queued: string;
  /** Requests the end caught written and unanswered / not yet written. */
  unfinished: { inFlight: number; queued: number };
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
  readonly queued: LatencyHistogram;
  readonly unfinished: { inFlight: number; queued: number };
}

const emptyCells = (): OperationCells => ({
  count: 0,
  errors: 0,
  byOutcome: new Map(),
  latency: new LatencyHistogram(),
  service: new LatencyHistogram(),
  queued: new LatencyHistogram(),
  unfinished: { inFlight: 0, queued: 0 },
});

/** When a request went out: the socket write, or (never written: refused, reset) the hand-over. */
export interface SendInstant {
  atMs: number;
  /** Whether `atMs` is the socket write; only written requests have a queued time. */
  written: boolean;
}

export class OperationRecorder {
  private readonly ops = new Map<string, OperationCells>();

  /**
   * Records one finished request. All instants are real ms on one monotonic timeline. An
   * intended instant after the send (the device's timer fired early) counts as the send, so
   * latency is never below service time and queued never below zero.
   */
  record(op: string, outcome: string, isError: boolean, intendedAtMs: number, sent: SendInstant | number, doneAtMs: number): void {
    const cells = this.cellsOf(op);
    const s = typeof sent === 'number' ? { atMs: sent, written: false } : sent;
    const startedAt = intendedAtMs < s.atMs ? intendedAtMs : s.atMs;
    cells.latency.record(doneAtMs - startedAt);
    cells.service.record(doneAtMs - s.atMs);
    if (s.written) cells.queued.record(s.atMs - startedAt);
    cells.count += 1;
    if (isError) cells.errors += 1;
    cells.byOutcome.set(outcome, (cells.byOutcome.get(outcome) ?? 0) + 1);
  }

  /** A request the run's end caught unanswered: written and awaited, or still waiting to be written. */
  unfinished(op: string, written: boolean): void {
    const u = this.cellsOf(op).unfinished;
    if (written) u.inFlight += 1;
    else u.queued += 1;
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
        queued: c.queued.encode(),
        unfinished: { ...c.unfinished },
      };
    }
    return { operations };
  }

  private cellsOf(op: string): OperationCells {
    let cells = this.ops.get(op);
    if (cells === undefined) {
      cells = emptyCells();
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
  const acc = new Map<string, OperationCells>();
  for (const snap of snaps) {
    for (const [op, s] of Object.entries(snap.operations)) {
      let a = acc.get(op);
      if (a === undefined) {
        a = emptyCells();
        acc.set(op, a);
      }
      a.count += s.count;
      a.errors += s.errors;
      addCounts(a.byOutcome, s.byOutcome);
      a.latency.merge(LatencyHistogram.decode(s.latency));
      a.service.merge(LatencyHistogram.decode(s.service));
      // Snapshots of an older worker build may lack the newer fields.
      if (s.queued !== undefined) a.queued.merge(LatencyHistogram.decode(s.queued));
      a.unfinished.inFlight += s.unfinished?.inFlight ?? 0;
      a.unfinished.queued += s.unfinished?.queued ?? 0;
    }
  }
  const operations: Record<string, OperationSnapshot> = {};
  for (const [op, a] of acc) {
    operations[op] = {
      count: a.count,
      errors: a.errors,
      byOutcome: Object.fromEntries(a.byOutcome),
      latency: a.latency.encode(),
      service: a.service.encode(),
      queued: a.queued.encode(),
      unfinished: { ...a.unfinished },
    };
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
    const queued = s.queued ?? new LatencyHistogram().encode();
    const unfinished = s.unfinished ?? { inFlight: 0, queued: 0 };
    out[op] = {
      count: s.count,
      errors: s.errors,
      byOutcome: sortedOutcomes(s.byOutcome),
      latencyMs: LatencyHistogram.decode(s.latency).summary(),
      serviceMs: LatencyHistogram.decode(s.service).summary(),
      queuedMs: LatencyHistogram.decode(queued).summary(),
      histogram: s.latency,
      serviceHistogram: s.service,
      queuedHistogram: queued,
      ...(unfinished.inFlight + unfinished.queued > 0 ? { unfinished: { ...unfinished } } : {}),
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
  /** Event-loop utilisation (busy share, 0..1) of the busiest worker while probed; absent: not probed. */
  busiestUtilization?: number;
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
  /** Event-loop utilisation at start(), and over the probed span once stopped. */
  private eluStart: EventLoopUtilization | undefined;
  private utilization: number | undefined;

  /** @param now monotonic real ms (injected for tests). */
  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Starts the event-loop probe; it runs until stop() and never keeps the process alive. */
  start(intervalMs: number = EVENT_LOOP_PROBE_MS): void {
    if (this.probe !== undefined) return;
    this.eluStart = performance.eventLoopUtilization();
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
    if (this.eluStart !== undefined) this.utilization = performance.eventLoopUtilization(this.eluStart).utilization;
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
    const snap: LagSnapshot = { eventLoop: this.eventLoop.encode(), schedule: this.schedule.encode() };
    const u = this.utilization ?? (this.eluStart !== undefined ? performance.eventLoopUtilization(this.eluStart).utilization : undefined);
    if (u !== undefined && Number.isFinite(u)) snap.busiestUtilization = u;
    return snap;
  }
}

export function mergeLagSnapshots(list: readonly LagSnapshot[]): LagSnapshot {
  const eventLoop = new LatencyHistogram();
  const schedule = new LatencyHistogram();
  let busiest: number | undefined;
  for (const s of list) {
    eventLoop.merge(LatencyHistogram.decode(s.eventLoop));
    schedule.merge(LatencyHistogram.decode(s.schedule));
    // The busiest worker, not the mean: one saturated worker bends its own devices' figures.
    if (s.busiestUtilization !== undefined) busiest = Math.max(busiest ?? 0, s.busiestUtilization);
  }
  const merged: LagSnapshot = { eventLoop: eventLoop.encode(), schedule: schedule.encode() };
  if (busiest !== undefined) merged.busiestUtilization = busiest;
  return merged;
}

// ---------------------------------------------------------------------------------------------
// Harness verdict

export { HARNESS_LIMITS } from './harness-rule.js';

function lagSummary(encoded: string): LagSummary {
  const s = LatencyHistogram.decode(encoded).summary();
  return { p50: s.p50, p99: s.p99, max: s.max };
}

/**
 * The harness section of the report: its lateness figures, and whether it bent the run's
 * percentiles (see harness-rule.ts for the checks and what each bends).
 */
export function harnessReport(lag: LagSnapshot, workers: number, ops: Record<string, OperationReport>, extra: { maxInFlightHits?: number } = {}): HarnessReport {
  const eventLoopLagMs = lagSummary(lag.eventLoop);
  const scheduleLagMs = lagSummary(lag.schedule);
  const figures: HarnessFigures = { eventLoopLagMs, scheduleLagMs, operations: ops };
  if (lag.busiestUtilization !== undefined) figures.eventLoopUtilization = lag.busiestUtilization;
  if (extra.maxInFlightHits !== undefined) figures.maxInFlightHits = extra.maxInFlightHits;
  const { bottleneck, notes } = judgeHarness(figures);
  return {
    workers,
    eventLoopLagMs,
    scheduleLagMs,
    ...(lag.busiestUtilization !== undefined ? { eventLoopUtilization: round3(lag.busiestUtilization) } : {}),
    bottleneck,
    notes,
  };
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
