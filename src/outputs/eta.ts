/**
 * Time left in a live view, from devices done. An estimate from the run's average rate
 * (remaining × elapsed / done) grows while no device finishes, which reads as "slower and
 * slower" when the truth is "nothing is finishing". So the estimate is taken at the last instant
 * a device finished (it only counts down between finishes), and after STALL_AFTER_MS with none
 * it gives way to "—" and says for how long none finished. Pure: the caller keeps the mark.
 */
import { formatMs } from '../config/units.js';

/** Real ms without a device finishing after which no time left is estimated. */
export const STALL_AFTER_MS = 15_000;

/** When the count of devices done last changed (real ms since the start) and to what. */
export interface DoneMark {
  done: number;
  atMs: number;
}

export interface EtaInput {
  /** Devices done. */
  stopped: number;
  total: number;
  elapsedMs: number;
  /** Real ms left before the run's duration cap stops it. */
  capLeftMs: number;
}

/** The mark after this sample: moved when the count changed. */
export function nextDoneMark(mark: DoneMark | undefined, p: EtaInput): DoneMark {
  return mark !== undefined && mark.done === p.stopped ? mark : { done: p.stopped, atMs: p.elapsedMs };
}

/** `~1m 10s left (cap 9m)`, `ETA — (no device done in 20s; cap 9m)`, or `cap 9m` when all are done. */
export function timeLeftText(p: EtaInput, mark: DoneMark = { done: p.stopped, atMs: p.elapsedMs }): string {
  const cap = formatMs(p.capLeftMs);
  if (p.stopped >= p.total) return `cap ${cap}`;
  if (p.stopped === 0) return `ETA — (no device done yet; cap ${cap})`;
  const quietMs = Math.max(0, p.elapsedMs - mark.atMs);
  if (quietMs >= STALL_AFTER_MS) return `ETA — (no device done in ${formatMs(quietMs)}; cap ${cap})`;
  const atMark = ((p.total - mark.done) * mark.atMs) / mark.done;
  const eta = Math.max(0, atMark - quietMs);
  return `~${formatMs(Math.min(eta, p.capLeftMs))} left (cap ${cap})`;
}
