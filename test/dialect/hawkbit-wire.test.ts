/** hawkBit DDI on the wire: each request's HTTP call, each answer's decoding, and target.hawkbit. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addressOf, EMBEDDED_HAWKBIT, hawkbitWire, type HawkbitSettings } from '../../src/dialect/hawkbit/wire.js';
import { hawkbitTarget } from '../../src/dialect/hawkbit/target.js';
import { hawkbitEvidence } from '../../src/dialect/hawkbit/evidence.js';
import { deriveTargetToken, formatSleep, isWhitelistedAddress, parseDdiPath, parseSleep } from '../../src/protocol/hawkbit.js';
import type { HttpResult } from '../../src/dialect/types.js';
import type { HawkbitRequest } from '../../src/device/hawkbit/types.js';
import { DEFAULT_CATALOG } from '../../src/catalog/default.js';

const enc = new TextEncoder();
const json = (status: number, value: unknown): HttpResult => ({ kind: 'response', status, headers: { 'content-type': 'application/json' }, body: enc.encode(typeof value === 'string' ? value : JSON.stringify(value)) });
const T: HawkbitSettings = { tenant: 'acme', auth: { kind: 'target-key', tokenKey: 'k' } };
const poll: HawkbitRequest = { op: 'poll', id: 'dev-1' };
const dep: HawkbitRequest = { op: 'deployment', id: 'dev-1', path: '/acme/controller/v1/dev-1/deploymentBase/7?c=1', action: 7 };
const fb: HawkbitRequest = { op: 'feedback', id: 'dev-1', action: 7, report: { execution: 'proceeding', finished: 'none', progress: { cnt: 50, of: 100 }, details: ['x'] } };

describe('protocol helpers', () => {
  it('sleep HH:MM:SS both ways; DDI paths; the whitelist; device addresses outside it', () => {
    expect(parseSleep('01:02:03')).toBe(3_723_000);
    expect(parseSleep('1:02:03')).toBeUndefined();
    expect(parseSleep('00:60:00')).toBeUndefined();
    expect(formatSleep(3_723_000)).toBe('01:02:03');
    expect(formatSleep(1)).toBe('00:00:01');
    expect(parseDdiPath('/t/controller/v1/d/deploymentBase/5/feedback')).toEqual({ tenant: 't', controllerId: 'd', resource: { kind: 'feedback', action: 5 } });
    expect(parseDdiPath('/t/controller/v1/d/softwaremodules/3/artifacts/a%20b.bin.MD5SUM')?.resource).toEqual({ kind: 'artifact', module: 3, filename: 'a b.bin', md5sum: true });
    expect(parseDdiPath('/t/controller/v1/d/deploymentBase/x')).toBeUndefined();
    expect(parseDdiPath('/t/controller/v2/d')).toBeUndefined();
    for (const ip of ['10.1.2.3', '192.168.0.1', '172.16.0.1', '172.31.9.9', '127.0.0.1', '169.254.1.1']) expect(isWhitelistedAddress(ip), ip).toBe(true);
    for (const ip of ['172.32.0.1', '100.64.0.1', '8.8.8.8']) expect(isWhitelistedAddress(ip), ip).toBe(false);
    expect(isWhitelistedAddress(addressOf('dev-1'))).toBe(false);
    expect(addressOf('dev-1')).not.toBe(addressOf('dev-2'));
  });
});

describe('encode', () => {
  it('every call carries the TargetToken of its device and its own X-Forwarded-For', () => {
    const h = hawkbitWire.encode(poll, T, 0);
    expect(h).toMatchObject({ method: 'GET', path: '/acme/controller/v1/dev-1' });
    expect(h.headers['Authorization']).toBe(`TargetToken ${deriveTargetToken('k', 'acme', 'dev-1')}`);
    expect(h.headers['X-Forwarded-For']).toBe(addressOf('dev-1'));
    expect(hawkbitWire.encode(poll, { tenant: 'acme', auth: { kind: 'gateway', token: 'gw' } }, 0).headers['Authorization']).toBe('GatewayToken gw');
    expect(hawkbitWire.encode(poll, { tenant: 'acme', auth: { kind: 'target-list', tokens: { 'dev-1': 'tok' } } }, 0).headers['Authorization']).toBe('TargetToken tok');
    expect(hawkbitWire.encode(poll, { tenant: 'acme', auth: { kind: 'none' } }, 0).headers['Authorization']).toBeUndefined();
    expect(hawkbitWire.encode(poll, undefined, 0).path).toBe(`/${EMBEDDED_HAWKBIT.tenant}/controller/v1/dev-1`);
  });

  it('links by their path; feedback and cancel feedback as DDI bodies; configData as PUT; downloads with a Range and the expected total', () => {
    expect(hawkbitWire.encode(dep, T, 0)).toMatchObject({ method: 'GET', path: dep.path });
    const f = hawkbitWire.encode(fb, T, 0);
    expect(f).toMatchObject({ method: 'POST', path: '/acme/controller/v1/dev-1/deploymentBase/7/feedback' });
    expect(JSON.parse(f.body as string)).toEqual({ id: '7', status: { execution: 'proceeding', result: { finished: 'none', progress: { cnt: 50, of: 100 } }, details: ['x'] } });
    const c = hawkbitWire.encode({ op: 'cancelFeedback', id: 'dev-1', action: 9, report: { execution: 'canceled', finished: 'success' } }, T, 0);
    expect(c.path).toBe('/acme/controller/v1/dev-1/cancelAction/9/feedback');
    const cfg = hawkbitWire.encode({ op: 'config', id: 'dev-1', path: '/acme/controller/v1/dev-1/configData', data: { a: 'b' } }, T, 0);
    expect(cfg).toMatchObject({ method: 'PUT' });
    expect(JSON.parse(cfg.body as string)).toEqual({ mode: 'merge', data: { a: 'b' } });
    const dl = hawkbitWire.encode({ op: 'download', id: 'dev-1', path: '/a', action: 7, start: 100, end: 199, total: 400, fault: { cutAfterBytes: 5 } }, T, 0);
    expect(dl).toMatchObject({ headers: { Range: 'bytes=100-199' }, download: { total: 400 }, fault: { cutAfterBytes: 5 } });
  });
});

describe('decode', () => {
  const links = {
    deploymentBase: { href: 'http://127.0.0.1:9/acme/controller/v1/dev-1/deploymentBase/7?c=5' },
    configData: { href: 'http://127.0.0.1:9/acme/controller/v1/dev-1/configData' },
  };

  it('poll: the sleep, deploymentBase / cancelAction action ids, configData path; a bad sleep is a protocol error', () => {
    expect(hawkbitWire.decode(poll, json(200, { config: { polling: { sleep: '00:05:00' } }, _links: links }))).toEqual({
      type: 'poll',
      sleepMs: 300_000,
      deployment: { path: '/acme/controller/v1/dev-1/deploymentBase/7?c=5', action: 7 },
      config: '/acme/controller/v1/dev-1/configData',
    });
    const cancel = hawkbitWire.decode(poll, json(200, { config: { polling: { sleep: '00:00:10' } }, _links: { cancelAction: { href: '/acme/controller/v1/dev-1/cancelAction/8' } } }));
    expect(cancel).toMatchObject({ cancel: { action: 8 } });
    expect(hawkbitWire.decode(poll, json(200, { config: { polling: { sleep: '5m' } } }))).toMatchObject({ type: 'protocol', label: 'bad-poll-answer' });
    expect(hawkbitWire.decode(poll, json(200, { config: { polling: { sleep: '00:00:10' } }, _links: { deploymentBase: { href: 'http://x/elsewhere' } } }))).toMatchObject({ type: 'protocol' });
    expect(hawkbitWire.decode(poll, json(200, 'not json'))).toEqual({ type: 'garbage' });
  });

  it('deploymentBase: handling, window, the first artifact with its hashes and download-http link; a broken one is a protocol error', () => {
    const body = {
      id: '7',
      deployment: {
        download: 'forced',
        update: 'attempt',
        maintenanceWindow: 'unavailable',
        chunks: [{ part: 'os', version: '2.0', name: 'fw', artifacts: [{ filename: 'fw.bin', size: 400, hashes: { md5: 'A'.repeat(32), sha1: 's1', sha256: 's256' }, _links: { 'download-http': { href: 'http://h/acme/controller/v1/dev-1/softwaremodules/1/artifacts/fw.bin' } } }] }],
      },
    };
    expect(hawkbitWire.decode(dep, json(200, body))).toEqual({
      type: 'deployment',
      action: 7,
      download: 'forced',
      update: 'attempt',
      window: 'unavailable',
      artifact: { path: '/acme/controller/v1/dev-1/softwaremodules/1/artifacts/fw.bin', filename: 'fw.bin', size: 400, md5: 'a'.repeat(32), sha1: 's1', sha256: 's256' },
      version: '2.0',
    });
    expect(hawkbitWire.decode(dep, json(200, { ...body, deployment: { ...body.deployment, download: 'maybe' } }))).toMatchObject({ type: 'protocol', label: 'bad-deployment-answer' });
    expect(hawkbitWire.decode(dep, json(200, { id: 7, deployment: { download: 'forced', update: 'forced', chunks: [] } }))).toMatchObject({ type: 'protocol' });
  });

  it('cancelAction, feedback 200, downloads, every DDI status, 5xx, transport failures', () => {
    const cancel: HawkbitRequest = { op: 'cancel', id: 'dev-1', path: '/p', action: 8 };
    expect(hawkbitWire.decode(cancel, json(200, { id: '8', cancelAction: { stopId: '8' } }))).toEqual({ type: 'cancel', action: 8, stopId: 8 });
    expect(hawkbitWire.decode(fb, { kind: 'response', status: 200, headers: {}, body: new Uint8Array() })).toEqual({ type: 'ok' });
    const dl: HawkbitRequest = { op: 'download', id: 'dev-1', path: '/a', action: 7, start: 0, end: 9, total: 10 };
    expect(hawkbitWire.decode(dl, { kind: 'response', status: 206, headers: {}, body: new Uint8Array(10), held: 10, md5: 'm' })).toEqual({ type: 'file', status: 206, held: 10, md5: 'm' });
    for (const s of [400, 401, 403, 404, 405, 409, 410, 429]) {
      const a = hawkbitWire.decode(fb, json(s, { error: 'x' }));
      expect(a).toEqual({ type: 'status', status: s });
      expect(hawkbitWire.outcomeOf(a)).toBe(`http:${s}`);
      expect(hawkbitWire.isError(a)).toBe(false);
    }
    expect(hawkbitWire.isError(hawkbitWire.decode(fb, json(503, {})))).toBe(true);
    expect(hawkbitWire.decode(poll, { kind: 'error', code: 'ECONNRESET' })).toEqual({ type: 'net', code: 'ECONNRESET' });
    expect(hawkbitWire.decode(dl, { kind: 'error', code: 'ECONNRESET', partial: { status: 206, headers: {}, body: new Uint8Array(3), held: 3 } })).toEqual({ type: 'net', code: 'ECONNRESET', held: 3 });
  });

  it('evidence: a feedback\'s action, execution and result; an offer\'s action and md5; a range start', () => {
    const f = hawkbitEvidence.factsOf(fb, json(410, {}), { type: 'status', status: 410 }, { sentVirtual: 0, authTtlSec: undefined });
    expect(f).toMatchObject({ action: 7, execution: 'proceeding', finished: 'none', step: 50, status: 410 });
    const dl: HawkbitRequest = { op: 'download', id: 'dev-1', path: '/a', action: 7, start: 5, end: 9, total: 10 };
    const r: HttpResult = { kind: 'response', status: 206, headers: { 'content-range': 'bytes 5-9/10' }, body: new Uint8Array(5), held: 10, md5: 'm' };
    expect(hawkbitEvidence.factsOf(dl, r, { type: 'file', status: 206, held: 10, md5: 'm' }, { sentVirtual: 0, authTtlSec: undefined })).toMatchObject({ start: 5, rangeStart: 5, held: 10, md5: 'm', bytes: 5 });
    expect(hawkbitEvidence.describe('feedback', 'http:410', f, (t) => t).request).toBe('feedback action 7 proceeding/none progress 50%');
  });
});

describe('target.hawkbit', () => {
  const ctx = (env: NodeJS.ProcessEnv = {}) => ({ file: 's.yaml', env });
  it('a target token key from the environment, a token file, a gateway token, none; a missing one is a one-line error naming the field', () => {
    expect(hawkbitTarget.fromScenario({ tenant: 'acme' }, ctx({ OTA_SWARM_HAWKBIT_TOKEN_KEY: 'kk' }))).toEqual({ tenant: 'acme', auth: { kind: 'target-key', tokenKey: 'kk' } });
    const dir = mkdtempSync(join(tmpdir(), 'hb-'));
    writeFileSync(join(dir, 't.txt'), '# tokens\ndev-1 abc\n\ndev-2 def\n');
    expect(hawkbitTarget.fromScenario({ tenant: 'acme', targetTokens: { file: join(dir, 't.txt') } }, ctx())).toEqual({ tenant: 'acme', auth: { kind: 'target-list', tokens: { 'dev-1': 'abc', 'dev-2': 'def' } } });
    writeFileSync(join(dir, 'bad.txt'), 'dev-1\n');
    expect(() => hawkbitTarget.fromScenario({ tenant: 'acme', targetTokens: { file: join(dir, 'bad.txt') } }, ctx())).toThrow(/bad\.txt:1: expected "controllerId token"/);
    expect(hawkbitTarget.fromScenario({ tenant: 'acme', gatewayToken: { env: 'GW' } }, ctx({ GW: 'g' }))).toEqual({ tenant: 'acme', auth: { kind: 'gateway', token: 'g' } });
    expect(hawkbitTarget.fromScenario({ tenant: 'acme', auth: 'none' }, ctx())).toEqual({ tenant: 'acme', auth: { kind: 'none' } });
    expect(() => hawkbitTarget.fromScenario({ tenant: 'acme' }, ctx())).toThrow(/^s\.yaml: target\.hawkbit\.targetTokens: needed with --target/);
    expect(() => hawkbitTarget.fromScenario({ tenant: 'acme', auth: 'gateway' }, ctx())).toThrow(/target\.hawkbit\.gatewayToken: needed for auth: gateway/);
  });

  it('from a reference server\'s catalog: the tenant\'s key, or its gateway token; an unknown tenant is named', () => {
    expect(hawkbitTarget.fromCatalog?.({ tenant: 'DEFAULT' }, DEFAULT_CATALOG, ctx())).toEqual(EMBEDDED_HAWKBIT);
    expect(hawkbitTarget.fromCatalog?.({ tenant: 'DEFAULT', auth: 'gateway' }, DEFAULT_CATALOG, ctx())).toMatchObject({ auth: { kind: 'gateway' } });
    expect(() => hawkbitTarget.fromCatalog?.({ tenant: 'nope' }, DEFAULT_CATALOG, ctx())).toThrow(/target\.hawkbit\.tenant: the server's catalog has no hawkBit tenant nope/);
  });
});
