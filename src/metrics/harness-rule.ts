/**
 * Whether the harness bent its own figures, decided from data: each check below reads one figure
 * of the run, compares it with a limit and, past it, says which percentiles it bent and by how
 * much. The harness is the bottleneck when any check fires.
 *
 * Which figure bends which percentiles:
 * - `queued` (intended → socket write: late timer, in-flight slot, free connection) is inside
 *   latency "from intended" only; "from send" starts after it.
 * - event-loop stalls and a saturated loop delay the reading of answers that have arrived, so
 *   they are inside "from send" (and so inside "from intended" too).
 * The tolerance is the one the report promises for "from send" against the server's own
 * service time: 5 % of the operation's service p99 plus 1 ms.
 */
import { formatMs } from '../config/units.js';
import type { LagSummary, LatencySummary, OperationReport } from '../report/types.js';

/** When the harness counts as the bottleneck of a run. */
export const HARNESS_LIMITS = {
  /** Device timers ran this late (p99, real ms) or worse. */
  scheduleLagP99Ms: 50,
  /** The workers' event loops stalled this long (p99, real ms) or worse, whatever the operations. */
  eventLoopLagP99Ms: 50,
  /** A worker's event loop was busy this share of the run or more. */
  eventLoopUtilization: 0.9,
  /** Tolerance on an operation's p99: this share of its service p99 ... */
  toleranceShare: 0.05,
  /** ... plus this many ms. */
  toleranceMs: 1,
} as const;

/** How far a figure may bend an operation's p99 before the report must say so. */
export const toleranceMs = (serviceP99: number): number => HARNESS_LIMITS.toleranceShare * serviceP99 + HARNESS_LIMITS.toleranceMs;

export interface HarnessFigures {
  eventLoopLagMs: LagSummary;
  scheduleLagMs: LagSummary;
  /** The busiest worker's event-loop utilisation over the run, 0..1 (absent: not measured). */
  eventLoopUtilization?: number;
  operations: Readonly<Record<string, OperationReport>>;
  /** Sends that found every in-flight slot taken. */
  maxInFlightHits?: number;
}

/** What one check found: whether it bends the figures, and the note that says how. */
interface Finding {
  bends: boolean;
  note: string;
}

type Check = (f: HarnessFigures) => Finding[];

/** The wait an operation's requests spent in the harness before their write (p99, ms). */
function queuedP99(r: OperationReport): number {
  // Reports without a queued histogram: the gap between the two others is the same wait.
  return r.queuedMs !== undefined ? r.queuedMs.p99 : Math.max(0, r.latencyMs.p99 - r.serviceMs.p99);
}

const opsWithRequests = (f: HarnessFigures): [string, OperationReport][] =>
  Object.keys(f.operations)
    .sort()
    .map((op) => [op, f.operations[op]!] as [string, OperationReport])
    .filter(([, r]) => r.count > 0);

/**
 * Timers fire up to about 1 ms late on an idle loop (their granularity): that much delays no
 * answer, and no harness could start a device's request sooner.
 */
const TIMER_GRANULARITY_MS = 1;
/** How long an arrived answer may wait to be read, from the probe's lag. */
const blockingMs = (lagMs: number): number => Math.max(0, lagMs - TIMER_GRANULARITY_MS);

const p99Of = (s: LatencySummary): string => formatMs(s.p99);

/**
 * How much the event loop may have added to an operation's percentiles from send (ms), when past
 * what the report promises; undefined: from send is true for it.
 */
function sendBentBy(f: HarnessFigures, r: OperationReport): number | undefined {
  const lag = f.eventLoopLagMs.p99;
  const saturated = lag > HARNESS_LIMITS.eventLoopLagP99Ms || (f.eventLoopUtilization ?? 0) >= HARNESS_LIMITS.eventLoopUtilization;
  const blocking = blockingMs(lag);
  return saturated || blocking > toleranceMs(r.serviceMs.p99) ? blocking : undefined;
}

const CHECKS: readonly Check[] = [
  // Devices acted late: every latency from intended starts late.
  (f) =>
    f.scheduleLagMs.p99 > HARNESS_LIMITS.scheduleLagP99Ms
      ? [{ bends: true, note: `schedule lag p99 ${formatMs(f.scheduleLagMs.p99)} > ${formatMs(HARNESS_LIMITS.scheduleLagP99Ms)} (max ${formatMs(f.scheduleLagMs.max)}): device timers ran late, so devices acted late` }]
      : [],
  // Stalled or saturated loops: answers waited to be read, whatever the operation.
  (f) =>
    f.eventLoopLagMs.p99 > HARNESS_LIMITS.eventLoopLagP99Ms
      ? [{ bends: true, note: `event-loop lag p99 ${formatMs(f.eventLoopLagMs.p99)} > ${formatMs(HARNESS_LIMITS.eventLoopLagP99Ms)} (max ${formatMs(f.eventLoopLagMs.max)}): the workers were saturated; percentiles from send may read high by about ${formatMs(blockingMs(f.eventLoopLagMs.p99))}, at worst ${formatMs(blockingMs(f.eventLoopLagMs.max))}` }]
      : [],
  (f) =>
    f.eventLoopUtilization !== undefined && f.eventLoopUtilization >= HARNESS_LIMITS.eventLoopUtilization
      ? [{ bends: true, note: `event-loop utilisation ${Math.round(f.eventLoopUtilization * 100)}% ≥ ${Math.round(HARNESS_LIMITS.eventLoopUtilization * 100)}% in the busiest worker: answers waited to be read; percentiles from send may read high by about ${formatMs(blockingMs(f.eventLoopLagMs.p99))} (event-loop lag p99), at worst ${formatMs(blockingMs(f.eventLoopLagMs.max))}` }]
      : [],
  // Per operation, below the saturation above: a loop lag past the tolerance bends from send too.
  (f) => {
    if (f.eventLoopLagMs.p99 > HARNESS_LIMITS.eventLoopLagP99Ms || (f.eventLoopUtilization ?? 0) >= HARNESS_LIMITS.eventLoopUtilization) return [];
    return opsWithRequests(f).flatMap(([op, r]) => {
      const bent = sendBentBy(f, r);
      if (bent === undefined) return [];
      return [{ bends: true, note: `${op}: event-loop lag p99 ${formatMs(bent)} (> ${formatMs(toleranceMs(r.serviceMs.p99))}): percentiles from send may read above the server's service time by about ${formatMs(bent)}, at worst ${formatMs(blockingMs(f.eventLoopLagMs.max))} (service p99 ${p99Of(r.serviceMs)})` }];
    });
  },
  // Per operation: the wait before the write bends latency from intended.
  (f) =>
    opsWithRequests(f).flatMap(([op, r]) => {
      const wait = queuedP99(r);
      const tol = toleranceMs(r.serviceMs.p99);
      // A timer fires up to its granularity late on an idle loop: no harness can act sooner.
      if (wait <= tol + TIMER_GRANULARITY_MS) return [];
      const send = sendBentBy(f, r) === undefined ? 'percentiles from send are true, from intended' : 'percentiles from intended';
      return [{ bends: true, note: `${op}: queued p99 ${formatMs(wait)} (> ${formatMs(tol)}): ${send} include up to ${formatMs(wait)} of harness wait (latency p99 ${p99Of(r.latencyMs)}, service p99 ${p99Of(r.serviceMs)})` }];
    }),
  // Informational: the cap's cost, if any, is in queued above.
  (f) => ((f.maxInFlightHits ?? 0) > 0 ? [{ bends: false, note: `${f.maxInFlightHits} request(s) waited for a free in-flight slot (engine.maxInFlightPerWorker); their wait is in queued` }] : []),
];

/** Runs every check: whether any bent the figures, and every note in check order. */
export function judgeHarness(f: HarnessFigures): { bottleneck: boolean; notes: string[] } {
  const findings = CHECKS.flatMap((check) => check(f));
  return { bottleneck: findings.some((x) => x.bends), notes: findings.map((x) => x.note) };
}
