/**
 * The device of a declared dialect: one pure machine for every described server. Its life is
 * fixed, what it says at each step is the file's: start calls → check → (accept calls) → ranged
 * download with resume → progress reports → hash check → downloaded calls → reboot → installed
 * calls → succeeded. Pure: a function of (state, event, profile, settings, now).
 *
 * Choices (docs/dialects.md lists them):
 * - A call answered `ok`, `none` or `offer` outside the check moves on; `wait` sleeps and sends it
 *   again; `refused` ends `rejected` before the download and `failed` after it; `error` (and no
 *   answer) is retried `maxAttempts` times `retryDelay` apart, then the device ends `gave-up`.
 * - The check: `none` ends `up-to-date`, `wait` sleeps N s and checks again (MAX_WAITS times in a
 *   device's life, then `gave-up`), `refused` ends `rejected`.
 * - Downloads follow the OneNET machine's rules: chunks of `chunkSize` from the bytes held (the
 *   engine's word), a new high clears the failures, `maxStalledAttempts` answers without one end
 *   the download (failure reason `download`, `failed`); a chunk broken off mid-body resumes at once.
 * - Progress: the highest multiple of `progressEvery` below 100 reached, each sent once; its answer
 *   never stops the download.
 * - Hash mismatch (or a `corruptDownload` device): failure reason `hash`, then the whole task again
 *   from a fresh check, at most `maxAttempts` times, then `failed`.
 * - `disconnect`: the chunk spanning the cut point carries `cutAfterBytes`; after `reconnectMs`
 *   the device checks again and resumes from the bytes held when the offer is the same (version,
 *   size, hash), else starts over. `rebootIntoOld`: the device boots its old version, reports the
 *   failure (reason `version`) and ends `failed`.
 */
import type { DeviceMachine, DeviceProfile, DeviceSettings, Step } from '../../device/types.js';
import { cutPointOf } from '../../device/onenet/machine.js';
import type { CompiledDialect } from './compile.js';
import { DECLARED_KINDS, DOWNLOAD_CALL, type AfterFailure, type DeclaredAnswer, type DeclaredKind, type DeclaredOffer, type DeclaredRequest, type DeclaredState, type DeviceValues } from './types.js';

type S = DeclaredState;
type R = DeclaredRequest;
type DStep = Step<S, R>;

/** Calls of one list, and the kind a device has while making them. */
type ListPhase = 'start' | 'accept' | 'downloaded' | 'installed';
const LIST_KIND: Readonly<Record<ListPhase, DeclaredKind>> = { start: 'starting', accept: 'accepting', downloaded: 'reporting-downloaded', installed: 'confirming' };
const PHASE_OF: Partial<Record<DeclaredKind, ListPhase>> = { starting: 'start', accepting: 'accept', 'reporting-downloaded': 'downloaded', confirming: 'installed' };

const STOP = { type: 'stop' } as const;
const DEFAULT_MAX_STALLED = 5;
/** Waits a device takes in its life before it gives up (a bound on a server that always says wait). */
export const MAX_WAITS = 100;

const sameOffer = (a: DeclaredOffer | undefined, b: DeclaredOffer): boolean => a !== undefined && a.version === b.version && a.size === b.size && a.hash === b.hash;

export function declaredMachine(d: CompiledDialect): DeviceMachine<S, R, DeclaredAnswer> {
  const listOf = (phase: ListPhase): readonly string[] => d.flow[phase === 'start' ? 'start' : phase];

  const deviceOf = (p: DeviceProfile, version: string): DeviceValues => ({
    id: p.id,
    index: p.index,
    cohort: p.cohort,
    version,
    manuf: p.manuf,
    model: p.model,
    core: p.core,
    taskType: p.taskType,
    battery: p.battery,
    signal: p.signal,
  });

  const request = (st: S, p: DeviceProfile, call: string, extra: Partial<R> = {}): R => ({
    call,
    device: deviceOf(p, st.version),
    ...(st.offer !== undefined ? { offer: st.offer } : {}),
    ...extra,
  });

  const send = (st: S, req: R): DStep => ({ state: { ...st, pending: req }, action: { type: 'send', request: req } });
  const sleep = (st: S, kind: DeclaredKind, until: number): DStep => ({ state: { ...st, kind, until }, action: { type: 'sleep', until } });
  const finish = (st: S, kind: DeclaredKind, reason?: string): DStep => {
    const { pending: _p, until: _u, ...rest } = st;
    return { state: { ...rest, kind, ...(reason !== undefined ? { reason } : {}) }, action: STOP };
  };

  /** The `index`-th call of a list, or what follows the list. */
  function list(st: S, phase: ListPhase, index: number, p: DeviceProfile, s: DeviceSettings, now: number): DStep {
    const calls = listOf(phase);
    if (index < calls.length) return send({ ...st, kind: LIST_KIND[phase], index, attempts: 0 }, request(st, p, calls[index] as string));
    switch (phase) {
      case 'start':
        return check(st, p);
      case 'accept':
        return chunk({ ...st, stalled: 0 }, p, s);
      case 'downloaded':
        return sleep({ ...st, attempts: 0 }, 'rebooting', now + s.rebootMs);
      case 'installed':
        return st.version === st.offer?.version ? finish(st, 'succeeded') : reportFailure(st, 'version', 'failed', p);
    }
  }

  const check = (st: S, p: DeviceProfile): DStep => send({ ...st, kind: 'checking', attempts: 0 }, request(st, p, d.flow.check));

  function chunk(st: S, p: DeviceProfile, s: DeviceSettings): DStep {
    const offer = st.offer as DeclaredOffer;
    const size = offer.size;
    const size1 = Math.max(1, Math.floor(s.chunkSize));
    const range = d.flow.download.range;
    const start = range ? st.held : 0;
    const end = range ? Math.min(start + size1, size) - 1 : size - 1;
    let fault: R['fault'];
    const cut = p.behaviour.disconnect;
    if (cut !== undefined && st.cuts < cut.times) {
      const point = cutPointOf(cut.at, cut.times, st.cuts + 1, size, p.seed);
      if (point !== undefined && point > start && point <= end) fault = { cutAfterBytes: point - start };
    }
    const req = request(st, p, DOWNLOAD_CALL, { download: { start, end, total: size }, ...(fault !== undefined ? { fault } : {}) });
    return send({ ...st, kind: 'downloading', attempts: st.kind === 'downloading' ? st.attempts : 0 }, req);
  }

  function reportFailure(st: S, reason: string, then: AfterFailure, p: DeviceProfile): DStep {
    const final: DeclaredKind = then === 'retry-task' ? 'failed' : then;
    if (d.flow.failure === undefined) return then === 'retry-task' ? check({ ...st, held: 0, lastStep: 0, runs: st.runs + 1 }, p) : finish(st, final, reason);
    const code = d.flow.failureCodes[reason];
    return send({ ...st, kind: 'reporting-failure', then, reason, attempts: 0 }, request(st, p, d.flow.failure, { failure: { reason, ...(code !== undefined ? { code } : {}) } as { reason: string } }));
  }

  /** A failed send: again after retryDelay while attempts last, else `exhausted`. */
  function retry(st: S, s: DeviceSettings, now: number, exhausted: () => DStep): DStep {
    if (st.attempts >= s.maxAttempts) return exhausted();
    return sleep({ ...st, attempts: st.attempts + 1, back: st.kind }, 'retrying', now + s.retryDelayMs);
  }

  function afterBytes(st: S, a: Extract<DeclaredAnswer, { type: 'bytes' | 'net' }>, p: DeviceProfile, s: DeviceSettings, now: number): DStep {
    const offer = st.offer as DeclaredOffer;
    const held = Math.max(0, Math.min(a.held ?? st.held, offer.size));
    const advanced = held > st.held;
    const next: S = { ...st, held, stalled: advanced ? 0 : st.stalled + 1, attempts: advanced ? 0 : st.attempts, ...(a.digest !== undefined ? { digest: a.digest } : {}) };
    if (a.type === 'bytes' && a.cut === true) {
      // The link dropped: without one for reconnectMs, then a fresh check decides whether to resume.
      return sleep({ ...next, cuts: st.cuts + 1 }, 'reconnecting', now + (p.behaviour.disconnect?.reconnectMs ?? 0));
    }
    if (held >= offer.size) return verify(next, p, s, now);
    if (next.stalled >= (s.maxStalledAttempts > 0 ? s.maxStalledAttempts : DEFAULT_MAX_STALLED)) return reportFailure(next, 'download', 'failed', p);
    if (a.type === 'net' && a.held === undefined) return retry(next, s, now, () => reportFailure(next, 'download', 'failed', p));
    const every = Math.floor(s.progressEvery);
    if (d.flow.progress !== undefined && every > 0 && advanced) {
      const step = Math.floor(Math.floor((held * 100) / offer.size) / every) * every;
      if (step > st.lastStep && step < 100) return send({ ...next, kind: 'reporting-progress', lastStep: step }, request(next, p, d.flow.progress, { progress: { step } }));
    }
    return chunk(next, p, s);
  }

  function verify(st: S, p: DeviceProfile, s: DeviceSettings, now: number): DStep {
    const intact = !p.behaviour.corruptDownload && st.digest !== undefined && st.digest.toLowerCase() === st.offer?.hash;
    if (!intact) return reportFailure(st, 'hash', 'retry-task', p);
    return list(st, 'downloaded', 0, p, s, now);
  }

  function onCheck(st: S, a: DeclaredAnswer, p: DeviceProfile, s: DeviceSettings, now: number): DStep {
    if (a.type !== 'event' || a.event === 'error' || a.event === 'ok') return retry(st, s, now, () => finish(st, 'gave-up', a.outcome));
    switch (a.event) {
      case 'none':
        return finish(st, 'up-to-date');
      case 'wait':
        // A server that says "wait" for ever is a finding, not a reason to ask for ever.
        if (st.waits >= MAX_WAITS) return finish(st, 'gave-up', `told to wait ${MAX_WAITS} times`);
        return sleep({ ...st, attempts: 0, waits: st.waits + 1 }, 'waiting', now + (a.waitSec ?? 60) * 1000);
      case 'refused':
        return finish(st, 'rejected', a.reason);
      case 'offer': {
        const offer = a.offer as DeclaredOffer;
        const resume = sameOffer(st.offer, offer) && st.held < offer.size;
        const fresh: S = resume ? { ...st, offer } : { ...st, offer, held: 0, lastStep: 0, stalled: 0, cuts: st.offer === undefined || sameOffer(st.offer, offer) ? st.cuts : 0 };
        const { digest: _drop, ...next } = fresh;
        return list(next, 'accept', 0, p, s, now);
      }
    }
  }

  function onListCall(st: S, phase: ListPhase, a: DeclaredAnswer, p: DeviceProfile, s: DeviceSettings, now: number): DStep {
    if (a.type === 'event' && (a.event === 'ok' || a.event === 'none' || a.event === 'offer')) return list(st, phase, st.index + 1, p, s, now);
    if (a.type === 'event' && a.event === 'wait') {
      if (st.waits >= MAX_WAITS) return finish(st, 'gave-up', `told to wait ${MAX_WAITS} times`);
      return sleep({ ...st, back: st.kind, waits: st.waits + 1 }, 'retrying', now + (a.waitSec ?? 60) * 1000);
    }
    if (a.type === 'event' && a.event === 'refused') return phase === 'start' || phase === 'accept' ? finish(st, 'rejected', a.reason) : reportFailure(st, 'refused', 'failed', p);
    return retry(st, s, now, () => finish(st, 'gave-up', a.outcome));
  }

  function afterFailureReport(st: S, p: DeviceProfile, s: DeviceSettings): DStep {
    const then = st.then ?? 'failed';
    if (then !== 'retry-task') return finish(st, then, st.reason);
    if (st.runs >= s.maxAttempts) return finish(st, 'failed', st.reason);
    const { digest: _d, ...rest } = st;
    return check({ ...rest, held: 0, lastStep: 0, stalled: 0, runs: st.runs + 1 }, p);
  }

  return {
    start(p, s, now) {
      const st: S = { kind: 'starting', version: p.version, index: 0, held: 0, lastStep: 0, attempts: 0, runs: 0, cuts: 0, stalled: 0, waits: 0 };
      return list(st, 'start', 0, p, s, now);
    },
    onTimer(st, p, s, now) {
      switch (st.kind) {
        case 'waiting':
          return check(st, p);
        case 'reconnecting':
          return check(st, p);
        case 'rebooting': {
          const booted = p.behaviour.rebootIntoOld ? st.version : (st.offer?.version ?? st.version);
          return list({ ...st, version: booted }, 'installed', 0, p, s, now);
        }
        case 'retrying':
          return st.pending !== undefined && st.back !== undefined ? send({ ...st, kind: st.back }, st.pending) : check(st, p);
        default:
          return { state: st, action: { type: 'sleep', until: now } };
      }
    },
    onAnswer(st, a, p, s, now) {
      switch (st.kind) {
        case 'checking':
          return onCheck(st, a, p, s, now);
        case 'downloading':
          if (a.type === 'bytes' || a.type === 'net') return afterBytes(st, a, p, s, now);
          return retry({ ...st, stalled: st.stalled + 1 }, s, now, () => reportFailure(st, 'download', 'failed', p));
        case 'reporting-progress':
          return chunk(st, p, s);
        case 'reporting-failure':
          return afterFailureReport(st, p, s);
        default: {
          const phase = PHASE_OF[st.kind];
          return phase === undefined ? { state: st, action: STOP } : onListCall(st, phase, a, p, s, now);
        }
      }
    },
  };

}

/** The sequences a declared device may go through (its kinds are fixed, whatever the file says). */
export const DECLARED_RULES = {
  kinds: [...DECLARED_KINDS],
  next: {
    starting: ['starting', 'retrying', 'checking', 'rejected', 'gave-up'],
    checking: ['accepting', 'downloading', 'waiting', 'retrying', 'up-to-date', 'rejected', 'gave-up'],
    waiting: ['checking'],
    retrying: ['starting', 'checking', 'accepting', 'downloading', 'reporting-downloaded', 'confirming', 'reporting-failure'],
    accepting: ['accepting', 'downloading', 'retrying', 'rejected', 'gave-up'],
    downloading: ['downloading', 'reporting-progress', 'reconnecting', 'reporting-downloaded', 'rebooting', 'retrying', 'reporting-failure', 'checking', 'failed'],
    'reporting-progress': ['downloading'],
    reconnecting: ['checking'],
    'reporting-downloaded': ['reporting-downloaded', 'rebooting', 'retrying', 'reporting-failure', 'failed', 'gave-up'],
    rebooting: ['confirming', 'succeeded', 'reporting-failure', 'failed'],
    confirming: ['confirming', 'succeeded', 'retrying', 'reporting-failure', 'failed', 'gave-up'],
    'reporting-failure': ['checking', 'failed', 'gave-up', 'rejected'],
    succeeded: [],
    'up-to-date': [],
    rejected: [],
    failed: [],
    'gave-up': [],
  } satisfies Record<DeclaredKind, readonly DeclaredKind[]>,
  initial: ['starting', 'checking'],
  final: ['succeeded', 'up-to-date', 'rejected', 'failed', 'gave-up'],
} as const;
