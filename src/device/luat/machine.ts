/**
 * The Luat virtual device (spec §2): ask → file (flash, reboot, ask again with the new version to
 * confirm) or a code (43: back off and ask again; 27: nothing to do; 40: banned; others: refused).
 * Pure: every transition is a function of (state, event, profile, settings, now).
 *
 * Choices where the documents are silent:
 * - How the device learns the version it flashed follows the target profile's `versionConfirm`
 *   (settings.versionConfirm): `re-ask` (default, the spec's way) asks again with the new version
 *   and a 27 confirms; a file served again instead ends `failed`, unless its label names the
 *   version just flashed: that is a stale offer (refused, counted in `staleOffers`, the upgrade
 *   stands, and the rules `stale-task` and `version-confirm` flag the server); the new version is the one the
 *   file's labels name (X-Firmware-Version, a file name `_x.y.z`) or else the profile's
 *   `firmwareVersion`; without any the device ends `succeeded` labelled unconfirmed. `header` /
 *   `filename` trust that label (succeeded, code 0, after the reboot) and end `failed` when the
 *   file lacks it. `none`: succeeded after the reboot, labelled unconfirmed.
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

/** How a device ended beyond kind, code and version. */
interface FinishDetail {
  /** Stale files refused after success. */
  staleOffers?: number;
  /** Why it ended so, when the code alone does not say. */
  why?: string;
  /** Succeeded without anything confirming the served version. */
  unconfirmed?: boolean;
}

function finish(kind: LuatFinalKind, code: number, version: string, d: FinishDetail = {}): LStep {
  const state: LuatFinal = {
    kind,
    code,
    version,
    ...((d.staleOffers ?? 0) > 0 ? { staleOffers: d.staleOffers } : {}),
    ...(d.unconfirmed === true ? { unconfirmed: true as const } : {}),
    ...(d.why !== undefined ? { why: d.why } : {}),
  };
  return { state, action: STOP };
}

/** Most asks after success a device makes (a bound on `recheck.times`). */
export const MAX_RECHECKS = 100;

/** The next ask after success `everyMs` from now, or `succeeded` when none is left. */
function recheckOr(pr: Progress, left: number, stale: number, code: number, s: DeviceSettings, now: number): LStep {
  if (left < 0) return finish('succeeded', code, pr.version, { staleOffers: stale });
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
  const stale = a.type === 'file' && labelOf(a, s) === pr.version ? 1 : 0;
  // Banned by its own rechecks: a device stops asking at a 40, its upgrade stands.
  if (a.type === 'code' && a.code === LuatCode.LOOP_UPGRADE) return finish('succeeded', LuatCode.ALREADY_NEWEST, pr.version, { staleOffers: rc.stale + stale });
  return recheckOr(pr, rc.left - 1, rc.stale + stale, LuatCode.ALREADY_NEWEST, s, now);
}

/** Sends one more request, unless the device has asked all it may. */
function ask(pr: Progress, p: DeviceProfile): LStep {
  if (pr.asks >= LUAT_MAX_ASKS) return pr.recheck ? finish('succeeded', LuatCode.ALREADY_NEWEST, pr.version, { staleOffers: pr.recheck.stale }) : finish('gave-up', 0, pr.version);
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

/**
 * What the device learns of the version a file installs, by the profile's VersionConfirm: the
 * label the server promised (header, file name), or for re-ask and none any label, else the
 * version the profile says the server serves.
 */
function labelOf(a: Extract<LuatAnswer, { type: 'file' }>, s: DeviceSettings): string | undefined {
  switch (s.versionConfirm ?? 're-ask') {
    case 'header':
      return a.version;
    case 'filename':
      return a.nameVersion;
    default:
      return a.version ?? a.nameVersion ?? s.firmwareVersion;
  }
}

const MISSING_LABEL = {
  header: 'the file named no version in X-Firmware-Version (profile luat.versionConfirm: header)',
  filename: 'the file name named no version (_x.y.z; profile luat.versionConfirm: filename)',
} as const;

function onFile(pr: Progress, a: Extract<LuatAnswer, { type: 'file' }>, p: DeviceProfile, s: DeviceSettings, now: number): LStep {
  const mode = s.versionConfirm ?? 're-ask';
  const label = labelOf(a, s);
  if (label !== undefined && label === pr.version) {
    // A file of the version it runs: flashing it changes nothing, so it is refused (a server fault).
    // After its own upgrade the device counts it as a stale offer; before, it ends `stale-offer`.
    return pr.version !== p.version ? succeed(pr, 0, 1, s, now) : finish('stale-offer', 0, pr.version);
  }
  // Asked again with the version it flashed and served a file again: the server does not confirm it.
  if (mode === 're-ask' && pr.flashes > 0 && pr.version !== p.version) {
    return finish('failed', 0, pr.version, { why: `asked again with ${pr.version} after flashing it and was served a file again instead of 27 (already newest)` });
  }
  const keepsOld = p.behaviour.corruptDownload || p.behaviour.rebootIntoOld || damaged(a);
  const until = now + Math.max(0, s.rebootMs || 0);
  const next = { ...pr, attempts: 0, flashes: pr.flashes + 1 };
  // Still on the old version: it asks again as before, whatever the server confirms.
  if (keepsOld) return sleep({ kind: 'rebooting', until, confirm: 're-ask', ...next });
  if (label === undefined && (mode === 'header' || mode === 'filename')) return finish('failed', 0, pr.version, { why: MISSING_LABEL[mode] });
  const version = label ?? '';
  if (mode === 'none') return sleep({ kind: 'rebooting', until, confirm: 'unconfirmed', why: 'nothing confirms a version (profile luat.versionConfirm: none)', ...next, version });
  if (mode === 're-ask' && label === undefined) {
    return sleep({ kind: 'rebooting', until, confirm: 'unconfirmed', why: 'the file named no version and the profile gives none (luat.firmwareVersion), so it could not ask again with it', ...next, version });
  }
  return sleep({ kind: 'rebooting', until, confirm: mode === 're-ask' ? 're-ask' : 'label', ...next, version });
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

  onTimer(st, profile, settings, now) {
    if (isFinal(st)) return { state: st, action: STOP };
    // The file's label is the confirmation: upgraded, and (recheck) asks again like any success.
    if (st.kind === 'rebooting' && st.confirm === 'label') return succeed(progressOf(st), 0, 0, settings, now);
    if (st.kind === 'rebooting' && st.confirm === 'unconfirmed') return finish('succeeded', 0, st.version, { ...(st.why !== undefined ? { why: st.why } : {}), unconfirmed: true });
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
