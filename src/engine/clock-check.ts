/**
 * Whether a run's virtual clock and its target's clock agree, decided from what the target's
 * /admin/clock said (fetched by ./target.ts). A run faster than real time against a server that
 * keeps its own time would judge ban days and token lives on a clock the server never saw, so it
 * is refused unless the user says the skew is intended (`--allow-clock-skew`); then day-window
 * verdicts use the target's wall clock.
 */
import type { ClockOrigin } from '../time/clock.js';
import type { TargetClock } from '../time/target-clock.js';

export interface ClockFacts {
  origin: ClockOrigin;
  embedded: boolean;
  allowSkew: boolean;
  url: string;
  /** /admin/clock's answer, or undefined without the admin API (or when it could not be read). */
  adminClock?: { scale?: unknown; virtualNow?: unknown };
  /** The run's virtual now when /admin/clock answered. */
  runNowAtAdmin?: number;
}

export function decideTargetClock(f: ClockFacts): { clock: TargetClock } | { refuse: string } {
  const scale = f.origin.scale;
  // `max` has its own, stricter check (the server must judge each request at its own instant).
  if (f.embedded || scale === 'max') return { clock: { kind: 'shared', offsetMs: 0 } };
  const a = f.adminClock;
  if (a !== undefined && a.scale === scale) {
    const offset = typeof a.virtualNow === 'number' && Number.isFinite(a.virtualNow) && f.runNowAtAdmin !== undefined ? a.virtualNow - f.runNowAtAdmin : 0;
    return { clock: { kind: 'shared', offsetMs: Math.round(offset) } };
  }
  if (scale === 1 && (a === undefined || a.scale === 1)) return { clock: { kind: 'shared', offsetMs: 0 } };
  if (f.allowSkew) return { clock: { kind: 'wall', origin: { ...f.origin, scale } } };
  const theirs = a === undefined ? 'does not show its clock (no /admin/clock readable with OTA_SWARM_ADMIN_TOKEN), so it is taken to keep its own time' : `says its clock runs at scale ${JSON.stringify(a.scale)}, not the run's ×${scale}`;
  return {
    refuse: `--time-scale ${scale}: ${f.url} ${theirs}; its ban days and token lives would not match the devices'. Run at --time-scale 1, or pass --allow-clock-skew if the skew is intended (day-window verdicts then use the target's wall clock)`,
  };
}
