/** Virtual time: ban days roll over, tokens and Authorization expire, diff builds finish — at --time-scale. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CATALOG } from '../../src/catalog/default.js';
import { DAY_MS } from '../../src/protocol/luat.js';
import { TOKEN_VALIDITY_MS } from '../../src/protocol/onenet.js';
import { luatQuery, onenet, sleep, start } from './helpers.js';

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
      // Valid for 300 virtual seconds = 300 real ms.
      const auth = s.auth({ et: Math.floor(s.clock.now() / 1000) + 300 });
      expect((await onenet(s, '522700002').check()).json.errno).toBe(0);
      expect((await s.check('522700002', {}, auth)).json.errno).toBe(0);
      await sleep(400);
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
});
