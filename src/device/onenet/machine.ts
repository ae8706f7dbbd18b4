/**
 * The OneNET virtual device (spec §1): report version → check → gate on signal and battery →
 * token check → ranged download with resume → progress → md5 → 101 → reboot → version → 201.
 * Pure: every transition is a function of (state, event, profile, settings, now).
 *
 * Choices where the documents are silent:
 * - Step 100 is never sent: 101 moves the task to upgrading by itself, and a 100 first would make
 *   the server refuse the 101 (a 1xx while upgrading). Progress steps are the multiples of
 *   `progressEvery` below 100, each sent once, and only while the task is known to be downloading
 *   (a token check or progress answered 17 silences them).
 * - The first version report is informational: any JSON answer moves on to the check; only a
 *   failed request (transport, 5xx, unreadable) is retried.
 * - Failure budgets: before a task exists, `settings.maxAttempts` retries `settings.retryDelayMs`
 *   apart; once a task exists, the task's `retry` retries `interval` seconds apart (clamped to
 *   0…1000 and 0…86400 s). A retry count is retries: the request is sent at most retry + 1 times.
 * - `held` is the engine's word on the bytes the device holds in order; the next Range starts there.
 *   An answer that leaves the device no further on (a 206 with the wrong Content-Range, a reset)
 *   is a failed attempt; only a new high of bytes held clears the failures (winning back lost
 *   bytes does not), so a server that gives and takes away cannot keep a device forever.
 * - Exhausted download or token-check retries report 104 after a transport failure, 107 after
 *   anything else, and end `failed`.
 * - A download answer broken off mid-body (a reset) is a failed request, but the bytes that arrived
 *   in order are held (the engine's word again) and the device resumes after them at once.
 * - `settings.maxStalledAttempts` download answers in a row without a new high of bytes held
 *   (across link drops and token renewals) end the download: the device reports 104 / 107 and ends
 *   `no-progress`, so a server that never lets a download advance cannot keep a device for ever.
 * - Token trouble (errno 12 on any task call, download error 3) fetches a fresh token by checking
 *   again, at most MAX_TOKEN_RENEWALS times in a task's life; the download resumes when the
 *   check offers the same package (target, size, md5). Past the limit: report 107, `failed`.
 * - A token check answered 17 (task not pending/downloading) still lets the device try the
 *   download: the check is optional in the protocol.
 * - md5 mismatch: report 205, then retry the whole task (a fresh check, bytes discarded) up to the
 *   task's `retry` times, `interval` apart; a check answered 11 after a 205 ends `failed` (205).
 * - Gating: a device whose signal (rssi; 99 = none) is not above the task's `signal` reports 106,
 *   else one whose battery is not above `power` reports 105; both end `gated`.
 * - After reboot the device reports its version first (which completes the task on the server when
 *   it is the target), then 201: an answer "task finished" (20) to that 201 is expected, recorded
 *   as `duplicateResult`.
 * - The 101 answered with an errno other than 7/20/22 still reboots: the image is verified.
 * - An undeliverable failure report still ends as planned; an undeliverable 101, version report or
 *   201 ends `gave-up`.
 *
 * Field faults (DeviceProfile.behaviour; see docs/faults.md):
 * - `disconnect`: the download request that spans the next cut point carries `cutAfterBytes`, so
 *   the link drops there; the bytes before it are held. The device then has no link for
 *   `reconnectMs` and checks again (spec §3.4; its radio, modelled by the engine, decides when
 *   that request goes out): the same package (target, size, md5) resumes from the byte held, a
 *   changed one (a republish) starts over at byte 0.
 * - `storageFull`: 102 right after the check offers a task (the device has no room for it), `failed`.
 * - `batteryDies`: once `atShare` of the package is held, 105, `failed`.
 * - `flashFails`: the flash after the 101 fails: 202 or 203 instead of booting the target, `failed`.
 * - `longSleep`: once the first bytes are held, the device sleeps `sleepMs`; its token has expired
 *   by then, so the download is refused and it checks again for a new one. With `staleAuth` its
 *   calls carry the Authorization signed before the sleep until one is answered errno 1 (the
 *   device then signs a fresh one and asks again, once).
 * - `answerLoss.requeue`: a progress step whose every transmission lost its answer stays queued and
 *   is sent once more after the upgrade (`flushing`), whatever the answer.
 * Lost answers and their retransmission are the transmission layer's (../retransmit.ts).
 */
import type { CutPoint, DeviceMachine, DeviceProfile, DeviceSettings, Step } from '../types.js';
import { hashUniform } from '../../random/rng.js';
import { UNANSWERED_CODES } from '../retransmit.js';
import { CheckErrno, ResultCode, TokenErrno, isValidVersion } from '../../protocol/onenet.js';
import type {
  FailureThen,
  OnenetAnswer,
  OnenetAwaiting,
  OnenetDeviceState,
  OnenetDownload,
  OnenetFinal,
  OnenetFinalKind,
  OnenetOffer,
  OnenetRequest,
  OnenetSleeping,
  OnenetTask,
} from './types.js';

export type {
  OnenetAnswer,
  OnenetAwaiting,
  OnenetDeviceState,
  OnenetDownload,
  OnenetFinal,
  OnenetFinalKind,
  OnenetKind,
  OnenetOffer,
  OnenetRequest,
  OnenetSleeping,
  OnenetTask,
} from './types.js';

/** Largest package a device accepts (the catalog's own limit). */
export const MAX_FIRMWARE_BYTES = 256 * 1024 * 1024;
export const MAX_TOKEN_RENEWALS = 3;
export const MAX_TASK_RETRY = 1000;
export const MAX_INTERVAL_SEC = 86_400;
/** Most checks after success a device makes (a bound on `recheck.times`). */
export const MAX_RECHECKS = 100;
const MAX_TOKEN_CHARS = 256;
const MAX_MD5_CHARS = 64;
/** AT+CSQ's "no signal". */
const NO_SIGNAL = 99;
/** Stream of the random cut points (`disconnect.at: random`). */
export const CUT_STREAM = 0xc07_0001;
/** Most cuts one download meets (a bound on the `disconnect.times` loop). */
export const MAX_CUTS = 100;

type S = OnenetDeviceState;
type R = OnenetRequest;
type OStep = Step<S, R>;

const STOP = { type: 'stop' } as const;
/** Stalled download answers in a row a device takes when its settings name no number. */
const DEFAULT_MAX_STALLED = 5;

/** Reads a check answer's data into a task, or undefined when it is unusable. */
export function taskFromOffer(offer: OnenetOffer | undefined, settings: DeviceSettings): OnenetTask | undefined {
  if (offer === undefined) return undefined;
  const { target, token, size, md5 } = offer;
  if (typeof target !== 'string' || !isValidVersion(target)) return undefined;
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_CHARS) return undefined;
  if (!Number.isSafeInteger(size) || size < 1 || size > MAX_FIRMWARE_BYTES) return undefined;
  if (typeof md5 !== 'string' || md5.length === 0 || md5.length > MAX_MD5_CHARS) return undefined;
  const retry = wholeOr(offer.retry, settings.maxAttempts, MAX_TASK_RETRY);
  const intervalSec = wholeOr(offer.interval, settings.retryDelayMs / 1000, MAX_INTERVAL_SEC);
  return {
    target,
    token,
    size,
    md5: md5.toLowerCase(),
    signal: finiteOr(offer.signal, 0),
    power: finiteOr(offer.power, 0),
    retry,
    intervalMs: Math.round(intervalSec * 1000),
    pkg: offer.type === 2 ? 2 : 1,
  };
}

const finiteOr = (v: number | undefined, fallback: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);

/** A count or duration the server (or a setting) gives: non-negative, capped, else the fallback. */
function wholeOr(v: number | undefined, fallback: number, cap: number): number {
  const x = typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : fallback;
  return Math.min(cap, Math.max(0, Number.isFinite(x) ? x : 0));
}

const sameImage = (a: OnenetTask, b: OnenetTask): boolean => a.target === b.target && a.size === b.size && a.md5 === b.md5;

function requestOf(st: OnenetAwaiting, p: DeviceProfile, s: DeviceSettings): R {
  const devId = p.id;
  switch (st.kind) {
    case 'reporting-version':
      return { op: 'reportVersion', devId, taskType: p.taskType, version: p.version };
    case 'reporting-new-version':
      return { op: 'reportVersion', devId, taskType: p.taskType, version: st.booted };
    case 'checking':
      return checkRequest(p, p.version, authOf(st.resume?.authAt));
    case 'rechecking':
      return checkRequest(p, st.booted, {});
    case 'token-checking':
      return { op: 'tokenCheck', devId, token: st.task.token, ...authOf(st.authAt) };
    case 'downloading': {
      const chunk = Math.max(1, Math.floor(s.chunkSize) || 1);
      const end = Math.min(st.held + chunk, st.task.size) - 1;
      const cut = nextCut(st, p);
      const fault = cut !== undefined && cut <= end ? { fault: { cutAfterBytes: cut - st.held } } : {};
      return { op: 'download', devId, token: st.task.token, start: st.held, end, total: st.task.size, ...fault };
    }
    case 'reporting-progress':
      return { op: 'progress', devId, token: st.task.token, step: st.step, ...authOf(st.authAt) };
    case 'flushing':
      return { op: 'progress', devId, token: st.task.token, step: st.step };
    case 'reporting-downloaded':
      return { op: 'result', devId, token: st.task.token, step: ResultCode.DOWNLOADED };
    case 'reporting-upgraded':
      return { op: 'result', devId, token: st.task.token, step: ResultCode.UPGRADED };
    case 'reporting-failure':
      return { op: 'result', devId, token: st.task.token, step: st.step };
  }
}

const authOf = (authAt: number | undefined): { authAt?: number } => (authAt === undefined ? {} : { authAt });

const checkRequest = (p: DeviceProfile, version: string, auth: { authAt?: number }): R => ({
  op: 'check',
  devId: p.id,
  taskType: p.taskType,
  manuf: p.manuf,
  model: p.model,
  version,
  signal: p.signal,
  battery: p.battery,
  ...auth,
});

/** Byte offset of cut number k (1-based) of a file of `size` bytes; undefined past the file. */
export function cutPointOf(at: CutPoint, times: number, k: number, size: number, seed: number): number | undefined {
  if (!(k >= 1 && k <= Math.min(times, MAX_CUTS))) return undefined;
  let point: number;
  switch (at.kind) {
    case 'bytes':
      point = k * Math.floor(at.bytes);
      break;
    case 'share':
      // A hair over, so 3 × 30% of 1000 is byte 900 and not 899.
      point = Math.floor(k * at.share * size + 1e-6);
      break;
    case 'random': {
      // The k-th smallest of `times` uniform points: the cuts of one download come in order.
      const draws = Array.from({ length: Math.min(times, MAX_CUTS) }, (_, i) => hashUniform(seed, CUT_STREAM, i)).sort((a, b) => a - b);
      point = Math.floor((draws[k - 1] as number) * size);
      break;
    }
  }
  return point >= 1 && point < size ? point : undefined;
}

/** Where the link will drop next in this download: the first cut point not yet met beyond `held`. */
function nextCut(dl: OnenetDownload, p: DeviceProfile): number | undefined {
  const d = p.behaviour.disconnect;
  if (d === undefined) return undefined;
  for (let k = dl.cuts + 1; k <= Math.min(d.times, MAX_CUTS); k++) {
    const point = cutPointOf(d.at, d.times, k, dl.task.size, p.seed);
    // A point right where the next request starts cuts the link before its first byte.
    if (point !== undefined && point >= dl.held) return point;
  }
  return undefined;
}

/**
 * When a device whose link dropped at `now` tries again: `reconnectMs` later. Its radio then has
 * its say in the engine (a PSM device asleep waits for its TAU wake; an idle one pays RRC set-up).
 */
export function reconnectAt(p: DeviceProfile, now: number): number {
  return now + Math.max(0, p.behaviour.disconnect?.reconnectMs || 0);
}

const send = (state: OnenetAwaiting, p: DeviceProfile, s: DeviceSettings): OStep => ({
  state,
  action: { type: 'send', request: requestOf(state, p, s) },
});

const sleep = (state: OnenetSleeping): OStep => ({ state, action: { type: 'sleep', until: state.until } });

function finish(kind: OnenetFinalKind, code: number, version: string, duplicateResult = false, staleOffers = 0): OStep {
  const state: OnenetFinal = { kind, code, version, duplicateResult, ...(staleOffers > 0 ? { staleOffers } : {}) };
  return { state, action: STOP };
}

type Rechecking = Extract<OnenetAwaiting, { kind: 'rechecking' }>;

/** Checks still to make after success: the next one `everyMs` from now, or done. */
function recheckOr(next: Omit<Rechecking, 'attempts'>, s: DeviceSettings, now: number): OStep {
  if (next.left < 0) return finish('succeeded', ResultCode.UPGRADED, next.booted, next.duplicate, next.stale);
  const every = Math.max(0, s.recheck?.everyMs ?? 0) || 0;
  return sleep({ kind: 'waiting', until: now + every, then: { ...next, attempts: 0 } });
}

/** The upgrade is done: `succeeded`, after checking again `recheck.times` times when the cohort asks. */
function succeed(task: OnenetTask, booted: string, duplicate: boolean, s: DeviceSettings, now: number): OStep {
  const times = Math.min(MAX_RECHECKS, Math.floor(s.recheck?.times ?? 0) || 0);
  return recheckOr({ kind: 'rechecking', task, booted, duplicate, left: times - 1, stale: 0 }, s, now);
}

/**
 * A check after success. An offer for the version the device runs, or of the task it finished
 * (its token), is stale: refused, counted. Another task is left for a later run (the device has
 * upgraded once in this one). Other answers only end this check.
 */
function onRechecking(st: Rechecking, a: OnenetAnswer, s: DeviceSettings, now: number): OStep {
  const next = (stale: number): OStep => recheckOr({ ...st, left: st.left - 1, stale }, s, now);
  if (a.type !== 'json' || a.errno === TokenErrno.INTERNAL) return retryOr(st, s, now, () => next(st.stale));
  const task = a.errno === CheckErrno.OK ? taskFromOffer(a.offer, s) : undefined;
  const stale = task !== undefined && (task.target === st.booted || task.token === st.task.token);
  return next(st.stale + (stale ? 1 : 0));
}

/** Retries allowed and the pause between them for the request a state is waiting on. */
function budgetOf(st: OnenetAwaiting, s: DeviceSettings): { limit: number; delayMs: number } {
  switch (st.kind) {
    case 'reporting-version':
    case 'checking':
    case 'rechecking':
      return { limit: wholeOr(s.maxAttempts, 0, Number.MAX_SAFE_INTEGER), delayMs: wholeOr(s.retryDelayMs, 0, Number.MAX_SAFE_INTEGER) };
    default:
      return { limit: st.task.retry, delayMs: st.task.intervalMs };
  }
}

/** One more failed attempt of `st`'s request: wait and send it again, or give up as `exhausted` says. */
function retryOr(st: OnenetAwaiting, s: DeviceSettings, now: number, exhausted: () => OStep): OStep {
  const { limit, delayMs } = budgetOf(st, s);
  const attempts = st.attempts + 1;
  if (attempts > limit) return exhausted();
  return sleep({ kind: 'waiting', until: now + delayMs, then: { ...st, attempts } });
}

const codeOf = (a: OnenetAnswer): number => (a.type === 'json' && Number.isSafeInteger(a.errno) ? a.errno : 0);

/** Step code reporting exhausted retries: 104 when the network failed last, 107 otherwise. */
const exhaustedStep = (a: OnenetAnswer): number => (a.type === 'net' ? ResultCode.REQUEST_TIMEOUT : ResultCode.DOWNLOAD_UNKNOWN);

function reportFailure(task: OnenetTask, step: number, then: FailureThen, runs: number, p: DeviceProfile, s: DeviceSettings): OStep {
  return send({ kind: 'reporting-failure', task, step, then, runs, attempts: 0 }, p, s);
}

type TaskStage = Extract<OnenetAwaiting, { kind: 'token-checking' | 'downloading' | 'reporting-progress' }>;

const downloadOf = (st: TaskStage): OnenetDownload => ({
  task: st.task,
  held: st.held,
  best: st.best,
  lastStep: st.lastStep,
  quiet: st.quiet,
  cuts: st.cuts,
  ...(st.slept ? { slept: true } : {}),
  ...authOf(st.authAt),
  ...queuedOf(st.queued),
  ...(st.stalls ? { stalls: st.stalls } : {}),
});

const queuedOf = (queued: number | undefined): { queued?: number } => (queued ? { queued } : {});

/** Fetches a fresh token (check again), keeping the download to resume, within the renewal limit. */
function renew(st: TaskStage, p: DeviceProfile, s: DeviceSettings): OStep {
  if (st.renewals >= MAX_TOKEN_RENEWALS) return reportFailure(st.task, ResultCode.DOWNLOAD_UNKNOWN, 'failed', st.runs, p, s);
  return send({ kind: 'checking', attempts: 0, runs: st.runs, renewals: st.renewals + 1, failure: 0, resume: downloadOf(st) }, p, s);
}

function download(dl: OnenetDownload, runs: number, renewals: number, p: DeviceProfile, s: DeviceSettings, now: number): OStep {
  const nap = p.behaviour.longSleep;
  if (nap !== undefined && !dl.slept && dl.held > 0 && dl.held < dl.task.size) {
    // The long sleep: the device keeps its (soon expired) token and, with staleAuth, its Authorization.
    const next: OnenetDownload = { ...dl, slept: true, ...(nap.staleAuth ? { authAt: now } : {}) };
    return sleep({ kind: 'waiting', until: now + Math.max(0, nap.sleepMs || 0), then: { kind: 'downloading', ...next, attempts: 0, runs, renewals } });
  }
  return send({ kind: 'downloading', ...dl, attempts: 0, runs, renewals }, p, s);
}

/** After new bytes: a progress step when one is due, else the next chunk. */
function afterProgress(dl: OnenetDownload, runs: number, renewals: number, p: DeviceProfile, s: DeviceSettings, now: number): OStep {
  const dies = p.behaviour.batteryDies;
  if (dies !== undefined && dl.held >= dies.atShare * dl.task.size) {
    return reportFailure(dl.task, ResultCode.DOWNLOAD_LOW_BATTERY, 'failed', runs, p, s);
  }
  const every = Math.floor(s.progressEvery);
  if (!dl.quiet && every > 0) {
    const percent = Math.floor((dl.held * 100) / dl.task.size);
    const step = Math.floor(percent / every) * every;
    if (step > dl.lastStep && step < 100) {
      return send({ kind: 'reporting-progress', ...dl, lastStep: step, step, attempts: 0, runs, renewals }, p, s);
    }
  }
  return download(dl, runs, renewals, p, s, now);
}

function verify(st: Extract<OnenetAwaiting, { kind: 'downloading' }>, md5: string | undefined, p: DeviceProfile, s: DeviceSettings): OStep {
  const intact = !p.behaviour.corruptDownload && typeof md5 === 'string' && md5.toLowerCase() === st.task.md5;
  if (!intact) return reportFailure(st.task, ResultCode.MD5_FAILED, 'retry-task', st.runs, p, s);
  return send({ kind: 'reporting-downloaded', task: st.task, attempts: 0, ...queuedOf(st.queued) }, p, s);
}

/** The answers every task call shares: 12 renew, 20 finished, 22 cancelled; undefined otherwise. */
function taskErrno(st: TaskStage, errno: number, p: DeviceProfile, s: DeviceSettings): OStep | undefined {
  switch (errno) {
    case TokenErrno.TOKEN_EXPIRED:
      return renew(st, p, s);
    case TokenErrno.TASK_FINISHED:
      return finish('failed', errno, p.version);
    case TokenErrno.TASK_CANCELLED:
      return finish('cancelled', errno, p.version);
    default:
      return undefined;
  }
}

function onChecking(st: Extract<OnenetAwaiting, { kind: 'checking' }>, a: OnenetAnswer, p: DeviceProfile, s: DeviceSettings, now: number): OStep {
  const giveUp = (): OStep => finish('gave-up', codeOf(a), p.version);
  if (a.type !== 'json') return retryOr(st, s, now, giveUp);
  switch (a.errno) {
    case CheckErrno.OK: {
      const task = taskFromOffer(a.offer, s);
      if (task === undefined) return retryOr(st, s, now, giveUp);
      // A task for the version it runs would flash what it has: refused, and the server is at fault.
      if (task.target === p.version) return finish('stale-offer', a.errno, p.version);
      const resumed = st.resume !== null && sameImage(st.resume.task, task);
      // A changed package (republished: another md5) is started over: its bytes held are discarded.
      const fresh: OnenetDownload = { task, held: 0, best: 0, lastStep: 0, quiet: false, cuts: st.resume?.cuts ?? 0 };
      const kept = st.resume === null ? {} : { ...(st.resume.slept ? { slept: true } : {}), ...queuedOf(st.resume.queued) };
      const dl: OnenetDownload = resumed && st.resume ? { ...st.resume, task } : { ...fresh, ...kept };
      const signal = p.signal === NO_SIGNAL ? -1 : p.signal;
      if (signal <= task.signal) return reportFailure(task, ResultCode.POOR_SIGNAL, 'gated', st.runs, p, s);
      if (p.battery <= task.power) return reportFailure(task, ResultCode.DOWNLOAD_LOW_BATTERY, 'gated', st.runs, p, s);
      if (p.behaviour.storageFull) return reportFailure(task, ResultCode.NO_SPACE, 'failed', st.runs, p, s);
      return send({ kind: 'token-checking', ...dl, attempts: 0, runs: st.runs, renewals: st.renewals }, p, s);
    }
    case CheckErrno.NO_TASK:
      return st.failure !== 0 ? finish('failed', st.failure, p.version) : finish('up-to-date', a.errno, p.version);
    case CheckErrno.MANUF_MODEL_MISMATCH:
    case CheckErrno.VERSION_MISMATCH:
      return finish('failed', a.errno, p.version);
    case CheckErrno.AUTH_FAILED:
      // A stale Authorization (longSleep.staleAuth) refused: sign a fresh one and ask again, once.
      if (st.resume !== null && st.resume.authAt !== undefined) return send({ ...st, resume: withoutAuth(st.resume) }, p, s);
      return finish('rejected', a.errno, p.version);
    case CheckErrno.BAD_PARAMS:
    case CheckErrno.BAD_VERSION_FORMAT:
      return finish('rejected', a.errno, p.version);
    default:
      return retryOr(st, s, now, giveUp);
  }
}

/** The download with the device's Authorization signed afresh. */
function withoutAuth(dl: OnenetDownload): OnenetDownload {
  if (dl.authAt === undefined) return dl;
  const { authAt: _stale, ...rest } = dl;
  return rest;
}

function onTokenChecking(st: Extract<OnenetAwaiting, { kind: 'token-checking' }>, a: OnenetAnswer, p: DeviceProfile, s: DeviceSettings, now: number): OStep {
  const failed = (): OStep => reportFailure(st.task, exhaustedStep(a), 'failed', st.runs, p, s);
  if (a.type !== 'json') return retryOr(st, s, now, failed);
  const shared = taskErrno(st, a.errno, p, s);
  if (shared) return shared;
  switch (a.errno) {
    case TokenErrno.OK:
      return download(downloadOf(st), st.runs, st.renewals, p, s, now);
    case TokenErrno.INVALID_STATE:
      return download({ ...downloadOf(st), quiet: true }, st.runs, st.renewals, p, s, now);
    case TokenErrno.AUTH_FAILED:
    case TokenErrno.BAD_PARAMS:
    case TokenErrno.TOKEN_DEVICE_MISMATCH:
    case TokenErrno.INVALID_OPERATION:
      return finish('rejected', a.errno, p.version);
    default:
      return retryOr(st, s, now, failed);
  }
}

type Downloading = Extract<OnenetAwaiting, { kind: 'downloading' }>;

function onDownloading(st: Downloading, a: OnenetAnswer, p: DeviceProfile, s: DeviceSettings, now: number): OStep {
  const failed = (): OStep => reportFailure(st.task, exhaustedStep(a), 'failed', st.runs, p, s);
  const retry = (next: Downloading): OStep => retryOr(next, s, now, failed);
  switch (a.type) {
    case 'file': {
      const held = heldOf(a.held, st.task.size);
      if (held >= st.task.size) return verify(st, a.md5, p, s);
      if (a.cut) {
        // The link dropped: no link until the radio allows, then check again and resume (§3.4).
        const onward = (next: Downloading): OStep => {
          const dl: OnenetDownload = { ...downloadOf(next), best: Math.max(st.best, held), cuts: st.cuts + 1 };
          const then: OnenetAwaiting = { kind: 'checking', attempts: 0, runs: st.runs, renewals: st.renewals, failure: 0, resume: dl };
          return sleep({ kind: 'waiting', until: reconnectAt(p, now), then });
        };
        return held > st.best ? onward({ ...st, held, stalls: 0 }) : stalled({ ...st, held }, a, p, s, onward);
      }
      if (held > st.best) return afterProgress({ ...downloadOf(st), held, best: held, stalls: 0 }, st.runs, st.renewals, p, s, now);
      // Winning back bytes lost earlier is no failure, but no progress either: failures still count.
      if (held > st.held) return send({ ...st, held }, p, s);
      // No further on: trust what the engine says is held, and count a failed attempt.
      return stalled({ ...st, held }, a, p, s, retry);
    }
    case 'download-error':
      if (a.code === 3) return renew(st, p, s);
      return stalled(st, a, p, s, retry);
    case 'json':
      return taskErrno(st, a.errno, p, s) ?? stalled(st, a, p, s, retry);
    case 'net':
      if (a.held !== undefined) {
        // Broken off mid-body: a failed request, but the bytes that arrived are held; resume after them.
        const held = heldOf(a.held, st.task.size);
        if (held >= st.task.size) return verify(st, a.md5, p, s);
        if (held > st.best) return afterProgress({ ...downloadOf(st), held, best: held, stalls: 0 }, st.runs, st.renewals, p, s, now);
        if (held > st.held) return send({ ...st, held }, p, s);
      }
      return stalled(st, a, p, s, retry);
    default:
      return stalled(st, a, p, s, retry);
  }
}

const heldOf = (held: number, size: number): number => (Number.isFinite(held) ? Math.min(size, Math.max(0, Math.floor(held))) : 0);

/** One more download answer without a new high of bytes held: give up at the setting's limit, else go on as `onward` says. */
function stalled(st: Downloading, a: OnenetAnswer, p: DeviceProfile, s: DeviceSettings, onward: (next: Downloading) => OStep): OStep {
  const stalls = (st.stalls ?? 0) + 1;
  const limit = Math.max(1, Math.floor(s.maxStalledAttempts) || DEFAULT_MAX_STALLED);
  if (stalls >= limit) return reportFailure(st.task, exhaustedStep(a), 'no-progress', st.runs, p, s);
  return onward({ ...st, stalls });
}

function onProgress(st: Extract<OnenetAwaiting, { kind: 'reporting-progress' }>, a: OnenetAnswer, p: DeviceProfile, s: DeviceSettings, now: number): OStep {
  // Progress is informational: a lost or refused step never stops the download.
  if (a.type === 'json') {
    const shared = taskErrno(st, a.errno, p, s);
    if (shared) return shared;
    if (a.errno === TokenErrno.INVALID_STATE) return download({ ...downloadOf(st), quiet: true }, st.runs, st.renewals, p, s, now);
  }
  if (a.type === 'net' && UNANSWERED_CODES.has(a.code) && p.behaviour.answerLoss?.requeue) {
    return download({ ...downloadOf(st), queued: st.step }, st.runs, st.renewals, p, s, now);
  }
  return download(downloadOf(st), st.runs, st.renewals, p, s, now);
}

function onDownloaded(st: Extract<OnenetAwaiting, { kind: 'reporting-downloaded' }>, a: OnenetAnswer, p: DeviceProfile, s: DeviceSettings, now: number): OStep {
  const giveUp = (): OStep => finish('gave-up', codeOf(a), p.version);
  if (a.type !== 'json' || a.errno === TokenErrno.INTERNAL) return retryOr(st, s, now, giveUp);
  if (a.errno === TokenErrno.TASK_FINISHED) return finish('failed', a.errno, p.version);
  if (a.errno === TokenErrno.TASK_CANCELLED) return finish('cancelled', a.errno, p.version);
  const booted = p.behaviour.rebootIntoOld ? p.version : st.task.target;
  const rebootMs = Math.max(0, s.rebootMs) || 0;
  return sleep({ kind: 'rebooting', until: now + rebootMs, task: st.task, booted, ...queuedOf(st.queued) });
}

function onNewVersion(st: Extract<OnenetAwaiting, { kind: 'reporting-new-version' }>, a: OnenetAnswer, p: DeviceProfile, s: DeviceSettings, now: number): OStep {
  const upgraded = st.booted === st.task.target;
  if (a.type !== 'json' || a.errno === TokenErrno.INTERNAL) {
    // The 201 was delivered already: an unreported version does not undo the upgrade.
    return retryOr(st, s, now, () => (upgraded ? finish('succeeded', ResultCode.UPGRADED, st.booted, st.duplicate) : finish('gave-up', codeOf(a), st.booted)));
  }
  if (upgraded && st.queued) return send({ kind: 'flushing', task: st.task, booted: st.booted, duplicate: st.duplicate, step: st.queued, attempts: 0 }, p, s);
  if (upgraded) return succeed(st.task, st.booted, st.duplicate, s, now);
  return send({ kind: 'reporting-failure', task: st.task, step: ResultCode.VERSION_DIFFERS, then: 'failed', runs: 0, attempts: 0 }, p, s);
}

/**
 * After the reboot the device reports 201 first and its new version second: the version report
 * completes the task on the platform too, so the other order would make every 201 a duplicate.
 */
function onUpgraded(st: Extract<OnenetAwaiting, { kind: 'reporting-upgraded' }>, a: OnenetAnswer, p: DeviceProfile, s: DeviceSettings, now: number): OStep {
  if (a.type !== 'json' || a.errno === TokenErrno.INTERNAL) return retryOr(st, s, now, () => finish('gave-up', codeOf(a), st.booted));
  if (a.errno === TokenErrno.TASK_CANCELLED) return finish('cancelled', a.errno, st.booted);
  const duplicate = a.errno === TokenErrno.TASK_FINISHED;
  return send({ kind: 'reporting-new-version', task: st.task, booted: st.booted, duplicate, attempts: 0, ...queuedOf(st.queued) }, p, s);
}

function afterFailureReport(st: Extract<OnenetAwaiting, { kind: 'reporting-failure' }>, p: DeviceProfile, now: number): OStep {
  // A 204 is reported after the reboot: the device runs what it booted, which is its old version.
  switch (st.then) {
    case 'gated':
      return finish('gated', st.step, p.version);
    case 'failed':
      return finish('failed', st.step, p.version);
    case 'no-progress':
      return finish('no-progress', st.step, p.version);
    case 'retry-task':
      if (st.runs >= st.task.retry) return finish('failed', st.step, p.version);
      return sleep({
        kind: 'waiting',
        until: now + st.task.intervalMs,
        then: { kind: 'checking', attempts: 0, runs: st.runs + 1, renewals: 0, failure: st.step, resume: null },
      });
  }
}

function onFailureReport(st: Extract<OnenetAwaiting, { kind: 'reporting-failure' }>, a: OnenetAnswer, p: DeviceProfile, s: DeviceSettings, now: number): OStep {
  if (a.type !== 'json' || a.errno === TokenErrno.INTERNAL) return retryOr(st, s, now, () => afterFailureReport(st, p, now));
  return afterFailureReport(st, p, now);
}

const isFinal = (st: S): st is OnenetFinal => 'code' in st;

export const onenetMachine: DeviceMachine<S, R, OnenetAnswer> = {
  start(profile, settings) {
    return send({ kind: 'reporting-version', attempts: 0 }, profile, settings);
  },

  onTimer(st, profile, settings) {
    if (isFinal(st)) return { state: st, action: STOP };
    switch (st.kind) {
      case 'waiting':
        return send(st.then, profile, settings);
      case 'rebooting': {
        const flash = profile.behaviour.flashFails;
        if (flash !== undefined) return reportFailure(st.task, flash.code, 'failed', 0, profile, settings);
        // Booted into the target: report the result; booted into something else: say what runs.
        const queued = queuedOf(st.queued);
        if (st.booted === st.task.target) return send({ kind: 'reporting-upgraded', task: st.task, booted: st.booted, attempts: 0, ...queued }, profile, settings);
        return send({ kind: 'reporting-new-version', task: st.task, booted: st.booted, duplicate: false, attempts: 0, ...queued }, profile, settings);
      }
      default:
        // A timer while an answer is awaited means the engine lost it: ask again.
        return send(st, profile, settings);
    }
  },

  onAnswer(st, answer, profile, settings, now) {
    if (isFinal(st)) return { state: st, action: STOP };
    switch (st.kind) {
      case 'waiting':
      case 'rebooting':
        // An answer while sleeping belongs to nothing: keep sleeping.
        return sleep(st);
      case 'reporting-version':
        if (answer.type === 'json') {
          return send({ kind: 'checking', attempts: 0, runs: 0, renewals: 0, failure: 0, resume: null }, profile, settings);
        }
        return retryOr(st, settings, now, () => finish('gave-up', 0, profile.version));
      case 'checking':
        return onChecking(st, answer, profile, settings, now);
      case 'token-checking':
        return onTokenChecking(st, answer, profile, settings, now);
      case 'downloading':
        return onDownloading(st, answer, profile, settings, now);
      case 'reporting-progress':
        return onProgress(st, answer, profile, settings, now);
      case 'flushing':
        // The queued step was delivered or not: either way the upgrade is done.
        return succeed(st.task, st.booted, st.duplicate, settings, now);
      case 'rechecking':
        return onRechecking(st, answer, settings, now);
      case 'reporting-downloaded':
        return onDownloaded(st, answer, profile, settings, now);
      case 'reporting-new-version':
        return onNewVersion(st, answer, profile, settings, now);
      case 'reporting-upgraded':
        return onUpgraded(st, answer, profile, settings, now);
      case 'reporting-failure':
        return onFailureReport(st, answer, profile, settings, now);
    }
  },
};
