/**
 * The hawkBit DDI virtual device: poll → (configData) → deploymentBase → feedback proceeding →
 * artifact download (ranged, resumed, hash-checked) → feedback downloaded → install → feedback
 * closed; cancelAction → cancel feedback. Pure: every transition is a function of (state, event,
 * profile, settings, now); draws come from the device's own seed.
 *
 * Choices where DDI leaves the device room (docs/server.md, "hawkBit DDI"):
 * - The poll's `config.polling.sleep` is the interval to the next poll; nothing else paces polls.
 *   A device offered nothing for HAWKBIT_MAX_IDLE_POLLS polls in a row ends `idle`.
 * - `configData` is sent when the poll offers it, once (id, version, battery, signal).
 * - `cancelAction` is handled before `deploymentBase`; the device acknowledges with cancel feedback
 *   closed/success and ends `cancelled`.
 * - `download: skip` → poll again later; `attempt` → the device may decline: with battery below
 *   HAWKBIT_BATTERY_FLOOR % it reports `rejected` and ends `gated`; `forced` → it proceeds whatever
 *   its battery. `update: skip` (download-only, or outside the maintenance window) → after the
 *   download it reports `downloaded` and polls until `update` is no longer skip.
 * - Download: ranged GETs of `chunkSize` from the bytes held; a cut link resumes from them after
 *   `reconnectMs`; the md5 of the whole image is checked against the announced one (the engine
 *   digests md5; sha1 and sha256 are read and kept as evidence). A mismatch is reported closed /
 *   failure and ends `failed`. `maxStalledAttempts` answers without new bytes end `no-progress`.
 * - Progress is reported (`proceeding`, progress {cnt: percent, of: 100}) every `progressEvery` %;
 *   back on the link after a cut or a long sleep the device reports `resumed`; downloaded with the
 *   update skipped it reports `scheduled` once; the cancel feedback is `canceled` / success.
 * - Statuses: 401/403 on a poll end `rejected`; 403 on a feedback (quota) stops progress reports
 *   (a closing one ends `gave-up`); 404/409/410 on an action's resource send the device back to
 *   polling, except 410 to its own closed/success feedback, which means the server recorded it
 *   already (a retransmission after a lost answer): `succeeded`, marked duplicate. 429 backs off
 *   1–2 s (virtual, drawn) and sends the same request again. Transport errors, 5xx and unreadable
 *   answers are retried `maxAttempts` times `retryDelayMs` apart, then `gave-up`.
 * - An offer of an action the device already closed or saw cancelled is stale: refused, counted.
 * - Every device stops after HAWKBIT_MAX_REQUESTS requests (`gave-up`).
 */
import { hashUniform } from '../../random/rng.js';
import type { DeviceMachine, DeviceProfile, DeviceSettings, Step } from '../types.js';
import type {
  AfterReport,
  FeedbackReport,
  HawkbitAnswer,
  HawkbitDeviceState,
  HawkbitFinal,
  HawkbitFinalKind,
  HawkbitRequest,
  HawkbitSleeping,
  Job,
  PollLinks,
  Progress,
  Retry,
} from './types.js';

export type { HawkbitAnswer, HawkbitDeviceState, HawkbitKind, HawkbitRequest } from './types.js';

export const HAWKBIT_MAX_REQUESTS = 2000;
export const HAWKBIT_MAX_IDLE_POLLS = 100;
export const HAWKBIT_BATTERY_FLOOR = 20;
/** Polling sleep before the server has given one (hawkBit's default, 5 minutes). */
export const HAWKBIT_DEFAULT_SLEEP_MS = 300_000;
/** Stream of the 429 backoff draws. */
export const HAWKBIT_BACKOFF_STREAM = 0x4ddb_a429;

type S = HawkbitDeviceState;
type HStep = Step<S, HawkbitRequest>;
type Awaiting = Exclude<S, HawkbitFinal | HawkbitSleeping>;

const STOP = { type: 'stop' } as const;

const progressOf = (st: Exclude<S, HawkbitFinal>): Progress => ({
  version: st.version,
  requests: st.requests,
  attempts: st.attempts,
  idlePolls: st.idlePolls,
  stalled: st.stalled,
  draws: st.draws,
  configSent: st.configSent,
  sleepMs: st.sleepMs,
  ...(st.job !== undefined ? { job: st.job } : {}),
  closed: st.closed,
  staleOffers: st.staleOffers,
});

const isFinal = (st: S): st is HawkbitFinal => 'code' in st;

function finish(pr: Progress, kind: HawkbitFinalKind, code: number, why?: string, duplicate = false): HStep {
  const state: HawkbitFinal = {
    kind,
    code,
    version: pr.version,
    ...(why !== undefined ? { why } : {}),
    ...(duplicate ? { duplicateResult: true as const } : {}),
    ...(pr.staleOffers > 0 ? { staleOffers: pr.staleOffers } : {}),
  };
  return { state, action: STOP };
}

const sleep = (state: HawkbitSleeping): HStep => ({ state, action: { type: 'sleep', until: state.until } });

/** Sends the request of `retry` (an awaiting state without its progress), counting it against the bound. */
function send(pr: Progress, retry: Retry): HStep {
  if (pr.requests >= HAWKBIT_MAX_REQUESTS) return finish(pr, 'gave-up', 0, `${HAWKBIT_MAX_REQUESTS} requests made`);
  const state = { ...pr, ...retry, requests: pr.requests + 1 } as Awaiting;
  return { state, action: { type: 'send', request: retry.request } };
}

/** The awaiting part of a state (what a backing-off device sends again). */
function retryOf(st: Awaiting): Retry {
  switch (st.kind) {
    case 'reporting':
      return { kind: 'reporting', request: st.request, then: st.then };
    case 'configuring':
      return { kind: 'configuring', request: st.request, links: st.links };
    default:
      return { kind: st.kind, request: st.request };
  }
}

const poll = (pr: Progress, p: DeviceProfile): HStep => send(pr, { kind: 'polling', request: { op: 'poll', id: p.id } });

function report(pr: Progress, p: DeviceProfile, action: number, r: FeedbackReport, then: AfterReport, cancel = false): HStep {
  const request = cancel ? ({ op: 'cancelFeedback', id: p.id, action, report: r } as const) : ({ op: 'feedback', id: p.id, action, report: r } as const);
  return send(pr, { kind: 'reporting', request, then });
}

const failure = (details: string): FeedbackReport => ({ execution: 'closed', finished: 'failure', details: [details] });

/** Back to sleep until the next poll. */
const nextPoll = (pr: Progress, now: number, ms = pr.sleepMs): HStep => sleep({ kind: 'sleeping', until: now + Math.max(0, ms), ...pr });

function failedAttempt(pr: Progress, retry: Retry, code: number, s: DeviceSettings, now: number): HStep {
  const attempts = pr.attempts + 1;
  const limit = Number.isFinite(s.maxAttempts) ? Math.max(0, s.maxAttempts) : 0;
  if (attempts > limit) return finish(pr, 'gave-up', code, `${attempts} failed requests in a row`);
  return sleep({ ...pr, kind: 'backing-off', until: now + Math.max(0, s.retryDelayMs || 0), retry, attempts });
}

/** 429: back off 1–2 s (drawn) and send the same request again. */
function throttled(pr: Progress, retry: Retry, p: DeviceProfile, now: number): HStep {
  const wait = 1000 + Math.round(1000 * hashUniform(p.seed, HAWKBIT_BACKOFF_STREAM, pr.draws));
  return sleep({ ...pr, kind: 'backing-off', until: now + wait, retry, draws: pr.draws + 1 });
}

function transportOrStatus(pr: Progress, retry: Retry, a: HawkbitAnswer, p: DeviceProfile, s: DeviceSettings, now: number): HStep {
  const req = retry.request;
  if (a.type === 'status' && a.status === 429) return throttled(pr, retry, p, now);
  if (a.type === 'status' && (a.status === 401 || a.status === 403) && req.op === 'poll') return finish(pr, 'rejected', a.status, a.status === 401 ? 'not authenticated' : 'forbidden');
  if (a.type === 'status' && a.status === 401) return finish(pr, 'rejected', 401, 'not authenticated');
  if (a.type === 'status' && a.status === 404 && req.op === 'poll') return finish(pr, 'rejected', 404, 'the target is unknown to the server');
  if (a.type === 'status' && (a.status === 404 || a.status === 409 || a.status === 410)) {
    // The action is gone or changing (cancelled): poll to learn what the server wants now. A 410
    // says it is closed: offered again later, it is stale.
    const { job: _dropped, ...rest } = pr;
    const action = 'action' in req ? req.action : undefined;
    const closed = a.status === 410 && action !== undefined && !pr.closed.includes(action) ? [...pr.closed, action] : pr.closed;
    return nextPoll({ ...rest, attempts: 0, closed }, now, 0);
  }
  const code = a.type === 'status' || a.type === 'http' ? a.status : 0;
  return failedAttempt(pr, retry, code, s, now);
}

// ---- poll ----------------------------------------------------------------------------------

function onPoll(pr0: Progress, a: Extract<HawkbitAnswer, { type: 'poll' }>, p: DeviceProfile, now: number): HStep {
  const pr: Progress = { ...pr0, attempts: 0, sleepMs: a.sleepMs };
  const links: PollLinks = { ...(a.deployment ? { deployment: a.deployment } : {}), ...(a.cancel ? { cancel: a.cancel } : {}) };
  if (a.config !== undefined && !pr.configSent) {
    const data = { id: p.id, version: pr.version, battery: String(p.battery), signal: String(p.signal) };
    return send(pr, { kind: 'configuring', request: { op: 'config', id: p.id, path: a.config, data }, links });
  }
  return followLinks(pr, links, p, now);
}

function followLinks(pr: Progress, links: PollLinks, p: DeviceProfile, now: number): HStep {
  if (links.cancel !== undefined) return send({ ...pr, idlePolls: 0 }, { kind: 'cancelling', request: { op: 'cancel', id: p.id, path: links.cancel.path, action: links.cancel.action } });
  const d = links.deployment;
  if (d !== undefined && pr.closed.includes(d.action)) {
    // An action this device closed or saw cancelled, offered again: stale.
    return idle({ ...pr, staleOffers: pr.staleOffers + 1 }, now);
  }
  if (d !== undefined) return send({ ...pr, idlePolls: 0 }, { kind: 'fetching', request: { op: 'deployment', id: p.id, path: d.path, action: d.action } });
  return idle(pr, now);
}

function idle(pr: Progress, now: number): HStep {
  const idlePolls = pr.idlePolls + 1;
  if (idlePolls >= HAWKBIT_MAX_IDLE_POLLS && pr.job === undefined) return finish(pr, 'idle', 200, `nothing offered in ${idlePolls} polls`);
  return nextPoll({ ...pr, idlePolls }, now);
}

// ---- deployment ----------------------------------------------------------------------------

function onDeployment(pr0: Progress, a: Extract<HawkbitAnswer, { type: 'deployment' }>, p: DeviceProfile, s: DeviceSettings, now: number, path: string): HStep {
  const pr = { ...pr0, attempts: 0 };
  const same = pr.job !== undefined && pr.job.action === a.action && pr.job.artifact.md5 === a.artifact.md5 && pr.job.artifact.size === a.artifact.size;
  const job: Job = same
    ? { ...(pr.job as Job), download: a.download, update: a.update }
    : { action: a.action, deploymentPath: path, download: a.download, update: a.update, artifact: a.artifact, version: a.version, held: 0, best: 0, cuts: 0, slept: false, reported: 0, downloaded: false, quotaHit: false, scheduled: false };
  const withJob = { ...pr, job };
  if (job.downloaded) return job.update === 'skip' ? waitForUpdate(withJob, p, now) : install(withJob, s, now);
  if (a.download === 'skip') return nextPoll(withJob, now);
  if (a.download === 'attempt' && p.battery < HAWKBIT_BATTERY_FLOOR) {
    return report(withJob, p, a.action, { execution: 'rejected', finished: 'none', details: [`battery ${p.battery}% below ${HAWKBIT_BATTERY_FLOOR}%`] }, { kind: 'end', final: 'gated', why: `declined an attempt with battery ${p.battery}%` });
  }
  if (p.behaviour.storageFull) {
    return report(withJob, p, a.action, failure(`no space for ${a.artifact.size} bytes`), { kind: 'end', final: 'failed', why: 'storage full' });
  }
  if (same && job.held > 0) return download(withJob, p, s);
  return report(withJob, p, a.action, { execution: 'proceeding', finished: 'none', details: ['download started'] }, { kind: 'download' });
}

// ---- download ------------------------------------------------------------------------------

/** Where the cohort's `disconnect` cuts the link in this request, if it does. */
function cutAfter(job: Job, p: DeviceProfile, start: number, end: number): number | undefined {
  const d = p.behaviour.disconnect;
  if (d === undefined || job.cuts >= d.times) return undefined;
  const k = job.cuts + 1;
  let at: number;
  switch (d.at.kind) {
    case 'bytes':
      at = k * d.at.bytes;
      break;
    case 'share':
      at = Math.floor(k * d.at.share * job.artifact.size);
      break;
    case 'random':
      at = start + Math.floor(hashUniform(p.seed, 0xc07, k) * (job.artifact.size - start));
      break;
  }
  return at > start && at <= end ? at - start : undefined;
}

function download(pr: Progress, p: DeviceProfile, s: DeviceSettings): HStep {
  const job = pr.job as Job;
  const size = job.artifact.size;
  const start = Math.min(job.held, size - 1);
  const end = Math.min(size - 1, start + Math.max(1, s.chunkSize) - 1);
  const cut = cutAfter(job, p, start, end);
  const request: HawkbitRequest = {
    op: 'download',
    id: p.id,
    path: job.artifact.path,
    action: job.action,
    start,
    end,
    total: size,
    ...(cut !== undefined ? { fault: { cutAfterBytes: cut } } : {}),
  };
  return send(cut !== undefined ? { ...pr, job: { ...job, cuts: job.cuts + 1 } } : pr, { kind: 'downloading', request });
}

function onBytes(pr0: Progress, held: number, md5: string | undefined, cut: boolean, p: DeviceProfile, s: DeviceSettings, now: number): HStep {
  const job0 = pr0.job as Job;
  const size = job0.artifact.size;
  const grew = held > job0.best;
  const stalled = grew ? 0 : pr0.stalled + 1;
  const job: Job = { ...job0, held, best: Math.max(job0.best, held) };
  const pr: Progress = { ...pr0, job, stalled, attempts: 0 };
  if (stalled >= Math.max(1, s.maxStalledAttempts)) {
    return report(pr, p, job.action, failure(`no new bytes in ${stalled} answers`), { kind: 'end', final: 'no-progress', why: `held ${held} of ${size} bytes` });
  }
  const dies = p.behaviour.batteryDies;
  if (dies !== undefined && held >= dies.atShare * size && held < size) {
    return report(pr, p, job.action, failure(`battery ran out at ${Math.floor((held * 100) / size)}%`), { kind: 'end', final: 'failed', why: 'battery ran out mid-download' });
  }
  if (held >= size) {
    const ok = md5 !== undefined && md5.toLowerCase() === job.artifact.md5.toLowerCase() && !p.behaviour.corruptDownload;
    if (!ok) return report(pr, p, job.action, failure(`hash mismatch: md5 ${md5 ?? '?'} is not the announced ${job.artifact.md5}`), { kind: 'end', final: 'failed', why: 'the image does not match its announced md5' });
    return report(pr, p, job.action, { execution: 'downloaded', finished: 'none', progress: { cnt: 100, of: 100 } }, { kind: 'install' });
  }
  if (cut) return sleep({ kind: 'reconnecting', until: now + Math.max(0, p.behaviour.disconnect?.reconnectMs ?? 0), ...pr });
  const long = p.behaviour.longSleep;
  if (long !== undefined && !job.slept && held > 0) return sleep({ kind: 'dozing', until: now + long.sleepMs, ...pr, job: { ...job, slept: true } });
  const every = s.progressEvery;
  const percent = Math.floor((held * 100) / size);
  if (every > 0 && !job.quotaHit && percent >= job.reported + every) {
    const step = percent - (percent % every);
    return report({ ...pr, job: { ...job, reported: step } }, p, job.action, { execution: 'proceeding', finished: 'none', progress: { cnt: step, of: 100 } }, { kind: 'download' });
  }
  return download(pr, p, s);
}

// ---- install and feedback ------------------------------------------------------------------

/** Downloaded, the update skipped (download-only, or outside the maintenance window): `scheduled` once, then poll. */
function waitForUpdate(pr: Progress, p: DeviceProfile, now: number): HStep {
  const job = pr.job as Job;
  if (job.scheduled || job.quotaHit) return nextPoll(pr, now);
  return report({ ...pr, job: { ...job, scheduled: true } }, p, job.action, { execution: 'scheduled', finished: 'none', details: ['update waits: the server says skip'] }, { kind: 'sleep' });
}

/** Back on the link after a cut (or a long sleep): `resumed`, then the download from the bytes held. */
function resume(pr: Progress, p: DeviceProfile, s: DeviceSettings): HStep {
  const job = pr.job as Job;
  if (job.quotaHit) return download(pr, p, s);
  return report(pr, p, job.action, { execution: 'resumed', finished: 'none', details: [`resuming from byte ${job.held}`] }, { kind: 'download' });
}

function install(pr: Progress, s: DeviceSettings, now: number): HStep {
  return sleep({ kind: 'installing', until: now + Math.max(0, s.rebootMs || 0), ...pr });
}

function afterInstall(pr: Progress, p: DeviceProfile): HStep {
  const job = pr.job as Job;
  if (p.behaviour.flashFails !== undefined) return report(pr, p, job.action, failure(p.behaviour.flashFails.code === 202 ? 'flashing failed: low battery' : 'flashing failed: out of memory'), { kind: 'end', final: 'failed', why: 'flashing failed' });
  if (p.behaviour.rebootIntoOld) return report(pr, p, job.action, failure(`booted back into ${pr.version}`), { kind: 'end', final: 'failed', why: 'rebooted into the old version' });
  return report({ ...pr, version: job.version }, p, job.action, { execution: 'closed', finished: 'success', details: [`installed ${job.version}`] }, { kind: 'end', final: 'succeeded', why: 'installed' });
}

function onReported(pr: Progress, then: AfterReport, p: DeviceProfile, s: DeviceSettings, now: number): HStep {
  switch (then.kind) {
    case 'download':
      return download(pr, p, s);
    case 'install': {
      const job = { ...(pr.job as Job), downloaded: true };
      return job.update === 'skip' ? waitForUpdate({ ...pr, job }, p, now) : install({ ...pr, job }, s, now);
    }
    case 'poll':
      return nextPoll(pr, now, 0);
    case 'sleep':
      return nextPoll(pr, now);
    case 'end': {
      const action = pr.job?.action;
      return finish({ ...pr, closed: action === undefined ? pr.closed : [...pr.closed, action] }, then.final, 200, then.why);
    }
  }
}

function onReportAnswer(st: Extract<S, { kind: 'reporting' }>, a: HawkbitAnswer, p: DeviceProfile, s: DeviceSettings, now: number): HStep {
  const pr = { ...progressOf(st), attempts: 0 };
  const { request, then } = st;
  const closing = request.report.execution === 'closed' || then.kind === 'end';
  if (a.type === 'ok') return onReported(pr, then, p, s, now);
  if (a.type === 'status') {
    if (a.status === 410 && request.op === 'feedback' && request.report.execution === 'closed' && request.report.finished === 'success') {
      // The server closed it already: our earlier transmission got there, its answer did not.
      return finish(pr, 'succeeded', 410, 'the closing feedback was recorded already', true);
    }
    if (a.status === 403 && !closing && pr.job !== undefined) return onReported({ ...pr, job: { ...pr.job, quotaHit: true } }, then, p, s, now);
    if (a.status === 403) return finish(pr, 'gave-up', 403, 'the server refused the closing feedback (status quota)');
  }
  return transportOrStatus(progressOf(st), retryOf(st), a, p, s, now);
}

// ---- the machine ---------------------------------------------------------------------------

function onAwaitingAnswer(st: Awaiting, a: HawkbitAnswer, p: DeviceProfile, s: DeviceSettings, now: number): HStep {
  const pr = progressOf(st);
  const retry = retryOf(st);
  switch (st.kind) {
    case 'polling':
      return a.type === 'poll' ? onPoll(pr, a, p, now) : transportOrStatus(pr, retry, a, p, s, now);
    case 'configuring':
      if (a.type === 'status' && a.status === 429) return throttled(pr, retry, p, now);
      // Refused attributes are not sent again: the device gets on with the links.
      if (a.type === 'ok' || a.type === 'status') return followLinks({ ...pr, attempts: 0, configSent: true }, st.links, p, now);
      return failedAttempt(pr, retry, a.type === 'http' ? a.status : 0, s, now);
    case 'fetching':
      return a.type === 'deployment' ? onDeployment(pr, a, p, s, now, st.request.op === 'deployment' ? st.request.path : '') : transportOrStatus(pr, retry, a, p, s, now);
    case 'downloading':
      if (a.type === 'file') return onBytes(pr, a.held, a.md5, a.cut === true, p, s, now);
      if (a.type === 'net' && a.held !== undefined) return onBytes(pr, a.held, a.md5, true, p, s, now);
      return transportOrStatus(pr, retry, a, p, s, now);
    case 'cancelling':
      if (a.type === 'cancel') {
        const { job: _dropped, ...rest } = pr;
        return report({ ...rest, attempts: 0, closed: [...pr.closed, a.action] }, p, a.action, { execution: 'canceled', finished: 'success', details: ['cancelled as asked'] }, { kind: 'end', final: 'cancelled', why: `action ${a.action} cancelled by the server` }, true);
      }
      return transportOrStatus(pr, retry, a, p, s, now);
    case 'reporting':
      return onReportAnswer(st, a, p, s, now);
  }
}

const SLEEPING: ReadonlySet<string> = new Set(['sleeping', 'backing-off', 'reconnecting', 'dozing', 'installing']);

export const hawkbitMachine: DeviceMachine<S, HawkbitRequest, HawkbitAnswer> = {
  start(p) {
    return poll({ version: p.version, requests: 0, attempts: 0, idlePolls: 0, stalled: 0, draws: 0, configSent: false, sleepMs: HAWKBIT_DEFAULT_SLEEP_MS, closed: [], staleOffers: 0 }, p);
  },

  onTimer(st, p, s, now) {
    if (isFinal(st)) return { state: st, action: STOP };
    const pr = progressOf(st);
    switch (st.kind) {
      case 'sleeping':
        return poll(pr, p);
      case 'backing-off':
        // A download resumes from what is held now, not from where the failed request started.
        return st.retry.kind === 'downloading' ? download(pr, p, s) : send(pr, st.retry);
      case 'reconnecting':
      case 'dozing':
        return resume(pr, p, s);
      case 'installing':
        return afterInstall(pr, p);
      default:
        // A timer while an answer is awaited means the engine lost it: send it again (not counted).
        return { state: st, action: { type: 'send', request: st.request } };
    }
  },

  onAnswer(st, answer, p, s, now) {
    if (isFinal(st)) return { state: st, action: STOP };
    // An answer while asleep belongs to nothing: keep sleeping.
    if (SLEEPING.has(st.kind)) return sleep(st as HawkbitSleeping);
    return onAwaitingAnswer(st as Awaiting, answer, p, s, now);
  },
};
