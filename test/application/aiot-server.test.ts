/**
 * The reference server's AIOT side over HTTP: the north-bound calls (auth, codes, what query and
 * upgrade do to the store) and the pushes a device's accepted steps cause, received by the run's
 * push receiver (headers checked, arrivals logged).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadCatalog } from '../../src/catalog/load.js';
import { buildAuthorization } from '../../src/protocol/token.js';
import { startReceiver, type RunningReceiver } from '../../src/receiver/server.js';
import { HEALTHY } from '../../src/receiver/behaviour.js';
import { send, sleep, start, type TestServer } from '../server/helpers.js';

const CATALOG = loadCatalog(join(new URL('../..', import.meta.url).pathname, 'scenarios/catalogs/aiot.yaml'));
const PRODUCT = '198291';
const KEYS = { appId: 'app-1', appKey: 'key-1', accessToken: 'token-1' };
const H = { Appid: KEYS.appId, Appkey: KEYS.appKey, 'Access-Token': KEYS.accessToken, Openid: 'o' };

let server: TestServer | undefined;
let receiver: RunningReceiver | undefined;
afterEach(async () => {
  await server?.close();
  await receiver?.close();
  server = receiver = undefined;
});

async function setUp(receiverKey = KEYS.appKey): Promise<{ s: TestServer; r: RunningReceiver }> {
  receiver = await startReceiver({ appId: KEYS.appId, appKey: receiverKey, behaviour: HEALTHY, now: () => Date.now(), scale: 1, startAt: () => 0, seed: 1 });
  server = await start({ catalog: CATALOG, aiot: { ...KEYS, productId: PRODUCT, pushUrl: receiver.url } });
  return { s: server, r: receiver };
}

const call = (s: TestServer, path: string, body: unknown, headers: Record<string, string> = H) => s.post(path, body, headers);

describe('AIOT north-bound API (reference server)', () => {
  it('refuses other keys (code 2), a body that is not JSON (1), an unknown device (3)', async () => {
    const { s } = await setUp();
    expect((await call(s, '/open/ota/query/firmware', { openId: 'o' }, { ...H, Appkey: 'nope' })).json).toMatchObject({ code: 2 });
    expect((await call(s, '/open/ota/query/firmware', { openId: 'o' }, { ...H, 'Access-Token': 'nope' })).json).toMatchObject({ code: 2 });
    expect((await call(s, '/open/ota/query/firmware', 'not json')).json).toMatchObject({ code: 1 });
    expect((await call(s, '/open/ota/query/firmware/selected', { openId: 'o' })).json).toMatchObject({ code: 1 });
    expect((await call(s, '/open/ota/upgrade/firmware/selected', { openId: 'o', did: '999' })).json).toMatchObject({ code: 3 });
  });

  it('query lists upgradable devices in the seed\'s shape; upgrade selected gives that device a task, so it is no longer upgradable', async () => {
    const { s } = await setUp();
    const did = '523100007';
    const q = (await call(s, '/open/ota/query/firmware/selected', { openId: 'o', did })).json;
    expect(q).toEqual({ code: 0, result: [{ did, name: 'ota-swarm AIOT demo product', deviceModel: '10101', firmwareVersion: 'V1.0', upgradeFirmware: { firmwareVersion: 'V2.0', fileSize: '65536', updateLog: 'app_V2.0.bin', releaseDate: '' } }] });
    expect((await call(s, '/open/ota/query/firmware', { openId: 'o' })).json.result).toHaveLength(10_000);
    // No task before the north-bound call: check answers 11.
    const auth = buildAuthorization('b3RhLXN3YXJtLWFpb3QtZGVtby1ub3QtYS1zZWNyZXQ=', { res: `products/${PRODUCT}`, et: Math.floor(Date.now() / 1000) + 3600, method: 'sha1' });
    expect((await s.check('523100008', {}, auth)).json.errno).toBe(11);
    expect((await call(s, '/open/ota/upgrade/firmware/selected', { openId: 'o', did })).json).toMatchObject({ code: 0 });
    expect((await call(s, '/open/ota/query/firmware/selected', { openId: 'o', did })).json).toEqual({ code: 0, result: [] });
    expect((await call(s, '/open/ota/upgrade/firmware/selected', { openId: 'o', did })).json).toMatchObject({ code: 4 });
    expect((await s.check(did, {}, auth)).json.errno).toBe(0);
    expect((await s.check('523100008', {}, auth)).json.errno).toBe(11);
    // Upgrade all: every device of the range gets the task, including ones not seen yet.
    expect((await call(s, '/open/ota/upgrade/firmware', { openId: 'o' })).json).toMatchObject({ code: 0 });
    expect((await s.check('523100008', {}, auth)).json.errno).toBe(0);
  });

  it('pushes each accepted progress step and the result to the receiver, with the Appid and Appkey', async () => {
    const { s, r } = await setUp();
    const did = '523100001';
    await call(s, '/open/ota/upgrade/firmware/selected', { openId: 'o', did });
    const auth = buildAuthorization('b3RhLXN3YXJtLWFpb3QtZGVtby1ub3QtYS1zZWNyZXQ=', { res: `products/${PRODUCT}`, et: Math.floor(Date.now() / 1000) + 3600, method: 'sha1' });
    const h = { authorization: auth };
    const token = (await s.check(did, {}, auth)).json.data.token as string;
    await s.get(`/ota/south/download/${token}/check?dev_id=${did}`, h);
    for (const step of [50, 101, 201]) await s.post(`/ota/south/device/download/${token}/progress?dev_id=${did}`, { step }, h);
    for (let i = 0; i < 100 && r.log.arrivals.length < 2; i++) await sleep(20);
    expect(r.log.arrivals.map((a) => [a.push, a.outcome])).toEqual([
      [{ msgType: 'ota_upgrade_progress', did, firmwareVersion: 'V2.0', progress: 50 }, 'ok'],
      [{ msgType: 'ota_upgrade_result', did, firmwareVersion: 'V2.0', upgradeResult: '1', cause: '' }, 'ok'],
    ]);
  });

  it('a failure code pushes upgradeResult "0" with the cause; a receiver with other keys answers 401 and logs it refused', async () => {
    const { s, r } = await setUp('another-key');
    const did = '523100002';
    await call(s, '/open/ota/upgrade/firmware/selected', { openId: 'o', did });
    const auth = buildAuthorization('b3RhLXN3YXJtLWFpb3QtZGVtby1ub3QtYS1zZWNyZXQ=', { res: `products/${PRODUCT}`, et: Math.floor(Date.now() / 1000) + 3600, method: 'sha1' });
    const token = (await s.check(did, {}, auth)).json.data.token as string;
    await s.get(`/ota/south/download/${token}/check?dev_id=${did}`, { authorization: auth });
    await s.post(`/ota/south/device/download/${token}/progress?dev_id=${did}`, { step: 205 }, { authorization: auth });
    for (let i = 0; i < 100 && r.log.arrivals.length < 1; i++) await sleep(20);
    expect(r.log.arrivals[0]).toMatchObject({ outcome: 'refused', status: 401, push: { msgType: 'ota_upgrade_result', upgradeResult: '0', cause: 'md5 failed (205)' } });
  });

  it('a server without --aiot answers 404; the receiver answers 400 to a body that is not a push', async () => {
    server = await start({});
    expect((await call(server, '/open/ota/query/firmware', { openId: 'o' })).status).toBe(404);
    receiver = await startReceiver({ appId: 'a', appKey: 'k', behaviour: HEALTHY, now: () => Date.now(), scale: 1, startAt: () => 0, seed: 1 });
    const bad = await send(receiver.url, 'POST', { 'content-type': 'application/json', Appid: 'a', Appkey: 'k' }, JSON.stringify({ msgType: 'ota_upgrade_progress', did: 'x', firmwareVersion: '1', progress: 101 }));
    expect(bad.status).toBe(400);
    expect(receiver.log).toMatchObject({ malformed: 1, firstMalformed: 'progress: expected an integer percent 0–100' });
  });
});
