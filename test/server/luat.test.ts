/** The Luat upgrade call (spec §2): the file, every code, the loop ban, diff builds. */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CATALOG, DEFAULT_LUAT_FIRMWARE, DEFAULT_LUAT_PROJECT_KEY } from '../../src/catalog/default.js';
import { generatePackageBytes } from '../../src/catalog/package-bytes.js';
import type { Catalog } from '../../src/catalog/schema.js';
import { luatQuery, start, type TestServer } from './helpers.js';

/** The default catalog plus a project exercising barred IMEIs, forbidden jumps, switched-off firmware. */
function luatCatalog(): Catalog {
  const c = structuredClone(DEFAULT_CATALOG);
  c.luat.projects.push({
    key: 'edgeCasesProject',
    account: 'demo',
    firmware: [
      { name: 'fw-8910', version: '2.0.0', size: 4096, cores: ['1.2', '1.3'], forbiddenJumps: ['1.2->1.3'], diff: false, enabled: true },
      { name: 'fw-off', version: '2.0.0', size: 4096, cores: ['1.3'], forbiddenJumps: [], diff: false, enabled: false },
    ],
    devices: [
      { imeis: '86671406{0000000..0000099}', upgradeList: true },
      { imeis: '86671406{0000100..0000199}', upgradeList: false },
    ],
    barred: ['866714060000050'],
  });
  return c;
}

let s: TestServer;
beforeAll(async () => {
  s = await start({ catalog: luatCatalog() });
});
afterAll(() => s.close());

let next = 10;
const imei = (): string => `8667140400000${String(next++).padStart(2, '0')}`;
const ask = (params: Record<string, string | undefined>, headers?: Record<string, string>) => s.get(luatQuery(params), headers);
const expectCode = async (params: Record<string, string | undefined>, code: number): Promise<void> => {
  const r = await ask(params);
  expect(r.status).toBeGreaterThanOrEqual(300);
  expect(r.status).toBe(400);
  expect(r.json.code).toBe(code);
  expect(typeof r.json.msg).toBe('string');
};

describe('Luat upgrade', () => {
  it('200 with the full file, Content-Length, Content-Disposition and X-Firmware-Version', async () => {
    const r = await ask({ imei: imei() });
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe(String(128 * 1024));
    expect(r.headers['content-disposition']).toMatch(/^attachment; filename=".+1\.3\.2\.bin"$/);
    expect(r.headers['x-firmware-version']).toBe('1.3.2');
    expect(r.headers['x-firmware-kind']).toBe('full');
    const bytes = generatePackageBytes(21, 128 * 1024);
    expect(r.body.equals(bytes)).toBe(true);
    expect(r.headers['x-firmware-md5']).toBe(createHash('md5').update(bytes).digest('hex'));
  });

  it('206 for a Range', async () => {
    const r = await ask({ imei: imei() }, { range: 'bytes=0-1023' });
    expect(r.status).toBe(206);
    expect(r.body.length).toBe(1024);
    expect(r.headers['content-range']).toBe(`bytes 0-1023/${128 * 1024}`);
  });

  it('mac= or uid= instead of imei=', async () => {
    expect((await ask({ imei: undefined, mac: imei() })).status).toBe(200);
    expect((await ask({ imei: undefined, uid: imei() })).status).toBe(200);
  });

  it('3: no imei key, or an upper-case IMEI key', async () => {
    await expectCode({ imei: undefined }, 3);
    await expectCode({ imei: undefined, IMEI: imei() }, 3);
  });

  it('17: a device of another account', async () => {
    await expectCode({ imei: '866714050000001' }, 17);
  });

  it('17: an IMEI in no project', async () => {
    await expectCode({ imei: '123456789012345' }, 17);
  });

  it('21: a barred IMEI', async () => {
    await expectCode({ project_key: 'edgeCasesProject', firmware_name: 'fw-8910', imei: '866714060000050', version: '1.0.0', core_version: '1.3' }, 21);
  });

  it('21: a forbidden core jump (1.2 → 1.3)', async () => {
    await expectCode({ project_key: 'edgeCasesProject', firmware_name: 'fw-8910', imei: '866714060000001', version: '1.0.0', core_version: '1.2' }, 21);
    const ok = await ask({ project_key: 'edgeCasesProject', firmware_name: 'fw-8910', imei: '866714060000002', version: '1.0.0', core_version: '1.3' });
    expect(ok.status).toBe(200);
  });

  it('25: an unknown project key', async () => {
    await expectCode({ imei: imei(), project_key: 'nope' }, 25);
    await expectCode({ imei: imei(), project_key: undefined }, 25);
  });

  it('26: an unknown firmware name', async () => {
    await expectCode({ imei: imei(), firmware_name: 'other_firmware' }, 26);
  });

  it('27: the device version equals the latest, or is higher', async () => {
    await expectCode({ imei: imei(), version: '1.3.2' }, 27);
    await expectCode({ imei: imei(), version: '1.10.0' }, 27);
  });

  it('27: a device not in the upgrade list', async () => {
    await expectCode({ project_key: 'edgeCasesProject', firmware_name: 'fw-8910', imei: '866714060000150', version: '1.0.0', core_version: '1.3' }, 27);
  });

  it('27: upgrade switched off for the firmware', async () => {
    await expectCode({ project_key: 'edgeCasesProject', firmware_name: 'fw-off', imei: '866714060000003', version: '1.0.0', core_version: '1.3' }, 27);
  });

  it('44: a core version the platform has no record of', async () => {
    await expectCode({ imei: imei(), core_version: '2999' }, 44);
  });

  it('44: dfota=1 without a core version', async () => {
    await expectCode({ imei: imei(), core_version: undefined, dfota: '1' }, 44);
  });

  it('43 while the diff package is being built (shared by every device on that core)', async () => {
    await expectCode({ imei: imei(), dfota: '1', core_version: '3030' }, 43);
    await expectCode({ imei: imei(), dfota: '1', core_version: '3030' }, 43);
  });

  it('the device state records version, core, the count of the day and upgrades served', async () => {
    const id = imei();
    await ask({ imei: id, version: '1.2.0', core_version: '3030' });
    const d = await s.device(id);
    expect(d).toMatchObject({ id, dialect: 'luat', known: true, project: DEFAULT_LUAT_PROJECT_KEY, version: '1.2.0', core: '3030', banned: false, requestsToday: 1, upgradesServed: 1 });
    expect(d.history[0]).toMatchObject({ call: 'luat', answer: `http:200 bytes 0-${128 * 1024 - 1}` });
  });
});

describe('loop ban', () => {
  it('40: the 11th request of a day is refused and the device stays banned', async () => {
    const id = imei();
    for (let i = 0; i < 10; i++) expect((await ask({ imei: id, version: '1.3.2' })).json.code).toBe(27);
    await expectCode({ imei: id }, 40);
    await expectCode({ imei: id }, 40);
    const d = await s.device(id);
    expect(d.banned).toBe(true);
    expect(typeof d.bannedAt).toBe('number');
  });

  it('lifting the ban answers again, with the day count forgiven', async () => {
    const id = imei();
    for (let i = 0; i < 11; i++) await ask({ imei: id, version: '1.3.2' });
    expect((await s.device(id)).banned).toBe(true);
    const lift = await s.admin('POST', `/admin/bans/${id}/lift`);
    expect(lift.json).toEqual({ id, lifted: true, banned: false });
    expect((await ask({ imei: id })).status).toBe(200);
    expect((await s.device(id)).requestsToday).toBe(1);
  });

  it('requests refused before the device is identified (25, 26) do not count', async () => {
    const id = imei();
    for (let i = 0; i < 12; i++) await ask({ imei: id, project_key: 'nope' });
    expect((await ask({ imei: id })).status).toBe(200);
  });

  it('the limit comes from the catalog (banLimitPerDay) and 43 answers count by default', async () => {
    const c = structuredClone(DEFAULT_CATALOG);
    c.luat.banLimitPerDay = 3;
    const srv = await start({ catalog: c });
    try {
      const q = (): string => luatQuery({ imei: '866714040099999', dfota: '1', core_version: '3030' });
      for (let i = 0; i < 3; i++) expect((await srv.get(q())).json.code).toBe(43);
      expect((await srv.get(q())).json.code).toBe(40);
    } finally {
      await srv.close();
    }
  });

  it('with banCountsWaits: false, 43 answers do not count', async () => {
    const c = structuredClone(DEFAULT_CATALOG);
    c.luat.banLimitPerDay = 3;
    c.luat.banCountsWaits = false;
    const srv = await start({ catalog: c });
    try {
      const q = (): string => luatQuery({ imei: '866714040099998', dfota: '1', core_version: '3030' });
      for (let i = 0; i < 6; i++) expect((await srv.get(q())).json.code).toBe(43);
      expect((await srv.device('866714040099998')).requestsToday).toBe(0);
    } finally {
      await srv.close();
    }
  });
});

describe('diff builds', () => {
  it('43 until the build time has passed, then the diff package (a quarter of the size)', async () => {
    const c = structuredClone(DEFAULT_CATALOG);
    c.luat.diffBuildMs = { min: 300, max: 300 };
    const srv = await start({ catalog: c });
    try {
      const q = luatQuery({ imei: '866714040000500', dfota: '1', core_version: '3030' });
      expect((await srv.get(q)).json.code).toBe(43);
      await new Promise((r) => setTimeout(r, 400));
      const r = await srv.get(q);
      expect(r.status).toBe(200);
      expect(r.headers['x-firmware-kind']).toBe('diff');
      expect(r.body.length).toBe(32 * 1024);
      expect(r.headers['content-disposition']).toMatch(/\.diff"$/);
      // Another core has its own build.
      expect((await srv.get(luatQuery({ imei: '866714040000501', dfota: '1', core_version: '3032' }))).json.code).toBe(43);
    } finally {
      await srv.close();
    }
  });
});
