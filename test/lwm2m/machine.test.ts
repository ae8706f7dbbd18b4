import { describe, expect, it } from 'vitest';
import { lwm2mMachine, REGISTERED_OBJECTS } from '../../src/device/lwm2m/machine.js';
import { lwm2mRules } from '../../src/device/lwm2m/rules.js';
import type { Lwm2mAnswer, Lwm2mRequest, Lwm2mState, ServerCall } from '../../src/device/lwm2m/types.js';
import { DEFAULT_LWM2M_SETTINGS } from '../../src/device/lwm2m/types.js';
import { Driver, illegalTransitions, makeProfile, SETTINGS } from '../device/drive.js';
import type { DeviceSettings } from '../../src/device/types.js';
import { blockSize } from '../../src/protocol/coap.js';

const LW = { ...DEFAULT_LWM2M_SETTINGS, awakeMs: 10_000, wakeEveryMs: 100_000, maxWakes: 3, blockSzx: 6, windowsAfterSuccess: 1 };
const settings: DeviceSettings = { ...SETTINGS, maxStalledAttempts: 3, lwm2m: LW };
const PACKAGE = 5_000;
const URI = 'coap://127.0.0.1:5683/fw/2.0.0.bin';

type D = Driver<Lwm2mState, Lwm2mRequest, Lwm2mAnswer>;
const device = (over: Parameters<typeof makeProfile>[0] = {}, s: DeviceSettings = settings): D => new Driver(lwm2mMachine, makeProfile(over), s).start();
let mid = 100;
const call = (c: ServerCall): Lwm2mAnswer => ({ type: 'server', ref: { messageId: mid++, token: 'aa' }, call: c });
const blockAnswer = (num: number, szx = 6, total = PACKAGE): Lwm2mAnswer => {
  const size = blockSize(szx);
  const more = (num + 1) * size < total;
  const payloadBytes = more ? size : total - num * size;
  return { type: 'block', code: '2.05', block: { num, more, szx }, payloadBytes, held: num * size + payloadBytes };
};
/** Answers block asks until the download ends. */
function serveBlocks(d: D, answer: (num: number) => Lwm2mAnswer = (n) => blockAnswer(n)): number[] {
  const asks: number[] = [];
  while (d.state.kind === 'downloading') {
    const r = d.request;
    if (r.op !== 'block') throw new Error(`expected a block ask, got ${r.op}`);
    asks.push(r.block.num);
    d.answer(answer(r.block.num));
  }
  return asks;
}

describe('LwM2M device: registration interface', () => {
  it('registers with ep, lifetime, binding UQ and its objects, then listens for its awake window', () => {
    const d = device();
    expect(d.request).toEqual({ op: 'register', endpoint: '522700001', lifetimeSec: LW.lifetimeSec, binding: 'UQ', objects: REGISTERED_OBJECTS, version: '1.0.0', fwResult: 0 });
    expect(REGISTERED_OBJECTS).not.toContain('</0/');
    d.answer({ type: 'created', location: '/rd/42' });
    expect(d.request).toEqual({ op: 'listen', until: d.now + LW.awakeMs });
  });

  it('a Register or Update the radio held back (PSM) opens the awake window when it is answered, not when it was decided', () => {
    // The engine holds a PSM device's first Register until its radio wakes, minutes after the
    // device decided it: the server's queue-mode window starts when it hears the device.
    const d = device();
    d.now += 10 * LW.awakeMs;
    d.answer({ type: 'created', location: '/rd/42' });
    expect(d.request).toEqual({ op: 'listen', until: d.now + LW.awakeMs });
    d.now = d.request.op === 'listen' ? d.request.until : d.now;
    d.answer({ type: 'quiet' });
    expect(d.request.op).toBe('sleep');
    d.answer({ type: 'done' }).wake();
    expect(d.request.op).toBe('update');
    d.now += 10 * LW.awakeMs;
    d.answer({ type: 'ok', code: '2.04' });
    expect(d.request).toEqual({ op: 'listen', until: d.now + LW.awakeMs });
  });

  it('sleeps after a quiet window, Updates on each wake, de-registers after maxWakes', () => {
    const d = device().answer({ type: 'created', location: '/rd/42' });
    const ops: string[] = [];
    d.run((r, dd) => {
      ops.push(r.op);
      if (r.op === 'listen') dd.now = r.until;
      return r.op === 'listen' ? { type: 'quiet' } : r.op === 'sleep' ? { type: 'done' } : { type: 'ok', code: r.op === 'deregister' ? '2.02' : '2.04' };
    });
    expect(ops.filter((o) => o === 'update')).toHaveLength(3);
    expect(ops.at(-1)).toBe('deregister');
    expect(d.sent.filter((r) => r.op === 'update').every((r) => r.op === 'update' && r.location === '/rd/42')).toBe(true);
    expect(d.state.kind).toBe('up-to-date');
    expect(illegalTransitions(d.kinds, lwm2mRules)).toEqual([]);
  });

  it('with sleepingSocket close its sleeps let the socket go (the default keeps it, to witness what reaches it asleep)', () => {
    const sleepOf = (lw: typeof LW) => {
      const d = device({}, { ...settings, lwm2m: lw }).answer({ type: 'created', location: '/rd/42' });
      if (d.request.op === 'listen') d.now = d.request.until;
      d.answer({ type: 'quiet' });
      return d.request;
    };
    expect(sleepOf({ ...LW, sleepingSocket: 'close' })).toEqual({ op: 'sleep', release: true });
    expect(sleepOf(LW)).toEqual({ op: 'sleep' });
  });

  it('a NAT-rebinding cohort sends each wake’s Update from a new source port', () => {
    const d = device({ behaviour: { corruptDownload: false, rebootIntoOld: false, natRebind: true } }).answer({ type: 'created', location: '/rd/1' });
    d.now = LW.awakeMs + d.now;
    d.answer({ type: 'quiet' }).answer({ type: 'done' }).wake();
    expect(d.request).toEqual({ op: 'update', location: '/rd/1', rebind: true });
  });

  it('an Update the server no longer knows (4.04) registers afresh; failures retry then give up', () => {
    const d = device().answer({ type: 'created', location: '/rd/1' });
    d.now += LW.awakeMs;
    d.answer({ type: 'quiet' }).answer({ type: 'done' }).wake();
    d.answer({ type: 'refused', code: '4.04' });
    expect(d.request.op).toBe('register');
    d.answer({ type: 'net', code: 'TIMEOUT' });
    expect(d.sleepMs).toBe(SETTINGS.retryDelayMs);
    d.wake().answer({ type: 'net', code: 'TIMEOUT' });
    expect(d.state.kind).toBe('gave-up');
    expect(d.stopped).toBe(true);
  });
});

describe('LwM2M device: Object 5 firmware update', () => {
  const registered = (over: Parameters<typeof makeProfile>[0] = {}): D => device(over).answer({ type: 'created', location: '/rd/7' });

  it('Package URI write → Block2 pull → State 2 → Update → reboot → new version, Result 1, re-register, de-register', () => {
    const d = registered();
    d.answer(call({ op: 'write', path: [5, 0, 1], value: URI }));
    expect(d.request).toMatchObject({ op: 'reply', code: '2.04' });
    d.answer({ type: 'done' });
    expect(d.state.fw.state).toBe(1);
    const asks = serveBlocks(d);
    expect(asks).toEqual([0, 1, 2, 3, 4]);
    expect(d.state.fw.state).toBe(2);
    expect(d.request.op).toBe('listen');
    d.answer(call({ op: 'read', path: [5, 0, 3], token: 'bb' }));
    expect(d.request).toMatchObject({ op: 'reply', code: '2.05', body: '2' });
    d.answer({ type: 'done' }).answer(call({ op: 'execute', path: [5, 0, 2] }));
    expect(d.request).toMatchObject({ op: 'reply', code: '2.04' });
    d.answer({ type: 'done' });
    expect(d.state.kind).toBe('rebooting');
    expect(d.request.op).toBe('sleep'); // unreachable while it reboots
    d.answer({ type: 'done' });
    expect(d.sleepMs).toBe(SETTINGS.rebootMs);
    d.wake();
    expect(d.request.op).toBe('register');
    expect(d.state.version).toBe('2.0.0');
    expect(d.state.fw).toMatchObject({ state: 0, result: 1 });
    d.answer({ type: 'created', location: '/rd/8' }).answer(call({ op: 'read', path: [5, 0, 5], token: 'cc' }));
    expect(d.request).toMatchObject({ body: '1' });
    d.answer({ type: 'done' }).answer(call({ op: 'read', path: [3, 0, 3], token: 'dd' }));
    expect(d.request).toMatchObject({ body: '2.0.0' });
    d.answer({ type: 'done' });
    d.now = (d.request as { until: number }).until;
    d.answer({ type: 'quiet' });
    expect(d.request).toEqual({ op: 'deregister', location: '/rd/8' });
    d.answer({ type: 'ok', code: '2.02' });
    expect(d.state.kind).toBe('succeeded');
    expect(illegalTransitions(d.kinds, lwm2mRules)).toEqual([]);
  });

  it('Update before State 2 is refused with 4.05 and changes nothing', () => {
    const d = registered();
    d.answer(call({ op: 'execute', path: [5, 0, 2] }));
    expect(d.request).toMatchObject({ op: 'reply', code: '4.05' });
    expect(d.state.fw.state).toBe(0);
  });

  it('a lost block is asked again (resume from the last good block); too many stalls → Result 4', () => {
    const d = registered().answer(call({ op: 'write', path: [5, 0, 1], value: URI })).answer({ type: 'done' });
    let lost = 0;
    const asks = serveBlocks(d, (n) => (n === 2 && lost++ < 2 ? { type: 'net', code: 'TIMEOUT' } : blockAnswer(n)));
    expect(asks).toEqual([0, 1, 2, 2, 2, 3, 4]);
    expect(d.state.fw.state).toBe(2);

    const e = registered().answer(call({ op: 'write', path: [5, 0, 1], value: URI })).answer({ type: 'done' });
    serveBlocks(e, (n) => (n === 1 ? { type: 'net', code: 'TIMEOUT' } : blockAnswer(n)));
    expect(e.state.fw).toMatchObject({ state: 0, result: 4 });
  });

  it('an ETag change starts the download over from block 0', () => {
    const d = registered().answer(call({ op: 'write', path: [5, 0, 1], value: URI })).answer({ type: 'done' });
    let changed = false;
    const asks = serveBlocks(d, (n) => {
      if (n === 2 && !changed) {
        changed = true;
        return { ...blockAnswer(n), etag: 'bb' };
      }
      return { ...blockAnswer(n), etag: changed ? 'bb' : 'aa' };
    });
    expect(asks).toEqual([0, 1, 2, 0, 1, 2, 3, 4]);
  });

  it('pulls an http:// package by ranged GETs of chunkSize, then State 2', () => {
    const d = registered().answer(call({ op: 'write', path: [5, 0, 1], value: 'http://127.0.0.1:8080/fw/2.0.0.bin' })).answer({ type: 'done' });
    const asks: string[] = [];
    const total = 250;
    while (d.state.kind === 'downloading') {
      const r = d.request;
      if (r.op !== 'chunk') throw new Error(r.op);
      asks.push(`${r.start}-${r.end}`);
      const held = Math.min(total, r.end + 1);
      d.answer(asks.length === 2 && !asks.includes('lost') ? (asks.push('lost'), { type: 'net', code: 'ECONNRESET' }) : { type: 'chunk', status: 206, total, held, ...(held === total ? { md5: 'x' } : {}) });
    }
    expect(asks).toEqual(['0-99', '100-199', 'lost', '100-199', '200-249']);
    expect(d.state.fw.state).toBe(2);
    const gone = registered().answer(call({ op: 'write', path: [5, 0, 1], value: 'http://127.0.0.1:8080/none' })).answer({ type: 'done' });
    gone.answer({ type: 'chunk', status: 404, total: undefined, held: 0 });
    expect(gone.state.fw).toMatchObject({ state: 0, result: 7 });
  });

  it('refuses what it cannot pull: coaps / https → 9, garbage → 7, 4.04 on the package → 7; corrupt image → 5', () => {
    for (const [uri, result] of [['coaps://127.0.0.1/fw', 9], ['https://127.0.0.1/fw', 9], ['not a uri', 7]] as const) {
      const d = registered().answer(call({ op: 'write', path: [5, 0, 1], value: uri }));
      expect(d.request).toMatchObject({ code: '2.04' });
      expect(d.state.fw).toMatchObject({ state: 0, result });
    }
    const nf = registered().answer(call({ op: 'write', path: [5, 0, 1], value: URI })).answer({ type: 'done' });
    nf.answer({ type: 'block', code: '4.04', payloadBytes: 0, held: 0 });
    expect(nf.state.fw).toMatchObject({ state: 0, result: 7 });
    const bad = registered({ behaviour: { corruptDownload: true, rebootIntoOld: false } }).answer(call({ op: 'write', path: [5, 0, 1], value: URI })).answer({ type: 'done' });
    serveBlocks(bad);
    expect(bad.state.fw).toMatchObject({ state: 0, result: 5 });
  });

  it('an observer of /5/0/3 is notified of each state change, numbers rising', () => {
    const d = registered().answer(call({ op: 'read', path: [5, 0, 3], token: 'ob', observe: 'register' }));
    expect(d.request).toMatchObject({ op: 'reply', code: '2.05', observe: 0 });
    d.answer({ type: 'done' }).answer(call({ op: 'write', path: [5, 0, 1], value: URI })).answer({ type: 'done' });
    expect(d.request).toMatchObject({ op: 'notify', token: 'ob', observe: 1, body: '1' });
    d.answer({ type: 'done' });
    serveBlocks(d);
    expect(d.request).toMatchObject({ op: 'notify', token: 'ob', observe: 2, body: '2' });
  });

  it('a cohort that drops ACKs leaves some requests unanswered (drawn per request from its seed)', () => {
    const d = registered({ behaviour: { corruptDownload: false, rebootIntoOld: false, dropAcks: { rate: 0.5 } } });
    let dropped = 0;
    for (let i = 0; i < 40; i++) {
      d.answer(call({ op: 'read', path: [3, 0, 0], token: 'x' }));
      if ((d.request as { drop?: boolean }).drop === true) dropped++;
      d.answer({ type: 'done' });
    }
    expect(dropped).toBeGreaterThan(8);
    expect(dropped).toBeLessThan(32);
  });

  it('reads Objects 1 and 3; the Security object is refused, an unknown path is 4.04', () => {
    const d = registered();
    d.answer(call({ op: 'read', path: [3, 0], token: 'z' }));
    const body = JSON.parse((d.request as { body: string }).body) as { bn: string; e: { n: string }[] };
    expect(body.bn).toBe('/3/0/');
    expect(body.e.map((x) => x.n)).toContain('3');
    d.answer({ type: 'done' }).answer(call({ op: 'read', path: [1, 0, 7], token: 'z' }));
    expect(d.request).toMatchObject({ body: 'UQ' });
    d.answer({ type: 'done' }).answer(call({ op: 'read', path: [0, 0, 0], token: 'z' }));
    expect(d.request).toMatchObject({ code: '4.01' });
    d.answer({ type: 'done' }).answer(call({ op: 'read', path: [9, 0, 0], token: 'z' }));
    expect(d.request).toMatchObject({ code: '4.04' });
  });
});
