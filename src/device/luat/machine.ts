/**
 * The Luat virtual device (spec §2): ask → file (flash, reboot, ask again with the new version to
 * confirm) or a code (43: back off and ask again; 27: nothing to do; 40: banned; others: refused).
 * Pure: every transition is a function of (state, event, profile, settings, now).
 *
 * Choices where the documents are silent:
 * - A flashed file names the version it upgrades to through the wire (see dialect/luat/wire.ts);
 *   the device then asks again with it and a 27 confirms the upgrade. A file that names no version
 *   cannot be confirmed: after the reboot the device ends `succeeded` with code 0.
 * - `corruptDownload` (the flash fails), `rebootIntoOld`, and a file whose bytes do not match the
 *   md5 the answer announces all leave the old version running: the device asks again as before,
 *   which is the loop the ban (40) exists for.
 * - A 27 after a flash that did not change the version ends `failed`; a 27 before any flash ends
 *   `up-to-date`; a 27 once the version changed ends `succeeded`.
 * - 43 waits `waitBackoffMs` × a factor uniform in [0.8, 1.2) drawn from the device's own seed, so
 *   a fleet told 43 at once does not come back at once.
 * - A failed request (transport, 5xx, unreadable, an unknown code) is retried `maxAttempts` times,
 *   `retryDelayMs` apart, then the device ends `gave-up`.
 * - Every device stops after LUAT_MAX_ASKS requests, whatever it is told (`gave-up`).
 * - A 40 ends the device `banned`, unless it has the `askAfterBan` behaviour (the field bug of a
 *   device that ignores the ban): it asks again `retryDelayMs` later, `asks` more times.
 */
import type { DeviceMachine, DeviceProfile, DeviceSettings, Step } from '../types.js';
import { hashUniform } from '../../random/rng.js';
import { LuatCode } from '../../protocol/luat.js';
import type { LuatAnswer, LuatDeviceState, LuatFinal, LuatFinalKind, LuatRequest, LuatSleeping } from './types.js';

export type { LuatAnswer, LuatAwaiting, LuatDeviceState, LuatFinal, LuatFinalKind, LuatKind, LuatRequest, LuatSleeping } from './types.js';

/** Requests a device may make in one run. */
export const LUAT_MAX_ASKS = 50;
/** Stream id of the 43 backoff draws. */
export const LUAT_BACKOFF_STREAM = 0x4c75_6174;
const JITTER = 0.2;

const REFUSALS: ReadonlySet<number> = new Set([
  LuatCode.INVALID_DEVICE,
  LuatCode.NO_PERMISSION,
  LuatCode.NOT_ALLOWED,
  LuatCode.INVALID_PROJECT,
  LuatCode.INVALID_FIRMWARE,
  LuatCode.BASE_VERSION_MISSING,
]);

type S = LuatDeviceState;
type LStep = Step<S, LuatRequest>;
type Progress = Omit<Extract<S, { kind: 'requesting' }>, 'kind'>;

const STOP = { type: 'stop' } as const;

const progressOf = (st: Exclude<S, LuatFinal>): Progress => ({
  version: st.version,
  asks: st.asks,
  attempts: st.attempts,
  flashes: st.flashes,
  draws: st.draws,
  bans: st.bans,
  ...(st.recheck !== undefined ? { recheck: st.recheck } : {}),
});

function finish(kind: LuatFinalKind, code: number, version: string, staleOffers = 0): LStep {
  const state: LuatFinal = { kind, code, version, ...(staleOffers > 0 ? { staleOffers } : {}) };
  return { state, action: STOP };
}

/** Most asks after success a device makes (a bound on `recheck.times`). */
export const MAX_RECHECKS = 100;

/** The next ask after success `everyMs` from now, or `succeeded` when none is left. */
function recheckOr(pr: Progress, left: number, stale: number, code: number, s: DeviceSettings, now: number): LStep {
  if (left < 0) return finish('succeeded', code, pr.version, stale);
  const every = Math.max(0, s.recheck?.everyMs ?? 0) || 0;
  return sleep({ kind: 'rechecking', until: now + every, ...pr, attempts: 0, recheck: { left, stale } });
}

/** Upgraded and confirmed: `succeeded`, after asking again `recheck.times` times when the cohort asks. */
function succeed(pr: Progress, code: number, stale: number, s: DeviceSettings, now: number): LStep {
  const times = Math.min(MAX_RECHECKS, Math.floor(s.recheck?.times ?? 0) || 0);
  return recheckOr(pr, times - 1, stale, code, s, now);
}

/**
 * An answer to an ask after success: a file of the version the device runs is stale (refused,
 * counted); a file of another version is left for a later run; any other answer ends this ask.
 */
function onRecheck(pr: Progress, rc: { left: number; stale: number }, a: LuatAnswer, s: DeviceSettings, now: number): LStep {
  const stale = a.type === 'file' && a.version === pr.version ? 1 : 0;
  return recheckOr(pr, rc.left - 1, rc.stale + stale, LuatCode.ALREADY_NEWEST, s, now);
}

/** Sends one more request, unless the device has asked all it may. */
function ask(pr: Progress, p: DeviceProfile): LStep {
  if (pr.asks >= LUAT_MAX_ASKS) return pr.recheck ? finish('succeeded', LuatCode.ALREADY_NEWEST, pr.version, pr.recheck.stale) : finish('gave-up', 0, pr.version);
  const state = { kind: 'requesting' as const, ...pr, asks: pr.asks + 1 };
  return { state, action: { type: 'send', request: { op: 'ask', imei: p.id, version: pr.version, core: p.core } } };
}

const sleep = (state: LuatSleeping): LStep => ({ state, action: { type: 'sleep', until: state.until } });

/** Virtual ms to wait after a 43: the setting, jittered by the device's draw number `n`. */
export function backoffMs(p: DeviceProfile, s: DeviceSettings, n: number): number {
  const factor = 1 - JITTER + 2 * JITTER * hashUniform(p.seed, LUAT_BACKOFF_STREAM, n);
  return Math.max(0, Math.round(s.waitBackoffMs * factor)) || 0;
}

function failedAttempt(pr: Progress, code: number, s: DeviceSettings, now: number): LStep {
  const attempts = pr.attempts + 1;
  const limit = Number.isFinite(s.maxAttempts) ? Math.max(0, s.maxAttempts) : 0;
  if (attempts > limit) return finish('gave-up', Number.isSafeInteger(code) ? code : 0, pr.version);
  return sleep({ kind: 'retrying', until: now + Math.max(0, s.retryDelayMs || 0), ...pr, attempts });
}

/** Whether the bytes that arrived are not the file the answer announced (when both are known). */
const damaged = (a: Extract<LuatAnswer, { type: 'file' }>): boolean =>
  typeof a.md5 === 'string' && typeof a.expectedMd5 === 'string' && a.md5.toLowerCase() !== a.expectedMd5.toLowerCase();

function onFile(pr: Progress, a: Extract<LuatAnswer, { type: 'file' }>, p: DeviceProfile, s: DeviceSettings, now: number): LStep {
  const version = a.version;
  if (version !== undefined && version === pr.version) {
    // A file of the version it runs: flashing it changes nothing, so it is refused (a server fault).
    // After its own upgrade the device counts it as a stale offer; before, it ends `stale-offer`.
    return pr.version !== p.version ? succeed(pr, 0, 1, s, now) : finish('stale-offer', 0, pr.version);
  }
  const keepsOld = p.behaviour.corruptDownload || p.behaviour.rebootIntoOld || damaged(a);
  const booted = keepsOld ? pr.version : (version ?? '');
  const confirm = keepsOld || version !== undefined;
  const until = now + Math.max(0, s.rebootMs || 0);
  return sleep({ kind: 'rebooting', until, confirm, ...pr, version: booted, attempts: 0, flashes: pr.flashes + 1 });
}

function onCode(pr: Progress, code: number, p: DeviceProfile, s: DeviceSettings, now: number): LStep {
  if (code === LuatCode.ALREADY_NEWEST) {
    if (pr.version !== p.version) return succeed(pr, code, 0, s, now);
    return finish(pr.flashes > 0 ? 'failed' : 'up-to-date', code, pr.version);
  }
  if (code === LuatCode.PLEASE_WAIT) {
    return sleep({ kind: 'waiting', until: now + backoffMs(p, s, pr.draws), ...pr, attempts: 0, draws: pr.draws + 1 });
  }
  if (code === LuatCode.LOOP_UPGRADE) {
    const again = p.behaviour.askAfterBan;
    if (again !== undefined && pr.bans < again.asks) {
      return sleep({ kind: 'retrying', until: now + Math.max(0, s.retryDelayMs || 0), ...pr, attempts: 0, bans: pr.bans + 1 });
    }
    return finish('banned', code, pr.version);
  }
  if (REFUSALS.has(code)) return finish('rejected', code, pr.version);
  return failedAttempt(pr, code, s, now);
}

const isFinal = (st: S): st is LuatFinal => 'code' in st;

export const luatMachine: DeviceMachine<S, LuatRequest, LuatAnswer> = {
  start(profile) {
    return ask({ version: profile.version, asks: 0, attempts: 0, flashes: 0, draws: 0, bans: 0 }, profile);
  },

  onTimer(st, profile) {
    if (isFinal(st)) return { state: st, action: STOP };
    if (st.kind === 'rebooting' && !st.confirm) return finish('succeeded', 0, st.version);
    if (st.kind === 'requesting') {
      // A timer while an answer is awaited means the engine lost it: ask again (not counted).
      return { state: st, action: { type: 'send', request: { op: 'ask', imei: profile.id, version: st.version, core: profile.core } } };
    }
    return ask(progressOf(st), profile);
  },

  onAnswer(st, answer, profile, settings, now) {
    if (isFinal(st)) return { state: st, action: STOP };
    // An answer while sleeping belongs to nothing: keep sleeping.
    if (st.kind !== 'requesting') return sleep(st);
    const pr = progressOf(st);
    if (st.recheck !== undefined) return onRecheck(pr, st.recheck, answer, settings, now);
    switch (answer.type) {
      case 'file':
        return onFile(pr, answer, profile, settings, now);
      case 'code':
        return onCode(pr, answer.code, profile, settings, now);
      default:
        return failedAttempt(pr, 0, settings, now);
    }
  },
};
