/** Named bugs: each breaks exactly its documented rule, and only when switched on. */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CATALOG } from '../../src/catalog/default.js';
import { BUG_NAMES, type BugName } from '../../src/server/index.js';
import { luatQuery, onenet, start, type TestServer } from './helpers.js';

const servers: TestServer[] = [];
async function server(bugs: BugName[], options: Parameters<typeof start>[0] = {}): Promise<TestServer> {
  const s = await start({ bugs, ...options });
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A device driven to succeeded; returns its token. */
async function succeed(s: TestServer, id: string): Promise<string> {
  const dev = onenet(s, id);
  const token = await dev.token();
  await dev.tokenCheck(token);
  await dev.step(token, 100);
  expect((await dev.step(token, 201)).json.errno).toBe(0);
  return token;
}

describe('named bugs', () => {
  it('the list', () => {
    expect(BUG_NAMES).toEqual(expect.arrayContaining(['progress-after-success', 'check-wrong-device', 'skip-loop-ban', 'double-count-success', 'ignore-range', 'stale-md5']));
  });

  it('progress-after-success: a progress step after success is accepted and a second 201 counts again', async () => {
    for (const bugs of [[], ['progress-after-success']] as BugName[][]) {
      const s = await server(bugs);
      const token = await succeed(s, '522700001');
      const dev = onenet(s, '522700001');
      const step = await dev.step(token, 50);
      const again = await dev.step(token, 201);
      const t = (await s.device('522700001')).tasks[0];
      if (bugs.length === 0) {
        expect([step.json.errno, again.json.errno]).toEqual([20, 20]);
        expect(t.successes).toBe(1);
      } else {
        expect([step.json.errno, again.json.errno]).toEqual([0, 0]);
        expect(t.successes).toBe(2);
      }
    }
  });

  it('double-count-success: a duplicate 201 is accepted and counted, other steps still refused', async () => {
    const s = await server(['double-count-success']);
    const token = await succeed(s, '522700002');
    const dev = onenet(s, '522700002');
    expect((await dev.step(token, 201)).json.errno).toBe(0);
    expect((await dev.report(token, 201)).json.errno).toBe(0);
    expect((await dev.step(token, 50)).json.errno).toBe(20);
    const t = (await s.device('522700002')).tasks[0];
    expect(t).toMatchObject({ state: 'succeeded', successes: 3 });
  });

  it("check-wrong-device: check answers with another device's token", async () => {
    const plain = await server([]);
    const buggy = await server(['check-wrong-device']);
    const own = (await plain.check('522700003')).json.data.token;
    expect((await plain.device('522700003')).tasks[0].token).toBe(own);
    const answered = (await buggy.check('522700003')).json.data.token;
    expect((await buggy.device('522700003')).tasks[0].token).toBeUndefined();
    expect((await buggy.device('522700004')).tasks[0].token).toBe(answered);
    // The device then fails on its own token calls: the token is not its.
    expect((await onenet(buggy, '522700003').tokenCheck(answered)).json.errno).toBe(4);
  });

  it('skip-loop-ban: never answers 40', async () => {
    const s = await server(['skip-loop-ban']);
    for (let i = 0; i < 15; i++) expect((await s.get(luatQuery({ imei: '866714040000003', version: '1.3.2' }))).json.code).toBe(27);
    expect((await s.device('866714040000003')).banned).toBe(false);
  });

  it('ignore-range: 200 with the whole file whatever the Range', async () => {
    const s = await server(['ignore-range']);
    const dev = onenet(s, '522700005');
    const token = await dev.token();
    const r = await dev.download(token, 'bytes=0-99');
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(192 * 1024);
  });

  it('stale-md5: after a republish, check answers the previous md5', async () => {
    for (const bugs of [[], ['stale-md5']] as BugName[][]) {
      const s = await server(bugs);
      const before = (await s.check('522700006')).json.data.md5;
      const rep = (await s.admin('POST', '/admin/packages/app-v2-full/republish')).json;
      const after = (await s.check('522700006')).json.data.md5;
      expect(after).toBe(bugs.length ? before : rep.md5);
      expect(after === rep.md5).toBe(bugs.length === 0);
    }
  });

  it('accept-expired-auth: an expired Authorization is accepted', async () => {
    const s = await server(['accept-expired-auth']);
    const expired = s.auth({ et: Math.floor(s.clock.now() / 1000) - 60 });
    expect((await s.check('522700007', {}, expired)).json.errno).toBe(0);
  });

  it('no-diff-wait: the diff package comes at once (no 43)', async () => {
    const s = await server(['no-diff-wait']);
    const r = await s.get(luatQuery({ imei: '866714040000007', dfota: '1', core_version: '3030' }));
    expect(r.status).toBe(200);
    expect(r.headers['x-firmware-kind']).toBe('diff');
  });

  it('can be switched on at run time', async () => {
    const c = structuredClone(DEFAULT_CATALOG);
    c.luat.banLimitPerDay = 1;
    const s = await server([], { catalog: c });
    const q = luatQuery({ imei: '866714040000008', version: '1.3.2' });
    await s.get(q);
    expect((await s.get(q)).json.code).toBe(40);
    await s.admin('POST', '/admin/bans/866714040000008/lift');
    await s.admin('PUT', '/admin/bugs', { bugs: ['skip-loop-ban'] });
    await s.get(q);
    expect((await s.get(q)).json.code).toBe(27);
  });
});
