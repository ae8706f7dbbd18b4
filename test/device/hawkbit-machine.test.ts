/**
 * The hawkBit DDI device machine on a fake clock: each answer of each resource, each feedback it
 * sends, each status code, and the field faults, with every kind sequence checked against the
 * dialect's transition rules.
 */
import { describe, expect, it } from 'vitest';
import { hawkbitMachine, HAWKBIT_BATTERY_FLOOR, HAWKBIT_MAX_IDLE_POLLS } from '../../src/device/hawkbit/machine.js';
import type { HawkbitAnswer, HawkbitDeviceState, HawkbitRequest } from '../../src/device/hawkbit/types.js';
import { hawkbitRules } from '../../src/dialect/hawkbit/rules.js';
import { NO_FAULTS, type Behaviour } from '../../src/device/types.js';
import { Driver, makeProfile, SETTINGS, illegalTransitions } from './drive.js';

const SIZE = 400;
const MD5 = '0123456789abcdef0123456789abcdef';
const DEP = '/T/controller/v1/dev-1/deploymentBase/7';
const ART = '/T/controller/v1/dev-1/softwaremodules/1/artifacts/fw.bin';

const pollAnswer = (o: Partial<Extract<HawkbitAnswer, { type: 'poll' }>> = {}): HawkbitAnswer => ({ type: 'poll', sleepMs: 30_000, ...o });
const offer = pollAnswer({ deployment: { path: DEP, action: 7 } });
const deployment = (o: Partial<Extract<HawkbitAnswer, { type: 'deployment' }>> = {}): HawkbitAnswer => ({
  type: 'deployment',
  action: 7,
  download: 'forced',
  update: 'forced',
  artifact: { path: ART, filename: 'fw.bin', size: SIZE, md5: MD5 },
  version: '2.0',
  ...o,
});
const ok: HawkbitAnswer = { type: 'ok' };
const status = (n: number): HawkbitAnswer => ({ type: 'status', status: n });

type D = Driver<HawkbitDeviceState, HawkbitRequest, HawkbitAnswer>;
const device = (behaviour: Partial<Behaviour> = {}, battery = 80): D =>
  new Driver(hawkbitMachine, makeProfile({ id: 'dev-1', version: '1.0', battery, behaviour: { ...NO_FAULTS, ...behaviour } }), { ...SETTINGS, chunkSize: 100, progressEvery: 50 }).start();

/** Answers a download request with the bytes asked (held grows), the image's md5 once whole. */
function bytes(d: D, md5 = MD5): HawkbitAnswer {
  const r = d.request;
  if (r.op !== 'download') throw new Error(`expected a download, got ${r.op}`);
  const held = r.end + 1;
  return { type: 'file', status: 206, held, ...(held === SIZE ? { md5 } : {}) };
}

const feedbacks = (d: D): string[] => d.sent.filter((r) => r.op === 'feedback' || r.op === 'cancelFeedback').map((r) => (r.op === 'feedback' || r.op === 'cancelFeedback' ? `${r.report.execution}/${r.report.finished}${r.report.progress ? ` ${r.report.progress.cnt}%` : ''}` : ''));

/** The happy path from the offer to the closing feedback's answer. */
function toClosing(d: D): D {
  d.answer(offer).answer(deployment()).answer(ok);
  while (d.request.op === 'download' || d.request.op === 'feedback') {
    const r = d.request;
    if (r.op === 'feedback' && r.report.execution === 'closed') return d;
    if (r.op === 'download') d.answer(bytes(d));
    else d.answer(ok);
    if (d.action.type === 'sleep') d.wake();
  }
  return d;
}

const legal = (d: D): void => expect(illegalTransitions(d.kinds, hawkbitRules)).toEqual([]);

describe('poll', () => {
  it('starts by polling, then sleeps what config.polling.sleep says, not a fixed interval', () => {
    const d = device();
    expect(d.request).toEqual({ op: 'poll', id: 'dev-1' });
    d.answer(pollAnswer({ sleepMs: 42_000 }));
    expect(d.state.kind).toBe('sleeping');
    expect(d.sleepMs).toBe(42_000);
    d.wake().answer(pollAnswer({ sleepMs: 7_000 }));
    expect(d.sleepMs).toBe(7_000);
    legal(d);
  });

  it(`ends idle after ${HAWKBIT_MAX_IDLE_POLLS} polls offering nothing`, () => {
    const d = device().run(() => pollAnswer());
    expect(d.state).toMatchObject({ kind: 'idle', code: 200 });
    expect(d.sent.filter((r) => r.op === 'poll')).toHaveLength(HAWKBIT_MAX_IDLE_POLLS);
  });

  it('sends configData once when asked (id, version, battery, signal), then follows the deploymentBase link', () => {
    const d = device().answer(pollAnswer({ config: '/T/controller/v1/dev-1/configData', deployment: { path: DEP, action: 7 } }));
    expect(d.request).toMatchObject({ op: 'config', path: '/T/controller/v1/dev-1/configData', data: { id: 'dev-1', version: '1.0', battery: '80' } });
    d.answer(ok);
    expect(d.request).toEqual({ op: 'deployment', id: 'dev-1', path: DEP, action: 7 });
    d.answer(status(404)).wake().answer(pollAnswer({ config: '/T/controller/v1/dev-1/configData' }));
    expect(d.sent.filter((r) => r.op === 'config')).toHaveLength(1);
    legal(d);
  });

  it('401, 403 and 404 on a poll end the device rejected with the status', () => {
    for (const n of [401, 403, 404]) expect(device().answer(status(n)).state).toMatchObject({ kind: 'rejected', code: n });
  });

  it('429 backs off 1–2 s and sends the same poll again', () => {
    const d = device().answer(status(429));
    expect(d.state.kind).toBe('backing-off');
    expect(d.sleepMs).toBeGreaterThanOrEqual(1000);
    expect(d.sleepMs).toBeLessThanOrEqual(2000);
    d.wake();
    expect(d.request).toEqual({ op: 'poll', id: 'dev-1' });
    legal(d);
  });

  it('transport errors and 5xx are retried maxAttempts times, retryDelay apart, then gave-up', () => {
    const d = device().answer({ type: 'net', code: 'ECONNREFUSED' });
    expect(d.sleepMs).toBe(SETTINGS.retryDelayMs);
    d.wake().answer({ type: 'http', status: 503 }).wake().answer({ type: 'garbage' });
    expect(d.state).toMatchObject({ kind: 'gave-up' });
  });
});

describe('deployment and feedback', () => {
  it('forced: proceeding, ranged downloads from the bytes held, progress every 50 %, downloaded, install, closed/success', () => {
    const d = toClosing(device());
    const downloads = d.sent.filter((r) => r.op === 'download').map((r) => (r.op === 'download' ? `${r.start}-${r.end}` : ''));
    expect(downloads).toEqual(['0-99', '100-199', '200-299', '300-399']);
    expect(feedbacks(d)).toEqual(['proceeding/none', 'proceeding/none 50%', 'downloaded/none 100%', 'closed/success']);
    expect(d.kinds).toContain('installing');
    d.answer(ok);
    expect(d.state).toMatchObject({ kind: 'succeeded', code: 200, version: '2.0' });
    legal(d);
  });

  it('attempt with battery below the floor: rejected/none, then gated; forced proceeds whatever the battery', () => {
    const low = device({}, HAWKBIT_BATTERY_FLOOR - 1).answer(offer).answer(deployment({ download: 'attempt', update: 'attempt' }));
    expect(feedbacks(low)).toEqual(['rejected/none']);
    low.answer(ok);
    expect(low.state.kind).toBe('gated');
    const forced = device({}, 5).answer(offer).answer(deployment());
    expect(feedbacks(forced)).toEqual(['proceeding/none']);
    legal(low);
  });

  it('download skip: nothing fetched, the device polls again after the sleep', () => {
    const d = device().answer(offer).answer(deployment({ download: 'skip', update: 'skip' }));
    expect(d.state.kind).toBe('sleeping');
    expect(d.sent.some((r) => r.op === 'download' || r.op === 'feedback')).toBe(false);
  });

  it('update skip (download only, or outside the maintenance window): downloaded, scheduled once, then installs when offered forced', () => {
    const d = device().answer(offer).answer(deployment({ update: 'skip', window: 'unavailable' })).answer(ok);
    while (d.request.op === 'download' || (d.request.op === 'feedback' && d.request.report.execution !== 'scheduled')) {
      d.answer(d.request.op === 'download' ? bytes(d) : ok);
    }
    expect(feedbacks(d).slice(-2)).toEqual(['downloaded/none 100%', 'scheduled/none']);
    d.answer(ok);
    expect(d.state.kind).toBe('sleeping');
    d.wake().answer(offer).answer(deployment({ update: 'skip', window: 'unavailable' }));
    expect(d.state.kind).toBe('sleeping');
    d.wake().answer(offer).answer(deployment({ window: 'available' }));
    expect(d.state.kind).toBe('installing');
    d.wake();
    expect(feedbacks(d).at(-1)).toBe('closed/success');
    expect(d.sent.filter((r) => r.op === 'download')).toHaveLength(4);
    legal(d);
  });

  it('an image whose md5 is not the announced one: closed/failure with the hash in the details, failed', () => {
    const d = device().answer(offer).answer(deployment()).answer(ok);
    while (d.request.op === 'download' || (d.request.op === 'feedback' && d.request.report.execution === 'proceeding')) d.answer(d.request.op === 'download' ? bytes(d, 'f'.repeat(32)) : ok);
    const last = d.request;
    expect(last).toMatchObject({ op: 'feedback', report: { execution: 'closed', finished: 'failure' } });
    expect(last.op === 'feedback' ? last.report.details?.[0] : '').toContain('hash mismatch');
    d.answer(ok);
    expect(d.state.kind).toBe('failed');
    legal(d);
  });

  it('410 to its own closing feedback: recorded already (a lost answer), succeeded and marked duplicate', () => {
    const d = toClosing(device()).answer(status(410));
    expect(d.state).toMatchObject({ kind: 'succeeded', code: 410, duplicateResult: true });
  });

  it('409 and 410 to a progress feedback, 404 to a deploymentBase or artifact: back to polling at once', () => {
    for (const n of [409, 410]) {
      const d = device().answer(offer).answer(deployment()).answer(status(n));
      expect(d.state.kind).toBe('sleeping');
      expect(d.sleepMs).toBe(0);
      legal(d);
    }
    expect(device().answer(offer).answer(status(404)).state.kind).toBe('sleeping');
    expect(device().answer(offer).answer(deployment()).answer(ok).answer(status(404)).state.kind).toBe('sleeping');
  });

  it('403 (status quota) to a progress report: no more progress, the download goes on; to the closing feedback: gave-up', () => {
    const d = device().answer(offer).answer(deployment()).answer(status(403));
    expect(d.request.op).toBe('download');
    while (d.request.op === 'download') d.answer(bytes(d));
    expect(feedbacks(d)).toEqual(['proceeding/none', 'downloaded/none 100%']);
    const end = toClosing(device()).answer(status(403));
    expect(end.state).toMatchObject({ kind: 'gave-up', code: 403 });
  });

  it('400 and 405 (a request the server does not take) are failed attempts: the same request again after retryDelay, then gave-up', () => {
    for (const n of [400, 405]) {
      const d = device().answer(offer).answer(deployment()).answer(status(n));
      expect(d.state.kind).toBe('backing-off');
      expect(d.sleepMs).toBe(SETTINGS.retryDelayMs);
      d.wake();
      expect(feedbacks(d)).toEqual(['proceeding/none', 'proceeding/none']);
      d.answer(status(n)).wake().answer(status(n));
      expect(d.state).toMatchObject({ kind: 'gave-up', code: n });
      legal(d);
    }
  });

  it('429 to a feedback sends the same feedback again after the backoff', () => {
    const d = device().answer(offer).answer(deployment()).answer(status(429)).wake();
    expect(feedbacks(d)).toEqual(['proceeding/none', 'proceeding/none']);
    legal(d);
  });

  it('an offer of an action the server said is closed (410) is stale: refused, counted, the device polls on', () => {
    const d = device().answer(offer).answer(deployment()).answer(status(410)).wake().answer(offer);
    expect(d.state).toMatchObject({ kind: 'sleeping', staleOffers: 1 });
    expect(d.sent.filter((r) => r.op === 'deployment')).toHaveLength(1);
    legal(d);
  });
});

describe('cancelAction', () => {
  it('a cancelAction link is followed before any deploymentBase; the device acknowledges canceled/success and ends cancelled', () => {
    const d = device().answer(pollAnswer({ cancel: { path: '/T/controller/v1/dev-1/cancelAction/7', action: 7 }, deployment: { path: DEP, action: 7 } }));
    expect(d.request).toEqual({ op: 'cancel', id: 'dev-1', path: '/T/controller/v1/dev-1/cancelAction/7', action: 7 });
    d.answer({ type: 'cancel', action: 7, stopId: 7 });
    expect(d.request).toMatchObject({ op: 'cancelFeedback', action: 7, report: { execution: 'canceled', finished: 'success' } });
    d.answer(ok);
    expect(d.state.kind).toBe('cancelled');
    legal(d);
  });
});

describe('field faults', () => {
  it('disconnect: the cut request carries cutAfterBytes, the device reconnects, reports resumed and asks from the bytes held', () => {
    const d = device({ disconnect: { at: { kind: 'bytes', bytes: 150 }, times: 1, reconnectMs: 5_000 } }).answer(offer).answer(deployment()).answer(ok);
    d.answer(bytes(d));
    expect(d.request).toMatchObject({ op: 'download', start: 100, fault: { cutAfterBytes: 50 } });
    d.answer({ type: 'file', status: 206, held: 150, cut: true });
    expect(d.state.kind).toBe('reconnecting');
    expect(d.sleepMs).toBe(5_000);
    d.wake();
    expect(feedbacks(d).at(-1)).toBe('resumed/none');
    d.answer(ok);
    expect(d.request).toMatchObject({ op: 'download', start: 150 });
    legal(d);
  });

  it('longSleep: dozes once mid-download, then resumes', () => {
    const d = device({ longSleep: { sleepMs: 3 * 86_400_000, staleAuth: false } }).answer(offer).answer(deployment()).answer(ok);
    d.answer(bytes(d));
    expect(d.state.kind).toBe('dozing');
    expect(d.sleepMs).toBe(3 * 86_400_000);
    legal(d.wake());
  });

  it('storage full, battery dying, flashing failing, booting the old version: closed/failure, failed', () => {
    const full = device({ storageFull: true }).answer(offer).answer(deployment());
    expect(feedbacks(full)).toEqual(['closed/failure']);
    const dies = device({ batteryDies: { atShare: 0.5 } }).answer(offer).answer(deployment()).answer(ok);
    dies.answer(bytes(dies)).answer(bytes(dies));
    expect(feedbacks(dies).at(-1)).toBe('closed/failure');
    for (const b of [{ flashFails: { code: 202 as const } }, { rebootIntoOld: true }]) {
      const d = toClosing(device(b));
      expect(feedbacks(d).at(-1)).toBe('closed/failure');
      d.answer(ok);
      expect(d.state).toMatchObject({ kind: 'failed', version: '1.0' });
      legal(d);
    }
  });

  it('download answers without new bytes: no-progress after maxStalledAttempts', () => {
    const d = device().answer(offer).answer(deployment()).answer(ok);
    for (let i = 0; i < SETTINGS.maxStalledAttempts; i++) if (d.request.op === 'download') d.answer({ type: 'file', status: 206, held: 0 });
    expect(d.request).toMatchObject({ op: 'feedback', report: { execution: 'closed', finished: 'failure' } });
    d.answer(ok);
    expect(d.state.kind).toBe('no-progress');
  });
});
