/** A fleet slice probes its own first device: N shards against one target never probe one device N times. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeTarget } from '../../src/engine/probe.js';
import { getDialect } from '../../src/dialect/registry.js';
import { expandFleet } from '../../src/scenario/fleet.js';
import { loadScenario } from '../../src/scenario/load.js';
import { DEFAULT_ONENET_ACCESS_KEY, DEFAULT_ONENET_PRODUCT } from '../../src/catalog/default.js';
import { fleetIndexOf } from '../../src/engine/fleet-slice.js';
import { start, type TestServer } from '../server/helpers.js';

describe('the probe of a fleet slice', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await start();
  });
  afterAll(async () => {
    await server.close();
  });

  it('sends its first calls as the slice\'s first device, not the fleet\'s', async () => {
    const scenario = loadScenario('scenarios/rollout-onenet.yaml', { targetUrl: server.url });
    const target = { productId: DEFAULT_ONENET_PRODUCT, accessKey: DEFAULT_ONENET_ACCESS_KEY, signMethod: 'sha1' as const, tokenTtlSec: 3600 };
    const plan = expandFleet(scenario);
    const slice = { index: 3, count: 4 };
    const run = await probeTarget({ scenario, plugin: getDialect('onenet') as never, target, baseUrl: server.url, now: () => Date.now(), deviceIndex: fleetIndexOf(slice, 0) });
    expect(run.device).toBe(plan.profileOf(3).id);
    expect(run.device).not.toBe(plan.profileOf(0).id);
    expect(run.calls.map((c) => c.outcome)).toContain('errno:0');
    // The server saw that device's calls, and none of device 0's.
    const seen = (await server.device(plan.profileOf(3).id)) as { history: { call: string }[] };
    expect(seen.history.map((h) => h.call)).toEqual(['reportVersion', 'check', 'tokenCheck']);
    expect(((await server.device(plan.profileOf(0).id)) as { history: unknown[] }).history).toEqual([]);
  });
});
