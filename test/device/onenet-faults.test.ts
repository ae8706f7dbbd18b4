/**
 * The OneNET device's field faults (docs/faults.md): a link cut mid-download and the resume (or the
 * restart after a republish), full storage, a battery that dies, a flash that fails, a long sleep
 * past the token's life with a stale Authorization, and a progress report flushed after the upgrade.
 */
import { describe, expect, it } from 'vitest';
import { onenetMachine, cutPointOf, type OnenetAnswer, type OnenetDeviceState, type OnenetRequest } from '../../src/device/onenet/machine.js';
import type { OnenetOffer } from '../../src/device/onenet/types.js';
import { onenetRules } from '../../src/device/rules.js';
import { NO_FAULTS, type Behaviour, type DeviceSettings } from '../../src/device/types.js';
import { Driver, SETTINGS, illegalTransitions, makeProfile } from './drive.js';

const MD5 = '0123456789abcdef0123456789abcdef';
const OTHER_MD5 = 'ffffffffffffffffffffffffffffffff';
const OFFER: OnenetOffer = { target: '2.0.0', token: 'tok-1', size: 1000, md5: MD5, signal: 10, power: 20, retry: 2, interval: 30, type: 1 };
const json = (errno: number): OnenetAnswer => ({ type: 'json', errno });
const offer = (over: Partial<OnenetOffer> = {}): OnenetAnswer => ({ type: 'json', errno: 0, offer: { ...OFFER, ...over } });
const DAY = 86_400_000;

type D = Driver<OnenetDeviceState, OnenetRequest, OnenetAnswer>;

function device(behaviour: Partial<Behaviour>, settings: Partial<DeviceSettings> = {}): D {
  return new Driver(onenetMachine, makeProfile({ behaviour: { ...NO_FAULTS, ...behaviour } }), { ...SETTINGS, progressEvery: 0, ...settings }).start();
}

/** What a well-behaved server and engine answer; a request carrying a cut gets the bytes before it. */
function serve(req: OnenetRequest, md5 = MD5): OnenetAnswer {
  switch (req.op) {
    case 'download': {
      const cut = req.fault?.cutAfterBytes;
      if (cut !== undefined) return { type: 'file', held: req.start + cut, cut: true };
      const held = req.end + 1;
      return held === req.total ? { type: 'file', held, md5 } : { type: 'file', held };
    }
    case 'check':
      return offer({ md5 });
    default:
      return json(0);
  }
}

function final(d: D): { kind: string; code: number; version: string } {
  expect(d.stopped).toBe(true);
  const { kind, code, version } = d.state as { kind: string; code: number; version: string };
  return { kind, code, version };
}

describe('cut points', () => {
  it('fall at k × a share or a byte offset, in order at random, never outside the file', () => {
    expect([1, 2, 3].map((k) => cutPointOf({ kind: 'share', share: 0.4 }, 3, k, 1000, 1))).toEqual([400, 800, undefined]);
    expect([1, 2].map((k) => cutPointOf({ kind: 'bytes', bytes: 300 }, 2, k, 1000, 1))).toEqual([300, 600]);
    expect(cutPointOf({ kind: 'bytes', bytes: 300 }, 1, 2, 1000, 1)).toBeUndefined();
    const random = [1, 2, 3].map((k) => cutPointOf({ kind: 'random' }, 3, k, 1000, 42) as number);
    expect([...random].sort((a, b) => a - b)).toEqual(random);
    for (const p of random) expect(p).toBeGreaterThanOrEqual(1), expect(p).toBeLessThan(1000);
    expect(cutPointOf({ kind: 'random' }, 3, 2, 1000, 42)).toBe(random[1]);
    expect(cutPointOf({ kind: 'random' }, 3, 2, 1000, 43)).not.toBe(random[1]);
  });
});

describe('disconnect mid-download', () => {
  const cut = { at: { kind: 'share' as const, share: 0.45 }, times: 1, reconnectMs: 30_000 };

  it('cuts the link at the point, sleeps reconnectMs, checks again and resumes from the byte held', () => {
    const d = device({ disconnect: cut });
    const ranges: string[] = [];
    d.run((req) => {
      if (req.op === 'download') ranges.push(`${req.start}-${req.end}${req.fault?.cutAfterBytes !== undefined ? ` cut@${req.fault.cutAfterBytes}` : ''}`);
      return serve(req);
    });
    expect(ranges).toEqual(['0-99', '100-199', '200-299', '300-399', '400-499 cut@50', '450-549', '550-649', '650-749', '750-849', '850-949', '950-999']);
    expect(d.kinds).toContain('waiting');
    expect(d.sent.filter((r) => r.op === 'check')).toHaveLength(2);
    expect(final(d)).toEqual({ kind: 'succeeded', code: 201, version: '2.0.0' });
    expect(illegalTransitions(d.kinds, onenetRules)).toEqual([]);
  });

  it('is without a link for exactly reconnectMs after the cut', () => {
    const d = device({ disconnect: cut });
    while (!(d.action.type === 'send' && d.request.op === 'download' && d.request.fault?.cutAfterBytes !== undefined)) d.answer(serve(d.request));
    d.answer(serve(d.request));
    expect(d.state.kind).toBe('waiting');
    expect(d.sleepMs).toBe(30_000);
    d.wake();
    expect(d.request.op).toBe('check');
  });

  it('starts over at byte 0 when the check after the cut offers another md5 (a republish)', () => {
    const d = device({ disconnect: cut });
    let republished = false;
    const starts: number[] = [];
    d.run((req) => {
      if (req.op === 'download') {
        starts.push(req.start);
        if (req.fault?.cutAfterBytes !== undefined) republished = true;
      }
      return serve(req, republished ? OTHER_MD5 : MD5);
    });
    // After the cut at 450 and the new md5: from 0 again; the first cut point is behind it, so no second cut.
    expect(starts.slice(4, 6)).toEqual([400, 0]);
    expect(final(d).kind).toBe('succeeded');
  });

  it('cuts `times` times at k × the share', () => {
    const d = device({ disconnect: { ...cut, at: { kind: 'share', share: 0.3 }, times: 3 } });
    const cuts: number[] = [];
    d.run((req) => {
      if (req.op === 'download' && req.fault?.cutAfterBytes !== undefined) cuts.push(req.start + req.fault.cutAfterBytes);
      return serve(req);
    });
    expect(cuts).toEqual([300, 600, 900]);
    expect(final(d).kind).toBe('succeeded');
  });
});

describe('failures the device reports', () => {
  it('full storage: 102 right after the check, no download, failed', () => {
    const d = device({ storageFull: true }).run((req) => serve(req));
    expect(d.sent.map((r) => r.op)).toEqual(['reportVersion', 'check', 'result']);
    expect(d.sent[2]).toMatchObject({ step: 102 });
    expect(final(d)).toEqual({ kind: 'failed', code: 102, version: '1.0.0' });
  });

  it('a battery that dies at 50%: 105 once half the package is held, failed', () => {
    const d = device({ batteryDies: { atShare: 0.5 } }).run((req) => serve(req));
    const downloads = d.sent.filter((r) => r.op === 'download');
    expect(downloads.map((r) => (r.op === 'download' ? r.end : 0)).pop()).toBe(499);
    expect(d.sent[d.sent.length - 1]).toMatchObject({ op: 'result', step: 105 });
    expect(final(d)).toEqual({ kind: 'failed', code: 105, version: '1.0.0' });
  });

  it.each([202, 203] as const)('a flash that fails: %i after the 101, failed on the old version', (code) => {
    const d = device({ flashFails: { code } }).run((req) => serve(req));
    const steps = d.sent.filter((r) => r.op === 'result').map((r) => (r.op === 'result' ? r.step : 0));
    expect(steps).toEqual([101, code]);
    expect(final(d)).toEqual({ kind: 'failed', code, version: '1.0.0' });
    expect(illegalTransitions(d.kinds, onenetRules)).toEqual([]);
  });
});

describe('a long sleep past the token', () => {
  it('sleeps once the first chunk is held, is refused, checks again with the stale Authorization, signs afresh and resumes', () => {
    const d = device({ longSleep: { sleepMs: 3 * DAY, staleAuth: true } });
    d.answer(json(0)).answer(offer()).answer(json(0));
    expect(d.request).toMatchObject({ op: 'download', start: 0 });
    d.answer(serve(d.request));
    expect(d.state.kind).toBe('waiting');
    expect(d.sleepMs).toBe(3 * DAY);
    const slept = d.now;
    d.wake();
    expect(d.request).toMatchObject({ op: 'download', start: 100, token: 'tok-1' });
    d.answer({ type: 'download-error', code: 3 });
    expect(d.request).toMatchObject({ op: 'check', authAt: slept });
    d.answer(json(1));
    expect(d.request.op).toBe('check');
    expect(d.request.authAt).toBeUndefined();
    d.answer(offer({ token: 'tok-2' }));
    expect(d.request).toMatchObject({ op: 'tokenCheck', token: 'tok-2' });
    d.answer(json(0));
    expect(d.request).toMatchObject({ op: 'download', start: 100, token: 'tok-2' });
    d.run((req) => serve(req));
    expect(final(d).kind).toBe('succeeded');
    expect(d.sent.filter((r) => r.op !== 'download' && r.op !== 'reportVersion' && 'token' in r && r.token === 'tok-1' && r.authAt === undefined)).toHaveLength(1);
    expect(illegalTransitions(d.kinds, onenetRules)).toEqual([]);
  });

  it('without staleAuth signs every call afresh', () => {
    let checks = 0;
    const d = device({ longSleep: { sleepMs: 3 * DAY, staleAuth: false } }).run((req) => {
      if (req.op === 'check') return offer({ token: ++checks === 1 ? 'tok-1' : 'tok-2' });
      return req.op === 'download' && req.start === 100 && req.token === 'tok-1' ? { type: 'download-error', code: 3 } : serve(req);
    });
    expect(checks).toBe(2);
    expect(d.sent.every((r) => r.authAt === undefined)).toBe(true);
    expect(final(d).kind).toBe('succeeded');
  });

  it('a stale Authorization refused twice ends rejected (it re-signs once)', () => {
    const d = device({ longSleep: { sleepMs: 3 * DAY, staleAuth: true } });
    d.answer(json(0)).answer(offer()).answer(json(0)).answer(serve(d.request)).wake();
    d.answer({ type: 'download-error', code: 3 }).answer(json(1)).answer(json(1));
    expect(final(d)).toEqual({ kind: 'rejected', code: 1, version: '1.0.0' });
  });
});

describe('a progress report flushed after the upgrade (answerLoss.requeue)', () => {
  it('keeps the step whose answers were all lost and sends it once more after the new version is reported', () => {
    const d = device({ answerLoss: { rate: 1, ops: ['progress'], requeue: true } }, { progressEvery: 50 });
    d.run((req) => (req.op === 'progress' && d.state.kind === 'reporting-progress' ? { type: 'net', code: 'ANSWER_LOST' } : serve(req)));
    expect(d.kinds.slice(-3)).toEqual(['reporting-new-version', 'flushing', 'succeeded']);
    expect(d.sent[d.sent.length - 1]).toMatchObject({ op: 'progress', step: 50 });
    expect(final(d)).toEqual({ kind: 'succeeded', code: 201, version: '2.0.0' });
    expect(illegalTransitions(d.kinds, onenetRules)).toEqual([]);
  });

  it('without requeue, a lost progress report is forgotten', () => {
    const d = device({ answerLoss: { rate: 1, ops: ['progress'], requeue: false } }, { progressEvery: 50 });
    d.run((req) => (req.op === 'progress' ? { type: 'net', code: 'ANSWER_LOST' } : serve(req)));
    expect(d.kinds).not.toContain('flushing');
    expect(final(d).kind).toBe('succeeded');
  });
});
