/** The admin API: auth, and each endpoint doing what it says. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ONENET_ACCESS_KEY } from '../../src/catalog/default.js';
import { packageMd5 } from '../../src/catalog/package-bytes.js';
import { luatQuery, onenet, send, start, type TestServer } from './helpers.js';

let s: TestServer;
beforeAll(async () => {
  s = await start({ adminToken: 'test-admin-token-1234' });
});
afterAll(() => s.close());

describe('admin auth', () => {
  it('401 without a token, with a wrong one, with a non-Bearer scheme', async () => {
    expect((await send(`${s.url}/admin/catalog`, 'GET')).status).toBe(401);
    expect((await send(`${s.url}/admin/catalog`, 'GET', { authorization: 'Bearer nope' })).status).toBe(401);
    expect((await send(`${s.url}/admin/catalog`, 'GET', { authorization: 'Basic test-admin-token-1234' })).status).toBe(401);
    const ok = await send(`${s.url}/admin/catalog`, 'GET', { authorization: 'Bearer test-admin-token-1234' });
    expect(ok.status).toBe(200);
  });

  it('accepts the Bearer scheme in any case and with extra spaces (RFC 7235 §2.1), the token exactly', async () => {
    for (const authorization of ['bearer test-admin-token-1234', 'BEARER test-admin-token-1234', 'BeArEr   test-admin-token-1234']) {
      expect((await send(`${s.url}/admin/catalog`, 'GET', { authorization })).status).toBe(200);
    }
    expect((await send(`${s.url}/admin/catalog`, 'GET', { authorization: 'bearer TEST-ADMIN-TOKEN-1234' })).status).toBe(401);
    expect((await send(`${s.url}/admin/catalog`, 'GET', { authorization: 'bearertest-admin-token-1234' })).status).toBe(401);
    expect((await send(`${s.url}/admin/catalog`, 'GET', { authorization: 'bearer test-admin-token-1234 extra' })).status).toBe(401);
  });

  it('a random token when none is given', async () => {
    const a = await start();
    const b = await start();
    try {
      expect(a.adminToken.length).toBeGreaterThanOrEqual(16);
      expect(a.adminToken).not.toBe(b.adminToken);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('404 for an unknown admin path, 405 for a wrong method', async () => {
    expect((await s.admin('GET', '/admin/nothing')).status).toBe(404);
    expect((await s.admin('POST', '/admin/catalog')).status).toBe(405);
  });
});

describe('admin endpoints', () => {
  it('GET /admin/catalog: keys resolved, each package with its md5 and size', async () => {
    const c = (await s.admin('GET', '/admin/catalog')).json;
    const product = c.onenet.products[0];
    expect(product.accessKey).toBe(DEFAULT_ONENET_ACCESS_KEY);
    const full = product.packages.find((p: { id: string }) => p.id === 'app-v2-full');
    expect(full).toMatchObject({ size: 192 * 1024, md5: packageMd5(11, 192 * 1024), generation: 0 });
    expect(c.luat.projects[0].firmware[0]).toMatchObject({ md5: packageMd5(21, 128 * 1024), size: 128 * 1024 });
    expect(c.templates[0]).toMatchObject({ id: 'tpl:0', source: 'catalog', devices: '522700000..522799999' });
    // The conventions the target profile reads: ban day, how a flashed version is confirmed.
    expect(c.luat).toMatchObject({ banLimitPerDay: 10, banCountsWaits: true, banDayStartUtc: '00:00', versionConfirm: 're-ask', versionLabels: ['header', 'filename'] });
  });

  it('GET /admin/devices/{id}: an unseen device answers its initial state, known: false', async () => {
    const d = await s.device('522700500');
    expect(d).toMatchObject({ id: '522700500', dialect: 'onenet', known: false, product: '198290', manuf: '101', model: '10101', sVersion: 'V1.0', history: [] });
    expect(d.tasks[0]).toMatchObject({ state: 'pending', package: 'app-v2-full', target: 'V2.0', successes: 0 });
    const l = await s.device('866714040000999');
    expect(l).toMatchObject({ dialect: 'luat', known: false, banned: false, requestsToday: 0, upgradesServed: 0 });
  });

  it('GET /admin/devices/{id}: 404 for an id in no range', async () => {
    const r = await s.admin('GET', '/admin/devices/nowhere');
    expect(r.status).toBe(404);
    expect(r.json.error).toMatch(/no device range/);
  });

  it('POST /admin/devices/query: bulk states without history; unknown ids flagged; at most 10000', async () => {
    await s.check('522700501');
    const r = await s.admin('POST', '/admin/devices/query', { ids: ['522700501', '866714040000001', 'zzz'] });
    expect(r.status).toBe(200);
    const [a, b, c] = r.json.devices;
    expect(a).toMatchObject({ id: '522700501', known: true });
    expect(a.history).toBeUndefined();
    expect(b).toMatchObject({ id: '866714040000001', dialect: 'luat' });
    expect(c).toEqual({ id: 'zzz', error: 'in no device range' });
    const many = Array.from({ length: 10_001 }, (_, i) => String(522700000 + i));
    expect((await s.admin('POST', '/admin/devices/query', { ids: many })).status).toBe(400);
    expect((await s.admin('POST', '/admin/devices/query', { ids: 'x' })).status).toBe(400);
  });

  it('GET /admin/counters: requests and answers per endpoint, tasks by state, bytes served', async () => {
    const srv = await start();
    try {
      const dev = onenet(srv, '522700600');
      const token = await dev.token();
      await dev.download(token, 'bytes=0-99');
      await srv.check('1');
      await srv.get(luatQuery({ imei: '866714040000600' }));
      await srv.get('/nowhere');
      const c = (await srv.admin('GET', '/admin/counters')).json;
      expect(c.endpoints.check).toEqual({ requests: 2, answers: { 'errno:0': 1, 'errno:1': 1 } });
      expect(c.endpoints.download).toEqual({ requests: 1, answers: { 'http:206': 1 } });
      expect(c.endpoints.luat.answers['http:200']).toBe(1);
      expect(c.endpoints.unknown.requests).toBe(1);
      expect(c.tasks).toMatchObject({ pending: 0, downloading: 1 });
      expect(c.bytesServed).toBeGreaterThanOrEqual(100 + 128 * 1024);
      expect(c.bans).toEqual({ active: 0, imposed: 0, lifted: 0 });
      expect(c.devices).toEqual({ onenet: 1, luat: 1 });
    } finally {
      await srv.close();
    }
  });

  it('POST /admin/tasks for one device: a FOTA task it then gets from check', async () => {
    const r = await s.admin('POST', '/admin/tasks', { devices: '522900100', package: 'module-b2', type: 1, signal: 1, power: 2, retry: 4, interval: 5 });
    expect(r.status).toBe(201);
    expect(r.json.created).toBe(1);
    expect(r.json.tasks[0]).toMatchObject({ id: '522900100:1', state: 'pending', manuf: '014', model: '01401' });
    const c = await s.check('522900100', { type: '1', manuf: '014', model: '01401', version: 'BC28B1' });
    expect(c.json.data).toMatchObject({ target: 'BC28B2', signal: 1, power: 2, retry: 4, interval: 5 });
    // A second task of the same type for the device conflicts.
    expect((await s.admin('POST', '/admin/tasks', { devices: '522900100', package: 'module-b2', type: 1 })).status).toBe(409);
  });

  it('POST /admin/tasks for a range: applies to devices seen, and to the others when they show up', async () => {
    await s.check('522900201', { type: '1', manuf: '014', model: '01401', version: 'BC28B0' });
    const r = await s.admin('POST', '/admin/tasks', { devices: '522900200..522900299', package: 'module-b2', type: 1, state: 'paused' });
    expect(r.status).toBe(201);
    expect(r.json.created).toBe(1);
    const tpl = r.json.template.id;
    expect((await s.device('522900201')).tasks[0].state).toBe('paused');
    expect((await s.device('522900250')).tasks[0].state).toBe('paused');
    const resumed = await s.admin('POST', `/admin/tasks/${tpl}/resume`);
    expect(resumed.json.affected).toBe(1);
    expect((await s.device('522900201')).tasks[0].state).toBe('pending');
    expect((await s.device('522900250')).tasks[0].state).toBe('pending');
    const cancelled = await s.admin('POST', `/admin/tasks/${tpl}/cancel`);
    expect(cancelled.status).toBe(200);
    expect((await s.device('522900201')).tasks[0].state).toBe('cancelled');
    expect((await s.admin('GET', `/admin/tasks/${tpl}`)).json.state).toBe('cancelled');
  });

  it('POST /admin/tasks: 400 for bad bodies, 404 for an unknown package', async () => {
    expect((await s.admin('POST', '/admin/tasks', { devices: '522900300', type: 1 })).status).toBe(400);
    expect((await s.admin('POST', '/admin/tasks', { devices: '522900300', package: 'module-b2', type: 3 })).status).toBe(400);
    expect((await s.admin('POST', '/admin/tasks', { devices: '1..5', package: 'module-b2', type: 1 })).status).toBe(400);
    expect((await s.admin('POST', '/admin/tasks', { devices: '522900300', package: 'nope', type: 1 })).status).toBe(404);
    expect((await send(`${s.url}/admin/tasks`, 'POST', { authorization: `Bearer ${s.adminToken}` }, '{bad')).status).toBe(400);
  });

  it('POST /admin/tasks/{id}/cancel|pause|resume: 409 when not possible, 404 for unknown ids', async () => {
    await s.check('522700700');
    const id = '522700700:1';
    expect((await s.admin('POST', `/admin/tasks/${id}/resume`)).status).toBe(409);
    expect((await s.admin('POST', `/admin/tasks/${id}/pause`)).json.state).toBe('paused');
    expect((await s.admin('POST', `/admin/tasks/${id}/cancel`)).json.state).toBe('cancelled');
    expect((await s.admin('POST', `/admin/tasks/${id}/cancel`)).status).toBe(409);
    expect((await s.admin('POST', `/admin/tasks/522700700:9/cancel`)).status).toBe(404);
    expect((await s.admin('POST', `/admin/tasks/${id}/explode`)).status).toBe(404);
    expect((await s.admin('GET', `/admin/tasks/${id}`)).json.state).toBe('cancelled');
  });

  it('POST /admin/bans/{imei}/lift and /admin/bans/lift-all', async () => {
    const ids = ['866714040000801', '866714040000802'];
    for (const id of ids) for (let i = 0; i < 11; i++) await s.get(luatQuery({ imei: id, version: '1.3.2' }));
    expect((await s.admin('GET', '/admin/counters')).json.bans.active).toBe(2);
    expect((await s.admin('POST', `/admin/bans/${ids[0]}/lift`)).json.lifted).toBe(true);
    expect((await s.admin('POST', '/admin/bans/lift-all')).json.lifted).toBe(1);
    const c = (await s.admin('GET', '/admin/counters')).json;
    expect(c.bans).toMatchObject({ active: 0, lifted: 2 });
    expect((await s.admin('POST', '/admin/bans/123/lift')).status).toBe(404);
  });

  it('POST /admin/packages/{id}/republish: new seed, new bytes, new md5 (OneNET and Luat)', async () => {
    const srv = await start();
    try {
      const before = (await srv.check('522700800')).json.data.md5;
      const r = await srv.admin('POST', '/admin/packages/app-v2-full/republish');
      expect(r.json.previousMd5).toBe(before);
      expect(r.json.md5).not.toBe(before);
      expect(r.json.generation).toBe(1);
      const after = await srv.check('522700800');
      expect(after.json.data.md5).toBe(r.json.md5);
      const fw = 'luat_IoT_SERVER_UPDATE_Luat_RDA8910_TTS_NOVOLTE_FLOAT';
      const l = await srv.admin('POST', `/admin/packages/${fw}/republish`, { seed: 99 });
      expect(l.json.firmware[0]).toMatchObject({ seed: 99, md5: packageMd5(99, 128 * 1024) });
      const file = await srv.get(luatQuery({ imei: '866714040000900' }));
      expect(file.headers['x-firmware-md5']).toBe(packageMd5(99, 128 * 1024));
      expect((await srv.admin('POST', '/admin/packages/none/republish')).status).toBe(404);
    } finally {
      await srv.close();
    }
  });

  it('POST /admin/reset: back to the catalog state', async () => {
    const srv = await start();
    try {
      const dev = onenet(srv, '522700900');
      const token = await dev.token();
      await dev.step(token, 101);
      await srv.admin('POST', '/admin/packages/app-v2-full/republish');
      expect((await srv.admin('POST', '/admin/reset')).json.reset).toBe(true);
      expect((await srv.device('522700900')).known).toBe(false);
      const c = (await srv.admin('GET', '/admin/counters')).json;
      expect(c.devices).toEqual({ onenet: 0, luat: 0 });
      expect((await srv.check('522700900')).json.data.md5).toBe(packageMd5(11, 192 * 1024));
    } finally {
      await srv.close();
    }
  });

  it('GET / PUT / PATCH /admin/faults and PUT /admin/bugs', async () => {
    const srv = await start();
    try {
      expect((await srv.admin('GET', '/admin/faults')).json).toEqual({ faults: {}, bugs: [] });
      const put = await srv.admin('PUT', '/admin/faults', { check: { latency: 'fixed:5ms', error: '10%' }, bugs: ['ignore-range'] });
      expect(put.json).toEqual({ faults: { check: { latency: { dist: 'fixed', value: 5 }, errorRate: 0.1 } }, bugs: ['ignore-range'] });
      const patch = await srv.admin('PATCH', '/admin/faults', { faults: { check: { errorRate: null }, download: { resetAfter: '1KiB' } } });
      expect(patch.json.faults).toEqual({ check: { latency: { dist: 'fixed', value: 5 } }, download: { resetAfterBytes: 1024 } });
      expect(patch.json.bugs).toEqual(['ignore-range']);
      const removed = await srv.admin('PATCH', '/admin/faults', { check: null });
      expect(removed.json.faults).toEqual({ download: { resetAfterBytes: 1024 } });
      const bad = await srv.admin('PUT', '/admin/faults', { chek: { latency: 5 } });
      expect(bad.status).toBe(400);
      expect(bad.json.error).toMatch(/chek: unknown endpoint/);
      expect((await srv.admin('PUT', '/admin/faults', { check: { errorCode: 99 } })).status).toBe(400);
      expect((await srv.admin('PUT', '/admin/bugs', { bugs: ['stale-md5'] })).json.bugs).toEqual(['stale-md5']);
      expect((await srv.admin('PUT', '/admin/bugs', { bugs: ['nope'] })).status).toBe(400);
      expect((await srv.admin('GET', '/admin/bugs')).json.bugs).toEqual(['stale-md5']);
    } finally {
      await srv.close();
    }
  });

  it('GET /admin/clock: virtual now, scale, day', async () => {
    const srv = await start({ clock: { virtualMs: 86_400_000 * 100 + 5, wallMs: Date.now(), scale: 3 } });
    try {
      const c = (await srv.admin('GET', '/admin/clock')).json;
      expect(c.scale).toBe(3);
      expect(c.day).toBe(100);
      expect(c.virtualNow).toBeGreaterThanOrEqual(86_400_000 * 100);
    } finally {
      await srv.close();
    }
  });
});
