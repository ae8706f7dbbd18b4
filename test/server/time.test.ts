/** Virtual time: ban days roll over, tokens and Authorization expire, diff builds finish — at --time-scale. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CATALOG } from '../../src/catalog/default.js';
import { DAY_MS } from '../../src/protocol/luat.js';
import { TOKEN_VALIDITY_MS } from '../../src/protocol/onenet.js';
import { luatQuery, onenet, sleep, start } from './helpers.js';
import { VIRTUAL_TIME_HEADER } from '../../src/protocol/virtual-time.js';

describe('time scale', () => {
  it('the ban day window rolls over at the virtual UTC midnight', async () => {
    const c = structuredClone(DEFAULT_CATALOG);
    c.luat.banLimitPerDay = 3;
    // 600 virtual seconds before midnight, at 2000x: midnight comes 300 real ms later.
    const s = await start({ catalog: c, clock: { virtualMs: 20_000 * DAY_MS - 600_000, wallMs: Date.now(), scale: 2000 } });
    try {
      const q = (imei: string): string => luatQuery({ imei, version: '1.3.2' });
      for (let i = 0; i < 3; i++) expect((await s.get(q('866714040000001'))).json.code).toBe(27);
      for (let i = 0; i < 3; i++) await s.get(q('866714040000002'));
      // Device 1 asks a 4th time the same day: banned.
      expect((await s.get(q('866714040000001'))).json.code).toBe(40);
      const wait = s.clock.realAt(20_000 * DAY_MS) - performance.now();
      await sleep(Math.max(0, wait) + 50);
      expect(Math.floor(s.clock.now() / DAY_MS)).toBe(20_000);
      // Device 2's count started over; device 1 stays banned until lifted.
      expect((await s.device('866714040000002')).requestsToday).toBe(0);
      for (let i = 0; i < 3; i++) expect((await s.get(q('866714040000002'))).json.code).toBe(27);
      expect((await s.get(q('866714040000002'))).json.code).toBe(40);
      expect((await s.get(q('866714040000001'))).json.code).toBe(40);
    } finally {
      await s.close();
    }
  });

  it('a task token expires after 2 virtual days (12), and check then issues a fresh one', async () => {
    // 2 virtual days in 800 real ms.
    const scale = TOKEN_VALIDITY_MS / 800;
    const s = await start({ timeScale: scale });
    try {
      const auth = s.auth({ et: Math.floor(s.clock.now() / 1000) + 100 * 86_400 });
      const h = { authorization: auth };
      const first = await s.check('522700001', {}, auth);
      const token = first.json.data.token;
      const path = `/ota/south/download/${token}/check?dev_id=522700001`;
      expect((await s.get(path, h)).json.errno).toBe(0);
      await sleep(900);
      expect((await s.get(path, h)).json.errno).toBe(12);
      expect((await s.post(`/ota/south/device/download/${token}/progress?dev_id=522700001`, { step: 10 }, h)).json.errno).toBe(12);
      expect((await s.get(`/ota/south/download/${token}`)).text).toBe('3');
      const second = await s.check('522700001', {}, auth);
      expect(second.json.errno).toBe(0);
      expect(second.json.data.token).not.toBe(token);
      expect((await s.get(`/ota/south/download/${second.json.data.token}/check?dev_id=522700001`, h)).json.errno).toBe(0);
    } finally {
      await s.close();
    }
  });

  it('an Authorization expires on the virtual clock', async () => {
    const s = await start({ timeScale: 1000 });
    try {
      // Valid for 2,000 virtual seconds = 2 real s: room for the first checks on a busy machine.
      const auth = s.auth({ et: Math.floor(s.clock.now() / 1000) + 2000 });
      expect((await onenet(s, '522700002').check()).json.errno).toBe(0);
      expect((await s.check('522700002', {}, auth)).json.errno).toBe(0);
      await sleep(2100);
      expect((await s.check('522700002', {}, auth)).json.errno).toBe(1);
    } finally {
      await s.close();
    }
  });

  it('diff builds run on virtual time (1–3 minutes by default)', async () => {
    // 3 virtual minutes in 300 real ms.
    const s = await start({ timeScale: 600 });
    try {
      const q = luatQuery({ imei: '866714040000003', dfota: '1', core_version: '3030' });
      expect((await s.get(q)).json.code).toBe(43);
      await sleep(350);
      expect((await s.get(q)).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  describe('--time-scale max: each request is judged at the instant it carries', () => {
    const D = 20_000 * DAY_MS;
    const at = (t: number): Record<string, string> => ({ [VIRTUAL_TIME_HEADER]: String(t) });

    it('counts the ban day by the request\'s own instant, not by any wall clock', async () => {
      const c = structuredClone(DEFAULT_CATALOG);
      c.luat.banLimitPerDay = 3;
      const s = await start({ catalog: c, clock: { virtualMs: D - 600_000, wallMs: Date.now(), scale: 'max' } });
      try {
        const q = luatQuery({ imei: '866714040000001', version: '1.3.2' });
        for (const t of [D - 3000, D - 2000, D - 1000]) expect((await s.get(q, at(t))).json.code).toBe(27);
        // The fourth of the day (one ms before midnight): banned.
        expect((await s.get(q, at(D - 1))).json.code).toBe(40);
        const other = luatQuery({ imei: '866714040000002', version: '1.3.2' });
        for (const t of [D - 5, D - 4, D - 3]) await s.get(other, at(t));
        // Past midnight the second device counts afresh; the first stays banned until lifted.
        expect((await s.get(other, at(D))).json.code).toBe(27);
        expect((await s.get(q, at(D + 10))).json.code).toBe(40);
        const clock = (await s.admin('GET', '/admin/clock')).json;
        expect(clock).toMatchObject({ scale: 'max', virtualNow: D + 10, day: 20_000 });
      } finally {
        await s.close();
      }
    });

    it('judges a request without the header (or with garbage) at the latest instant seen', async () => {
      const c = structuredClone(DEFAULT_CATALOG);
      c.luat.banLimitPerDay = 2;
      const s = await start({ catalog: c, clock: { virtualMs: D - 600_000, wallMs: Date.now(), scale: 'max' } });
      try {
        const q = luatQuery({ imei: '866714040000003', version: '1.3.2' });
        await s.get(q, at(D + 5000));
        await s.get(q, { [VIRTUAL_TIME_HEADER]: 'soon' });
        // Both counted on day 20000 (judged at the origin, the garbage one would have fallen on
        // day 19999), so the third that day is banned.
        expect((await s.device('866714040000003')).requestsToday).toBe(2);
        expect((await s.get(q)).json.code).toBe(40);
      } finally {
        await s.close();
      }
    });

    it('ignores the header when the server keeps time itself', async () => {
      const s = await start({ clock: { virtualMs: D - 600_000, wallMs: Date.now(), scale: 1 } });
      try {
        const q = luatQuery({ imei: '866714040000004', version: '1.3.2' });
        await s.get(q, at(D + 3 * DAY_MS));
        expect((await s.admin('GET', '/admin/clock')).json.day).toBe(19_999);
        expect((await s.device('866714040000004')).requestsToday).toBe(1);
      } finally {
        await s.close();
      }
    });
  });
});
