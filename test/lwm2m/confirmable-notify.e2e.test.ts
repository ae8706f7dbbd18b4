/**
 * Through the whole engine against `serve` as the user's server (--target coap://…, the probe on):
 * a cohort with confirmableNotify sends its Observe notifications as CON, serve ACKs them and the
 * built-in campaign updates every device; the probe's registration is gone before the fleet's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/api.js';
import { loadScenario } from '../../src/scenario/load.js';
import type { Report } from '../../src/report/types.js';
import { start, type TestServer } from '../server/helpers.js';
import { ROOT } from '../e2e/helpers.js';

let server: TestServer;
let report: Report;
let counters: Record<string, number>;
const probeViews: Record<string, unknown>[] = [];

beforeAll(async () => {
  server = await start({ coapPort: 0, timeScale: 30 });
  const scenario = loadScenario(`${ROOT}test/lwm2m/fixtures/confirmable-notify.yaml`, { targetUrl: server.coapUrl as string, allowClockSkew: true });
  report = await run(scenario, { workers: 1 });
  counters = (await server.admin('GET', '/admin/lwm2m')).json.counters;
  probeViews.push((await server.admin('GET', '/admin/lwm2m/devices/lwm2m-000100')).json);
}, 60_000);

afterAll(async () => {
  await server.close();
});

describe('confirmable notifications against serve', () => {
  it('every device updates; its notifications reached serve as CON and were ACKed', () => {
    expect(report.probe?.calls.map((c) => `${c.op} ${c.outcome}`)).toEqual(['register coap:2.01', 'deregister coap:2.02']);
    expect(report.endedBy).toBe('completed');
    expect(report.devices.byFinalState).toEqual({ succeeded: 4 });
    expect(report.transitions.violations).toBe(0);
    expect((report.verdicts ?? []).filter((v) => v.violations > 0).map((v) => `${v.rule}: ${v.samples[0]?.detail ?? ''}`)).toEqual([]);
    expect(counters['notifications']).toBeGreaterThanOrEqual(4);
    expect(counters['confirmableNotifications']).toBe(counters['notifications']);
  });

  it('the probe\'s registration was De-registered before the fleet\'s device registered; nothing is left registered', async () => {
    // Registers of the probe device's endpoint: the probe's, the fleet's, and the one after its update's reboot.
    expect(probeViews[0]).toMatchObject({ ep: 'lwm2m-000100', registered: false, registrations: 3 });
    expect((await server.admin('GET', '/admin/lwm2m')).json.registrations).toBe(0);
  });
});
