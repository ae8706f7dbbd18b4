/**
 * The LwM2M device (OMA LwM2M 1.1 over CoAP, queue mode): Register, then awake windows in which
 * it answers the server (Objects 0, 1, 3, 5), PSM sleeps between them, an Update on each wake,
 * De-register at the end. A Package URI write starts a pull download of the package block by
 * block (CoAP Block2, resumed from the last good block); Update executes only from State 2.
 *
 * Pure, like every machine: the engine's clock gives `now`, the CoAP transport carries the
 * requests, and server requests come as the answer to a `listen`. Whether the device answers a
 * server's CON at all (asleep, or a cohort that drops ACKs) is decided here or by its sleep.
 */
import { hashUniform } from '../../random/rng.js';
import { FIRMWARE_STATE, UPDATE_RESULT, type UpdateResult } from '../../protocol/lwm2m.js';
import { COAP_CODE } from '../../protocol/coap.js';
import { nextBlock2, onBlock2, startBlock2 } from '../../coap/block.js';
import type { DeviceMachine, DeviceProfile, DeviceSettings, Step } from '../types.js';
import { execute, observes, read, write, type Reply } from './objects.js';
import { DEFAULT_LWM2M_SETTINGS, type Lwm2mAnswer, type Lwm2mCore, type Lwm2mDeviceSettings, type Lwm2mKind, type Lwm2mRequest, type Lwm2mState, type ServerCall } from './types.js';
import type { ServerRequestRef } from '../../dialect/coap.js';

/** Stream of the per-request ACK-drop draws. */
export const ACK_DROP_STREAM = 0xac4d_0001;
/** What the device registers (Objects 1, 3, 5; Object 0 is the bootstrap server's alone). */
export const REGISTERED_OBJECTS = '</1/0>,</3/0>,</5/0>';

type S = Lwm2mState;
type R = Lwm2mRequest;
type A = Lwm2mAnswer;

export const lwm2mSettings = (s: DeviceSettings): Lwm2mDeviceSettings => s.lwm2m ?? DEFAULT_LWM2M_SETTINGS;

const at = (kind: Lwm2mKind, c: Lwm2mCore): S => ({ ...c, kind });
const send = (kind: Lwm2mKind, c: Lwm2mCore, request: R): Step<S, R> => ({ state: at(kind, c), action: { type: 'send', request } });
const sleep = (kind: Lwm2mKind, c: Lwm2mCore, until: number): Step<S, R> => ({ state: at(kind, c), action: { type: 'sleep', until } });
const stop = (kind: Lwm2mKind, c: Lwm2mCore): Step<S, R> => ({ state: { ...c, kind, code: c.fw.result }, action: { type: 'stop' } });

/** Going quiet: with `sleepingSocket: close` the socket goes too (its next datagram from a new port). */
const asleepRequest = (s: Lwm2mDeviceSettings): R => (s.sleepingSocket === 'close' ? { op: 'sleep', release: true } : { op: 'sleep' });

/** Every uplink keeps a queue-mode device reachable for `awakeMs` after it (LwM2M 1.1 §6.5). */
const spoke = (c: Lwm2mCore, now: number, s: Lwm2mDeviceSettings): Lwm2mCore => ({ ...c, awakeUntil: Math.max(c.awakeUntil, now + s.awakeMs) });

function register(c: Lwm2mCore, p: DeviceProfile, s: Lwm2mDeviceSettings, now: number, rebind = false): Step<S, R> {
  // A new registration drops the server's observations (§6.2.1): the device forgets them too.
  const fresh: Lwm2mCore = { ...spoke(c, now, s), location: undefined, observations: [], notices: [] };
  return send('registering', fresh, { op: 'register', endpoint: p.id, lifetimeSec: s.lifetimeSec, binding: s.binding, objects: REGISTERED_OBJECTS, ...(rebind ? { rebind } : {}), version: c.version, fwResult: c.fw.result });
}

function listen(c: Lwm2mCore, now: number, s: Lwm2mDeviceSettings, ds: DeviceSettings): Step<S, R> {
  if (c.notices.length > 0) return notify(c, now, s, ds);
  if (now >= c.awakeUntil) return windowEnded(c, now, s, ds);
  return send('listening', c, { op: 'listen', until: c.awakeUntil });
}

/** The device's state at the end, from what its Object 5 says. */
function finalKind(c: Lwm2mCore): Lwm2mKind {
  if (c.fw.result === UPDATE_RESULT.SUCCESS) return 'succeeded';
  if (c.downloads === 0 && c.fw.result === UPDATE_RESULT.INITIAL) return 'up-to-date';
  return 'failed';
}

function deregister(c: Lwm2mCore): Step<S, R> {
  if (c.location === undefined) return stop(finalKind(c), c);
  return send('deregistering', c, { op: 'deregister', location: c.location });
}

function windowEnded(c: Lwm2mCore, now: number, s: Lwm2mDeviceSettings, ds: DeviceSettings): Step<S, R> {
  const windowsAfter = c.fw.result === UPDATE_RESULT.SUCCESS ? c.windowsAfterSuccess + 1 : 0;
  const next = { ...c, windowsAfterSuccess: windowsAfter };
  if (c.fw.result === UPDATE_RESULT.SUCCESS && windowsAfter >= s.windowsAfterSuccess) return deregister(next);
  if (c.wakes >= s.maxWakes) return deregister(next);
  void ds;
  return send('asleep', next, asleepRequest(s));
}

/** Observers of `changed` paths, as tokens to notify (each once). */
function noticesFor(c: Lwm2mCore, changed: readonly string[]): string[] {
  const tokens = new Set(c.notices);
  for (const o of c.observations) if (changed.some((path) => observes(o.path, path))) tokens.add(o.token);
  return [...tokens];
}

const FW_STATE_PATH = '/5/0/3';
const FW_RESULT_PATH = '/5/0/5';
const FW_VERSION_PATH = '/3/0/3';

function notify(c: Lwm2mCore, now: number, s: Lwm2mDeviceSettings, ds: DeviceSettings): Step<S, R> {
  const [token, ...rest] = c.notices;
  const o = c.observations.find((x) => x.token === token);
  if (o === undefined) return afterReply({ ...c, notices: rest }, now, s, ds);
  const path = o.path.split('/').filter(Boolean).map(Number);
  const value = readValue(path, c, s);
  const observations = c.observations.map((x) => (x.token === token ? { ...x, seq: (x.seq + 1) & 0xffffff } : x));
  return send('notifying', spoke({ ...c, notices: rest, observations }, now, s), { op: 'notify', token: o.token, observe: o.seq, body: value.body ?? '', contentFormat: value.contentFormat ?? 0, path: o.path, ...(ds.confirmableNotify === true ? { confirmable: true as const } : {}) });
}

/** Read without a profile: the values a notification carries (Object 5 and the version). */
function readValue(path: readonly number[], c: Lwm2mCore, s: Lwm2mDeviceSettings): Reply {
  const anonymous: DeviceProfile = { index: 0, id: '', cohort: '', version: c.version, manuf: '', model: '', core: '', taskType: 1, battery: 0, signal: 0, seed: 0, behaviour: { corruptDownload: false, rebootIntoOld: false } };
  return read(path, c, anonymous, s);
}

/** `c` is the device after the call; `before` as the call found it (the evidence keeps Object 5 then). */
function reply(c: Lwm2mCore, to: ServerRequestRef, r: Reply, then: Lwm2mCore['then'], observe?: number, evidence?: { call: ServerCall; before: Lwm2mCore }): Step<S, R> {
  const facts = evidence === undefined ? {} : { call: callText(evidence.call), fwState: evidence.before.fw.state, fwResult: evidence.before.fw.result };
  return send('answering', { ...c, then }, { op: 'reply', to, code: r.code, ...facts, ...(r.body === undefined ? {} : { body: r.body }), ...(r.contentFormat === undefined ? {} : { contentFormat: r.contentFormat }), ...(observe === undefined ? {} : { observe }) });
}

export const callText = (c: ServerCall): string => (c.op === 'unsupported' ? `unsupported ${c.path}` : `${c.op}${c.op === 'read' && c.observe !== undefined ? `(observe ${c.observe})` : ''} /${c.path.join('/')}`);

function onServerCall(c0: Lwm2mCore, ref: ServerRequestRef, call: ServerCall, p: DeviceProfile, s: Lwm2mDeviceSettings, now: number): Step<S, R> {
  const c = spoke(c0, now, s);
  const drop = p.behaviour.dropAcks;
  if (drop !== undefined && drop.rate > 0 && hashUniform(p.seed, ACK_DROP_STREAM, c.draws) < drop.rate) {
    // Processed nowhere, acknowledged never: the server's retransmission is the next chance.
    return send('answering', { ...c0, draws: c0.draws + 1, then: 'listen' }, { op: 'reply', to: ref, code: COAP_CODE.EMPTY, drop: true, call: callText(call), fwState: c0.fw.state, fwResult: c0.fw.result });
  }
  const drawn = drop !== undefined && drop.rate > 0 ? { ...c, draws: c.draws + 1 } : c;
  switch (call.op) {
    case 'read': {
      const r = read(call.path, drawn, p, s);
      const path = '/' + call.path.join('/');
      if (call.observe === 'register' && r.code === COAP_CODE.CONTENT) {
        const others = drawn.observations.filter((o) => o.path !== path);
        return reply({ ...drawn, observations: [...others, { path, token: call.token, seq: 1 }] }, ref, r, 'listen', 0, { call, before: drawn });
      }
      const observations = call.observe === 'deregister' ? drawn.observations.filter((o) => o.token !== call.token) : drawn.observations;
      return reply({ ...drawn, observations }, ref, r, 'listen', undefined, { call, before: drawn });
    }
    case 'write': {
      const w = write(call.path, call.value, drawn, s);
      const changed = w.fw.state !== drawn.fw.state || w.fw.result !== drawn.fw.result ? [FW_STATE_PATH, FW_RESULT_PATH] : [];
      const next: Lwm2mCore = { ...drawn, fw: w.fw, notices: noticesFor(drawn, changed) };
      if (w.source === undefined) return reply(next, ref, w.reply, 'listen', undefined, { call, before: drawn });
      return reply({ ...next, download: { ...startBlock2(s.blockSzx), source: w.source }, downloads: next.downloads + 1, stalls: 0 }, ref, w.reply, 'download', undefined, { call, before: drawn });
    }
    case 'execute': {
      const x = execute(call.path, drawn);
      const next: Lwm2mCore = { ...drawn, fw: x.fw, notices: x.reboot ? noticesFor(drawn, [FW_STATE_PATH]) : drawn.notices };
      return reply(next, ref, x.reply, x.reboot ? 'reboot' : 'listen', undefined, { call, before: drawn });
    }
    case 'unsupported':
      return reply(drawn, ref, { code: call.code }, 'listen', undefined, { call, before: drawn });
  }
}

function askBlock(c: Lwm2mCore, now: number, s: Lwm2mDeviceSettings, ds?: DeviceSettings): Step<S, R> {
  const d = c.download!;
  if (d.source.http !== undefined) {
    // An http:// package: ranged GETs of chunkSize from the first byte not held.
    const size = Math.max(1, ds?.chunkSize ?? 16 * 1024);
    const end = d.size === undefined ? d.held + size - 1 : Math.min(d.size - 1, d.held + size - 1);
    return send('downloading', spoke(c, now, s), { op: 'chunk', url: d.source.http, start: d.held, end });
  }
  return send('downloading', spoke(c, now, s), { op: 'block', source: d.source, block: nextBlock2(d) });
}

/** What a ranged GET's answer means: bytes held in order come from the transport's assembly. */
function onChunkAnswer(c: Lwm2mCore, a: Extract<A, { type: 'chunk' }>, p: DeviceProfile, s: Lwm2mDeviceSettings, ds: DeviceSettings, now: number): Step<S, R> {
  const d = c.download!;
  if (a.status === 404 || a.status === 410) return downloadFailed(c, UPDATE_RESULT.INVALID_URI, now, s, ds);
  if (a.status !== 200 && a.status !== 206) {
    const stalls = c.stalls + 1;
    if (stalls > ds.maxStalledAttempts) return downloadFailed(c, UPDATE_RESULT.CONNECTION_LOST, now, s, ds);
    return askBlock({ ...c, stalls }, now, s, ds);
  }
  const total = a.total ?? d.size;
  const grown = a.held > d.held;
  const done = total !== undefined && a.held >= total && a.md5 !== undefined;
  const next: Lwm2mCore = { ...c, download: { ...d, held: a.held, size: total, done }, stalls: grown ? 0 : c.stalls + 1 };
  if (!grown && next.stalls > ds.maxStalledAttempts) return downloadFailed(c, UPDATE_RESULT.CONNECTION_LOST, now, s, ds);
  if (!done) return askBlock(next, now, s, ds);
  if (p.behaviour.corruptDownload) return downloadFailed(next, UPDATE_RESULT.INTEGRITY_CHECK_FAILURE, now, s, ds);
  return listen({ ...next, download: undefined, fw: { ...c.fw, state: FIRMWARE_STATE.DOWNLOADED }, notices: noticesFor(c, [FW_STATE_PATH]) }, now, s, ds);
}

function downloadFailed(c: Lwm2mCore, result: UpdateResult, now: number, s: Lwm2mDeviceSettings, ds: DeviceSettings): Step<S, R> {
  const next: Lwm2mCore = { ...c, download: undefined, fw: { ...c.fw, state: FIRMWARE_STATE.IDLE, result, pending: undefined }, notices: noticesFor(c, [FW_STATE_PATH, FW_RESULT_PATH]) };
  return listen(next, now, s, ds);
}

function onBlockAnswer(c: Lwm2mCore, a: A, p: DeviceProfile, s: Lwm2mDeviceSettings, ds: DeviceSettings, now: number): Step<S, R> {
  const d = c.download!;
  if (a.type === 'chunk') return onChunkAnswer(c, a, p, s, ds, now);
  if (a.type !== 'block') {
    // No answer to this block after the CON's retransmissions: ask again, from the last good block.
    const stalls = c.stalls + 1;
    if (stalls > ds.maxStalledAttempts) return downloadFailed(c, UPDATE_RESULT.CONNECTION_LOST, now, s, ds);
    return askBlock({ ...c, stalls }, now, s, ds);
  }
  const out = onBlock2(d, { code: a.code, block: a.block, etag: a.etag, size: a.size, payloadBytes: a.payloadBytes });
  switch (out.kind) {
    case 'failed':
      return downloadFailed(c, a.code === COAP_CODE.NOT_FOUND ? UPDATE_RESULT.INVALID_URI : UPDATE_RESULT.CONNECTION_LOST, now, s, ds);
    case 'restart':
      return askBlock({ ...c, download: { ...out.state, source: d.source }, stalls: 0 }, now, s);
    case 'skipped': {
      const stalls = c.stalls + 1;
      if (stalls > ds.maxStalledAttempts) return downloadFailed(c, UPDATE_RESULT.CONNECTION_LOST, now, s, ds);
      return askBlock({ ...c, stalls }, now, s);
    }
    case 'accepted': {
      const grown = out.state.held > d.held;
      const next: Lwm2mCore = { ...c, download: { ...out.state, source: d.source }, stalls: grown ? 0 : c.stalls + 1 };
      if (!out.state.done) return askBlock(next, now, s);
      // The package is held: the device's own integrity check decides (a corrupt cohort fails it).
      if (p.behaviour.corruptDownload) return downloadFailed(next, UPDATE_RESULT.INTEGRITY_CHECK_FAILURE, now, s, ds);
      const done: Lwm2mCore = { ...next, download: undefined, fw: { ...c.fw, state: FIRMWARE_STATE.DOWNLOADED }, notices: noticesFor(c, [FW_STATE_PATH]) };
      return listen(done, now, s, ds);
    }
  }
}

function afterReply(c: Lwm2mCore, now: number, s: Lwm2mDeviceSettings, ds: DeviceSettings): Step<S, R> {
  if (c.notices.length > 0) return notify(c, now, s, ds);
  const next = { ...c, then: 'listen' as const };
  if (c.then === 'download') return askBlock(next, now, s, ds);
  // Rebooting: unreachable from now (the transport answers nothing), back after rebootMs.
  if (c.then === 'reboot') return send('rebooting', next, asleepRequest(s));
  return listen(next, now, s, ds);
}

/** Asks again after its retry delay, or later when the server said when (a 5.03's Max-Age). */
function retryRegistration(c: Lwm2mCore, kind: 'registering' | 'updating', now: number, ds: DeviceSettings, serverSaysMs?: number): Step<S, R> {
  const attempts = c.attempts + 1;
  if (attempts >= Math.max(1, ds.maxAttempts)) return stop('gave-up', { ...c, attempts });
  return sleep(kind, { ...c, attempts }, now + Math.max(ds.retryDelayMs, serverSaysMs ?? 0));
}

export const lwm2mMachine: DeviceMachine<S, R, A> = {
  start(p, ds, now) {
    const c: Lwm2mCore = {
      version: p.version,
      location: undefined,
      fw: { state: FIRMWARE_STATE.IDLE, result: UPDATE_RESULT.INITIAL, uri: '', pending: undefined },
      wakes: 0,
      attempts: 0,
      stalls: 0,
      download: undefined,
      downloads: 0,
      observations: [],
      notices: [],
      awakeUntil: now,
      draws: 0,
      seenCount: 0,
      then: 'listen',
      windowsAfterSuccess: 0,
    };
    return register(c, p, lwm2mSettings(ds), now);
  },

  onTimer(st, p, ds, now) {
    const s = lwm2mSettings(ds);
    switch (st.kind) {
      case 'registering':
        return register(st, p, s, now);
      case 'updating':
        return st.location === undefined ? register(st, p, s, now) : send('updating', spoke(st, now, s), { op: 'update', location: st.location });
      case 'rebooting': {
        // The new image boots, or the old one does (a cohort that reboots into old fails the update).
        const failed = p.behaviour.rebootIntoOld;
        const fw = { state: FIRMWARE_STATE.IDLE, result: failed ? UPDATE_RESULT.UPDATE_FAILED : UPDATE_RESULT.SUCCESS, uri: st.fw.uri, pending: undefined };
        return register({ ...st, fw, version: failed ? st.version : (st.fw.pending ?? st.version) }, p, s, now);
      }
      case 'asleep': {
        const wakes = st.wakes + 1;
        if (st.location === undefined) return register({ ...st, wakes }, p, s, now, p.behaviour.natRebind === true);
        return send('updating', spoke({ ...st, wakes }, now, s), { op: 'update', location: st.location, ...(p.behaviour.natRebind === true ? { rebind: true } : {}) });
      }
      default:
        return listen(st, now, s, ds);
    }
  },

  onAnswer(st0, a, p, ds, now) {
    const s = lwm2mSettings(ds);
    const st: S = a.seen !== undefined && a.seen.length > 0 ? { ...st0, seenCount: st0.seenCount + a.seen.length } : st0;
    switch (st.kind) {
      case 'registering':
        // The window runs from when the server heard the device: a PSM radio may have held the Register back long after it was decided.
        if (a.type === 'created') return listen(spoke({ ...st, location: a.location, attempts: 0 }, now, s), now, s, ds);
        return retryRegistration(st, 'registering', now, ds, a.type === 'refused' ? a.retryAfterMs : undefined);
      case 'updating':
        if (a.type === 'ok') return listen(spoke({ ...st, attempts: 0 }, now, s), now, s, ds);
        // The server forgot the registration (lifetime ran out, restart): register afresh.
        if (a.type === 'refused' && a.code === COAP_CODE.NOT_FOUND) return register(st, p, s, now);
        return retryRegistration(st, 'updating', now, ds, a.type === 'refused' ? a.retryAfterMs : undefined);
      case 'listening':
        if (a.type === 'server') return onServerCall(st, a.ref, a.call, p, s, now);
        if (a.type === 'quiet' || a.type === 'net') return windowEnded(st, now, s, ds);
        return listen(st, now, s, ds);
      case 'answering':
        return afterReply(st, now, s, ds);
      case 'notifying':
        return afterReply(st, now, s, ds);
      case 'downloading':
        return onBlockAnswer(st, a, p, s, ds, now);
      case 'asleep':
        return sleep('asleep', st, now + s.wakeEveryMs);
      case 'deregistering':
        return stop(finalKind(st), { ...st, location: undefined });
      case 'rebooting':
        return sleep('rebooting', st, now + ds.rebootMs);
      default:
        return { state: st, action: { type: 'sleep', until: now } };
    }
  },
};
