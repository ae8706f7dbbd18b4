/**
 * A device's radio as the network sees it (spec §3.1): when it wakes on its own, when the network
 * can reach it, when it may talk, and what a connection from idle costs. Time is virtual ms passed
 * in; nothing here reads a clock. The per-wake functions (nextUplinkWake, isReachable,
 * nextReachable, canTalk, connectDelayMs) do arithmetic only and allocate nothing: they run per
 * device per wake for up to a million devices.
 *
 * The model, one rule for every mode:
 * - Activity (the device sends, or the network answers it) at instant `a` leaves the device RRC
 *   connected until `a + RRC_INACTIVITY_MS`: reachable at any instant, and it sends without a new
 *   set-up. After that it is idle, and how it listens depends on the mode.
 * - `always-on`: no power saving: always reachable, talks whenever.
 * - `psm`: the device wakes on its own for its periodic TAU at `phaseMs + k·t3412Ms` (the field's
 *   scheduled report; 3GPP restarts T3412 at each return to idle, which for a device reporting on
 *   that schedule gives the same instants). Each wake is activity. After activity the device is
 *   awake for RRC_INACTIVITY_MS (connected) + T3324 (idle, paged: 3GPP starts T3324 on the return
 *   to idle), i.e. awake in [a, a + RRC_INACTIVITY_MS + t3324Ms), then asleep (PSM) until the
 *   next TAU wake: unreachable, and it does not talk (canTalk false). If that awake span is
 *   T3412 or longer, the device never sleeps.
 * - `drx`: idle, the device listens at its paging occasions `phaseMs + k·cycleMs` (the network
 *   reaches it at those instants exactly); it may send whenever.
 * - `edrx`: idle, the device listens only inside the paging time window [start, start + ptwMs)
 *   opening at `start = phaseMs + k·cycleMs`; the network reaches it at any instant in the window
 *   (the DRX paging inside the window, every 2.56 s, is folded in). It may send whenever.
 * - RRC set-up (`connectDelayMs`): a device idle for RRC_INACTIVITY_MS or more pays `rrcSetupMs`
 *   before its first byte; within that span after its last activity it is still connected: 0.
 *
 * `lastActivityMs` / `idleSinceMs`: the end of the device's last exchange; -Infinity for a device
 * that has not talked yet. Phases are absolute (virtual ms since the epoch, like the clock).
 *
 * Exports: `RadioConfig`, `RRC_INACTIVITY_MS`, `radioConfigOf`, `validateRadioMode`,
 * `nextUplinkWake`, `isReachable`, `nextReachable`, `canTalk`, `connectDelayMs`,
 * `DEFAULT_RRC_SETUP`, and the random stream ids.
 */
import { draw, type Distribution } from '../random/distribution.js';
import { hashUniform } from '../random/rng.js';
import type { RadioMode } from '../scenario/types.js';
import { lastOnLattice, modulo, nextOnLattice } from './lattice.js';
import { assertDrxCycle, assertEdrxCycle, assertPtw, assertT3324, assertT3412, describeMs, nearestT3324, nearestT3412 } from './timers.js';
import { patternInstantMs, validateWakePattern, type WakePattern } from './wake.js';

/** A radio resolved for one device: timers drawn and snapped, phase placed. */
export type RadioConfig = (
  | { readonly mode: 'always-on' }
  | { readonly mode: 'psm'; readonly t3412Ms: number; readonly t3324Ms: number; readonly phaseMs: number }
  | { readonly mode: 'drx'; readonly cycleMs: number; readonly phaseMs: number }
  | { readonly mode: 'edrx'; readonly cycleMs: number; readonly ptwMs: number; readonly phaseMs: number }
) & {
  /** RRC connection set-up from idle, ms. */
  readonly rrcSetupMs: number;
};

/**
 * How long a device stays RRC connected after its last activity. Networks set this inactivity
 * timer to roughly 10–20 s for NB-IoT; 10 s is a round, common value.
 */
export const RRC_INACTIVITY_MS = 10_000;

/** NB-IoT RRC connection set-up takes about 1–2 s. */
export const DEFAULT_RRC_SETUP: Distribution = { dist: 'uniform', min: 1000, max: 2000 };

/** Random streams of the per-device draws (two uniforms each: n = 2·index and 2·index + 1). */
export const RRC_SETUP_STREAM = 0x7272_6353;
export const T3412_STREAM = 0x7433_3412;
export const T3324_STREAM = 0x7433_3324;
/** One uniform per device: n = index. */
export const PHASE_STREAM = 0x7068_6173;

function drawMs(d: Distribution, seed: number, stream: number, deviceIndex: number, field: string): number {
  const v = draw(d, hashUniform(seed, stream, 2 * deviceIndex), hashUniform(seed, stream, 2 * deviceIndex + 1));
  if (!Number.isFinite(v)) throw new RangeError(`${field}: the distribution drew ${v}, not a finite number of ms`);
  return v;
}

/**
 * Checks a cohort's radio against the values a network can send; a one-line RangeError names the
 * field (`field` is the radio's path, e.g. `fleet.cohorts.0.radio`). A fixed PSM timer must be
 * encodable; a distribution's draws are snapped to the nearest encodable value instead.
 */
export function validateRadioMode(mode: RadioMode, field = 'radio'): void {
  switch (mode.mode) {
    case 'always-on':
      return;
    case 'psm': {
      const t3412 = fixedValue(mode.t3412);
      if (t3412 !== undefined) assertT3412(t3412, `${field}.t3412`);
      const t3324 = fixedValue(mode.t3324);
      if (t3324 !== undefined) assertT3324(t3324, `${field}.t3324`);
      return;
    }
    case 'drx':
      assertDrxCycle(mode.cycleMs, `${field}.cycle`);
      return;
    case 'edrx':
      assertEdrxCycle(mode.cycleMs, `${field}.cycle`);
      assertPtw(mode.ptwMs, `${field}.ptw`);
      if (mode.ptwMs >= mode.cycleMs) {
        throw new RangeError(`${field}.ptw: the paging time window (${describeMs(mode.ptwMs)}) must be shorter than the eDRX cycle (${describeMs(mode.cycleMs)})`);
      }
      return;
    default:
      throw new RangeError(`${field}.mode: must be always-on, psm, drx or edrx, got ${String((mode as { mode: unknown }).mode)}`);
  }
}

function fixedValue(d: Distribution): number | undefined {
  if (typeof d === 'number') return d;
  return d.dist === 'fixed' ? d.value : undefined;
}

/**
 * The radio of device `deviceIndex`: PSM timers drawn from the cohort's distributions and snapped
 * to the nearest encodable value, the RRC set-up drawn (negative draws count as 0), and the phase
 * placed by the wake pattern (PSM, see wake.ts) or uniform over the cycle (DRX/eDRX paging
 * occasions depend on the device identity, not on how the fleet wakes). `runStartMs` anchors the
 * patterns tied to the run's start (outage recovery, rollout start, daily alignment's day).
 * Throws a one-line RangeError for a radio a network could not configure.
 */
export function radioConfigOf(mode: RadioMode, rrcSetup: Distribution, seed: number, deviceIndex: number, pattern: WakePattern, runStartMs: number): RadioConfig {
  validateRadioMode(mode);
  validateWakePattern(pattern);
  if (!Number.isFinite(runStartMs)) throw new RangeError(`runStartMs: must be a finite virtual instant, got ${runStartMs}`);
  const rrcSetupMs = Math.max(0, drawMs(rrcSetup, seed, RRC_SETUP_STREAM, deviceIndex, 'radio.rrcSetup'));
  switch (mode.mode) {
    case 'always-on':
      return { mode: 'always-on', rrcSetupMs };
    case 'psm': {
      const t3412Ms = nearestT3412(drawMs(mode.t3412, seed, T3412_STREAM, deviceIndex, 'radio.t3412'));
      const t3324Ms = nearestT3324(drawMs(mode.t3324, seed, T3324_STREAM, deviceIndex, 'radio.t3324'));
      const instant = patternInstantMs(pattern, seed, deviceIndex, runStartMs);
      const phaseMs = instant === undefined ? Math.floor(hashUniform(seed, PHASE_STREAM, deviceIndex) * t3412Ms) : modulo(instant, t3412Ms);
      return { mode: 'psm', t3412Ms, t3324Ms, phaseMs, rrcSetupMs };
    }
    case 'drx':
      return { mode: 'drx', cycleMs: mode.cycleMs, phaseMs: Math.floor(hashUniform(seed, PHASE_STREAM, deviceIndex) * mode.cycleMs), rrcSetupMs };
    case 'edrx':
      return {
        mode: 'edrx',
        cycleMs: mode.cycleMs,
        ptwMs: mode.ptwMs,
        phaseMs: Math.floor(hashUniform(seed, PHASE_STREAM, deviceIndex) * mode.cycleMs),
        rrcSetupMs,
      };
  }
}

/**
 * The earliest instant at or after `afterMs` at which the device may start talking on its own:
 * a PSM device's next TAU wake (`phaseMs + k·t3412Ms`; pass `wake + 1` to get the one after a
 * wake); any other mode may send whenever, so `afterMs`.
 */
export function nextUplinkWake(cfg: RadioConfig, afterMs: number): number {
  return cfg.mode === 'psm' ? nextOnLattice(cfg.phaseMs, cfg.t3412Ms, afterMs) : afterMs;
}

function connected(atMs: number, lastActivityMs: number): boolean {
  const since = atMs - lastActivityMs;
  return since >= 0 && since < RRC_INACTIVITY_MS;
}

/** PSM: inside the awake span after the last activity or after the latest TAU wake. */
function psmAwake(t3412Ms: number, t3324Ms: number, phaseMs: number, atMs: number, lastActivityMs: number): boolean {
  const awakeMs = RRC_INACTIVITY_MS + t3324Ms;
  const since = atMs - lastActivityMs;
  if (since >= 0 && since < awakeMs) return true;
  return atMs - lastOnLattice(phaseMs, t3412Ms, atMs) < awakeMs;
}

/** Can the network reach the device at `atMs` (page it, or send on its open connection)? */
export function isReachable(cfg: RadioConfig, atMs: number, lastActivityMs: number): boolean {
  switch (cfg.mode) {
    case 'always-on':
      return true;
    case 'psm':
      return psmAwake(cfg.t3412Ms, cfg.t3324Ms, cfg.phaseMs, atMs, lastActivityMs);
    case 'drx':
      return connected(atMs, lastActivityMs) || lastOnLattice(cfg.phaseMs, cfg.cycleMs, atMs) === atMs;
    case 'edrx':
      return connected(atMs, lastActivityMs) || atMs - lastOnLattice(cfg.phaseMs, cfg.cycleMs, atMs) < cfg.ptwMs;
  }
}

/**
 * The earliest instant at or after `afterMs` at which isReachable holds: `afterMs` itself when
 * reachable then, else the next paging occasion (DRX), PTW opening (eDRX) or TAU wake (PSM), or
 * the last activity if that lies ahead and comes first.
 */
export function nextReachable(cfg: RadioConfig, afterMs: number, lastActivityMs: number): number {
  if (isReachable(cfg, afterMs, lastActivityMs)) return afterMs;
  let next: number;
  switch (cfg.mode) {
    case 'always-on':
      return afterMs;
    case 'psm':
      next = nextOnLattice(cfg.phaseMs, cfg.t3412Ms, afterMs);
      break;
    case 'drx':
    case 'edrx':
      next = nextOnLattice(cfg.phaseMs, cfg.cycleMs, afterMs);
      break;
  }
  return lastActivityMs > afterMs && lastActivityMs < next ? lastActivityMs : next;
}

/** May the device send at `atMs`? A PSM device only inside its awake spans; others always. */
export function canTalk(cfg: RadioConfig, atMs: number, lastActivityMs: number): boolean {
  return cfg.mode === 'psm' ? psmAwake(cfg.t3412Ms, cfg.t3324Ms, cfg.phaseMs, atMs, lastActivityMs) : true;
}

/**
 * What opening a connection at `atMs` costs before the first byte: `rrcSetupMs` when the device
 * has been idle for RRC_INACTIVITY_MS or more since `idleSinceMs` (its last activity), else 0
 * (the connection is still up).
 */
export function connectDelayMs(cfg: RadioConfig, idleSinceMs: number, atMs: number): number {
  return atMs - idleSinceMs < RRC_INACTIVITY_MS ? 0 : cfg.rrcSetupMs;
}
