/**
 * The foreign server itself, against the protocol digest: token, Range rules, task states, Luat
 * codes and the loop ban, and that each seeded break happens only on its devices and is logged.
 */
import { describe, expect, it } from 'vitest';
import { BreakLog, type Req, breakOf, makePackage, utcDay } from './common.js';
import { authorization, verify } from './onenet-auth.js';
import { resolveRange } from './range.js';
import { OnenetServer, type OnenetConfig } from './onenet.js';
import { LUAT_PATH, LuatServer, type LuatConfig } from './luat.js';
import { createHash } from 'node:crypto';

const KEY = Buffer.from('unit-test access key').toString('base64');
const PID = '4242';
const NOW = Date.UTC(2026, 11, 1, 10, 0, 0);
const ET = Math.floor(NOW / 1000) + 3600;

function req(method: string, pathAndQuery: string, headers: Record<string, string> = {}, body = ''): Req {
  const u = new URL(pathAndQuery, 'http://x');
  const h: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) h[k.toLowerCase()] = v;
  return { method, path: u.pathname, query: u.searchParams, headers: h, body: Buffer.from(body) };
}
const auth = { Authorization: authorization(KEY, PID, ET) };
const body = (r: { body: Buffer }): Record<string, unknown> => JSON.parse(r.body.toString()) as Record<string, unknown>;

describe('OneNET token (spec §1.1)', () => {
  it('accepts a token signed with the product key, for each method', () => {
    for (const m of ['md5', 'sha1', 'sha256'] as const) expect(verify(authorization(KEY, PID, ET, m), PID, KEY, NOW)).toEqual({ ok: true });
  });
  it('refuses an expired et, another key, another product, a tampered field', () => {
    expect(verify(authorization(KEY, PID, Math.floor(NOW / 1000) - 1), PID, KEY, NOW).ok).toBe(false);
    expect(verify(authorization(Buffer.from('other').toString('base64'), PID, ET), PID, KEY, NOW).ok).toBe(false);
    expect(verify(authorization(KEY, '4243', ET), PID, KEY, NOW).ok).toBe(false);
    expect(verify(authorization(KEY, PID, ET).replace(`et=${ET}`, `et=${ET + 1}`), PID, KEY, NOW).ok).toBe(false);
    expect(verify(undefined, PID, KEY, NOW).ok).toBe(false);
  });
});

describe('Range rules (spec §1.2)', () => {
  const L = 100;
  it.each([
    [undefined, 0, 99],
    ['bytes=10-19', 10, 19],
    ['10-19', 10, 19],
    ['bytes=10-', 10, 99],
    ['bytes=100-', 0, 99],
    ['bytes=90-500', 90, 99],
    ['bytes=50-40', 0, 40],
    ['bytes=-10', 90, 99],
    ['bytes=-500', 0, 99],
    ['bytes=01-02', 1, 2],
    ['garbage', 0, 99],
    ['bytes=1-2,5-6', 0, 99],
  ])('%s → %i-%i', (h, s, e) => expect(resolveRange(h, L)).toEqual({ start: s, end: e }));
});

const ONENET: OnenetConfig = {
  productId: PID,
  accessKey: KEY,
  tasks: [{ ids: '100..199', type: 2, manuf: '101', model: '10101', from: 'V1.0', target: 'V2.0', packageType: 1, size: 3000, signal: 5, power: 20, retry: 2, interval: 1 }],
};
const check = (dev: string, version = 'V1.0', extra = ''): Req => req('GET', `/ota/south/check?dev_id=${dev}&manuf=101&model=10101&type=2&version=${version}${extra}`, auth);

describe('OneNET calls (spec §1.2)', () => {
  it('walks a task pending → downloading → upgrading → succeeded, with a real md5 and 206 parts', () => {
    const s = new OnenetServer(ONENET, 1, new BreakLog());
    expect(body(s.handle(req('POST', '/ota/device/version?dev_id=100', auth, '{"s_version":"V1.0"}'), NOW)!).errno).toBe(0);
    const c = body(s.handle(check('100'), NOW)!);
    expect(c.errno).toBe(0);
    const data = c.data as { token: string; size: number; md5: string; target: string; type: number };
    expect(data).toMatchObject({ size: 3000, target: 'V2.0', type: 1 });
    expect(s.taskStateOf('100')).toBe('pending');
    expect(body(s.handle(req('GET', `/ota/south/download/${data.token}/check?dev_id=100`, auth), NOW)!).errno).toBe(0);
    expect(s.taskStateOf('100')).toBe('downloading');
    const parts: Buffer[] = [];
    for (const [a, b] of [[0, 1023], [1024, 2047], [2048, 2999]]) {
      const r = s.handle(req('GET', `/ota/south/download/${data.token}`, { Range: `bytes=${a}-${b}` }), NOW)!;
      expect(r.status).toBe(206);
      expect(r.headers['content-range']).toBe(`bytes ${a}-${b}/3000`);
      parts.push(r.body);
    }
    expect(createHash('md5').update(Buffer.concat(parts)).digest('hex')).toBe(data.md5);
    const step = (n: number): number => body(s.handle(req('POST', `/ota/south/device/download/${data.token}/progress?dev_id=100`, auth, JSON.stringify({ step: n })), NOW)!).errno as number;
    expect(step(50)).toBe(0);
    expect(step(101)).toBe(0);
    expect(s.taskStateOf('100')).toBe('upgrading');
    expect(step(50)).toBe(17);
    expect(step(101)).toBe(21);
    expect(body(s.handle(req('POST', '/ota/device/version?dev_id=100', auth, '{"s_version":"V2.0"}'), NOW)!).errno).toBe(0);
    expect(s.taskStateOf('100')).toBe('succeeded');
    expect(step(201)).toBe(20);
    expect(body(s.handle(check('100', 'V2.0'), NOW)!).errno).toBe(11);
  });

  it('answers errno 1 to an unknown device or a bad token, 27 to a bad version, 8 to another model, 12 to an expired token', () => {
    const s = new OnenetServer(ONENET, 1, new BreakLog());
    expect(body(s.handle(check('200'), NOW)!).errno).toBe(1);
    expect(body(s.handle(req('GET', '/ota/south/check?dev_id=100&manuf=101&model=10101&type=2&version=V1.0', { Authorization: authorization(KEY, PID, Math.floor(NOW / 1000) - 5) }), NOW)!).errno).toBe(1);
    expect(body(s.handle(check('101', 'V 1'), NOW)!).errno).toBe(27);
    expect(body(s.handle(req('GET', '/ota/south/check?dev_id=102&manuf=101&model=99999&type=2&version=V1.0', auth), NOW)!).errno).toBe(8);
    expect(s.taskStateOf('102')).toBe('failed');
    const token = (body(s.handle(check('103'), NOW)!).data as { token: string }).token;
    const later = NOW + 3 * 86_400_000;
    const lateAuth = { Authorization: authorization(KEY, PID, Math.floor(later / 1000) + 60) };
    expect(body(s.handle(req('GET', `/ota/south/download/${token}/check?dev_id=103`, lateAuth), later)!).errno).toBe(12);
    const dl = s.handle(req('GET', `/ota/south/download/${token}`), later)!;
    expect(dl.body.toString()).toBe('3');
    expect(dl.noLength).toBe(true);
    expect(body(s.handle(req('GET', `/ota/south/download/${token}/check?dev_id=104`, auth), NOW)!).errno).toBe(4);
  });
});

describe('OneNET breaks, each on its own devices and in the log', () => {
  const ids = Array.from({ length: 100 }, (_, i) => String(100 + i));
  const cfg: OnenetConfig = { ...ONENET, breaks: { 'range-ignored': 0.2, 'wrong-md5': 0.2, 'stale-task': 0.2 } };

  it('range-ignored answers a ranged request 200 with the whole file; others 206', () => {
    const log = new BreakLog();
    const s = new OnenetServer(cfg, 9, log);
    for (const id of ids) {
      const token = (body(s.handle(check(id), NOW)!).data as { token: string }).token;
      const r = s.handle(req('GET', `/ota/south/download/${token}`, { Range: 'bytes=0-1023' }), NOW)!;
      expect(r.status).toBe(breakOf(9, id, cfg.breaks!) === 'range-ignored' ? 200 : 206);
    }
    const logged = log.devices('range-ignored');
    expect(logged.size).toBeGreaterThan(5);
    expect([...logged].every((id) => breakOf(9, id, cfg.breaks!) === 'range-ignored')).toBe(true);
  });

  it('wrong-md5 offers an md5 that is not the file\'s', () => {
    const log = new BreakLog();
    const s = new OnenetServer(cfg, 9, log);
    for (const id of ids) {
      const md5 = (body(s.handle(check(id), NOW)!).data as { md5: string }).md5;
      expect(md5 === s.packageOf(id)!.md5).toBe(breakOf(9, id, cfg.breaks!) !== 'wrong-md5');
    }
    expect(log.devices('wrong-md5').size).toBe(ids.filter((id) => breakOf(9, id, cfg.breaks!) === 'wrong-md5').length);
  });

  it('stale-task offers the task again after success and to a device on the target', () => {
    const log = new BreakLog();
    const s = new OnenetServer(cfg, 9, log);
    for (const id of ids) {
      s.handle(check(id), NOW);
      s.handle(req('POST', `/ota/device/version?dev_id=${id}`, auth, '{"s_version":"V2.0"}'), NOW);
      expect(s.taskStateOf(id)).toBe('succeeded');
      expect(body(s.handle(check(id, 'V2.0'), NOW)!).errno).toBe(breakOf(9, id, cfg.breaks!) === 'stale-task' ? 0 : 11);
    }
    expect(log.devices('stale-task').size).toBe(ids.filter((id) => breakOf(9, id, cfg.breaks!) === 'stale-task').length);
  });
});

const LUAT: LuatConfig = { projectKey: 'pk', firmwareName: 'fw', ids: '866714040000000..866714040000999', version: '1.3.2', size: 2000, diffBuildMs: 60_000, banLimit: 10, banCountsWaits: true };
const ask = (imei: string, q = ''): Req => req('GET', `${LUAT_PATH}?project_key=pk&imei=${imei}&firmware_name=fw&version=1.3.1&core_version=3032&dfota=1${q}`);
const codeOf = (r: { status: number; body: Buffer }): number => (r.status === 200 ? 0 : (body(r).code as number));

describe('Luat (spec §2)', () => {
  it('answers 25, 3, 26, 27 and waits (43) during the diff build, then the file', () => {
    const s = new LuatServer(LUAT, 1, new BreakLog());
    expect(codeOf(s.handle(req('GET', `${LUAT_PATH}?project_key=zz&imei=866714040000001&firmware_name=fw&version=1.3.1`), NOW)!)).toBe(25);
    expect(codeOf(s.handle(req('GET', `${LUAT_PATH}?project_key=pk&IMEI=866714040000001&firmware_name=fw&version=1.3.1`), NOW)!)).toBe(3);
    expect(codeOf(s.handle(req('GET', `${LUAT_PATH}?project_key=pk&imei=866714040001000&firmware_name=fw&version=1.3.1`), NOW)!)).toBe(3);
    expect(codeOf(s.handle(req('GET', `${LUAT_PATH}?project_key=pk&imei=866714040000001&firmware_name=other&version=1.3.1`), NOW)!)).toBe(26);
    expect(codeOf(s.handle(req('GET', `${LUAT_PATH}?project_key=pk&imei=866714040000001&firmware_name=fw&version=1.3.2`), NOW)!)).toBe(27);
    expect(codeOf(s.handle(ask('866714040000002'), NOW)!)).toBe(43);
    expect(codeOf(s.handle(ask('866714040000003'), NOW + 59_999)!)).toBe(43);
    const file = s.handle(ask('866714040000003'), NOW + 60_000)!;
    expect(file.status).toBe(200);
    expect(file.body.equals(s.fileFor('3032').bytes)).toBe(true);
    // Without dfota the full file at once.
    expect(s.handle(req('GET', `${LUAT_PATH}?project_key=pk&imei=866714040000004&firmware_name=fw&version=1.3.1&core_version=9999`), NOW)!.status).toBe(200);
  });

  it('bans the eleventh counted ask of a UTC day (40) and keeps banning; a new day counts afresh', () => {
    const s = new LuatServer({ ...LUAT, diffBuildMs: 'none' }, 1, new BreakLog());
    const codes = Array.from({ length: 12 }, () => codeOf(s.handle(ask('866714040000010'), NOW)!));
    expect(codes).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 40, 40]);
    const other = '866714040000011';
    for (let i = 0; i < 10; i++) s.handle(ask(other), NOW);
    expect(codeOf(s.handle(ask(other), NOW + 86_400_000)!)).toBe(0);
    expect(utcDay(NOW + 86_400_000)).toBe(utcDay(NOW) + 1);
  });

  it('banLimit 20 and fullFiles are deployments of their own: ban at 21, never 43', () => {
    const s = new LuatServer({ ...LUAT, banLimit: 20, diffBuildMs: 'none' }, 1, new BreakLog());
    const codes = Array.from({ length: 21 }, () => codeOf(s.handle(ask('866714040000020'), NOW)!));
    expect(codes.slice(0, 20).every((c) => c === 0)).toBe(true);
    expect(codes[20]).toBe(40);
  });

  it('early-ban and late-ban move the ban for their devices only, and log it', () => {
    const log = new BreakLog();
    const cfg: LuatConfig = { ...LUAT, diffBuildMs: 'none', breaks: { 'early-ban': 0.3, 'late-ban': 0.3 }, earlyBanAt: 4, lateBanAt: 13 };
    const s = new LuatServer(cfg, 5, log);
    for (let i = 0; i < 60; i++) {
      const imei = `8667140400001${String(i).padStart(2, '0')}`;
      const codes = Array.from({ length: 15 }, () => codeOf(s.handle(ask(imei), NOW)!));
      const brk = breakOf(5, imei, cfg.breaks!);
      expect(codes.indexOf(40)).toBe(brk === 'early-ban' ? 4 : brk === 'late-ban' ? 13 : 10);
      expect(log.devices('early-ban').has(imei)).toBe(brk === 'early-ban');
      expect(log.devices('late-ban').has(imei)).toBe(brk === 'late-ban');
    }
  });
});

describe('packages', () => {
  it('are seeded: the same seed and name give the same bytes and md5', () => {
    expect(makePackage(3, 'a', 100).md5).toBe(makePackage(3, 'a', 100).md5);
    expect(makePackage(3, 'a', 100).md5).not.toBe(makePackage(4, 'a', 100).md5);
  });
});
