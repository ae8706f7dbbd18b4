/**
 * OneNET task transitions and the errnos of token check, progress, the old report call, report
 * version and query version (spec §1.2).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, onenet, type TestServer } from './helpers.js';

let s: TestServer;
beforeAll(async () => {
  s = await start();
});
afterAll(() => s.close());

let next = 522710000;
/** A fresh device of the default SOTA fleet (pending full-package task to V2.0). */
const fresh = () => onenet(s, String(next++));
/** A fresh device whose task is cancelled / paused through the admin API. */
async function withTaskIn(state: 'cancelled' | 'paused') {
  const dev = fresh();
  const token = await dev.token();
  const d = await s.device(String(next - 1));
  const r = await s.admin('POST', `/admin/tasks/${d.tasks[0].id}/${state === 'cancelled' ? 'cancel' : 'pause'}`);
  expect(r.status).toBe(200);
  return { dev, token, id: String(next - 1) };
}

describe('transitions', () => {
  it('pending → downloading by the token check', async () => {
    const dev = fresh();
    const token = await dev.token();
    expect(await dev.state()).toBe('pending');
    expect((await dev.tokenCheck(token)).json.errno).toBe(0);
    expect(await dev.state()).toBe('downloading');
  });

  it('pending → downloading by the first download, without a token check', async () => {
    const dev = fresh();
    const token = await dev.token();
    const r = await dev.download(token, 'bytes=0-15');
    expect(r.status).toBe(206);
    expect(await dev.state()).toBe('downloading');
  });

  it('downloading stays downloading on progress 0–99', async () => {
    const dev = fresh();
    const token = await dev.token();
    await dev.tokenCheck(token);
    for (const step of [0, 25, 99]) expect((await dev.step(token, step)).json.errno).toBe(0);
    expect(await dev.state()).toBe('downloading');
  });

  it('downloading → upgrading on step 100', async () => {
    const dev = fresh();
    const token = await dev.token();
    await dev.tokenCheck(token);
    expect((await dev.step(token, 100)).json.errno).toBe(0);
    expect(await dev.state()).toBe('upgrading');
  });

  it('downloading → upgrading on result 101', async () => {
    const dev = fresh();
    const token = await dev.token();
    await dev.tokenCheck(token);
    expect((await dev.step(token, 101)).json.errno).toBe(0);
    expect(await dev.state()).toBe('upgrading');
  });

  it('pending → upgrading on result 101 (results are accepted while pending)', async () => {
    const dev = fresh();
    const token = await dev.token();
    expect((await dev.step(token, 101)).json.errno).toBe(0);
    expect(await dev.state()).toBe('upgrading');
  });

  it('upgrading → succeeded on 201; the device version becomes the target; successes = 1', async () => {
    const dev = fresh();
    const id = String(next - 1);
    const token = await dev.token();
    await dev.tokenCheck(token);
    await dev.step(token, 100);
    expect((await dev.step(token, 201)).json.errno).toBe(0);
    const d = await s.device(id);
    expect(d.tasks[0]).toMatchObject({ state: 'succeeded', successes: 1, duplicateResults: 0 });
    expect(d.sVersion).toBe('V2.0');
    expect((await dev.queryVersion()).json.data).toEqual({ s_version: 'V2.0' });
  });

  it('a 201 while downloading also succeeds (download and upgrade codes are accepted while downloading)', async () => {
    const dev = fresh();
    const token = await dev.token();
    await dev.tokenCheck(token);
    expect((await dev.step(token, 201)).json.errno).toBe(0);
    expect(await dev.state()).toBe('succeeded');
  });

  it.each([102, 103, 104, 105, 106, 107])('downloading → failed on %i', async (code) => {
    const dev = fresh();
    const token = await dev.token();
    await dev.tokenCheck(token);
    expect((await dev.step(token, code)).json.errno).toBe(0);
    expect(await dev.state()).toBe('failed');
  });

  it.each([202, 203, 204, 205, 206, 207, 208])('upgrading → failed on %i', async (code) => {
    const dev = fresh();
    const token = await dev.token();
    await dev.tokenCheck(token);
    await dev.step(token, 100);
    expect((await dev.step(token, code)).json.errno).toBe(0);
    expect(await dev.state()).toBe('failed');
  });

  it('report version equal to the target completes the task (succeeded)', async () => {
    const dev = fresh();
    const id = String(next - 1);
    const token = await dev.token();
    await dev.tokenCheck(token);
    await dev.step(token, 100);
    expect((await dev.reportVersion({ s_version: 'V2.0' })).json.errno).toBe(0);
    const d = await s.device(id);
    expect(d.tasks[0].state).toBe('succeeded');
    expect(d.sVersion).toBe('V2.0');
  });

  it('report version of another version leaves the task as it is', async () => {
    const dev = fresh();
    await dev.token();
    expect((await dev.reportVersion({ s_version: 'V1.1' })).json.errno).toBe(0);
    expect(await dev.state()).toBe('pending');
  });

  it('an f_version report does not complete a SOTA task', async () => {
    const dev = fresh();
    await dev.token();
    await dev.reportVersion({ f_version: 'V2.0' });
    expect(await dev.state()).toBe('pending');
  });

  it('admin cancel → cancelled; pause → paused; resume → back where it was', async () => {
    const { id } = await withTaskIn('cancelled');
    expect((await s.device(id)).tasks[0].state).toBe('cancelled');
    const dev = fresh();
    const pid = String(next - 1);
    const token = await dev.token();
    await dev.tokenCheck(token);
    const taskId = (await s.device(pid)).tasks[0].id;
    expect((await s.admin('POST', `/admin/tasks/${taskId}/pause`)).json.state).toBe('paused');
    expect((await s.admin('POST', `/admin/tasks/${taskId}/resume`)).json.state).toBe('downloading');
  });
});

describe('token check errnos', () => {
  it('0 while downloading, too', async () => {
    const dev = fresh();
    const token = await dev.token();
    await dev.tokenCheck(token);
    expect((await dev.tokenCheck(token)).json.errno).toBe(0);
  });

  it("4: a token of another device, or an unknown token", async () => {
    const a = fresh();
    const b = fresh();
    const token = await a.token();
    expect((await b.tokenCheck(token)).json.errno).toBe(4);
    expect((await b.tokenCheck('ota_unknownToken0000000')).json.errno).toBe(4);
  });

  it('17: upgrading', async () => {
    const dev = fresh();
    const token = await dev.token();
    await dev.step(token, 101);
    expect((await dev.tokenCheck(token)).json.errno).toBe(17);
  });

  it('20: succeeded or failed', async () => {
    const a = fresh();
    const ta = await a.token();
    await a.step(ta, 101);
    await a.step(ta, 201);
    expect((await a.tokenCheck(ta)).json.errno).toBe(20);
    const b = fresh();
    const tb = await b.token();
    await b.step(tb, 102);
    expect((await b.tokenCheck(tb)).json.errno).toBe(20);
  });

  it('21: paused', async () => {
    const { dev, token } = await withTaskIn('paused');
    expect((await dev.tokenCheck(token)).json.errno).toBe(21);
  });

  it('22: cancelled', async () => {
    const { dev, token } = await withTaskIn('cancelled');
    expect((await dev.tokenCheck(token)).json.errno).toBe(22);
  });

  it('2: no dev_id', async () => {
    const dev = fresh();
    const token = await dev.token();
    expect((await s.get(`/ota/south/download/${token}/check`, { authorization: s.auth() })).json.errno).toBe(2);
  });

  it('7: an injected internal error', async () => {
    const dev = fresh();
    const token = await dev.token();
    await s.admin('PUT', '/admin/faults', { tokenCheck: { errorRate: 1, errorCode: 7 } });
    try {
      expect((await dev.tokenCheck(token)).json.errno).toBe(7);
    } finally {
      await s.admin('PUT', '/admin/faults', {});
    }
  });
});

describe('progress errnos', () => {
  it('17: a progress step while pending', async () => {
    const dev = fresh();
    const token = await dev.token();
    expect((await dev.step(token, 10)).json).toEqual({ errno: 17, error: 'invalid state' });
    expect(await dev.state()).toBe('pending');
  });

  it('17: a progress step while upgrading, and a 1xx while upgrading', async () => {
    const dev = fresh();
    const token = await dev.token();
    await dev.step(token, 101);
    expect((await dev.step(token, 50)).json.errno).toBe(17);
    expect((await dev.step(token, 102)).json.errno).toBe(17);
    expect(await dev.state()).toBe('upgrading');
  });

  it('17: a result while paused', async () => {
    const { dev, token } = await withTaskIn('paused');
    expect((await dev.step(token, 101)).json.errno).toBe(17);
  });

  it('20: any step once succeeded; refused results are counted as duplicates', async () => {
    const dev = fresh();
    const id = String(next - 1);
    const token = await dev.token();
    await dev.step(token, 101);
    await dev.step(token, 201);
    expect((await dev.step(token, 201)).json.errno).toBe(20);
    expect((await dev.step(token, 50)).json.errno).toBe(20);
    const t = (await s.device(id)).tasks[0];
    expect(t).toMatchObject({ state: 'succeeded', successes: 1, duplicateResults: 1 });
  });

  it('20: once failed', async () => {
    const dev = fresh();
    const token = await dev.token();
    await dev.step(token, 105);
    expect((await dev.step(token, 101)).json.errno).toBe(20);
  });

  it('22: once cancelled', async () => {
    const { dev, token } = await withTaskIn('cancelled');
    expect((await dev.step(token, 101)).json.errno).toBe(22);
    expect((await dev.step(token, 10)).json.errno).toBe(22);
  });

  it('21: an undocumented step code', async () => {
    const dev = fresh();
    const token = await dev.token();
    await dev.tokenCheck(token);
    for (const step of [150, 209, 300, -1]) expect((await dev.step(token, step)).json.errno).toBe(21);
    expect(await dev.state()).toBe('downloading');
  });

  it('4: a token of another device', async () => {
    const a = fresh();
    const b = fresh();
    const token = await a.token();
    expect((await b.step(token, 101)).json.errno).toBe(4);
  });

  it.each([
    ['a missing step', {}],
    ['a string step', { step: '50' }],
    ['a fractional step', { step: 50.5 }],
  ])('2: %s', async (_, body) => {
    const dev = fresh();
    const id = String(next - 1);
    const token = await dev.token();
    const r = await s.post(`/ota/south/device/download/${token}/progress?dev_id=${id}`, body, { authorization: s.auth() });
    expect(r.json.errno).toBe(2);
  });

  it('2: a body that is not JSON', async () => {
    const dev = fresh();
    const id = String(next - 1);
    const token = await dev.token();
    const r = await s.post(`/ota/south/device/download/${token}/progress?dev_id=${id}`, '{"step":', { authorization: s.auth() });
    expect(r.json.errno).toBe(2);
  });
});

describe('old report call errnos', () => {
  it('0: 101 then 201 succeed the task', async () => {
    const dev = fresh();
    const token = await dev.token();
    expect((await dev.report(token, 101)).json.errno).toBe(0);
    expect(await dev.state()).toBe('upgrading');
    expect((await dev.report(token, 201)).json.errno).toBe(0);
    expect(await dev.state()).toBe('succeeded');
  });

  it('1: an unknown token, or another device', async () => {
    const a = fresh();
    const b = fresh();
    const token = await a.token();
    expect((await b.report(token, 101)).json.errno).toBe(1);
    expect((await a.report('ota_nothing', 101)).json.errno).toBe(1);
  });

  it('2: an unknown result code', async () => {
    const dev = fresh();
    const token = await dev.token();
    expect((await dev.report(token, 150)).json).toEqual({ errno: 2, error: 'unknown code' });
  });

  it('20: the task already finished', async () => {
    const dev = fresh();
    const token = await dev.token();
    await dev.report(token, 101);
    await dev.report(token, 201);
    expect((await dev.report(token, 201)).json.errno).toBe(20);
  });

  it('21: a 2xx before the 101, or a 1xx after it', async () => {
    const dev = fresh();
    const token = await dev.token();
    expect((await dev.report(token, 201)).json.errno).toBe(21);
    await dev.report(token, 101);
    expect((await dev.report(token, 102)).json.errno).toBe(21);
  });

  it('21: paused', async () => {
    const { dev, token } = await withTaskIn('paused');
    expect((await dev.report(token, 101)).json.errno).toBe(21);
  });

  it('22: cancelled', async () => {
    const { dev, token } = await withTaskIn('cancelled');
    expect((await dev.report(token, 101)).json.errno).toBe(22);
  });

  it('24: a result that is not an integer, or a body that is not JSON', async () => {
    const dev = fresh();
    const id = String(next - 1);
    const token = await dev.token();
    expect((await dev.report(token, '101')).json.errno).toBe(24);
    const r = await s.post(`/ota/south/report?dev_id=${id}&token=${token}`, 'nope', { authorization: s.auth() });
    expect(r.json.errno).toBe(24);
  });
});

describe('report version and query version', () => {
  it('query version: 0 with the versions the server holds (catalog start values)', async () => {
    const r = await onenet(s, '522900050').queryVersion();
    expect(r.json).toEqual({ errno: 0, error: 'succ', data: { f_version: 'BC28B1' } });
  });

  it('report version: 0 and the version is stored', async () => {
    const dev = fresh();
    expect((await dev.reportVersion({ f_version: 'M1', s_version: 'V1.2' })).json.errno).toBe(0);
    expect((await dev.queryVersion()).json.data).toEqual({ f_version: 'M1', s_version: 'V1.2' });
  });

  it.each([
    ['an empty object', {}],
    ['a number', { s_version: 12 }],
    ['null', { f_version: null }],
  ])('report version: 2 for %s', async (_, body) => {
    expect((await fresh().reportVersion(body)).json.errno).toBe(2);
  });

  it('report version: 2 for a body that is not JSON', async () => {
    const id = String(next++);
    const r = await s.post(`/ota/device/version?dev_id=${id}`, '[1,2', { authorization: s.auth() });
    expect(r.json.errno).toBe(2);
  });

  it('report version: 27 for a version over 20 characters or with bad characters', async () => {
    expect((await fresh().reportVersion({ s_version: 'V'.repeat(21) })).json.errno).toBe(27);
    expect((await fresh().reportVersion({ f_version: 'a b' })).json.errno).toBe(27);
  });

  it('query version: 1 for a device in no range, 2 without dev_id', async () => {
    expect((await onenet(s, '42').queryVersion()).json.errno).toBe(1);
    expect((await s.get('/ota/device/version', { authorization: s.auth() })).json.errno).toBe(2);
  });
});

describe('history', () => {
  it('records what a device asked and was answered, in order', async () => {
    const dev = fresh();
    const id = String(next - 1);
    const token = await dev.token();
    await dev.download(token, 'bytes=0-1023');
    await dev.step(token, 50);
    const h = (await s.device(id)).history;
    expect(h.map((e: { call: string; answer: string }) => `${e.call} ${e.answer}`)).toEqual(['check errno:0', 'download http:206 bytes 0-1023', 'progress errno:0']);
    expect(h[0].request).toBe('type=2 version=V1.0');
    expect(typeof h[0].t).toBe('number');
  });

  it('is bounded to the last 200 entries', async () => {
    const dev = fresh();
    const id = String(next - 1);
    const token = await dev.token();
    for (let i = 0; i < 210; i++) await dev.tokenCheck(token);
    const h = (await s.device(id)).history;
    expect(h).toHaveLength(200);
    expect(h[199].call).toBe('tokenCheck');
  });
});
