/** Fault knobs: each one measurably does what it says; flags parse; draws repeat for a seed. */
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/load.js';
import { parseFaultConfig, parseFaultFlag, parseDistributionText } from '../../src/server/index.js';
import { luatQuery, onenet, start, type TestServer } from './helpers.js';

const servers: TestServer[] = [];
async function server(faults: object, seed?: number): Promise<TestServer> {
  const s = await start({ faults: faults as never, ...(seed !== undefined ? { seed } : {}) });
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** Raw GET: everything the socket received until it closed, and how it ended. */
function rawGet(url: string, path: string, headers: Record<string, string> = {}): Promise<{ head: string; body: Buffer; ended: 'close' | 'error' }> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const sock = connect(Number(u.port), u.hostname);
    const chunks: Buffer[] = [];
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    sock.on('connect', () => sock.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${extra}\r\n`));
    sock.on('data', (c) => chunks.push(c));
    let ended: 'close' | 'error' = 'close';
    sock.on('error', () => (ended = 'error'));
    sock.on('close', () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      resolve({ head: all.subarray(0, split).toString(), body: all.subarray(split + 4), ended });
    });
  });
}

describe('fault knobs', () => {
  it('latency: a fixed 150 ms is added (at least)', async () => {
    const s = await server({ check: { latency: 'fixed:150ms' } });
    const t0 = performance.now();
    const r = await s.check('522700001');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(148);
    expect(r.json.errno).toBe(0);
    const l0 = performance.now();
    await s.get(luatQuery({ imei: '866714040000001' }));
    expect((await s.admin('GET', '/admin/counters')).json.faults.delayed).toBe(1);
    expect(performance.now() - l0).toBeLessThan(5_000);
  });

  it('counts its own service time per endpoint (arrival to last byte), the added latency included', async () => {
    const s = await server({ check: { latency: 'fixed:80ms' } });
    for (const id of ['522700011', '522700012', '522700013']) await s.check(id);
    const service = (await s.admin('GET', '/admin/counters')).json.serviceMs;
    expect(service.check.count).toBe(3);
    expect(service.check.p50).toBeGreaterThanOrEqual(80);
    expect(service.check.p99).toBeGreaterThanOrEqual(service.check.p50);
    expect(service.check.max).toBeGreaterThanOrEqual(service.check.p99);
    // The admin call itself is not an endpoint of the protocol.
    expect(service.admin).toBeUndefined();
  });

  it('latency on * applies to every endpoint; an endpoint setting wins', async () => {
    const s = await server({ '*': { latency: 120 }, check: { latency: 0 } });
    const t0 = performance.now();
    await s.get(luatQuery({ imei: '866714040000001' }));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(118);
    const c = (await s.admin('GET', '/admin/counters')).json;
    expect(c.faults.delayed).toBe(1);
  });

  it('latency from a uniform distribution stays at or above its minimum', async () => {
    const s = await server({ queryVersion: { latency: 'uniform:60ms..80ms' } });
    const t0 = performance.now();
    await onenet(s, '522700002').queryVersion();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(58);
  });

  it('errorRate with errorStatus: the HTTP status, and the request is not processed', async () => {
    const s = await server({ check: { errorRate: 1, errorStatus: 503 } });
    const r = await s.check('522700003');
    expect(r.status).toBe(503);
    expect(r.json).toEqual({ error: 'injected fault' });
    expect((await s.device('522700003')).known).toBe(false);
    expect((await s.admin('GET', '/admin/counters')).json.endpoints.check.answers).toEqual({ 'fault http:503': 1 });
  });

  it('errorRate with errorCode: the endpoint own way of answering a code', async () => {
    const s = await server({ luat: { errorRate: 1, errorCode: 43 }, download: { errorRate: 1, errorCode: 2 } });
    const l = await s.get(luatQuery({ imei: '866714040000002' }));
    expect(l.status).toBe(400);
    expect(l.json.code).toBe(43);
    const d = await s.get('/ota/south/download/ota_anything');
    expect(d.text).toBe('2');
    expect(d.headers['content-length']).toBeUndefined();
  });

  it('resetAfterBytes: the connection ends after exactly N body bytes', async () => {
    const s = await server({ download: { resetAfterBytes: 1000 } });
    const token = await onenet(s, '522700004').token();
    const r = await rawGet(s.url, `/ota/south/download/${token}`);
    expect(r.head).toMatch(/^HTTP\/1.1 200/);
    expect(r.head).toMatch(/content-length: 196608/i);
    expect(r.body.length).toBe(1000);
    await expect(request(`${s.url}/ota/south/download/${token}`).then((res) => res.body.arrayBuffer())).rejects.toThrow();
    expect((await s.admin('GET', '/admin/counters')).json.faults.resets).toBe(2);
  });

  it('resetAfterBytes larger than the answer changes nothing', async () => {
    const s = await server({ download: { resetAfterBytes: '1MiB' } });
    const token = await onenet(s, '522700005').token();
    expect((await onenet(s, '522700005').download(token, 'bytes=0-99')).body.length).toBe(100);
  });

  it('dropRate: the request is processed, the answer never sent', async () => {
    const s = await server({ progress: { dropRate: 1 } });
    const dev = onenet(s, '522700006');
    const token = await dev.token();
    await expect(dev.step(token, 101)).rejects.toThrow();
    expect(await dev.state()).toBe('upgrading');
    const d = await s.device('522700006');
    expect(d.history.at(-1).answer).toBe('errno:0 (dropped)');
    expect((await s.admin('GET', '/admin/counters')).json.faults.dropped).toBe(1);
  });

  it('stallRate: no answer at all until the client gives up; close() still ends promptly', async () => {
    const s = await server({ check: { stallRate: 1 } });
    const t0 = performance.now();
    const pending = request(`${s.url}/ota/south/check?dev_id=522700007&manuf=101&model=10101&type=2&version=V1.0&cdn=false`, {
      headers: { authorization: s.auth() },
      headersTimeout: 400,
    });
    await expect(pending).rejects.toThrow(/timeout/i);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(390);
    expect((await s.device('522700007')).known).toBe(false);
    // Another stalled request is open while the server closes.
    const hanging = request(`${s.url}/ota/south/check?dev_id=1`, { headersTimeout: 30_000 }).catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 50));
    const c0 = performance.now();
    await s.close();
    expect(performance.now() - c0).toBeLessThan(2_000);
    expect(await hanging).toBeInstanceOf(Error);
  });

  it('bytesPerSecond: a 10 000-byte answer at 20 000 B/s takes about half a second', async () => {
    const s = await server({ download: { bytesPerSecond: 20_000 } });
    const dev = onenet(s, '522700008');
    const token = await dev.token();
    const t0 = performance.now();
    const r = await dev.download(token, 'bytes=0-9999');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(400);
    expect(r.body.length).toBe(10_000);
    expect(r.status).toBe(206);
  });

  it('bytesPerSecond and resetAfterBytes together: a slow body cut short', async () => {
    const s = await server({ download: { bytesPerSecond: 40_000, resetAfterBytes: 3000 } });
    const token = await onenet(s, '522700009').token();
    const r = await rawGet(s.url, `/ota/south/download/${token}`, { range: 'bytes=0-9999' });
    expect(r.body.length).toBe(3000);
  });

  it('draws repeat for a seed', async () => {
    const outcomes = async (seed: number): Promise<number[]> => {
      const s = await server({ queryVersion: { errorRate: 0.5 } }, seed);
      const out: number[] = [];
      for (let i = 0; i < 24; i++) out.push((await onenet(s, '522700010').queryVersion()).status);
      return out;
    };
    const a = await outcomes(7);
    const b = await outcomes(7);
    const c = await outcomes(8);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a).toContain(503);
    expect(a).toContain(200);
  });

  it('can be changed at run time', async () => {
    const s = await server({});
    expect((await s.check('522700011')).status).toBe(200);
    await s.admin('PATCH', '/admin/faults', { check: { error: 1, status: 502 } });
    expect((await s.check('522700011')).status).toBe(502);
    await s.admin('PATCH', '/admin/faults', { check: null });
    expect((await s.check('522700011')).status).toBe(200);
  });
});

describe('fault syntax', () => {
  it.each([
    ['check.latency=fixed:50ms', { check: { latency: { dist: 'fixed', value: 50 } } }],
    ['check.latency=50', { check: { latency: { dist: 'fixed', value: 50 } } }],
    ['*.latency=uniform:10ms..2s', { '*': { latency: { dist: 'uniform', min: 10, max: 2000 } } }],
    ['luat.latency=normal:50ms,10ms', { luat: { latency: { dist: 'normal', mean: 50, stddev: 10 } } }],
    ['check.latency=lognormal:20ms,200ms', { check: { latency: { dist: 'lognormal', median: 20, p99: 200 } } }],
    ['check.latency=pareto:10ms,1.5,5s', { check: { latency: { dist: 'pareto', scale: 10, shape: 1.5, max: 5000 } } }],
    ['download.resetAfter=4096', { download: { resetAfterBytes: 4096 } }],
    ['download.resetAfter=4KiB', { download: { resetAfterBytes: 4096 } }],
    ['progress.drop=0.1', { progress: { dropRate: 0.1 } }],
    ['check.error=5%', { check: { errorRate: 0.05 } }],
    ['check.errorStatus=500', { check: { errorStatus: 500 } }],
    ['check.errorCode=7', { check: { errorCode: 7 } }],
    ['tokenCheck.stall=0.01', { tokenCheck: { stallRate: 0.01 } }],
    ['download.bps=16KiB', { download: { bytesPerSecond: 16384 } }],
  ])('%s', (flag, expected) => {
    expect(parseFaultFlag(flag)).toEqual(expected);
  });

  it.each([
    ['no equals sign', 'check.latency', /ENDPOINT.KNOB=VALUE/],
    ['unknown endpoint', 'chek.latency=5ms', /chek: unknown endpoint/],
    ['unknown knob', 'check.speed=5', /check.speed: unknown knob/],
    ['bad distribution', 'check.latency=gamma:1,2', /expected a duration or DIST:ARGS/],
    ['rate above 1', 'check.drop=1.5', /share between 0 and 1/],
    ['status out of range', 'check.errorStatus=200', /HTTP status 300–599/],
    ['undocumented code', 'luat.errorCode=99', /not a documented code of luat/],
    ['bad size', 'download.resetAfter=lots', /byte count/],
  ])('refuses %s with a one-line error', (_, flag, message) => {
    expect(() => parseFaultFlag(flag)).toThrow(ConfigError);
    expect(() => parseFaultFlag(flag)).toThrow(message);
  });

  it('object form: distributions as objects, rates as numbers', () => {
    expect(parseFaultConfig({ check: { latency: { dist: 'normal', mean: 5, stddev: 1 }, dropRate: 0.2 } })).toEqual({ check: { latency: { dist: 'normal', mean: 5, stddev: 1 }, dropRate: 0.2 } });
    expect(() => parseFaultConfig({ check: { latency: { dist: 'normal' } } }, 'scenario.server.faults')).toThrow(/scenario.server.faults.check.latency/);
    expect(() => parseFaultConfig([], 'x')).toThrow(ConfigError);
  });

  it('uniform needs min ≤ max', () => {
    expect(parseDistributionText('uniform:80ms..10ms')).toBeUndefined();
  });

  it('startServer refuses bad faults with a ConfigError', async () => {
    await expect(start({ faults: { nope: {} } as never })).rejects.toThrow(/faults.nope: unknown endpoint/);
  });
});
