/**
 * Checks after success (`recheck`) and stale offers, on both machines: when the checks go out
 * (virtual time), what they send, and that a device never takes a task for the version it runs.
 */
import { describe, expect, it } from 'vitest';
import { onenetMachine, type OnenetAnswer, type OnenetDeviceState, type OnenetRequest } from '../../src/device/onenet/machine.js';
import type { OnenetOffer } from '../../src/device/onenet/types.js';
import { luatMachine, type LuatAnswer, type LuatDeviceState, type LuatRequest } from '../../src/device/luat/machine.js';
import { luatRules, onenetRules } from '../../src/device/rules.js';
import type { DeviceProfile, DeviceSettings } from '../../src/device/types.js';
import { Driver, SETTINGS, illegalTransitions, makeProfile } from './drive.js';

const MD5 = '0123456789abcdef0123456789abcdef';
const OFFER: OnenetOffer = { target: '2.0.0', token: 'tok-1', size: 200, md5: MD5, signal: 0, power: 0, retry: 2, interval: 30, type: 1 };
const json = (errno: number): OnenetAnswer => ({ type: 'json', errno });
const offer = (over: Partial<OnenetOffer> = {}): OnenetAnswer => ({ type: 'json', errno: 0, offer: { ...OFFER, ...over } });
const TEN_MIN = 600_000;

type OD = Driver<OnenetDeviceState, OnenetRequest, OnenetAnswer>;
type LD = Driver<LuatDeviceState, LuatRequest, LuatAnswer>;

function onenet(profile: Partial<DeviceProfile> = {}, settings: Partial<DeviceSettings> = {}): OD {
  return new Driver(onenetMachine, makeProfile(profile), { ...SETTINGS, progressEvery: 0, ...settings }).start();
}

/** Drives a OneNET device through a clean upgrade up to (not including) its last version report's answer. */
function upgrade(d: OD): OD {
  d.answer(json(0)).answer(offer()).answer(json(0));
  while (d.request.op === 'download') {
    const r = d.request;
    d.answer(r.end + 1 === r.total ? { type: 'file', held: r.end + 1, md5: MD5 } : { type: 'file', held: r.end + 1 });
  }
  d.answer(json(0)).wake(); // 101, reboot
  d.answer(json(0)); // 201
  expect(d.request).toMatchObject({ op: 'reportVersion', version: '2.0.0' });
  return d;
}

describe('onenet: checks after success', () => {
  it('without recheck the device stops at success (as before)', () => {
    const d = upgrade(onenet()).answer(json(0));
    expect(d.stopped).toBe(true);
    expect(d.state).toMatchObject({ kind: 'succeeded', code: 201, version: '2.0.0' });
  });

  it('checks `times` more times, `every` apart in virtual time, with the version it now runs', () => {
    const d = upgrade(onenet({}, { recheck: { times: 2, everyMs: TEN_MIN } })).answer(json(0));
    const checks: number[] = [];
    for (let i = 0; i < 2; i++) {
      expect(d.state.kind).toBe('waiting');
      expect(d.sleepMs).toBe(TEN_MIN);
      d.wake();
      expect(d.request).toEqual({ op: 'check', devId: '522700001', taskType: 2, manuf: '101', model: '10101', version: '2.0.0', signal: 20, battery: 80 });
      checks.push(d.now);
      d.answer(json(11));
    }
    expect(checks[1]! - checks[0]!).toBe(TEN_MIN);
    expect(d.stopped).toBe(true);
    expect(d.state).toEqual({ kind: 'succeeded', code: 201, version: '2.0.0', duplicateResult: false });
    expect(illegalTransitions(d.kinds, onenetRules)).toEqual([]);
  });

  it('the same task offered again after success is refused and counted, never downloaded', () => {
    const d = upgrade(onenet({}, { recheck: { times: 3, everyMs: TEN_MIN } })).answer(json(0));
    const sent = d.sent.length;
    d.wake().answer(offer()); // same token, target it runs
    d.wake().answer(offer({ token: 'tok-9' })); // a new token for the version it runs: still stale
    d.wake().answer(offer({ target: '3.0.0', token: 'tok-3' })); // a newer task: left for a later run, not stale
    expect(d.sent.slice(sent).map((r) => r.op)).toEqual(['check', 'check', 'check']);
    expect(d.state).toEqual({ kind: 'succeeded', code: 201, version: '2.0.0', duplicateResult: false, staleOffers: 2 });
    expect(illegalTransitions(d.kinds, onenetRules)).toEqual([]);
  });

  it('a check after success that fails is retried within maxAttempts, then the device still ends succeeded', () => {
    const d = upgrade(onenet({}, { recheck: { times: 1, everyMs: TEN_MIN }, maxAttempts: 1 })).answer(json(0));
    d.wake().answer({ type: 'net', code: 'ECONNRESET' });
    expect(d.state.kind).toBe('waiting');
    d.wake().answer({ type: 'net', code: 'ECONNRESET' });
    expect(d.state).toMatchObject({ kind: 'succeeded', version: '2.0.0' });
  });

  it('a fresh device offered a task for the version it already runs refuses it: stale-offer, no token check, no download', () => {
    const d = onenet({ version: '2.0.0' });
    d.answer(json(0)).answer(offer());
    expect(d.stopped).toBe(true);
    expect(d.state).toMatchObject({ kind: 'stale-offer', version: '2.0.0' });
    expect(d.sent.map((r) => r.op)).toEqual(['reportVersion', 'check']);
    expect(illegalTransitions(d.kinds, onenetRules)).toEqual([]);
  });
});

const code = (n: number): LuatAnswer => ({ type: 'code', code: n });
const file = (version: string): LuatAnswer => ({ type: 'file', held: 4096, md5: 'ab', version });

function luat(profile: Partial<DeviceProfile> = {}, settings: Partial<DeviceSettings> = {}): LD {
  return new Driver(luatMachine, makeProfile({ id: '866714040000001', version: '1.0.0', ...profile }), { ...SETTINGS, ...settings }).start();
}

describe('luat: asks after success', () => {
  it('after the confirming 27, asks `times` more times `every` apart with the new version', () => {
    const d = luat({}, { recheck: { times: 2, everyMs: TEN_MIN } });
    d.answer(file('2.0.0')).wake().answer(code(27));
    expect(d.state.kind).toBe('rechecking');
    expect(d.sleepMs).toBe(TEN_MIN);
    d.wake();
    expect(d.request).toEqual({ op: 'ask', imei: '866714040000001', version: '2.0.0', core: 'V4001' });
    d.answer(code(27));
    expect(d.sleepMs).toBe(TEN_MIN);
    d.wake().answer(code(27));
    expect(d.state).toEqual({ kind: 'succeeded', code: 27, version: '2.0.0' });
    expect(d.sent).toHaveLength(4);
    expect(illegalTransitions(d.kinds, luatRules)).toEqual([]);
  });

  it('a file of the version it runs is refused (not flashed) and counted', () => {
    const d = luat({}, { recheck: { times: 2, everyMs: TEN_MIN } });
    d.answer(file('2.0.0')).wake().answer(code(27));
    d.wake().answer(file('2.0.0'));
    expect(d.state.kind).toBe('rechecking');
    d.wake().answer(file('3.0.0')); // a newer file: left for a later run
    expect(d.state).toEqual({ kind: 'succeeded', code: 27, version: '2.0.0', staleOffers: 1 });
  });

  it('the confirming ask answered with the same file again: succeeded, one stale offer, no second flash', () => {
    const d = luat();
    d.answer(file('2.0.0')).wake().answer(file('2.0.0'));
    expect(d.state).toEqual({ kind: 'succeeded', code: 0, version: '2.0.0', staleOffers: 1 });
    expect(d.kinds).toEqual(['requesting', 'rebooting', 'requesting', 'succeeded']);
  });

  it('a 40 (banned by its own rechecks) ends the asks: the upgrade stands, no ask after the ban', () => {
    const d = luat({}, { recheck: { times: 5, everyMs: TEN_MIN } });
    d.answer(file('2.0.0')).wake().answer(code(27));
    d.wake().answer(code(40));
    expect(d.state).toEqual({ kind: 'succeeded', code: 27, version: '2.0.0' });
    expect(d.stopped).toBe(true);
    expect(illegalTransitions(d.kinds, luatRules)).toEqual([]);
  });

  it('confirmed by the file\'s label (versionConfirm header), then rechecks: every transition legal', () => {
    const d = luat({}, { recheck: { times: 1, everyMs: TEN_MIN }, versionConfirm: 'header' });
    d.answer(file('2.0.0')).wake();
    expect(d.state.kind).toBe('rechecking');
    d.wake().answer(code(27));
    expect(d.state).toEqual({ kind: 'succeeded', code: 27, version: '2.0.0' });
    expect(illegalTransitions(d.kinds, luatRules)).toEqual([]);
  });

  it('a fresh device sent a file of the version it runs: stale-offer, nothing flashed', () => {
    const d = luat({ version: '2.0.0' }).answer(file('2.0.0'));
    expect(d.state).toEqual({ kind: 'stale-offer', code: 0, version: '2.0.0' });
    expect(d.sent).toHaveLength(1);
  });
});
