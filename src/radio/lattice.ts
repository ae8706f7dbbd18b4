/**
 * Instants that repeat with a period from a phase (`phase + k·period`, k any integer): TAU wakes,
 * paging occasions, paging time windows. Pure arithmetic, no allocation: called per device per
 * wake. Exports `nextOnLattice`, `lastOnLattice`, `modulo`.
 */

/** The smallest `phase + k·period` at or after `t`. */
export function nextOnLattice(phase: number, period: number, t: number): number {
  const x = phase + Math.ceil((t - phase) / period) * period;
  // The quotient can round down across an integer for non-integer t: step once.
  return x < t ? x + period : x;
}

/** The largest `phase + k·period` at or before `t`. */
export function lastOnLattice(phase: number, period: number, t: number): number {
  const x = phase + Math.floor((t - phase) / period) * period;
  return x > t ? x - period : x;
}

/** `x mod m` in [0, m), also for negative x. */
export function modulo(x: number, m: number): number {
  const r = x % m;
  if (r > 0) return r;
  if (r === 0) return 0; // not -0
  const up = r + m;
  // A tiny negative remainder rounds up to m itself, which is outside [0, m).
  return up === m ? 0 : up;
}
