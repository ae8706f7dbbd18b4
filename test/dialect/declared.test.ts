/**
 * The declared dialect, piece by piece: the file's errors at file:line, templates, the wire (the
 * OneNET token built from YAML is the coded one, answers mapped onto events, outcome labels kept
 * bounded) and the machine's paths (wait, refused, none, hash mismatch, retries, resume).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseDeclaredDialect } from '../../src/dialect/declared/load.js';
import { declaredPlugin } from '../../src/dialect/declared/plugin.js';
import { compileTemplate } from '../../src/dialect/declared/template.js';
import { DOWNLOAD_CALL, type DeclaredAnswer, type DeclaredRequest } from '../../src/dialect/declared/types.js';
import { DECLARED_RULES, MAX_WAITS } from '../../src/dialect/declared/machine.js';
import type { DeclaredSettings } from '../../src/dialect/declared/wire.js';
import type { HttpRequest, HttpResult } from '../../src/dialect/types.js';
import { onenetWire } from '../../src/dialect/onenet/wire.js';
import { DEFAULT_DEVICE_SETTINGS, NO_FAULTS, type DeviceProfile, type DeviceSettings, type Step } from '../../src/device/types.js';
import { errorOf } from '../scenario/config-error.js';

const root = (p: string): string => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const ONENET = parseDeclaredDialect(readFileSync(root('scenarios/dialects/onenet.yaml'), 'utf8'), 'onenet.yaml');
const ACME = parseDeclaredDialect(readFileSync(root('test/fixtures/inhouse/acme.yaml'), 'utf8'), 'acme.yaml');
const KEY = Buffer.from('a secret access key of the product').toString('base64');
const NOW = 1_700_000_123_456;

const profile = (over: Partial<DeviceProfile> = {}): DeviceProfile => ({
  index: 3, id: '522700003', cohort: 'c', version: 'V1.0', manuf: '101', model: '10101', core: '', taskType: 2, battery: 80, signal: 20, seed: 3, behaviour: NO_FAULTS, ...over,
});
const SETTINGS: DeviceSettings = { ...DEFAULT_DEVICE_SETTINGS, chunkSize: 1000, progressEvery: 25, maxAttempts: 2, retryDelayMs: 1000 };
const json = (status: number, body: unknown, headers: Record<string, string> = {}): HttpResult => ({ kind: 'response', status, headers: { 'content-type': 'application/json', ...headers }, body: new TextEncoder().encode(JSON.stringify(body)) });
const empty = (status: number): HttpResult => ({ kind: 'response', status, headers: {}, body: new Uint8Array(0) });

describe('the dialect file', () => {
  const base = readFileSync(root('test/fixtures/inhouse/acme.yaml'), 'utf8');
  it('the shipped ones load', () => {
    expect(ONENET.dialect.name).toBe('onenet-declared');
    expect(ACME.dialect.name).toBe('acme');
  });
  it('errors name file:line and the field: schema, templates, calls a flow names, what an event needs', () => {
    expect(errorOf(() => parseDeclaredDialect(base.replace('method: GET', 'method: FETCH'), 'a.yaml'))).toMatch(/^a\.yaml:\d+:\d+: calls\.update\.method: must be one of "GET", "POST", "PUT"$/);
    expect(errorOf(() => parseDeclaredDialect(base.replace('{{device.battery}}', '{{device.battery | round}}'), 'a.yaml'))).toMatch(/^a\.yaml:26:\d+: calls\.update\.url: "\{\{device\.battery \| round\}\}": unknown filter "round"/);
    expect(errorOf(() => parseDeclaredDialect(base.replace('{{settings.channel | url}}', '{{setting.channel}}'), 'a.yaml'))).toMatch(/^a\.yaml:26:\d+: calls\.update\.url: \{\{setting\.channel\}\}: a template reads device, settings/);
    expect(errorOf(() => parseDeclaredDialect(base.replace('installed: [installed]', 'installed: [install]'), 'a.yaml'))).toMatch(/^a\.yaml:\d+:\d+: flow\.installed\.0: no call named "install"/);
    expect(errorOf(() => parseDeclaredDialect(base.replace('event: wait, wait: "{{json.retryAfter | default:30}}",', 'event: wait,'), 'a.yaml'))).toMatch(/^a\.yaml:\d+:\d+: calls\.update\.answers\.1\.wait: a wait event needs wait: seconds$/);
    expect(errorOf(() => parseDeclaredDialect(base.replace('hash: sha256, range', 'hash: crc32, range'), 'a.yaml'))).toMatch(/^a\.yaml:\d+:\d+: flow\.download\.hash: must be one of "md5", "sha1", "sha256"$/);
    expect(errorOf(() => parseDeclaredDialect(base.replace('outcome: unauthorized, authFailed', 'outcome: "{{status}}", authFailed'), 'a.yaml'))).toMatch(/^a\.yaml:\d+:\d+: calls\.update\.answers\.4\.outcome: an authFailed answer needs a fixed outcome/);
  });
});

describe('templates', () => {
  const t = (s: string) => {
    const c = compileTemplate(s);
    if (typeof c === 'string') throw new Error(c);
    return c;
  };
  it('fill paths, apply filters, keep a lone value\'s type', () => {
    expect(t('/d/{{device.id | url}}?v={{device.v}}').render({ device: { id: 'a b', v: 1 } })).toBe('/d/a%20b?v=1');
    expect(t('{{x | map:1=f_version,2=s_version}}').render({ x: 2 })).toBe('s_version');
    expect(t('{{x | default:30}}').render({})).toBe('30');
    expect(t('{"v":{{x | json}}}').render({ x: 'a"b' })).toBe('{"v":"a\\"b"}');
    expect(t('{{a.b}}').value({ a: { b: 7 } })).toBe(7);
    expect(t('{{a.missing}}x').render({ a: {} })).toBe('x');
  });
});

describe('the wire', () => {
  const onenet = declaredPlugin(ONENET);
  const settings: DeclaredSettings = { productId: '198290', accessKey: KEY };
  const device = { id: '522700003', index: 3, cohort: 'c', version: 'V1.0', manuf: '101', model: '10101', core: '', taskType: 2, battery: 80, signal: 20 };
  const encode = (req: DeclaredRequest): HttpRequest => onenet.wire.encode(req, settings, NOW);

  it('builds the same OneNET requests as the coded dialect, Authorization token included', () => {
    const target = { productId: '198290', accessKey: KEY, signMethod: 'sha1' as const, tokenTtlSec: 3600 };
    const coded = onenetWire.encode({ op: 'check', devId: device.id, taskType: 2, manuf: '101', model: '10101', version: 'V1.0', signal: 20, battery: 80 }, target, NOW);
    const declared = encode({ call: 'check', device });
    expect(declared.path).toBe(coded.path);
    expect(declared.headers['Authorization']).toBe(coded.headers['Authorization']);
    const codedReport = onenetWire.encode({ op: 'reportVersion', devId: device.id, taskType: 2, version: 'V1.0' }, target, NOW);
    expect(encode({ call: 'reportVersion', device })).toMatchObject({ method: 'POST', path: codedReport.path, body: codedReport.body });
  });

  it('asks a chunk with Range and the hash algorithm, and carries a cut', () => {
    const offer = { version: 'V2.0', size: 3000, hash: 'ab'.repeat(16), extra: { token: 't/1' } };
    const http = encode({ call: DOWNLOAD_CALL, device, offer, download: { start: 1000, end: 1999, total: 3000 }, fault: { cutAfterBytes: 10 } });
    expect(http).toMatchObject({ method: 'GET', path: '/ota/south/download/t%2F1', headers: { Range: 'bytes=1000-1999' }, download: { total: 3000, hash: 'md5' }, fault: { cutAfterBytes: 10 } });
    expect(http.headers['Authorization']).toBeUndefined();
  });

  it('maps answers onto events with the file\'s outcome labels; what no rule takes is ok (2xx) or an error', () => {
    const check = { call: 'check', device };
    const data = { target: 'V2.0', token: 'tok', size: 3000, md5: 'AB'.repeat(16) };
    expect(onenet.wire.decode(check, json(200, { errno: 0, data }))).toEqual({ type: 'event', event: 'offer', outcome: 'errno:0', offer: { version: 'V2.0', size: 3000, hash: 'ab'.repeat(16), extra: { token: 'tok' } } });
    expect(onenet.wire.decode(check, json(200, { errno: 0, data: { ...data, size: -1 } }))).toEqual({ type: 'event', event: 'error', outcome: 'bad-check-offer' });
    expect(onenet.wire.decode(check, json(200, { errno: 0, data: { ...data, size: 2 ** 40 } }))).toEqual({ type: 'event', event: 'error', outcome: 'bad-check-offer' });
    expect(onenet.wire.decode(check, json(200, { errno: 0, data: { ...data, md5: 'not a hash' } }))).toEqual({ type: 'event', event: 'error', outcome: 'bad-check-offer' });
    expect(onenet.wire.decode(check, json(200, { errno: 11 }))).toMatchObject({ event: 'none', outcome: 'errno:11' });
    expect(onenet.wire.decode(check, json(200, { errno: 4 }))).toMatchObject({ event: 'refused', outcome: 'errno:4', reason: 'check answered errno 4' });
    expect(onenet.wire.decode(check, json(200, { errno: 'x y z\n' }))).toMatchObject({ event: 'refused', outcome: 'other' });
    expect(onenet.wire.decode(check, empty(503))).toEqual({ type: 'event', event: 'error', outcome: 'http:503' });
    expect(onenet.wire.decode(check, { kind: 'error', code: 'ECONNRESET' })).toEqual({ type: 'net', code: 'ECONNRESET', outcome: 'net:ECONNRESET' });
    const acme = declaredPlugin(ACME);
    const update = { call: 'update', device };
    expect(acme.wire.decode(update, json(429, { retryAfter: 2 }))).toMatchObject({ event: 'wait', waitSec: 2, outcome: 'busy' });
    expect(acme.wire.decode(update, json(429, {}))).toMatchObject({ event: 'wait', waitSec: 30 });
    expect(acme.wire.decode(update, json(409, { reason: 'battery below 20%' }))).toMatchObject({ event: 'refused', reason: 'battery below 20%' });
    expect(acme.wire.decode(update, empty(204))).toMatchObject({ event: 'none', outcome: 'up-to-date' });
    expect(acme.wire.isError(acme.wire.decode(update, empty(500)))).toBe(true);
    expect(acme.wire.isError(acme.wire.decode(update, empty(204)))).toBe(false);
  });

  it('signs the in-house HMAC over the fields the file chose', async () => {
    const acme = declaredPlugin(ACME);
    const http = acme.wire.encode({ call: 'update', device }, { apiKey: 'k', secret: 's', channel: 'stable' }, NOW);
    const { createHmac } = await import('node:crypto');
    const ts = String(Math.floor(NOW / 1000));
    expect(http.headers).toMatchObject({ 'X-Api-Key': 'k', 'X-Timestamp': ts, 'X-Signature': createHmac('sha256', 's').update(`${device.id}:${ts}`).digest('hex') });
  });
});

describe('the machine', () => {
  const acme = declaredPlugin(ACME);
  const m = acme.machine;
  type St = { readonly kind: string };
  const HASH = 'cd'.repeat(32);
  const offer = (size = 2500): DeclaredAnswer => ({ type: 'event', event: 'offer', outcome: 'offered', offer: { version: '2.1.0', size, hash: HASH, url: '/b', extra: {} } });
  const ok: DeclaredAnswer = { type: 'event', event: 'ok', outcome: 'accepted' };
  const bytes = (held: number, digest?: string, cut?: boolean): DeclaredAnswer => ({ type: 'bytes', outcome: 'bytes', held, ...(digest ? { digest } : {}), ...(cut ? { cut } : {}) });
  const req = (s: Step<St, DeclaredRequest>): DeclaredRequest => {
    if (s.action.type !== 'send') throw new Error(`expected a send, got ${s.action.type} in ${s.state.kind}`);
    return s.action.request;
  };
  const kinds: string[] = [];
  const track = (s: Step<St, DeclaredRequest>) => (kinds.push(s.state.kind), s);

  it('check → download in chunks with progress → hash → installed report after the reboot → succeeded', () => {
    const p = profile();
    let s = track(m.start(p, SETTINGS, 0));
    expect(req(s).call).toBe('update');
    s = track(m.onAnswer(s.state, offer(), p, SETTINGS, 10));
    expect(req(s).download).toEqual({ start: 0, end: 999, total: 2500 });
    s = track(m.onAnswer(s.state, bytes(1000), p, SETTINGS, 20));
    expect(req(s)).toMatchObject({ call: 'progress', progress: { step: 25 } });
    s = track(m.onAnswer(s.state, ok, p, SETTINGS, 30));
    expect(req(s).download).toEqual({ start: 1000, end: 1999, total: 2500 });
    s = track(m.onAnswer(s.state, bytes(2000), p, SETTINGS, 40));
    expect(req(s).progress).toEqual({ step: 75 });
    s = track(m.onAnswer(s.state, ok, p, SETTINGS, 50));
    s = track(m.onAnswer(s.state, bytes(2500, HASH.toUpperCase()), p, SETTINGS, 60));
    expect(s.action).toEqual({ type: 'sleep', until: 60 + SETTINGS.rebootMs });
    s = track(m.onTimer(s.state, p, SETTINGS, 60 + SETTINGS.rebootMs));
    expect(req(s)).toMatchObject({ call: 'installed', device: { version: '2.1.0' } });
    s = track(m.onAnswer(s.state, ok, p, SETTINGS, 9000));
    expect(s.state.kind).toBe('succeeded');
    expect(s.action.type).toBe('stop');
    for (let i = 1; i < kinds.length; i++) expect(DECLARED_RULES.next[kinds[i - 1] as 'checking']).toContain(kinds[i]);
  });

  it('wait sleeps the seconds the server said, then checks again; none ends up-to-date; refused ends rejected', () => {
    const p = profile();
    let s = m.onAnswer(m.start(p, SETTINGS, 0).state, { type: 'event', event: 'wait', outcome: 'busy', waitSec: 2 }, p, SETTINGS, 100);
    expect(s).toMatchObject({ state: { kind: 'waiting' }, action: { type: 'sleep', until: 2100 } });
    s = m.onTimer(s.state, p, SETTINGS, 2100);
    expect(req(s).call).toBe('update');
    expect(m.onAnswer(s.state, { type: 'event', event: 'none', outcome: 'up-to-date' }, p, SETTINGS, 2200).state.kind).toBe('up-to-date');
    expect(m.onAnswer(s.state, { type: 'event', event: 'refused', outcome: 'refused', reason: 'low' }, p, SETTINGS, 2200).state.kind).toBe('rejected');
  });

  it('a server that always says wait is given up on after MAX_WAITS waits', () => {
    const p = profile();
    const wait: DeclaredAnswer = { type: 'event', event: 'wait', outcome: 'busy', waitSec: 1 };
    let s = m.start(p, SETTINGS, 0);
    for (let i = 0; i < MAX_WAITS; i++) s = m.onTimer(m.onAnswer(s.state, wait, p, SETTINGS, i).state, p, SETTINGS, i);
    expect(m.onAnswer(s.state, wait, p, SETTINGS, 0).state.kind).toBe('gave-up');
  });

  it('a failing check is retried retryDelay apart, maxAttempts times, then the device gives up', () => {
    const p = profile();
    const err: DeclaredAnswer = { type: 'event', event: 'error', outcome: 'http:500' };
    let s = m.onAnswer(m.start(p, SETTINGS, 0).state, err, p, SETTINGS, 0);
    expect(s).toMatchObject({ state: { kind: 'retrying' }, action: { until: 1000 } });
    s = m.onAnswer(m.onTimer(s.state, p, SETTINGS, 1000).state, err, p, SETTINGS, 1000);
    s = m.onAnswer(m.onTimer(s.state, p, SETTINGS, 2000).state, err, p, SETTINGS, 2000);
    expect(s.state.kind).toBe('gave-up');
  });

  it('a hash mismatch reports the failure and starts the task over; past maxAttempts it ends failed', () => {
    const p = profile();
    let s = m.onAnswer(m.start(p, SETTINGS, 0).state, offer(500), p, SETTINGS, 0);
    for (let run = 0; run <= SETTINGS.maxAttempts; run++) {
      s = m.onAnswer(s.state, bytes(500, 'ee'.repeat(32)), p, SETTINGS, 10);
      expect(req(s)).toMatchObject({ call: 'failed', failure: { reason: 'hash' } });
      s = m.onAnswer(s.state, ok, p, SETTINGS, 20);
      if (run < SETTINGS.maxAttempts) {
        expect(req(s).call).toBe('update');
        s = m.onAnswer(s.state, offer(500), p, SETTINGS, 30);
        expect(req(s).download?.start).toBe(0);
      }
    }
    expect(s.state.kind).toBe('failed');
  });

  it('a corrupt download never matches; a device that boots its old version reports it and fails', () => {
    const bad = profile({ behaviour: { ...NO_FAULTS, corruptDownload: true } });
    const s = m.onAnswer(m.onAnswer(m.start(bad, SETTINGS, 0).state, offer(500), bad, SETTINGS, 0).state, bytes(500, HASH), bad, SETTINGS, 1);
    expect(req(s).failure).toEqual({ reason: 'hash' });
    const old = profile({ behaviour: { ...NO_FAULTS, rebootIntoOld: true } });
    let t = m.onAnswer(m.onAnswer(m.start(old, SETTINGS, 0).state, offer(500), old, SETTINGS, 0).state, bytes(500, HASH), old, SETTINGS, 1);
    t = m.onAnswer(m.onTimer(t.state, old, SETTINGS, 9000).state, ok, old, SETTINGS, 9001);
    expect(req(t)).toMatchObject({ call: 'failed', failure: { reason: 'version' } });
    expect(m.onAnswer(t.state, ok, old, SETTINGS, 9002).state.kind).toBe('failed');
  });

  it('a cut link: offline for reconnectMs, a fresh check, then Range from the byte held (the same offer) or from 0 (a new one)', () => {
    const p = profile({ behaviour: { ...NO_FAULTS, disconnect: { at: { kind: 'bytes', bytes: 1500 }, times: 1, reconnectMs: 5000 } } });
    let s = m.onAnswer(m.start(p, SETTINGS, 0).state, offer(), p, SETTINGS, 0);
    s = m.onAnswer(s.state, bytes(1000), p, SETTINGS, 1);
    s = m.onAnswer(s.state, ok, p, SETTINGS, 2);
    expect(req(s)).toMatchObject({ download: { start: 1000, end: 1999 }, fault: { cutAfterBytes: 500 } });
    s = m.onAnswer(s.state, bytes(1500, undefined, true), p, SETTINGS, 3);
    expect(s).toMatchObject({ state: { kind: 'reconnecting' }, action: { type: 'sleep', until: 5003 } });
    const checking = m.onTimer(s.state, p, SETTINGS, 5003);
    expect(req(checking).call).toBe('update');
    expect(req(m.onAnswer(checking.state, offer(), p, SETTINGS, 5004)).download).toEqual({ start: 1500, end: 2499, total: 2500 });
    expect(req(m.onAnswer(checking.state, offer(2600), p, SETTINGS, 5004)).download).toEqual({ start: 0, end: 999, total: 2600 });
  });
});

describe('a scenario naming a dialect file', () => {
  const file = root('test/fixtures/inhouse/inline.yaml');
  const scenario = (head: string): string => `${head}\nfleet:\n  cohorts:\n    - { ids: "1..2", count: 2, version: 1.0.0 }\n`;
  it('registers it, keeps it for the workers, and checks its target block with the settings the file declares', async () => {
    const { parseScenario } = await import('../../src/scenario/load.js');
    const s = parseScenario(scenario('dialect: acme\ndialectFile: acme.yaml\ntarget:\n  acme: { channel: beta }'), file);
    expect(s.declared?.dialect.name).toBe('acme');
    expect(s.target.block).toEqual({ channel: 'beta' });
    expect(errorOf(() => parseScenario(scenario('dialect: acme\ndialectFile: acme.yaml\ntarget:\n  acme: { chanel: beta }'), file))).toBe(`${file}:4:19: target.acme.chanel: unknown field`);
    expect(errorOf(() => parseScenario(scenario('dialect: gadget\ndialectFile: acme.yaml'), file))).toBe(`${file}:1:10: dialect: "gadget", but acme.yaml declares the dialect "acme"`);
    expect(errorOf(() => parseScenario(scenario('dialect: acme\ndialectFile: nowhere.yaml'), file))).toMatch(/nowhere\.yaml: cannot read \(ENOENT\)$/);
  });
});

describe('schema/dialect.schema.json', () => {
  it('is what publish-schema generates, and accepts the shipped dialect files', async () => {
    const { DIALECT_SCHEMA_FILE } = await import('../../src/scenario/publish-schema.js');
    const { renderDialectSchema } = await import('../../src/dialect/declared/schema.js');
    const { Ajv } = await import('ajv');
    const { parse } = await import('yaml');
    expect(DIALECT_SCHEMA_FILE).toBe(root('schema/dialect.schema.json'));
    const text = readFileSync(DIALECT_SCHEMA_FILE, 'utf8');
    expect(text).toBe(renderDialectSchema());
    const validate = new Ajv({ strict: false }).compile(JSON.parse(text) as object);
    for (const f of ['scenarios/dialects/onenet.yaml', 'test/fixtures/inhouse/acme.yaml']) expect(validate(parse(readFileSync(root(f), 'utf8'))), f).toBe(true);
    expect(validate({ name: 'x', calls: {}, flow: { check: 'c', download: { hash: 'crc' } } })).toBe(false);
  });
});
