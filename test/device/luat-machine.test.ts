import { describe, expect, it } from 'vitest';
import { luatMachine, LUAT_MAX_ASKS, backoffMs, type LuatAnswer, type LuatDeviceState, type LuatRequest } from '../../src/device/luat/machine.js';
import { luatRules } from '../../src/device/rules.js';
import type { DeviceProfile, DeviceSettings } from '../../src/device/types.js';
import { Driver, SETTINGS, illegalTransitions, makeProfile } from './drive.js';

type D = Driver<LuatDeviceState, LuatRequest, LuatAnswer>;

const code = (n: number): LuatAnswer => ({ type: 'code', code: n });
const file = (version?: string): LuatAnswer => (version === undefined ? { type: 'file', held: 4096, md5: 'ab' } : { type: 'file', held: 4096, md5: 'ab', version });
const net = (c = 'ECONNREFUSED'): LuatAnswer => ({ type: 'net', code: c });

function device(profile: Partial<DeviceProfile> = {}, settings: Partial<DeviceSettings> = {}): D {
  return new Driver(luatMachine, makeProfile({ id: '866714040000001', version: '1.0.0', core: 'V4001', ...profile }), { ...SETTINGS, ...settings }).start();
}

function final(d: D): { kind: string; code: number; version: string } {
  expect(d.stopped).toBe(true);
  const s = d.state as { kind: string; code: number; version: string };
  return { kind: s.kind, code: s.code, version: s.version };
}

const FAULTY = { corruptDownload: true, rebootIntoOld: false };
const OLD_BOOT = { corruptDownload: false, rebootIntoOld: true };

describe('luat device', () => {
  it('asks, gets the file, flashes and reboots, asks again with the new version and ends succeeded on 27', () => {
    const d = device();
    expect(d.request).toEqual({ op: 'ask', imei: '866714040000001', version: '1.0.0', core: 'V4001' });
    d.answer(file('2.0.0'));
    expect(d.state.kind).toBe('rebooting');
    expect(d.sleepMs).toBe(SETTINGS.rebootMs);
    d.wake();
    expect(d.request).toEqual({ op: 'ask', imei: '866714040000001', version: '2.0.0', core: 'V4001' });
    d.answer(code(27));
    expect(final(d)).toEqual({ kind: 'succeeded', code: 27, version: '2.0.0' });
    expect(d.kinds).toEqual(['requesting', 'rebooting', 'requesting', 'succeeded']);
    expect(illegalTransitions(d.kinds, luatRules)).toEqual([]);
  });

  it('a file that names no version cannot be confirmed: succeeded with code 0 after the reboot, version unknown', () => {
    const d = device().answer(file()).wake();
    expect(final(d)).toEqual({ kind: 'succeeded', code: 0, version: '' });
    expect(d.sent).toHaveLength(1);
  });

  it('27 on the first ask: up-to-date', () => {
    expect(final(device().answer(code(27)))).toEqual({ kind: 'up-to-date', code: 27, version: '1.0.0' });
  });

  it('40: banned', () => {
    expect(final(device().answer(code(40)))).toEqual({ kind: 'banned', code: 40, version: '1.0.0' });
  });

  it.each([3, 17, 21, 25, 26, 44])('%i: rejected with that code', (n) => {
    expect(final(device().answer(code(n)))).toEqual({ kind: 'rejected', code: n, version: '1.0.0' });
  });

  it('43: backs off waitBackoffMs ±20% and asks again, then upgrades', () => {
    const d = device();
    d.answer(code(43));
    expect(d.state.kind).toBe('waiting');
    const wait = d.sleepMs;
    expect(wait).toBeGreaterThanOrEqual(0.8 * SETTINGS.waitBackoffMs);
    expect(wait).toBeLessThan(1.2 * SETTINGS.waitBackoffMs);
    expect(wait).toBe(backoffMs(d.profile, d.settings, 0));
    d.wake();
    expect(d.request).toMatchObject({ version: '1.0.0' });
    d.answer(code(43));
    expect(d.sleepMs).toBe(backoffMs(d.profile, d.settings, 1));
    d.wake().answer(file('2.0.0')).wake().answer(code(27));
    expect(final(d)).toMatchObject({ kind: 'succeeded', version: '2.0.0' });
    expect(illegalTransitions(d.kinds, luatRules)).toEqual([]);
  });

  it('the backoff jitter is the device’s own: repeatable for a seed, different across seeds, spread over ±20%', () => {
    const waits = (seed: number): number[] => {
      const d = device({ seed });
      const out: number[] = [];
      for (let i = 0; i < 5; i++) {
        d.answer(code(43));
        out.push(d.sleepMs);
        d.wake();
      }
      return out;
    };
    expect(waits(11)).toEqual(waits(11));
    expect(waits(11)).not.toEqual(waits(12));
    const all = Array.from({ length: 400 }, (_, seed) => backoffMs(makeProfile({ seed }), SETTINGS, 0));
    expect(Math.min(...all)).toBeGreaterThanOrEqual(72_000);
    expect(Math.max(...all)).toBeLessThan(108_000);
    expect(Math.min(...all)).toBeLessThan(76_000);
    expect(Math.max(...all)).toBeGreaterThan(104_000);
  });

  it.each([
    ['a refused connection', net()],
    ['a timeout', net('TIMEOUT')],
    ['a 500', { type: 'http', status: 500 } as LuatAnswer],
    ['a 404 without a code', { type: 'http', status: 404 } as LuatAnswer],
    ['garbage', { type: 'garbage' } as LuatAnswer],
    ['an unknown code', code(99)],
    ['code 0 outside a file', code(0)],
  ])('%s is retried maxAttempts times retryDelayMs apart, then gave-up', (_name, a) => {
    const d = device();
    for (let i = 0; i < SETTINGS.maxAttempts; i++) {
      d.answer(a);
      expect(d.state.kind).toBe('retrying');
      expect(d.sleepMs).toBe(SETTINGS.retryDelayMs);
      d.wake();
    }
    d.answer(a);
    expect(final(d).kind).toBe('gave-up');
    expect(d.sent).toHaveLength(SETTINGS.maxAttempts + 1);
    expect(illegalTransitions(d.kinds, luatRules)).toEqual([]);
  });

  it('a success after failures forgets them', () => {
    const d = device().answer(net()).wake().answer(net()).wake().answer(code(43)).wake().answer(net()).wake().answer(net()).wake();
    expect(d.state.kind).toBe('requesting');
    d.answer(code(27));
    expect(final(d).kind).toBe('up-to-date');
  });

  it.each([
    ['a corrupt download', FAULTY],
    ['a reboot into the old version', OLD_BOOT],
  ])('%s keeps the old version and asks again until banned (the loop ban)', (_name, behaviour) => {
    const d = device({ behaviour });
    let asks = 0;
    while (!d.stopped && asks < 20) {
      asks++;
      expect(d.request).toMatchObject({ version: '1.0.0' });
      // A server with a ban limit of 10 answers the 11th request with 40.
      d.answer(asks <= 10 ? file('2.0.0') : code(40));
      if (!d.stopped) d.wake();
    }
    expect(final(d)).toEqual({ kind: 'banned', code: 40, version: '1.0.0' });
    expect(asks).toBe(11);
    expect(illegalTransitions(d.kinds, luatRules)).toEqual([]);
  });

  it('bytes that do not match the announced md5 do not flash: the device asks again with its old version', () => {
    const bad = device().answer({ type: 'file', held: 10, md5: 'a'.repeat(32), expectedMd5: 'b'.repeat(32), version: '2.0.0' }).wake();
    expect(bad.request).toMatchObject({ version: '1.0.0' });
    const good = device().answer({ type: 'file', held: 10, md5: 'A'.repeat(32), expectedMd5: 'a'.repeat(32), version: '2.0.0' }).wake();
    expect(good.request).toMatchObject({ version: '2.0.0' });
    const unannounced = device().answer({ type: 'file', held: 10, md5: 'a'.repeat(32), version: '2.0.0' }).wake();
    expect(unannounced.request).toMatchObject({ version: '2.0.0' });
  });

  it('a flash that did not take, answered 27: failed', () => {
    const d = device({ behaviour: OLD_BOOT }).answer(file('2.0.0')).wake().answer(code(27));
    expect(final(d)).toEqual({ kind: 'failed', code: 27, version: '1.0.0' });
  });

  it(`stops after ${LUAT_MAX_ASKS} requests whatever it is told`, () => {
    const waiting = device().run(() => code(43));
    expect(final(waiting)).toMatchObject({ kind: 'gave-up', code: 0 });
    expect(waiting.sent).toHaveLength(LUAT_MAX_ASKS);
    expect(waiting.kinds.slice(-2)).toEqual(['waiting', 'gave-up']);

    const looping = device({ behaviour: FAULTY }).run(() => file('2.0.0'));
    expect(looping.sent).toHaveLength(LUAT_MAX_ASKS);
    expect(looping.kinds.slice(-2)).toEqual(['rebooting', 'gave-up']);

    let n = 0;
    const mixed = device({}, { maxAttempts: 1000 }).run(() => (++n % 2 === 0 ? net() : code(43)));
    expect(mixed.sent).toHaveLength(LUAT_MAX_ASKS);
    expect(mixed.kinds.slice(-2)).toEqual(['retrying', 'gave-up']);
    for (const d of [waiting, looping, mixed]) expect(illegalTransitions(d.kinds, luatRules)).toEqual([]);
  });

  it('a device without a core version sends an empty core (the wire leaves it out)', () => {
    expect(device({ core: '' }).request).toMatchObject({ core: '' });
  });

  it('stray events: an answer while asleep keeps it asleep; a timer while awaiting asks again uncounted; final stays final', () => {
    const asleep = device().answer(code(43));
    const until = asleep.action.type === 'sleep' ? asleep.action.until : -1;
    expect(luatMachine.onAnswer(asleep.state, code(27), asleep.profile, SETTINGS, asleep.now)).toEqual({ state: asleep.state, action: { type: 'sleep', until } });

    const awaiting = device();
    const again = luatMachine.onTimer(awaiting.state, awaiting.profile, SETTINGS, awaiting.now);
    expect(again.state).toBe(awaiting.state);
    expect(again.action).toEqual({ type: 'send', request: awaiting.request });

    const done = device().answer(code(27));
    expect(luatMachine.onAnswer(done.state, file('3.0.0'), done.profile, SETTINGS, 0)).toEqual({ state: done.state, action: { type: 'stop' } });
    expect(luatMachine.onTimer(done.state, done.profile, SETTINGS, 0)).toEqual({ state: done.state, action: { type: 'stop' } });
  });

  describe('versionConfirm (the target profile, through settings)', () => {
    const labelled = (over: Partial<Extract<LuatAnswer, { type: 'file' }>>): LuatAnswer => ({ type: 'file', held: 4096, md5: 'ab', ...over });
    const why = (d: D): unknown => (d.state as { why?: unknown }).why;
    const unconfirmed = (d: D): unknown => (d.state as { unconfirmed?: unknown }).unconfirmed;

    it('re-ask (default): asks again with the version the file names and a 27 confirms; an unlabelled file again ends failed with a reason', () => {
      const ok = device().answer(labelled({ nameVersion: '2.0.0' })).wake();
      expect(ok.request).toMatchObject({ version: '2.0.0' });
      expect(final(ok.answer(code(27)))).toEqual({ kind: 'succeeded', code: 27, version: '2.0.0' });
      expect(unconfirmed(ok)).toBeUndefined();
      const again = device().answer(file('2.0.0')).wake().answer(file());
      expect(final(again)).toEqual({ kind: 'failed', code: 0, version: '2.0.0' });
      expect(why(again)).toBe('asked again with 2.0.0 after flashing it and was served a file again instead of 27 (already newest)');
      expect(illegalTransitions(again.kinds, luatRules)).toEqual([]);
    });

    it('re-ask: a file naming the version it just flashed is a stale offer: refused, counted, the upgrade stands', () => {
      const stale = device().answer(file('2.0.0')).wake().answer(file('2.0.0'));
      expect(final(stale)).toEqual({ kind: 'succeeded', code: 0, version: '2.0.0' });
      expect((stale.state as { staleOffers?: number }).staleOffers).toBe(1);
      expect(illegalTransitions(stale.kinds, luatRules)).toEqual([]);
    });

    it('re-ask: an unlabelled file installs the profile firmwareVersion, which the device asks again with', () => {
      const d = device({}, { firmwareVersion: '1.3.2' }).answer(file()).wake();
      expect(d.request).toMatchObject({ version: '1.3.2' });
      expect(final(d.answer(code(27)))).toEqual({ kind: 'succeeded', code: 27, version: '1.3.2' });
    });

    it('re-ask: without any label nor firmwareVersion it cannot ask again: succeeded, labelled unconfirmed with the reason', () => {
      const d = device().answer(file()).wake();
      expect(final(d)).toEqual({ kind: 'succeeded', code: 0, version: '' });
      expect(unconfirmed(d)).toBe(true);
      expect(why(d)).toMatch(/named no version and the profile gives none \(luat\.firmwareVersion\)/);
    });

    it('header: trusts X-Firmware-Version (no second ask); a file without it is a failed upgrade', () => {
      const d = device({}, { versionConfirm: 'header' }).answer(labelled({ version: '2.0.0', nameVersion: '9.9.9' })).wake();
      expect(final(d)).toEqual({ kind: 'succeeded', code: 0, version: '2.0.0' });
      expect(d.sent).toHaveLength(1);
      const bare = device({}, { versionConfirm: 'header', firmwareVersion: '2.0.0' }).answer(labelled({ nameVersion: '2.0.0' }));
      expect(final(bare)).toEqual({ kind: 'failed', code: 0, version: '1.0.0' });
      expect(why(bare)).toMatch(/no version in X-Firmware-Version/);
    });

    it('filename: trusts the file name; a file without a version in it is a failed upgrade', () => {
      expect(final(device({}, { versionConfirm: 'filename' }).answer(labelled({ version: '3.0.0', nameVersion: '2.0.0' })).wake())).toEqual({ kind: 'succeeded', code: 0, version: '2.0.0' });
      const bare = device({}, { versionConfirm: 'filename' }).answer(labelled({ version: '3.0.0' }));
      expect(final(bare)).toMatchObject({ kind: 'failed', code: 0 });
      expect(why(bare)).toMatch(/file name named no version/);
    });

    it('none: succeeded after the reboot without asking again, labelled unconfirmed', () => {
      const d = device({}, { versionConfirm: 'none' }).answer(file('2.0.0')).wake();
      expect(final(d)).toEqual({ kind: 'succeeded', code: 0, version: '2.0.0' });
      expect(unconfirmed(d)).toBe(true);
      expect(d.sent).toHaveLength(1);
    });

    it('every mode: a device that booted back into its old version asks again with it (the loop the ban is for)', () => {
      for (const versionConfirm of ['re-ask', 'header', 'filename', 'none'] as const) {
        const d = device({ behaviour: { ...OLD_BOOT } }, { versionConfirm }).answer(labelled({ version: '2.0.0', nameVersion: '2.0.0' })).wake();
        expect(d.request).toMatchObject({ version: '1.0.0' });
      }
    });
  });

  it('never throws on hostile answers or settings and stays plain data', () => {
    const hostile: LuatAnswer[] = [
      code(Number.NaN),
      code(-1),
      code(2 ** 53),
      { type: 'file', held: Number.NaN },
      { type: 'file', held: -1, version: '' },
      { type: 'http', status: 0 },
      net(''),
      { type: 'garbage' },
    ];
    const odd: DeviceSettings = { ...SETTINGS, maxAttempts: Number.NaN, retryDelayMs: Number.NaN, rebootMs: -5, waitBackoffMs: Number.NaN };
    for (const settings of [SETTINGS, odd]) {
      for (const a of hostile) {
        const d = new Driver(luatMachine, makeProfile(), settings).start();
        d.answer(a);
        expect(luatRules.kinds).toContain(d.state.kind);
        if (d.action.type === 'sleep') expect(Number.isFinite(d.action.until)).toBe(true);
        expect(JSON.parse(JSON.stringify(d.state))).toEqual(d.state);
      }
    }
  });
});
