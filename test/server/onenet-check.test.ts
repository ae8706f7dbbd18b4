/** OneNET check (spec §1.2 call 2): every errno, the answer's data, tokens, auto-add. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_VALIDITY_MS } from '../../src/protocol/onenet.js';
import { packageMd5 } from '../../src/catalog/package-bytes.js';
import { onenet, start, type TestServer } from './helpers.js';

let s: TestServer;
beforeAll(async () => {
  s = await start();
});
afterAll(() => s.close());

describe('check', () => {
  it('errno 0: answers the task with a 2-day token, md5 of the bytes, size and the task parameters', async () => {
    const before = s.clock.now();
    const r = await s.check('522700010');
    expect(r.status).toBe(200);
    expect(r.json.errno).toBe(0);
    expect(r.json.error).toBe('succ');
    const d = r.json.data;
    expect(d).toMatchObject({ target: 'V2.0', size: 192 * 1024, signal: 5, power: 20, retry: 3, interval: 60, type: 1 });
    expect(d.token).toMatch(/^ota_[A-Za-z0-9]{20}$/);
    expect(d.md5).toBe(packageMd5(11, 192 * 1024));
    expect(d.ipPort).toBe(s.url.replace('http://', ''));
    const task = (await s.device('522700010')).tasks[0];
    expect(task.state).toBe('pending');
    expect(task.token).toBe(d.token);
    expect(task.tokenExpiresAt - before).toBeGreaterThanOrEqual(TOKEN_VALIDITY_MS - 5);
    expect(task.tokenExpiresAt - before).toBeLessThanOrEqual(TOKEN_VALIDITY_MS + 60_000);
  });

  it('errno 0 again: the same token while it is valid; data.type 2 for a diff package', async () => {
    const a = await s.check('522700011');
    const b = await s.check('522700011');
    expect(b.json.data.token).toBe(a.json.data.token);
    const diff = await s.check('522800001', { version: 'V1.5' });
    expect(diff.json.errno).toBe(0);
    expect(diff.json.data.type).toBe(2);
    expect(diff.json.data.size).toBe(48 * 1024);
  });

  it('errno 1: a device in no range', async () => {
    expect((await s.check('999999999')).json.errno).toBe(1);
  });

  it('errno 1: no Authorization header', async () => {
    const r = await s.get('/ota/south/check?dev_id=522700012&manuf=101&model=10101&type=2&version=V1.0&cdn=false');
    expect(r.json.errno).toBe(1);
  });

  it.each([
    ['no manuf', { manuf: '' }],
    ['type 3', { type: '3' }],
    ['type not a number', { type: 'x' }],
    ['no cdn', { cdn: undefined }],
    ['cdn not a boolean', { cdn: 'maybe' }],
    ['signals not an integer', { signals: 'strong' }],
    ['powers not an integer', { powers: '9.5' }],
  ])('errno 2: %s', async (_, override) => {
    const q = new URLSearchParams();
    const params: Record<string, string | undefined> = { dev_id: '522700013', manuf: '101', model: '10101', type: '2', version: 'V1.0', cdn: 'false', ...override };
    for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
    const r = await s.get(`/ota/south/check?${q.toString()}`, { authorization: s.auth() });
    expect(r.json.errno).toBe(2);
  });

  it('errno 2: no dev_id', async () => {
    const r = await s.get('/ota/south/check?manuf=101&model=10101&type=2&version=V1.0&cdn=false', { authorization: s.auth() });
    expect(r.json.errno).toBe(2);
  });

  it('signals and powers are accepted when they are integers', async () => {
    expect((await s.check('522700014', { signals: '20', powers: '80' })).json.errno).toBe(0);
  });

  it('errno 7: an injected internal error (fault errorCode)', async () => {
    await s.admin('PUT', '/admin/faults', { check: { errorRate: 1, errorCode: 7 } });
    try {
      const r = await s.check('522700015');
      expect(r.json).toEqual({ errno: 7, error: 'internal error' });
      expect((await s.device('522700015')).known).toBe(false);
    } finally {
      await s.admin('PUT', '/admin/faults', {});
    }
  });

  it('errno 8: manuf/model differing from the task fail the task', async () => {
    const r = await s.check('522700016', { manuf: '102', model: '10201' });
    expect(r.json.errno).toBe(8);
    expect(await onenet(s, '522700016').state()).toBe('failed');
    // The failed task is not returned again: no task of that type.
    expect((await s.check('522700016')).json.errno).toBe(11);
  });

  it('errno 8: the model alone differing', async () => {
    expect((await s.check('522700017', { model: '10102' })).json.errno).toBe(8);
    expect(await onenet(s, '522700017').state()).toBe('failed');
  });

  it('errno 9: a diff task checked from a version outside its from list fails', async () => {
    const r = await s.check('522800002', { version: 'V1.0' });
    expect(r.json.errno).toBe(9);
    expect(await onenet(s, '522800002').state()).toBe('failed');
  });

  it('no errno 9 for a full package checked from any version', async () => {
    expect((await s.check('522700018', { version: 'V0.1' })).json.errno).toBe(0);
  });

  it('errno 11: no task of that type', async () => {
    expect((await s.check('522700019', { type: '1' })).json.errno).toBe(11);
  });

  it.each(['V1 .0', 'x'.repeat(21), 'V1/0', ''])('errno 27: bad version format %j', async (version) => {
    expect((await s.check('522700020', { version })).json.errno).toBe(27);
  });

  it('auto-add: a module device at a listed version gets a task on the spot, once', async () => {
    const params = { type: '1', manuf: '014', model: '01401', version: 'BC28B1' };
    const r = await s.check('522900001', params);
    expect(r.json.errno).toBe(0);
    expect(r.json.data).toMatchObject({ target: 'BC28B2', size: 256 * 1024, power: 30, retry: 2, interval: 120, type: 1 });
    const d = await s.device('522900001');
    expect(d.tasks).toHaveLength(1);
    expect(d.tasks[0]).toMatchObject({ package: 'module-b2', state: 'pending', template: 'autoAdd:0' });
    // Cancelled: auto-add does not create it again.
    await s.admin('POST', `/admin/tasks/${d.tasks[0].id}/cancel`);
    expect((await s.check('522900001', params)).json.errno).toBe(11);
  });

  it('auto-add: not for a version outside fromVersions, nor for other manuf/model', async () => {
    expect((await s.check('522900002', { type: '1', manuf: '014', model: '01401', version: 'BC28B0' })).json.errno).toBe(11);
    expect((await s.check('522900003', { type: '1', manuf: '001', model: '00107', version: 'BC28B1' })).json.errno).toBe(11);
    expect((await s.device('522900002')).tasks).toHaveLength(0);
  });

  it('a paused task is not returned (11), and is again once resumed', async () => {
    await s.check('522700021');
    const id = (await s.device('522700021')).tasks[0].id;
    await s.admin('POST', `/admin/tasks/${id}/pause`);
    expect((await s.check('522700021')).json.errno).toBe(11);
    await s.admin('POST', `/admin/tasks/${id}/resume`);
    expect((await s.check('522700021')).json.errno).toBe(0);
  });

  it('check is answered while downloading and upgrading, not once succeeded', async () => {
    const dev = onenet(s, '522700022');
    const token = await dev.token();
    await dev.download(token, 'bytes=0-9');
    expect((await dev.check()).json.errno).toBe(0);
    await dev.step(token, 100);
    expect((await dev.check()).json.errno).toBe(0);
    await dev.step(token, 201);
    expect((await dev.check()).json.errno).toBe(11);
  });
});
