/** Authorization tokens (spec §1.1): each method, tampering, expiry, product, malformed headers; on every call. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CATALOG, DEFAULT_ONENET_ACCESS_KEY } from '../../src/catalog/default.js';
import type { Catalog } from '../../src/catalog/schema.js';
import { buildAuthorization } from '../../src/protocol/token.js';
import { start, type TestServer } from './helpers.js';

const OTHER_KEY = Buffer.from('another product key, 32 bytes!!').toString('base64');

/** The default catalog plus a second product with its own key and devices. */
function twoProducts(): Catalog {
  const c = structuredClone(DEFAULT_CATALOG);
  c.onenet.products.push({
    id: '200001',
    accessKey: OTHER_KEY,
    packages: [{ id: 'other-full', version: 'O2', size: 1024, kind: 'full' }],
    devices: [{ ids: '600000000..600000099', manuf: '100', model: '10001', sVersion: 'O1' }],
    tasks: [{ devices: '600000000..600000099', package: 'other-full', type: 2, signal: 0, power: 0, retry: 1, interval: 10, manuf: '100', model: '10001' }],
    autoAdd: [],
  });
  return c;
}

let s: TestServer;
beforeAll(async () => {
  s = await start({ catalog: twoProducts() });
});
afterAll(() => s.close());

const farEt = (): number => Math.floor(s.clock.now() / 1000) + 86_400;

describe('Authorization', () => {
  it.each(['md5', 'sha1', 'sha256'] as const)('accepts a token signed with %s', async (method) => {
    const r = await s.check('522700100', {}, s.auth({ method }));
    expect(r.json.errno).toBe(0);
  });

  it('accepts the seed document example shape (res and sign URL-encoded)', async () => {
    const header = s.auth();
    expect(header).toMatch(/^version=2018-10-31&res=products%2F198290&et=\d+&method=sha1&sign=[A-Za-z0-9%]+$/);
  });

  it('accepts a device-level resource signed with the product key', async () => {
    const r = await s.check('522700101', {}, s.auth({ res: 'products/198290/devices/dev-101' }));
    expect(r.json.errno).toBe(0);
  });

  it('errno 1: a tampered signature', async () => {
    const good = s.auth();
    const sign = decodeURIComponent(good.split('sign=')[1] ?? '');
    const flipped = (sign[0] === 'A' ? 'B' : 'A') + sign.slice(1);
    const bad = good.replace(/sign=.*$/, `sign=${encodeURIComponent(flipped)}`);
    expect((await s.check('522700102', {}, bad)).json.errno).toBe(1);
  });

  it('errno 1: a tampered et (the signature covers it)', async () => {
    const good = s.auth({ et: farEt() });
    const bad = good.replace(/et=(\d+)/, (_, et: string) => `et=${Number(et) + 1}`);
    expect((await s.check('522700103', {}, bad)).json.errno).toBe(1);
  });

  it('errno 1: an expired et', async () => {
    const expired = s.auth({ et: Math.floor(s.clock.now() / 1000) - 10 });
    expect((await s.check('522700104', {}, expired)).json.errno).toBe(1);
  });

  it('errno 1: signed with another key', async () => {
    const wrongKey = buildAuthorization(OTHER_KEY, { res: 'products/198290', et: farEt(), method: 'sha1' });
    expect((await s.check('522700105', {}, wrongKey)).json.errno).toBe(1);
  });

  it('errno 1: a valid token of another product for this device', async () => {
    const other = s.auth({ productId: '200001', key: OTHER_KEY });
    expect((await s.check('522700106', {}, other)).json.errno).toBe(1);
    // ...which works for its own devices.
    const own = await s.check('600000001', { manuf: '100', model: '10001', version: 'O1' }, other);
    expect(own.json.errno).toBe(0);
    // The refused device was not materialised by the other product's call.
    expect((await s.device('522700106')).known).toBe(false);
  });

  it('errno 1: a product that does not exist', async () => {
    const ghost = buildAuthorization(DEFAULT_ONENET_ACCESS_KEY, { res: 'products/777', et: farEt(), method: 'sha1' });
    expect((await s.check('522700107', {}, ghost)).json.errno).toBe(1);
  });

  it('errno 1: a token version other than 2018-10-31', async () => {
    const v = buildAuthorization(DEFAULT_ONENET_ACCESS_KEY, { res: 'products/198290', et: farEt(), method: 'sha1', version: '2020-01-01' });
    expect((await s.check('522700108', {}, v)).json.errno).toBe(1);
  });

  it.each([
    ['empty', ''],
    ['garbage', 'not a token'],
    ['no sign', 'version=2018-10-31&res=products%2F198290&et=9999999999&method=sha1'],
    ['unknown method', 'version=2018-10-31&res=products%2F198290&et=9999999999&method=sha512&sign=abc'],
    ['et not a number', 'version=2018-10-31&res=products%2F198290&et=soon&method=sha1&sign=abc'],
    ['bad percent-encoding', 'version=2018-10-31&res=products%2F198290&et=9999999999&method=sha1&sign=%E0%A4%A'],
    ['very long', `version=2018-10-31&res=${'x'.repeat(5000)}`],
  ])('errno 1: a malformed header (%s)', async (_, header) => {
    expect((await s.check('522700109', {}, header)).json.errno).toBe(1);
  });

  it('errno 1 on every authorized call with a bad token', async () => {
    const bad = { authorization: 'version=2018-10-31&res=products%2F198290&et=1&method=md5&sign=x' };
    const calls = [
      s.get('/ota/device/version?dev_id=522700110', bad),
      s.post('/ota/device/version?dev_id=522700110', { s_version: 'V1.0' }, bad),
      s.get('/ota/south/download/ota_x/check?dev_id=522700110', bad),
      s.post('/ota/south/device/download/ota_x/progress?dev_id=522700110', { step: 10 }, bad),
      s.post('/ota/south/report?dev_id=522700110&token=ota_x', { result: 101 }, bad),
    ];
    for (const r of await Promise.all(calls)) expect(r.json.errno).toBe(1);
  });
});
