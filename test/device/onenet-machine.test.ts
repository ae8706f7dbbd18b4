import { describe, expect, it } from 'vitest';
import { onenetMachine, MAX_TOKEN_RENEWALS, type OnenetAnswer, type OnenetDeviceState, type OnenetRequest } from '../../src/device/onenet/machine.js';
import type { OnenetOffer } from '../../src/device/onenet/types.js';
import { onenetRules } from '../../src/device/rules.js';
import type { DeviceProfile, DeviceSettings } from '../../src/device/types.js';
import { Driver, SETTINGS, illegalTransitions, makeProfile } from './drive.js';

const MD5 = '0123456789abcdef0123456789abcdef';
const OFFER: OnenetOffer = { target: '2.0.0', token: 'tok-1', size: 1000, md5: MD5, signal: 10, power: 20, retry: 2, interval: 30, type: 1 };

const json = (errno: number): OnenetAnswer => ({ type: 'json', errno });
const offer = (over: Partial<OnenetOffer> = {}): OnenetAnswer => ({ type: 'json', errno: 0, offer: { ...OFFER, ...over } });
const net = (code = 'ECONNRESET'): OnenetAnswer => ({ type: 'net', code });
const GARBAGE: OnenetAnswer = { type: 'garbage' };
const HTTP503: OnenetAnswer = { type: 'http', status: 503 };

type D = Driver<OnenetDeviceState, OnenetRequest, OnenetAnswer>;

function device(profile: Partial<DeviceProfile> = {}, settings: Partial<DeviceSettings> = {}): D {
  return new Driver(onenetMachine, makeProfile(profile), { ...SETTINGS, ...settings }).start();
}

/** What a well-behaved server and engine answer: the bytes asked for, md5 once all are held. */
function serveChunk(req: OnenetRequest, md5 = MD5): OnenetAnswer {
  if (req.op !== 'download') throw new Error(`expected a download, got ${req.op}`);
  const held = req.end + 1;
  return held === req.total ? { type: 'file', held, md5 } : { type: 'file', held };
}

function op(d: D): OnenetRequest['op'] {
  return d.request.op;
}

/** Answers report, check (with `o`) and token check: the device is then downloading. */
function toDownload(d: D, o: OnenetAnswer = offer()): D {
  expect(op(d)).toBe('reportVersion');
  d.answer(json(0));
  expect(op(d)).toBe('check');
  d.answer(o);
  expect(op(d)).toBe('tokenCheck');
  d.answer(json(0));
  expect(op(d)).toBe('download');
  return d;
}

/** Serves chunks and acknowledges progress until the device asks something else. */
function downloadAll(d: D, md5 = MD5): D {
  for (let i = 0; i < 10_000 && !d.stopped && d.action.type === 'send'; i++) {
    const req = d.request;
    if (req.op === 'download') d.answer(serveChunk(req, md5));
    else if (req.op === 'progress') d.answer(json(0));
    else break;
  }
  return d;
}

function final(d: D): { kind: string; code: number; version: string; duplicateResult: boolean } {
  expect(d.stopped).toBe(true);
  const s = d.state as { kind: string; code: number; version: string; duplicateResult: boolean };
  return { kind: s.kind, code: s.code, version: s.version, duplicateResult: s.duplicateResult };
}

function expectLegal(d: D): void {
  expect(illegalTransitions(d.kinds, onenetRules)).toEqual([]);
}

describe('onenet device: the upgrade', () => {
  it('reports, checks, token-checks, downloads in ranged chunks, reports progress, 101, reboots, reports 201 and the new version', () => {
    const d = device({ taskType: 2, signal: 20, battery: 80 });
    expect(d.request).toEqual({ op: 'reportVersion', devId: '522700001', taskType: 2, version: '1.0.0' });
    d.answer(json(0));
    expect(d.request).toEqual({ op: 'check', devId: '522700001', taskType: 2, manuf: '101', model: '10101', version: '1.0.0', signal: 20, battery: 80 });
    d.answer(offer());
    expect(d.request).toEqual({ op: 'tokenCheck', devId: '522700001', token: 'tok-1' });
    d.answer(json(0));

    const ranges: string[] = [];
    const steps: number[] = [];
    while (d.request.op === 'download' || d.request.op === 'progress') {
      const req = d.request;
      if (req.op === 'download') {
        expect(req.token).toBe('tok-1');
        expect(req.total).toBe(1000);
        ranges.push(`${req.start}-${req.end}`);
        d.answer(serveChunk(req));
      } else {
        steps.push(req.step);
        d.answer(json(0));
      }
    }
    expect(ranges).toEqual(['0-99', '100-199', '200-299', '300-399', '400-499', '500-599', '600-699', '700-799', '800-899', '900-999']);
    // Every progressEvery percent, never 100 (101 moves the task to upgrading itself).
    expect(steps).toEqual([25, 50, 75]);
    expect(d.request).toEqual({ op: 'result', devId: '522700001', token: 'tok-1', step: 101 });
    d.answer(json(0));
    expect(d.state.kind).toBe('rebooting');
    expect(d.sleepMs).toBe(SETTINGS.rebootMs);
    d.wake();
    expect(d.request).toEqual({ op: 'result', devId: '522700001', token: 'tok-1', step: 201 });
    d.answer(json(0));
    expect(d.request).toEqual({ op: 'reportVersion', devId: '522700001', taskType: 2, version: '2.0.0' });
    d.answer(json(0));
    expect(final(d)).toEqual({ kind: 'succeeded', code: 201, version: '2.0.0', duplicateResult: false });
    expect(d.kinds).toEqual([
      'reporting-version',
      'checking',
      'token-checking',
      'downloading',
      'reporting-progress',
      'downloading',
      'reporting-progress',
      'downloading',
      'reporting-progress',
      'downloading',
      'reporting-downloaded',
      'rebooting',
      'reporting-upgraded',
      'reporting-new-version',
      'succeeded',
    ]);
    expectLegal(d);
  });

  it('a 201 answered "task finished" (20) counts as recorded: succeeded with duplicateResult', () => {
    const d = downloadAll(toDownload(device()));
    d.answer(json(0)).wake();
    expect(d.request).toMatchObject({ op: 'result', step: 201 });
    d.answer(json(20));
    expect(d.request).toMatchObject({ op: 'reportVersion', version: '2.0.0' });
    d.answer(json(0));
    expect(final(d)).toEqual({ kind: 'succeeded', code: 201, version: '2.0.0', duplicateResult: true });
  });

  it('chunk size comes from the settings; the last chunk is cut at the size', () => {
    const d = toDownload(device({}, { chunkSize: 300, progressEvery: 0 }));
    const ranges: string[] = [];
    while (d.request.op === 'download') {
      const req = d.request;
      ranges.push(`${req.start}-${req.end}`);
      d.answer(serveChunk(req));
    }
    expect(ranges).toEqual(['0-299', '300-599', '600-899', '900-999']);
    expect(d.request).toMatchObject({ op: 'result', step: 101 });
  });

  it('progressEvery 0 sends no progress; 10 sends 10…90', () => {
    const none = downloadAll(toDownload(device({}, { progressEvery: 0 })));
    expect(none.sent.filter((r) => r.op === 'progress')).toEqual([]);
    const tens = downloadAll(toDownload(device({}, { progressEvery: 10 })));
    expect(tens.sent.flatMap((r) => (r.op === 'progress' ? [r.step] : []))).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90]);
  });

  it('a chunk that jumps several steps reports only the highest one due', () => {
    const d = toDownload(device({}, { chunkSize: 600, progressEvery: 25 }));
    d.answer(serveChunk(d.request));
    expect(d.request).toMatchObject({ op: 'progress', step: 50 });
  });

  it('the version report body follows the task type (FOTA reports the module version)', () => {
    const d = device({ taskType: 1 });
    expect(d.request).toMatchObject({ op: 'reportVersion', taskType: 1 });
    d.answer(json(0));
    expect(d.request).toMatchObject({ op: 'check', taskType: 1 });
  });

  it('any JSON answer to the first version report moves on to the check', () => {
    const d = device();
    d.answer(json(1));
    expect(d.request.op).toBe('check');
  });
});

describe('onenet device: check answers', () => {
  const afterCheck = (a: OnenetAnswer): D => device().answer(json(0)).answer(a);

  it('11: up-to-date', () => {
    expect(final(afterCheck(json(11)))).toEqual({ kind: 'up-to-date', code: 11, version: '1.0.0', duplicateResult: false });
  });

  it.each([8, 9])('%i: failed with that errno (the server failed the task)', (errno) => {
    expect(final(afterCheck(json(errno)))).toMatchObject({ kind: 'failed', code: errno });
  });

  it.each([1, 2, 27])('%i: rejected with that errno', (errno) => {
    expect(final(afterCheck(json(errno)))).toMatchObject({ kind: 'rejected', code: errno });
  });

  it('7: retried maxAttempts times retryDelayMs apart, then gave-up', () => {
    const d = device().answer(json(0));
    const at: number[] = [];
    for (let i = 0; i <= SETTINGS.maxAttempts; i++) {
      expect(d.request.op).toBe('check');
      at.push(d.now);
      d.answer(json(7));
      if (i < SETTINGS.maxAttempts) {
        expect(d.state.kind).toBe('waiting');
        expect(d.sleepMs).toBe(SETTINGS.retryDelayMs);
        d.wake();
      }
    }
    expect(final(d)).toMatchObject({ kind: 'gave-up', code: 7 });
    expect(at.map((t) => t - (at[0] as number))).toEqual([0, 1000, 2000]);
    expectLegal(d);
  });

  it('7 then a task: the retry succeeds and the failures are forgotten', () => {
    const d = device().answer(json(0)).answer(json(7)).wake().answer(json(7)).wake();
    d.answer(offer());
    expect(d.request.op).toBe('tokenCheck');
  });

  it.each([
    ['a network error', net()],
    ['a timeout', net('TIMEOUT')],
    ['a 503', HTTP503],
    ['a 404', { type: 'http', status: 404 } as OnenetAnswer],
    ['garbage', GARBAGE],
    ['an unknown errno', json(99)],
    ['errno 0 without data', json(0)],
  ])('%s is a failed attempt: retried then gave-up', (_name, a) => {
    const d = device().answer(json(0));
    for (let i = 0; i <= SETTINGS.maxAttempts; i++) {
      d.answer(a);
      if (!d.stopped) d.wake();
    }
    expect(final(d).kind).toBe('gave-up');
    expect(d.sent.filter((r) => r.op === 'check')).toHaveLength(SETTINGS.maxAttempts + 1);
  });

  it.each([
    ['size 0', { size: 0 }],
    ['a negative size', { size: -5 }],
    ['a fractional size', { size: 1.5 }],
    ['a size over 256 MiB', { size: 256 * 1024 * 1024 + 1 }],
    ['NaN size', { size: Number.NaN }],
    ['no md5', { md5: '' }],
    ['an invalid target version', { target: 'v 2/0' }],
    ['an empty token', { token: '' }],
    ['a huge token', { token: 'x'.repeat(10_000) }],
  ])('an offer with %s is unusable: retried, then gave-up', (_name, over) => {
    const d = device().answer(json(0));
    for (let i = 0; i <= SETTINGS.maxAttempts; i++) {
      d.answer(offer(over as Partial<OnenetOffer>));
      if (!d.stopped) d.wake();
    }
    expect(final(d).kind).toBe('gave-up');
  });

  it('a transport failure of the first version report is retried, then gave-up', () => {
    const d = device();
    d.answer(net()).wake().answer(HTTP503).wake().answer(GARBAGE);
    expect(final(d).kind).toBe('gave-up');
    expect(d.sent.every((r) => r.op === 'reportVersion')).toBe(true);
    expectLegal(d);
  });
});

describe('onenet device: gating on its own signal and battery', () => {
  const gated = (p: Partial<DeviceProfile>, o: Partial<OnenetOffer> = {}): D => device(p).answer(json(0)).answer(offer(o));

  it('signal not above the task signal: reports 106 and ends gated', () => {
    const d = gated({ signal: 10 }, { signal: 10 });
    expect(d.request).toEqual({ op: 'result', devId: '522700001', token: 'tok-1', step: 106 });
    d.answer(json(0));
    expect(final(d)).toMatchObject({ kind: 'gated', code: 106 });
    expect(d.sent.some((r) => r.op === 'download')).toBe(false);
    expectLegal(d);
  });

  it('battery not above the task power: reports 105 and ends gated', () => {
    const d = gated({ battery: 20 }, { power: 20 });
    expect(d.request).toMatchObject({ op: 'result', step: 105 });
    d.answer(json(17));
    expect(final(d)).toMatchObject({ kind: 'gated', code: 105 });
  });

  it('no signal (rssi 99) is below any threshold', () => {
    expect(gated({ signal: 99 }, { signal: 0 }).request).toMatchObject({ step: 106 });
  });

  it('signal and battery just above go ahead', () => {
    expect(gated({ signal: 11, battery: 21 }, { signal: 10, power: 20 }).request.op).toBe('tokenCheck');
  });

  it('a gating report that cannot be delivered still ends gated', () => {
    const d = gated({ signal: 1 });
    d.answer(net()).wake().answer(net()).wake().answer(net());
    expect(final(d)).toMatchObject({ kind: 'gated', code: 106 });
  });
});

describe('onenet device: download failures and resume', () => {
  it('a network error mid-download waits the task interval and resumes from the bytes held', () => {
    const d = toDownload(device({}, { progressEvery: 0 }));
    d.answer(serveChunk(d.request)).answer(serveChunk(d.request));
    expect(d.request).toMatchObject({ op: 'download', start: 200, end: 299 });
    d.answer(net('TIMEOUT'));
    expect(d.state.kind).toBe('waiting');
    expect(d.sleepMs).toBe(30_000);
    d.wake();
    expect(d.request).toMatchObject({ op: 'download', start: 200, end: 299 });
    downloadAll(d);
    expect(d.request).toMatchObject({ op: 'result', step: 101 });
    expectLegal(d);
  });

  it('after a reset the engine says what is held (the last full chunk): the device asks from there', () => {
    const d = toDownload(device({}, { progressEvery: 0 }));
    d.answer(serveChunk(d.request)).answer(serveChunk(d.request)).answer(serveChunk(d.request));
    expect(d.request).toMatchObject({ start: 300 });
    // The engine threw away a broken chunk and holds 200 bytes: no progress, a failed attempt.
    d.answer({ type: 'file', held: 200 });
    expect(d.state.kind).toBe('waiting');
    d.wake();
    expect(d.request).toMatchObject({ op: 'download', start: 200, end: 299 });
    d.answer(serveChunk(d.request));
    expect(d.request).toMatchObject({ start: 300 });
  });

  it('winning back lost bytes does not clear the failures; only a new high does', () => {
    const d = toDownload(device({}, { progressEvery: 0 }), offer({ retry: 1 }));
    d.answer(serveChunk(d.request)).answer(serveChunk(d.request)).answer(serveChunk(d.request));
    d.answer({ type: 'file', held: 100 }).wake();
    expect(d.request).toMatchObject({ start: 100 });
    d.answer(serveChunk(d.request));
    expect(d.request).toMatchObject({ op: 'download', start: 200 });
    // Second failure with retry 1: exhausted, although bytes came back in between.
    d.answer(net());
    expect(d.request).toMatchObject({ op: 'result', step: 104 });

    const fresh = toDownload(device({}, { progressEvery: 0 }), offer({ retry: 1 }));
    fresh.answer(serveChunk(fresh.request)).answer({ type: 'file', held: 0 }).wake();
    fresh.answer(serveChunk(fresh.request)).answer(serveChunk(fresh.request));
    // 200 is a new high: the failure is forgotten, one more is allowed.
    fresh.answer(net());
    expect(fresh.state.kind).toBe('waiting');
  });

  it('a 206 that leaves the device no further on (wrong Content-Range) is a failed attempt', () => {
    const d = toDownload(device({}, { progressEvery: 0 }));
    d.answer(serveChunk(d.request));
    d.answer({ type: 'file', held: 100, total: 1000 });
    expect(d.state.kind).toBe('waiting');
    d.wake();
    expect(d.request).toMatchObject({ start: 100 });
  });

  it('exhausted retries after network errors report 104 (request timed out) and fail', () => {
    const d = toDownload(device(), offer({ retry: 2 }));
    d.answer(net()).wake().answer(net()).wake().answer(net('TIMEOUT'));
    expect(d.request).toMatchObject({ op: 'result', step: 104 });
    d.answer(json(0));
    expect(final(d)).toMatchObject({ kind: 'failed', code: 104, version: '1.0.0' });
    expectLegal(d);
  });

  it('exhausted retries after anything else report 107', () => {
    const d = toDownload(device(), offer({ retry: 1 }));
    d.answer({ type: 'download-error', code: 1 }).wake().answer({ type: 'download-error', code: 2 });
    expect(d.request).toMatchObject({ op: 'result', step: 107 });
    d.answer(json(0));
    expect(final(d)).toMatchObject({ kind: 'failed', code: 107 });
  });

  it('retry 0 means no retry at all', () => {
    const d = toDownload(device(), offer({ retry: 0 }));
    d.answer(GARBAGE);
    expect(d.request).toMatchObject({ op: 'result', step: 107 });
  });

  it('bytes that arrive reset the failure count', () => {
    const d = toDownload(device({}, { progressEvery: 0 }), offer({ retry: 1 }));
    d.answer(net()).wake().answer(serveChunk(d.request)).answer(net()).wake();
    expect(d.request.op).toBe('download');
    d.answer(serveChunk(d.request));
    expect(d.request).toMatchObject({ op: 'download', start: 200 });
  });

  it('without retry / interval in the offer the settings apply', () => {
    const d = toDownload(device({}, { maxAttempts: 1, retryDelayMs: 4_000 }), offer({ retry: undefined, interval: undefined }));
    d.answer(net());
    expect(d.sleepMs).toBe(4_000);
    d.wake().answer(net());
    expect(d.request).toMatchObject({ op: 'result', step: 104 });
  });

  it('absurd retry and interval from the server are capped', () => {
    const d = toDownload(device(), offer({ retry: 1e12, interval: 1e12 }));
    d.answer(net());
    expect(d.sleepMs).toBe(86_400_000);
    const neg = toDownload(device(), offer({ retry: -3, interval: -1 }));
    neg.answer(net());
    expect(neg.sleepMs).toBe(SETTINGS.retryDelayMs);
  });

  it('a JSON answer to a download: 22 cancelled, 20 failed, other errnos a failed attempt', () => {
    expect(final(toDownload(device()).answer(json(22)))).toMatchObject({ kind: 'cancelled', code: 22 });
    expect(final(toDownload(device()).answer(json(20)))).toMatchObject({ kind: 'failed', code: 20 });
    expect(toDownload(device()).answer(json(0)).state.kind).toBe('waiting');
  });
});

describe('onenet device: md5', () => {
  it('a mismatch reports 205, waits the interval, checks again; a check answered 11 then ends failed (205)', () => {
    const d = downloadAll(toDownload(device()), 'ffffffffffffffffffffffffffffffff');
    expect(d.request).toMatchObject({ op: 'result', step: 205 });
    d.answer(json(0));
    expect(d.state.kind).toBe('waiting');
    expect(d.sleepMs).toBe(30_000);
    d.wake();
    expect(d.request.op).toBe('check');
    d.answer(json(11));
    expect(final(d)).toMatchObject({ kind: 'failed', code: 205, version: '1.0.0' });
    expectLegal(d);
  });

  it('when the server offers the task again the device starts over from byte 0, until task.retry runs are used', () => {
    const d = downloadAll(toDownload(device({}, { progressEvery: 0 }), offer({ retry: 1 })), 'ffffffffffffffffffffffffffffffff');
    d.answer(json(0)).wake().answer(offer({ retry: 1 })).answer(json(0));
    expect(d.request).toMatchObject({ op: 'download', start: 0 });
    downloadAll(d, 'ffffffffffffffffffffffffffffffff');
    expect(d.request).toMatchObject({ op: 'result', step: 205 });
    d.answer(json(0));
    expect(final(d)).toMatchObject({ kind: 'failed', code: 205 });
    expect(d.sent.filter((r) => r.op === 'check')).toHaveLength(2);
  });

  it('a retried task that then downloads cleanly succeeds', () => {
    const d = downloadAll(toDownload(device()), 'ffffffffffffffffffffffffffffffff');
    d.answer(json(0)).wake().answer(offer()).answer(json(0));
    downloadAll(d);
    expect(d.request).toMatchObject({ op: 'result', step: 101 });
  });

  it('corruptDownload forces a mismatch even with the right md5', () => {
    const d = downloadAll(toDownload(device({ behaviour: { corruptDownload: true, rebootIntoOld: false } })));
    expect(d.request).toMatchObject({ op: 'result', step: 205 });
  });

  it('a missing md5 once all bytes are held is a mismatch; case does not matter', () => {
    const d = toDownload(device({}, { chunkSize: 1000 }));
    d.answer({ type: 'file', held: 1000 });
    expect(d.request).toMatchObject({ step: 205 });
    const upper = toDownload(device({}, { chunkSize: 1000 }));
    upper.answer({ type: 'file', held: 1000, md5: MD5.toUpperCase() });
    expect(upper.request).toMatchObject({ step: 101 });
  });

  it('held beyond the size counts as complete (and is verified)', () => {
    const d = toDownload(device({}, { chunkSize: 100 }));
    d.answer({ type: 'file', held: 5000, md5: MD5 });
    expect(d.request).toMatchObject({ step: 101 });
  });
});

describe('onenet device: reboot', () => {
  it('rebooting into the old version reports that version, then 204, and fails', () => {
    const d = downloadAll(toDownload(device({ behaviour: { corruptDownload: false, rebootIntoOld: true } })));
    d.answer(json(0)).wake();
    expect(d.request).toMatchObject({ op: 'reportVersion', version: '1.0.0' });
    d.answer(json(0));
    expect(d.request).toMatchObject({ op: 'result', step: 204 });
    d.answer(json(0));
    expect(final(d)).toEqual({ kind: 'failed', code: 204, version: '1.0.0', duplicateResult: false });
    expectLegal(d);
  });

  it('the 101 is retried on transport errors, then gave-up', () => {
    const d = downloadAll(toDownload(device(), offer({ retry: 1 })));
    d.answer(net()).wake().answer(json(7));
    expect(final(d)).toMatchObject({ kind: 'gave-up', version: '1.0.0' });
  });

  it('a 101 refused with another errno still reboots (the image is verified)', () => {
    const d = downloadAll(toDownload(device()));
    d.answer(json(12));
    expect(d.state.kind).toBe('rebooting');
  });

  it('a 101 answered 20 fails, 22 cancels', () => {
    expect(final(downloadAll(toDownload(device())).answer(json(20)))).toMatchObject({ kind: 'failed', code: 20 });
    expect(final(downloadAll(toDownload(device())).answer(json(22)))).toMatchObject({ kind: 'cancelled', code: 22 });
  });

  it('an undelivered 201 is retried, then gave-up with the new version', () => {
    const a = downloadAll(toDownload(device(), offer({ retry: 1 }))).answer(json(0)).wake();
    expect(a.request).toMatchObject({ op: 'result', step: 201 });
    a.answer(net()).wake().answer(net());
    expect(final(a)).toMatchObject({ kind: 'gave-up', version: '2.0.0' });
    const b = downloadAll(toDownload(device(), offer({ retry: 1 }))).answer(json(0)).wake();
    b.answer(HTTP503).wake().answer(GARBAGE);
    expect(final(b)).toMatchObject({ kind: 'gave-up', version: '2.0.0' });
  });

  it('once the 201 is delivered, an undelivered version report is retried and still ends succeeded', () => {
    const a = downloadAll(toDownload(device(), offer({ retry: 1 }))).answer(json(0)).wake().answer(json(0));
    expect(a.request).toMatchObject({ op: 'reportVersion', version: '2.0.0' });
    a.answer(net()).wake();
    expect(a.request).toMatchObject({ op: 'reportVersion', version: '2.0.0' });
    a.answer(HTTP503);
    expect(final(a)).toMatchObject({ kind: 'succeeded', code: 201, version: '2.0.0', duplicateResult: false });
  });

  it('a 201 answered 22 ends cancelled; another errno still succeeded', () => {
    const a = downloadAll(toDownload(device())).answer(json(0)).wake().answer(json(22));
    expect(final(a)).toMatchObject({ kind: 'cancelled', code: 22, version: '2.0.0' });
    const b = downloadAll(toDownload(device())).answer(json(0)).wake().answer(json(17)).answer(json(0));
    expect(final(b)).toMatchObject({ kind: 'succeeded', duplicateResult: false });
  });
});

describe('onenet device: token and task changes', () => {
  it('a token check answered 12 (expired) checks again and uses the fresh token', () => {
    const d = device().answer(json(0)).answer(offer()).answer(json(12));
    expect(d.request.op).toBe('check');
    d.answer(offer({ token: 'tok-2' }));
    expect(d.request).toMatchObject({ op: 'tokenCheck', token: 'tok-2' });
    d.answer(json(0));
    expect(d.request).toMatchObject({ op: 'download', token: 'tok-2', start: 0 });
    expectLegal(d);
  });

  it('download error 3 (invalid token) fetches a fresh token and resumes the same package where it was', () => {
    const d = toDownload(device({}, { progressEvery: 0 }));
    d.answer(serveChunk(d.request)).answer(serveChunk(d.request));
    d.answer({ type: 'download-error', code: 3 });
    expect(d.request.op).toBe('check');
    d.answer(offer({ token: 'tok-2' })).answer(json(0));
    expect(d.request).toMatchObject({ op: 'download', token: 'tok-2', start: 200, end: 299 });
  });

  it('a different package on the re-check starts over from byte 0', () => {
    const d = toDownload(device({}, { progressEvery: 0 }));
    d.answer(serveChunk(d.request)).answer(serveChunk(d.request));
    d.answer({ type: 'download-error', code: 3 });
    d.answer(offer({ token: 'tok-2', md5: 'abcdefabcdefabcdefabcdefabcdefab' })).answer(json(0));
    expect(d.request).toMatchObject({ op: 'download', start: 0 });
  });

  it(`past ${MAX_TOKEN_RENEWALS} renewals the device reports 107 and fails`, () => {
    const d = toDownload(device());
    for (let i = 0; i < MAX_TOKEN_RENEWALS; i++) {
      d.answer({ type: 'download-error', code: 3 });
      expect(d.request.op).toBe('check');
      d.answer(offer()).answer(json(0));
    }
    d.answer({ type: 'download-error', code: 3 });
    expect(d.request).toMatchObject({ op: 'result', step: 107 });
    d.answer(json(12));
    expect(final(d)).toMatchObject({ kind: 'failed', code: 107 });
    expectLegal(d);
  });

  it('a token check answered 17 still downloads, but sends no progress (the task is not downloading)', () => {
    const d = device().answer(json(0)).answer(offer()).answer(json(17));
    expect(d.request.op).toBe('download');
    downloadAll(d);
    expect(d.sent.filter((r) => r.op === 'progress')).toEqual([]);
    expect(d.request).toMatchObject({ step: 101 });
  });

  it.each([
    [20, 'failed'],
    [22, 'cancelled'],
    [1, 'rejected'],
    [2, 'rejected'],
    [4, 'rejected'],
    [21, 'rejected'],
  ])('a token check answered %i ends %s', (errno, kind) => {
    expect(final(device().answer(json(0)).answer(offer()).answer(json(errno)))).toMatchObject({ kind, code: errno });
  });

  it('a token check answered 7 or not at all is retried on the task budget, then 104/107', () => {
    const d = device().answer(json(0)).answer(offer({ retry: 1, interval: 5 })).answer(json(7));
    expect(d.sleepMs).toBe(5_000);
    d.wake().answer(net());
    expect(d.request).toMatchObject({ op: 'result', step: 104 });
  });

  it('progress answered 17 silences progress; 12 renews the token; 20 fails; 22 cancels; lost progress is ignored', () => {
    const quiet = toDownload(device());
    quiet.answer(serveChunk(quiet.request)).answer(serveChunk(quiet.request)).answer(serveChunk(quiet.request));
    expect(quiet.request).toMatchObject({ op: 'progress', step: 25 });
    quiet.answer(json(17));
    downloadAll(quiet);
    expect(quiet.sent.filter((r) => r.op === 'progress')).toHaveLength(1);

    const progressAt = (): D => {
      const d = toDownload(device());
      d.answer(serveChunk(d.request)).answer(serveChunk(d.request)).answer(serveChunk(d.request));
      expect(d.request.op).toBe('progress');
      return d;
    };
    const renewed = progressAt().answer(json(12));
    expect(renewed.request.op).toBe('check');
    renewed.answer(offer()).answer(json(0));
    expect(renewed.request).toMatchObject({ op: 'download', start: 300 });
    expect(final(progressAt().answer(json(20)))).toMatchObject({ kind: 'failed', code: 20 });
    expect(final(progressAt().answer(json(22)))).toMatchObject({ kind: 'cancelled', code: 22 });
    const lost = progressAt().answer(net());
    expect(lost.request).toMatchObject({ op: 'download', start: 300 });
    downloadAll(lost);
    expect(lost.sent.flatMap((r) => (r.op === 'progress' ? [r.step] : []))).toEqual([25, 50, 75]);
  });

  it('a renewed check answered 11 means the task is gone: up-to-date', () => {
    const d = device().answer(json(0)).answer(offer()).answer(json(12)).answer(json(11));
    expect(final(d)).toMatchObject({ kind: 'up-to-date', code: 11 });
  });
});

describe('onenet device: hostile and stray events', () => {
  const HOSTILE: OnenetAnswer[] = [
    GARBAGE,
    HTTP503,
    { type: 'http', status: 0 },
    net('WHATEVER'),
    json(-1),
    json(2 ** 40),
    json(Number.NaN),
    { type: 'json', errno: 0, offer: { ...OFFER, size: Number.POSITIVE_INFINITY } },
    { type: 'json', errno: 0, offer: { ...OFFER, signal: Number.NaN, power: Number.NaN, retry: Number.NaN, interval: Number.NaN } },
    { type: 'file', held: Number.NaN },
    { type: 'file', held: -100, md5: MD5 },
    { type: 'file', held: Number.POSITIVE_INFINITY },
    { type: 'file', held: 1e18, md5: 'x' },
    { type: 'download-error', code: 3 },
    { type: 'download-error', code: 1 },
  ];

  /** Every non-final state the happy path and its failures pass through. */
  function statesOnTheWay(): OnenetDeviceState[] {
    const seen: OnenetDeviceState[] = [];
    const d = device();
    const record = (): void => void seen.push(d.state);
    record();
    d.answer(json(0));
    record();
    d.answer(offer());
    record();
    d.answer(json(0));
    while (d.action.type === 'send' && (d.request.op === 'download' || d.request.op === 'progress')) {
      record();
      d.answer(d.request.op === 'download' ? serveChunk(d.request) : json(0));
    }
    record();
    d.answer(json(0));
    record();
    d.wake();
    record();
    d.answer(json(0));
    record();
    const g = device({ signal: 1 }).answer(json(0)).answer(offer());
    seen.push(g.state);
    const w = device().answer(net());
    seen.push(w.state);
    return seen;
  }

  it('never throws on any answer in any state, and lands in a known kind', () => {
    const profile = makeProfile();
    for (const state of statesOnTheWay()) {
      for (const a of HOSTILE) {
        const step = onenetMachine.onAnswer(state, a, profile, SETTINGS, 5_000_000);
        expect(onenetRules.kinds).toContain(step.state.kind);
        if (step.action.type === 'sleep') expect(Number.isFinite(step.action.until)).toBe(true);
        if (step.action.type === 'send' && step.action.request.op === 'download') {
          const r = step.action.request;
          expect(r.start).toBeGreaterThanOrEqual(0);
          expect(r.end).toBeGreaterThanOrEqual(r.start);
          expect(r.end).toBeLessThan(r.total);
        }
      }
    }
  });

  it('an answer while sleeping keeps the device asleep until the same time', () => {
    const d = device().answer(net());
    const until = d.action.type === 'sleep' ? d.action.until : -1;
    const step = onenetMachine.onAnswer(d.state, json(0), d.profile, d.settings, d.now);
    expect(step.state).toBe(d.state);
    expect(step.action).toEqual({ type: 'sleep', until });
  });

  it('a timer while an answer is awaited asks again, in the same state', () => {
    const d = device().answer(json(0));
    const step = onenetMachine.onTimer(d.state, d.profile, d.settings, d.now);
    expect(step.state).toBe(d.state);
    expect(step.action).toEqual({ type: 'send', request: d.request });
  });

  it('a final state stays final and stops on any event', () => {
    const d = device().answer(json(0)).answer(json(11));
    expect(onenetMachine.onAnswer(d.state, json(0), d.profile, d.settings, d.now)).toEqual({ state: d.state, action: { type: 'stop' } });
    expect(onenetMachine.onTimer(d.state, d.profile, d.settings, d.now)).toEqual({ state: d.state, action: { type: 'stop' } });
  });

  it('states are small plain data (no functions, no buffers)', () => {
    for (const state of statesOnTheWay()) {
      expect(JSON.parse(JSON.stringify(state))).toEqual(state);
    }
  });

  it('never reads the wall clock: the same inputs give the same steps at any real time', () => {
    const run = (): unknown[] => {
      const d = toDownload(device());
      d.answer(net()).wake();
      downloadAll(d);
      return d.sent;
    };
    expect(run()).toEqual(run());
  });
});

describe('onenet device: a download broken off mid-body, and one that makes no progress', () => {
  it('keeps the bytes of a chunk broken off mid-body and resumes after them at once, to the end', () => {
    const d = toDownload(device({}, { progressEvery: 0 }));
    // Every answer is reset after 40 of the 100 bytes asked for; the engine holds what arrived.
    for (let i = 0; i < 100 && d.request.op === 'download'; i++) {
      const req = d.request as Extract<OnenetRequest, { op: 'download' }>;
      const held = Math.min(req.start + 40, req.total);
      d.answer(held === req.total ? { type: 'net', code: 'ECONNRESET', held, md5: MD5 } : { type: 'net', code: 'ECONNRESET', held });
      if (d.request.op === 'download') expect((d.request as { start: number }).start).toBe(held);
    }
    expect(d.request).toMatchObject({ op: 'result', step: 101 });
    // 1000 bytes, 40 a request: 25 requests, no wait between them.
    expect(d.sent.filter((r) => r.op === 'download')).toHaveLength(25);
    expect(d.kinds).not.toContain('waiting');
    expectLegal(d);
  });

  it('gives up after maxStalledAttempts download answers without new bytes, ending no-progress (104 reported)', () => {
    const d = toDownload(device({}, { progressEvery: 0, maxStalledAttempts: 3 }), offer({ retry: 1000, interval: 1 }));
    d.answer(serveChunk(d.request));
    d.answer(net()).wake().answer(net()).wake();
    expect(d.request).toMatchObject({ op: 'download', start: 100 });
    d.answer(net());
    expect(d.request).toMatchObject({ op: 'result', step: 104 });
    d.answer(json(0));
    expect(final(d)).toMatchObject({ kind: 'no-progress', code: 104 });
    expectLegal(d);
  });

  it('a new high of bytes held clears the stalls; the default limit is 5', () => {
    const d = toDownload(device({}, { progressEvery: 0 }), offer({ retry: 1000, interval: 1 }));
    for (let round = 0; round < 3; round++) {
      for (let k = 0; k < 4; k++) d.answer(net()).wake();
      d.answer(serveChunk(d.request));
    }
    expect(d.request).toMatchObject({ op: 'download', start: 300 });
    for (let k = 0; k < 4; k++) d.answer(net()).wake();
    d.answer(net());
    expect(d.request).toMatchObject({ op: 'result', step: 104 });
  });

  it('stalls count across link drops: a link that always drops before a new byte ends no-progress', () => {
    const d = toDownload(device({}, { progressEvery: 0, maxStalledAttempts: 2 }), offer({ retry: 1000, interval: 1 }));
    d.answer(serveChunk(d.request));
    // The link drops with nothing new held; the device checks again and resumes from 100.
    d.answer({ type: 'file', held: 100, cut: true }).wake();
    d.answer(offer({ retry: 1000, interval: 1 })).answer(json(0));
    expect(d.request).toMatchObject({ op: 'download', start: 100 });
    d.answer({ type: 'file', held: 100, cut: true });
    expect(d.request).toMatchObject({ op: 'result', step: 107 });
  });
});

describe('onenet device: an answer that is not the spec shape', () => {
  it('a check answered errno 0 without a readable task is a failed request: retried per the settings, then given up', () => {
    const bad: OnenetAnswer = { type: 'protocol', label: 'bad-check-answer', reason: 'errno 0 but data.md5 missing or not text' };
    const d = device({}, { maxAttempts: 2 });
    d.answer(json(0));
    expect(op(d)).toBe('check');
    d.answer(bad);
    expect(d.state.kind).toBe('waiting');
    d.wake().answer(bad).wake();
    expect(op(d)).toBe('check');
    d.answer(bad);
    expect(final(d)).toMatchObject({ kind: 'gave-up' });
    expectLegal(d);
  });

  it('a protocol error on the token check, the download or the result is a failed attempt too', () => {
    const d = toDownload(device({}, { progressEvery: 0 }));
    d.answer({ type: 'protocol', label: 'bad-download-answer', reason: 'no integer errno' });
    expect(d.state.kind).toBe('waiting');
    d.wake();
    expect(d.request).toMatchObject({ op: 'download', start: 0 });
  });
});
