/**
 * Wake patterns a scenario can name: when each device first wakes, and (for PSM) where its periodic
 * TAU wakes fall afterwards. Pure and O(1) per device; every draw is hashUniform(seed,
 * WAKE_STREAM, deviceIndex), so a worker computes its own devices without a shared schedule.
 *
 * - `WakePattern`:
 *   - `steady`: the fleet in its everyday state, each PSM device on its own T3412 phase (uniform in
 *     [0, T3412)). A device without a periodic timer (always-on, DRX, eDRX) has no phase to keep
 *     and first wakes at the run's start: spread those with the scenario's arrival pattern.
 *   - `outage-recovery`: the network comes back at the run's start and every device reconnects
 *     uniformly within [start, start + windowMs). A PSM device's T3412 restarts at that reconnect,
 *     so its later TAU wakes stay on that phase (the fleet stays bunched, as in the field).
 *     With windowMs > T3412 a PSM device wakes at its first TAU in [start, start + T3412).
 *   - `synchronised`: 3GPP TR 37.868 traffic model 2 (synchronised access after a power outage):
 *     reconnects follow Beta(3, 4) over [start, start + windowMs) (10 s in the TR), bunched
 *     around 3/7 of the window instead of uniform. PSM phases follow the reconnect, as above.
 *   - `daily-alignment`: devices scheduled to report at a time of day (`atMsOfDay`, virtual ms
 *     since midnight UTC; default the run start's time of day) with the usual random delay,
 *     uniform in [at, at + spreadMs). The first such instant at or after the start is the wake; a
 *     PSM device's TAU phases are aligned to it (they recur daily when T3412 divides 24 h).
 *   - `rollout-start`: every device at once, at the run's start.
 * - `validateWakePattern(p, field)`: a one-line RangeError naming the field for a bad pattern.
 * - `patternInstantMs(p, seed, deviceIndex, runStartMs)`: the instant the pattern puts the
 *   device at (undefined for steady, which only fixes a phase).
 * - `firstWakeMs(cfg, p, seed, deviceIndex, runStartMs)`: the device's first wake. For PSM it is
 *   the first TAU wake of `cfg` at or after the start, so `cfg` must come from radioConfigOf with
 *   the same pattern and start (which put the phase where the pattern says).
 */
import { betaQuantile, SYNCHRONISED_ALPHA, SYNCHRONISED_BETA } from '../random/beta.js';
import { hashUniform } from '../random/rng.js';
import { modulo, nextOnLattice } from './lattice.js';
import type { RadioConfig } from './model.js';

export const DAY_MS = 86_400_000;

/** Random stream of the pattern draws (reconnect offset, daily delay). */
export const WAKE_STREAM = 0x7761_6b65;

export type WakePattern =
  | { pattern: 'steady' }
  | { pattern: 'outage-recovery'; windowMs: number }
  | { pattern: 'synchronised'; windowMs: number }
  | { pattern: 'daily-alignment'; spreadMs: number; atMsOfDay?: number }
  | { pattern: 'rollout-start' };

export const WAKE_PATTERNS = ['steady', 'outage-recovery', 'synchronised', 'daily-alignment', 'rollout-start'] as const;

export function validateWakePattern(p: WakePattern, field = 'wake'): void {
  switch (p.pattern) {
    case 'steady':
    case 'rollout-start':
      return;
    case 'outage-recovery':
    case 'synchronised':
      if (!(Number.isFinite(p.windowMs) && p.windowMs > 0)) throw new RangeError(`${field}.windowMs: must be a finite number of ms > 0, got ${p.windowMs}`);
      return;
    case 'daily-alignment':
      if (!(Number.isFinite(p.spreadMs) && p.spreadMs >= 0)) throw new RangeError(`${field}.spreadMs: must be a finite number of ms >= 0, got ${p.spreadMs}`);
      if (p.atMsOfDay !== undefined && !(Number.isFinite(p.atMsOfDay) && p.atMsOfDay >= 0 && p.atMsOfDay < DAY_MS)) {
        throw new RangeError(`${field}.atMsOfDay: must be ms since midnight in [0, ${DAY_MS}), got ${p.atMsOfDay}`);
      }
      return;
    default:
      throw new RangeError(`${field}.pattern: must be one of ${WAKE_PATTERNS.join(', ')}, got ${String((p as { pattern: unknown }).pattern)}`);
  }
}

/** Where the pattern puts device `deviceIndex`; undefined for `steady`, which sets only a phase. */
export function patternInstantMs(p: WakePattern, seed: number, deviceIndex: number, runStartMs: number): number | undefined {
  switch (p.pattern) {
    case 'steady':
      return undefined;
    case 'rollout-start':
      return runStartMs;
    case 'outage-recovery':
      return runStartMs + Math.floor(hashUniform(seed, WAKE_STREAM, deviceIndex) * p.windowMs);
    case 'synchronised':
      return runStartMs + Math.floor(betaQuantile(hashUniform(seed, WAKE_STREAM, deviceIndex), SYNCHRONISED_ALPHA, SYNCHRONISED_BETA) * p.windowMs);
    case 'daily-alignment': {
      const timeOfDay = modulo(runStartMs, DAY_MS);
      const at = p.atMsOfDay ?? timeOfDay;
      const onRunDay = runStartMs - timeOfDay + at + Math.floor(hashUniform(seed, WAKE_STREAM, deviceIndex) * p.spreadMs);
      return nextOnLattice(onRunDay, DAY_MS, runStartMs);
    }
  }
}

/** Virtual instant of the device's first wake (see the module comment for each pattern). */
export function firstWakeMs(cfg: RadioConfig, p: WakePattern, seed: number, deviceIndex: number, runStartMs: number): number {
  if (cfg.mode === 'psm') return nextOnLattice(cfg.phaseMs, cfg.t3412Ms, runStartMs);
  return patternInstantMs(p, seed, deviceIndex, runStartMs) ?? runStartMs;
}
