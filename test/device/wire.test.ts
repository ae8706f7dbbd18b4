import { describe, expect, it } from 'vitest';
import { onenetWire, authorizationAt } from '../../src/dialect/onenet/wire.js';
import { luatWire, fileVersionOf } from '../../src/dialect/luat/wire.js';
import { DIALECTS, getDialect, luatPlugin, onenetPlugin } from '../../src/dialect/registry.js';
import { stateCategory } from '../../src/dialect/categories.js';
import type { HttpResult } from '../../src/dialect/types.js';
import type { OnenetSettings } from '../../src/dialect/onenet/target.js';
import type { LuatSettings } from '../../src/dialect/luat/target.js';
import type { OnenetRequest } from '../../src/device/onenet/types.js';
import type { LuatRequest } from '../../src/device/luat/types.js';
import { parseAuthorization, verifyAuthorization } from '../../src/protocol/token.js';
import { resolveRange } from '../../src/protocol/range.js';
import { DOWNLOAD_SLACK_BYTES, JSON_ANSWER_MAX_BYTES, LUAT_FILE_MAX_BYTES } from '../../src/dialect/answer-limits.js';
import { LUAT_PATH } from '../../src/protocol/luat.js';
import { onenetRules, luatRules } from '../../src/device/rules.js';

const KEY = Buffer.from('a secret access key of the product').toString('base64');
/** Each dialect's settings, as its target spec makes them. */
const TARGET: { onenet: OnenetSettings; luat: LuatSettings } = {
  onenet: { productId: '198290', accessKey: KEY, signMethod: 'sha1', tokenTtlSec: 3600 },
  luat: { projectKey: 'proj key/1&2', firmwareName: 'luat_FW_RDA8910' },
};
const NOW = 1_700_000_123_456;
const DEV = '5227 001&x=1';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const response = (status: number, body: string | Uint8Array, headers: Record<string, string> = {}, extra: { held?: number; md5?: string } = {}): HttpResult => ({
  kind: 'response',
  status,
  headers,
  body: typeof body === 'string' ? utf8(body) : body,
  ...extra,
});
const JSON_HEADERS = { 'content-type': 'application/json', 'content-length': '10' };

function query(path: string): Record<string, string> {
  const q = path.indexOf('?');
  return Object.fromEntries(new URLSearchParams(q < 0 ? '' : path.slice(q + 1)));
}
const pathOnly = (path: string): string => path.split('?')[0] as string;

const REQ = {
  reportVersion: { op: 'reportVersion', devId: DEV, taskType: 2, version: 'V1.3' },
  check: { op: 'check', devId: DEV, taskType: 1, manuf: '001', model: '00107', version: '1.0 beta', signal: 17, battery: 64 },
  tokenCheck: { op: 'tokenCheck', devId: DEV, token: 'ota_5hc95/SF+o' },
  download: { op: 'download', devId: DEV, token: 'ota_5hc95/SF+o', start: 16384, end: 32767, total: 100000 },
  progress: { op: 'progress', devId: DEV, token: 'tok', step: 54 },
  result: { op: 'result', devId: DEV, token: 'tok', step: 201 },
} as const satisfies Record<string, OnenetRequest>;

describe('onenet wire: encode', () => {
  it('signs every JSON call with a product token that verifies and expires tokenTtlSec after now', () => {
    for (const req of [REQ.reportVersion, REQ.check, REQ.tokenCheck, REQ.progress, REQ.result]) {
      const http = onenetWire.encode(req, TARGET.onenet, NOW);
      const auth = http.headers['Authorization'];
      expect(verifyAuthorization(auth, KEY, NOW)).toMatchObject({ ok: true });
      const parsed = parseAuthorization(auth);
      expect(parsed).toMatchObject({ res: 'products/198290', method: 'sha1', et: Math.floor(NOW / 1000) + 3600, version: '2018-10-31' });
      expect(auth).toContain('res=products%2F198290');
      expect(verifyAuthorization(auth, KEY, NOW + 3600_000 + 1000)).toEqual({ ok: false, reason: 'expired' });
      expect(verifyAuthorization(auth, Buffer.from('another key').toString('base64'), NOW)).toEqual({ ok: false, reason: 'bad-signature' });
      expect(http.headers['Content-Type']).toBe('application/json');
      expect(http.download).toBeUndefined();
    }
  });

  it('signs with the configured method, and a new second gives a new expiry', () => {
    for (const signMethod of ['md5', 'sha1', 'sha256'] as const) {
      const target: { onenet: OnenetSettings } = { onenet: { productId: 'p1', accessKey: KEY, signMethod, tokenTtlSec: 60 } };
      const a = authorizationAt(target.onenet!, NOW);
      expect(parseAuthorization(a)?.method).toBe(signMethod);
      expect(verifyAuthorization(a, KEY, NOW)).toMatchObject({ ok: true });
      const later = authorizationAt(target.onenet!, NOW + 1000);
      expect(parseAuthorization(later)?.et).toBe(Math.floor(NOW / 1000) + 61);
    }
  });

  it('report version: POST with dev_id URL-encoded, s_version for SOTA and f_version for FOTA', () => {
    const sota = onenetWire.encode(REQ.reportVersion, TARGET.onenet, NOW);
    expect(sota.method).toBe('POST');
    expect(pathOnly(sota.path)).toBe('/ota/device/version');
    expect(sota.path).toBe('/ota/device/version?dev_id=5227%20001%26x%3D1');
    expect(query(sota.path)).toEqual({ dev_id: DEV });
    expect(JSON.parse(sota.body!)).toEqual({ s_version: 'V1.3' });
    const fota = onenetWire.encode({ ...REQ.reportVersion, taskType: 1 }, TARGET.onenet, NOW);
    expect(JSON.parse(fota.body!)).toEqual({ f_version: 'V1.3' });
  });

  it('check: GET with every parameter URL-encoded', () => {
    const http = onenetWire.encode(REQ.check, TARGET.onenet, NOW);
    expect(http.method).toBe('GET');
    expect(pathOnly(http.path)).toBe('/ota/south/check');
    expect(query(http.path)).toEqual({ dev_id: DEV, manuf: '001', model: '00107', type: '1', version: '1.0 beta', signals: '17', powers: '64', cdn: 'false' });
    expect(http.path).not.toContain(' ');
    expect(http.body).toBeUndefined();
  });

  it('token check: the token as one encoded path segment, then /check', () => {
    const http = onenetWire.encode(REQ.tokenCheck, TARGET.onenet, NOW);
    expect(http.method).toBe('GET');
    expect(pathOnly(http.path)).toBe('/ota/south/download/ota_5hc95%2FSF%2Bo/check');
    expect(query(http.path)).toEqual({ dev_id: DEV });
  });

  it('download: no Authorization, a Range the server resolves to the bytes asked for, and the expected total', () => {
    const http = onenetWire.encode(REQ.download, TARGET.onenet, NOW);
    expect(http.method).toBe('GET');
    expect(http.path).toBe('/ota/south/download/ota_5hc95%2FSF%2Bo');
    expect(http.headers).toEqual({ Range: 'bytes=16384-32767' });
    expect(http.download).toEqual({ total: 100000 });
    expect(resolveRange(http.headers['Range'], 100000)).toEqual({ start: 16384, end: 32767, partial: true });
  });

  it('progress and result: POST {"step": n} to the progress path', () => {
    for (const req of [REQ.progress, REQ.result]) {
      const http = onenetWire.encode(req, TARGET.onenet, NOW);
      expect(http.method).toBe('POST');
      expect(pathOnly(http.path)).toBe('/ota/south/device/download/tok/progress');
      expect(query(http.path)).toEqual({ dev_id: DEV });
      expect(JSON.parse(http.body!)).toEqual({ step: req.step });
    }
  });

  it('a target without onenet settings is a one-line error', () => {
    expect(() => onenetWire.encode(REQ.check, {} as OnenetSettings, NOW)).toThrow(/^dialect onenet: the target has no onenet settings[^\n]*$/);
  });
});

describe('onenet wire: decode', () => {
  const DATA = { target: '2.0.0', token: 'ota_x', size: 1234, signal: 12, power: 90, retry: 10, interval: 90, md5: 'ABCD', ipPort: '1.2.3.4', type: 2 };

  it('a check answer with data becomes an offer', () => {
    const a = onenetWire.decode(REQ.check, response(200, JSON.stringify({ errno: 0, error: 'succ', data: DATA }), JSON_HEADERS));
    expect(a).toEqual({ type: 'json', errno: 0, offer: { target: '2.0.0', token: 'ota_x', size: 1234, md5: 'ABCD', signal: 12, power: 90, retry: 10, interval: 90, type: 2 } });
  });

  it('numbers sent as text are read; optional numbers may be missing; required fields may not', () => {
    const text = onenetWire.decode(REQ.check, response(200, JSON.stringify({ errno: '0', data: { ...DATA, size: '1234', retry: undefined, signal: undefined } })));
    expect(text).toEqual({ type: 'json', errno: 0, offer: { target: '2.0.0', token: 'ota_x', size: 1234, md5: 'ABCD', power: 90, interval: 90, type: 2 } });
  });

  it('a check answered errno 0 with missing or garbled data is a protocol error of the check, never a clean errno 0', () => {
    const check = (data: unknown) => onenetWire.decode(REQ.check, response(200, JSON.stringify({ errno: 0, error: 'succ', data })));
    const bad = (reason: string) => ({ type: 'protocol', label: 'bad-check-answer', reason: `errno 0 but ${reason}` });
    expect(check({ ...DATA, md5: undefined })).toEqual(bad('data.md5 missing or not text'));
    expect(check([1, 2])).toEqual(bad('no data object'));
    expect(check(undefined)).toEqual(bad('no data object'));
    expect(check({ ...DATA, token: '' })).toEqual(bad('data.token missing or not text'));
    expect(check({ ...DATA, target: 2 })).toEqual(bad('data.target missing or not text'));
    expect(check({ ...DATA, size: 'big' })).toEqual(bad('data.size missing or not a positive integer'));
    expect(check({ ...DATA, size: 0 })).toEqual(bad('data.size missing or not a positive integer'));
    expect(check({ ...DATA, retry: 'x' })).toEqual(bad('data.retry is not a number'));
    expect(check({ ...DATA, signal: {} })).toEqual(bad('data.signal is not a number'));
    const a = check({ ...DATA, md5: undefined });
    expect(onenetWire.outcomeOf(a)).toBe('protocol:bad-check-answer');
    expect(onenetWire.isError(a)).toBe(true);
    // Another errno needs no data.
    expect(onenetWire.decode(REQ.check, response(200, '{"errno":11,"error":"no task"}'))).toEqual({ type: 'json', errno: 11 });
  });

  it('a JSON answer of any call without an integer errno, or with an error that is not text, is a protocol error of that call', () => {
    for (const [name, req] of Object.entries(REQ)) {
      if (name === 'download') continue;
      for (const body of ['{"errno":"zero"}', '{"errno":1.5}', '{"error":"succ"}', '{"errno":0,"error":7}']) {
        const a = onenetWire.decode(req, response(200, body));
        expect(a, `${name} ${body}`).toMatchObject({ type: 'protocol', label: `bad-${req.op}-answer` });
        expect(onenetWire.isError(a)).toBe(true);
      }
    }
  });

  it('other calls carry no offer, whatever data says', () => {
    expect(onenetWire.decode(REQ.tokenCheck, response(200, JSON.stringify({ errno: 0, data: DATA })))).toEqual({ type: 'json', errno: 0 });
    expect(onenetWire.decode(REQ.progress, response(200, '{"errno":17,"error":"invalid state"}'))).toEqual({ type: 'json', errno: 17 });    // error: null, as some servers send it, is no protocol error.
    expect(onenetWire.decode(REQ.progress, response(200, '{"errno":20,"error":null}'))).toEqual({ type: 'json', errno: 20 });
  });

  it.each([
    ['not JSON', 'hello'],
    ['an empty body', ''],
    ['a JSON array', '[0]'],
    ['JSON null', 'null'],
    ['truncated JSON', '{"errno":0,"data":{"tar'],
    ['invalid UTF-8', new Uint8Array([0xff, 0xfe, 0x7b])],
    ['a huge body', `{"errno":0,"pad":"${'x'.repeat(70_000)}"}`],
  ])('%s is garbage', (_name, body) => {
    expect(onenetWire.decode(REQ.check, response(200, body))).toEqual({ type: 'garbage' });
  });

  it('other statuses are http answers; transport failures are net answers', () => {
    expect(onenetWire.decode(REQ.check, response(404, '{"errno":0}'))).toEqual({ type: 'http', status: 404 });
    expect(onenetWire.decode(REQ.result, response(503, ''))).toEqual({ type: 'http', status: 503 });
    expect(onenetWire.decode(REQ.check, { kind: 'error', code: 'ECONNRESET' })).toEqual({ type: 'net', code: 'ECONNRESET' });
    expect(onenetWire.decode(REQ.download, { kind: 'error', code: 'TIMEOUT' })).toEqual({ type: 'net', code: 'TIMEOUT' });
  });

  it('a download chunk becomes the bytes held (from the engine), the total from Content-Range, the md5 when complete', () => {
    const body = new Uint8Array(16384);
    const part = onenetWire.decode(REQ.download, response(206, body, { 'content-range': 'bytes 16384-32767/100000', 'content-length': '16384' }, { held: 32768 }));
    expect(part).toEqual({ type: 'file', held: 32768, total: 100000 });
    const whole = onenetWire.decode(REQ.download, response(200, body, { 'Content-Length': '16384' }, { held: 100000, md5: 'abc' }));
    expect(whole).toEqual({ type: 'file', held: 100000, md5: 'abc' });
    const noHeld = onenetWire.decode(REQ.download, response(206, body, {}));
    expect(noHeld).toEqual({ type: 'file', held: 0 });
  });

  it.each([
    ['1', 1],
    ['2', 2],
    ['3', 3],
  ] as const)('a one-byte body %s without Content-Length is download error %i', (text, code) => {
    expect(onenetWire.decode(REQ.download, response(200, text, {}))).toEqual({ type: 'download-error', code });
  });

  it('a one-byte body with a Content-Length, or another byte, is just bytes', () => {
    expect(onenetWire.decode(REQ.download, response(206, '3', { 'content-length': '1' }, { held: 16385 }))).toEqual({ type: 'file', held: 16385 });
    expect(onenetWire.decode(REQ.download, response(206, '4', {}, { held: 16385 }))).toEqual({ type: 'file', held: 16385 });
  });

  it('a JSON errno served as JSON on a download is read; other download statuses are http', () => {
    expect(onenetWire.decode(REQ.download, response(200, '{"errno":12,"error":"expired"}', JSON_HEADERS))).toEqual({ type: 'json', errno: 12 });
    expect(onenetWire.decode(REQ.download, response(416, ''))).toEqual({ type: 'http', status: 416 });
  });

  it('names operations, outcomes and errors', () => {
    for (const [name, req] of Object.entries(REQ)) expect(onenetWire.operationOf(req)).toBe(name);
    expect(onenetWire.outcomeOf({ type: 'json', errno: 11 })).toBe('errno:11');
    expect(onenetWire.outcomeOf({ type: 'json', errno: 123456 })).toBe('errno:other');
    expect(onenetWire.outcomeOf({ type: 'file', held: 5 })).toBe('bytes');
    expect(onenetWire.outcomeOf({ type: 'download-error', code: 3 })).toBe('download-error:3');
    expect(onenetWire.outcomeOf({ type: 'http', status: 503 })).toBe('http:503');
    expect(onenetWire.outcomeOf({ type: 'net', code: 'ECONNRESET' })).toBe('net:ECONNRESET');
    expect(onenetWire.outcomeOf({ type: 'net', code: 'weird code\n' })).toBe('net:OTHER');
    expect(onenetWire.outcomeOf({ type: 'garbage' })).toBe('garbage');
    expect(onenetWire.isError({ type: 'net', code: 'TIMEOUT' })).toBe(true);
    expect(onenetWire.isError({ type: 'garbage' })).toBe(true);
    expect(onenetWire.isError({ type: 'http', status: 500 })).toBe(true);
    expect(onenetWire.isError({ type: 'http', status: 404 })).toBe(false);
    expect(onenetWire.isError({ type: 'json', errno: 7 })).toBe(false);
    expect(onenetWire.isError({ type: 'file', held: 1 })).toBe(false);
    expect(onenetWire.isError({ type: 'download-error', code: 1 })).toBe(false);
  });
});

describe('luat wire', () => {
  const ASK: LuatRequest = { op: 'ask', imei: '866714040000001', version: '1.0.0', core: 'V4001' };

  it('encodes one GET with every parameter URL-encoded, and asks the engine to digest whatever arrives', () => {
    const http = luatWire.encode(ASK, TARGET.luat, NOW);
    expect(http.method).toBe('GET');
    expect(pathOnly(http.path)).toBe(LUAT_PATH);
    expect(query(http.path)).toEqual({
      project_key: 'proj key/1&2',
      imei: '866714040000001',
      firmware_name: 'luat_FW_RDA8910',
      version: '1.0.0',
      core_version: 'V4001',
      dfota: '1',
    });
    expect(http.download).toEqual({ total: 0 });
    expect(http.headers).toEqual({});
  });

  it('leaves dfota out when the target profile says the devices ask for no diffs (luat.dfota: false)', () => {
    expect(query(luatWire.encode(ASK, { ...TARGET.luat, dfota: false }, NOW).path)).not.toHaveProperty('dfota');
    expect(query(luatWire.encode(ASK, { ...TARGET.luat, dfota: true }, NOW).path)).toHaveProperty('dfota', '1');
  });

  it('decodes the header version and the file-name version apart (the profile says which one counts)', () => {
    const body = new Uint8Array(3);
    const both = { 'x-firmware-version': '2.0.1', 'content-disposition': 'attachment; filename="fw_2.0.0.bin"' };
    expect(luatWire.decode(ASK, response(200, body, both, { held: 3 }))).toEqual({ type: 'file', held: 3, version: '2.0.1', nameVersion: '2.0.0' });
    expect(luatWire.decode(ASK, response(200, body, { 'content-disposition': both['content-disposition'] }, { held: 3 }))).toEqual({ type: 'file', held: 3, nameVersion: '2.0.0' });
  });

  it('leaves core_version out when the device has none; a target without luat settings is a one-line error', () => {
    expect(query(luatWire.encode({ ...ASK, core: '' }, TARGET.luat, NOW).path)).not.toHaveProperty('core_version');
    expect(() => luatWire.encode(ASK, {} as LuatSettings, NOW)).toThrow(/^dialect luat: the target has no luat settings[^\n]*$/);
  });

  it('decodes a 200/206 with a body as the file, with held and md5 from the engine and the version it names', () => {
    const body = new Uint8Array(300);
    expect(luatWire.decode(ASK, response(200, body, { 'x-firmware-version': '2.0.1' }, { held: 300, md5: 'abc' }))).toEqual({ type: 'file', held: 300, md5: 'abc', version: '2.0.1' });
    expect(luatWire.decode(ASK, response(206, body, {}))).toEqual({ type: 'file', held: 300 });
  });

  it('reads the md5 the answer announces (32 hex digits, any case), ignoring anything else', () => {
    const body = new Uint8Array(3);
    const md5 = '0123456789ABCDEF0123456789abcdef';
    expect(luatWire.decode(ASK, response(200, body, { 'X-Firmware-Md5': md5 }, { held: 3, md5: 'x' }))).toEqual({ type: 'file', held: 3, md5: 'x', expectedMd5: md5.toLowerCase() });
    expect(luatWire.decode(ASK, response(200, body, { 'x-firmware-md5': 'not-an-md5' }, { held: 3 }))).toEqual({ type: 'file', held: 3 });
  });

  it('reads the version from the Content-Disposition file name when there is no header', () => {
    expect(fileVersionOf({ 'content-disposition': 'attachment; filename="luat_FW_RDA8910_2.3.4.bin"' })).toBe('2.3.4');
    expect(fileVersionOf({ 'Content-Disposition': 'attachment; filename=fw-V1.2' })).toBe('1.2');
    expect(fileVersionOf({ 'content-disposition': 'attachment; filename="update.bin"' })).toBeUndefined();
    expect(fileVersionOf({ 'x-firmware-version': 'not a version', 'content-disposition': 'filename="a_3.0.0.bin"' })).toBe('3.0.0');
    expect(fileVersionOf({ 'x-firmware-version': '1.2.3.4.5.6.7.8.9.10.11' })).toBeUndefined();
    expect(fileVersionOf({})).toBeUndefined();
  });

  it('decodes a code answer (≥ 300 with {code, msg}); a ≥ 300 without JSON is http', () => {
    expect(luatWire.decode(ASK, response(400, '{"code":43,"msg":"please wait"}'))).toEqual({ type: 'code', code: 43 });
    expect(luatWire.decode(ASK, response(304, '{"code":27,"msg":"already newest"}'))).toEqual({ type: 'code', code: 27 });
    expect(luatWire.decode(ASK, response(400, '<html>bad</html>'))).toEqual({ type: 'http', status: 400 });
    expect(luatWire.decode(ASK, response(500, ''))).toEqual({ type: 'http', status: 500 });
    // JSON, but not {code, msg}: a protocol error, counted as an error.
    const garbled = luatWire.decode(ASK, response(400, '{"code":"x"}'));
    expect(garbled).toEqual({ type: 'protocol', label: 'bad-luat-answer', reason: 'no integer code' });
    expect(luatWire.outcomeOf(garbled)).toBe('protocol:bad-luat-answer');
    expect(luatWire.isError(garbled)).toBe(true);
    expect(luatWire.decode(ASK, response(400, '{"code":40,"msg":{"x":1}}'))).toEqual({ type: 'protocol', label: 'bad-luat-answer', reason: 'msg is not text' });
  });

  it('a 200 served as JSON with a code is a code; an empty 200 is garbage; 204 is http; transport failures are net', () => {
    expect(luatWire.decode(ASK, response(200, '{"code":27}', { 'content-type': 'application/json; charset=utf-8' }))).toEqual({ type: 'code', code: 27 });
    expect(luatWire.decode(ASK, response(200, '', {}))).toEqual({ type: 'garbage' });
    expect(luatWire.decode(ASK, response(204, '', {}))).toEqual({ type: 'http', status: 204 });
    expect(luatWire.decode(ASK, { kind: 'error', code: 'ECONNREFUSED' })).toEqual({ type: 'net', code: 'ECONNREFUSED' });
  });

  it('names operations, outcomes and errors', () => {
    expect(luatWire.operationOf(ASK)).toBe('luat');
    expect(luatWire.outcomeOf({ type: 'code', code: 43 })).toBe('code:43');
    expect(luatWire.outcomeOf({ type: 'file', held: 3 })).toBe('file');
    expect(luatWire.outcomeOf({ type: 'http', status: 500 })).toBe('http:500');
    expect(luatWire.outcomeOf({ type: 'net', code: 'TIMEOUT' })).toBe('net:TIMEOUT');
    expect(luatWire.outcomeOf({ type: 'garbage' })).toBe('garbage');
    expect(luatWire.isError({ type: 'http', status: 502 })).toBe(true);
    expect(luatWire.isError({ type: 'net', code: 'TIMEOUT' })).toBe(true);
    expect(luatWire.isError({ type: 'garbage' })).toBe(true);
    expect(luatWire.isError({ type: 'code', code: 43 })).toBe(false);
    expect(luatWire.isError({ type: 'file', held: 3 })).toBe(false);
  });
});

describe('dialect registry', () => {
  it('has onenet and luat, each with its machine, wire, rules and operations', () => {
    expect(Object.keys(DIALECTS).sort()).toEqual(['luat', 'onenet']);
    expect(getDialect('onenet').rules).toBe(onenetRules);
    expect(getDialect('luat').rules).toBe(luatRules);
    expect(getDialect('onenet').operations).toEqual(['reportVersion', 'check', 'tokenCheck', 'download', 'progress', 'result']);
    expect(getDialect('luat').operations).toEqual(['luat']);
    for (const [name, plugin] of Object.entries(DIALECTS)) expect(plugin.name).toBe(name);
  });

  it('names a chart category for every kind of its machine', () => {
    expect(Object.keys(onenetPlugin.categories).sort()).toEqual([...onenetRules.kinds].sort());
    expect(Object.keys(luatPlugin.categories).sort()).toEqual([...luatRules.kinds].sort());
    expect(stateCategory('onenet', 'reporting-failure')).toBe('other');
    expect(stateCategory('onenet', 'waiting')).toBe('asleep');
    expect(stateCategory('luat', 'banned')).toBe('banned');
    expect(stateCategory('luat', 'rebooting')).toBe('upgrading');
  });

  it('an unknown name is a one-line error listing the known ones', () => {
    expect(() => getDialect('huawei')).toThrow('unknown dialect "huawei"; known dialects: onenet, luat');
    expect(() => getDialect('toString')).toThrow(/unknown dialect "toString"/);
  });
});

describe('answer caps (issue 11.8): each request says how large an answer it can legitimately get', () => {
  it('onenet: 64 KiB for a JSON call, the whole file plus slack for a download (a server ignoring Range answers the whole file)', () => {
    for (const req of [REQ.reportVersion, REQ.check, REQ.tokenCheck, REQ.progress, REQ.result]) {
      expect(onenetWire.encode(req, TARGET.onenet, NOW).maxAnswerBytes).toBe(JSON_ANSWER_MAX_BYTES);
    }
    expect(onenetWire.encode(REQ.download, TARGET.onenet, NOW).maxAnswerBytes).toBe(100_000 + DOWNLOAD_SLACK_BYTES);
  });

  it('luat: the file ceiling, as the size is learnt only from the answer', () => {
    const ask: LuatRequest = { op: 'ask', imei: '862991419835241', version: '1.0.0', core: '' };
    expect(luatWire.encode(ask, TARGET.luat, NOW).maxAnswerBytes).toBe(LUAT_FILE_MAX_BYTES);
  });
});
