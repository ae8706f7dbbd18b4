/**
 * The LwM2M probe leaves nothing on the user's server: it registered one endpoint (stopping at its
 * first listen), so it De-registers it before the fleet starts, and says so when that fails.
 */
import { createSocket, type Socket } from 'node:dgram';
import { generate, parse } from 'coap-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { probeTarget } from '../../src/engine/probe.js';
import { probeNote } from '../../src/engine/diagnosis.js';
import { getDialect } from '../../src/dialect/registry.js';
import { lwm2mProbeLeave } from '../../src/dialect/lwm2m/plugin.js';
import { DEFAULT_LWM2M_SETTINGS, type Lwm2mState } from '../../src/device/lwm2m/types.js';
import { loadScenario } from '../../src/scenario/load.js';
import { start, type TestServer } from '../server/helpers.js';
import { ROOT } from '../e2e/helpers.js';

const FIXTURE = `${ROOT}test/lwm2m/fixtures/lwm2m-external.yaml`;
const target = { ...DEFAULT_LWM2M_SETTINGS, lifetimeSec: 3600 };

let server: TestServer | undefined;
let fake: Socket | undefined;
afterEach(async () => {
  await server?.close();
  if (fake) await new Promise<void>((r) => fake!.close(() => r()));
  server = fake = undefined;
});

/** A CoAP peer that registers anyone and answers every other request `deleteCode`. */
async function fakeServer(deleteCode: string): Promise<{ url: string; deletes: string[] }> {
  const s = createSocket('udp4');
  const deletes: string[] = [];
  s.on('message', (bytes, r) => {
    const m = parse(bytes);
    if (!m.confirmable) return;
    const path = m.options.filter((o) => o.name === 'Uri-Path').map((o) => o.value.toString());
    const created = m.code === '0.02' && path.join('/') === 'rd';
    if (m.code === '0.04') deletes.push('/' + path.join('/'));
    const options = created ? [{ name: 'Location-Path' as const, value: Buffer.from('rd') }, { name: 'Location-Path' as const, value: Buffer.from('p1') }] : [];
    s.send(generate({ code: created ? '2.01' : deleteCode, ack: true, messageId: m.messageId, token: m.token, options }), r.port, r.address);
  });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  fake = s;
  return { url: `coap://127.0.0.1:${s.address().port}`, deletes };
}

describe('the LwM2M probe De-registers what it registered', () => {
  it('against serve: the probe endpoint is registered, then de-registered; the server holds no live registration of it', async () => {
    server = await start({ coapPort: 0, timeScale: 10 });
    const url = server.coapUrl as string;
    const scenario = loadScenario(FIXTURE, { targetUrl: url, allowClockSkew: true });
    const run = await probeTarget({ scenario, plugin: getDialect('lwm2m') as never, target, baseUrl: url, now: () => server!.clock.now() });
    expect(run.calls).toEqual([
      { op: 'register', outcome: 'coap:2.01' },
      { op: 'deregister', outcome: 'coap:2.02' },
    ]);
    expect(run.left).toEqual({ op: 'deregister', outcome: 'coap:2.02', failed: false });
    expect(run.exchanges.map((e) => e.op)).toEqual(['register', 'deregister']);
    const view = (await server.admin('GET', `/admin/lwm2m/devices/${encodeURIComponent(run.device)}`)).json;
    expect(view).toMatchObject({ ep: run.device, registered: false, registrations: 1 });
    expect(view.regId).toBeUndefined();
    expect((await server.admin('GET', '/admin/lwm2m')).json.registrations).toBe(0);
    expect(probeNote('lwm2m', run)).not.toMatch(/failed/);
  });

  it('a De-register the server refuses is said in the probe\'s line', async () => {
    const { url, deletes } = await fakeServer('5.00');
    const scenario = loadScenario(FIXTURE, { targetUrl: url, allowClockSkew: true });
    const run = await probeTarget({ scenario, plugin: getDialect('lwm2m') as never, target, baseUrl: url, now: () => Date.now() });
    expect(deletes).toEqual(['/rd/p1']);
    expect(run.left).toEqual({ op: 'deregister', outcome: 'coap:5.00', failed: true });
    expect(probeNote('lwm2m', run)).toMatch(new RegExp(`its deregister coap:5\\.00.* failed: .*${run.device}'s registration\\) stays there until it lapses$`));
  });

  it('nothing to undo when the probe holds no registration', () => {
    expect(lwm2mProbeLeave({ location: undefined } as Lwm2mState)).toBeUndefined();
    expect(lwm2mProbeLeave({ location: '/rd/9' } as Lwm2mState)).toEqual({ op: 'deregister', location: '/rd/9' });
  });
});
