/**
 * The run's virtual clock and the embedded server's (in its own thread) are one clock: at
 * --time-scale 1000 they agree on the ban day window, even across midnight.
 */
import { expect, it } from 'vitest';
import { request } from 'undici';
import { startServerThread } from '../../src/server/thread.js';
import { ScaledClock, type ClockOrigin } from '../../src/time/clock.js';
import { DAY_MS, dayIndex } from '../../src/protocol/luat.js';

it('the run and the embedded server agree on the virtual day at --time-scale 1000, across midnight', async () => {
  const scale = 1000;
  const midnight = (Math.floor(Date.now() / DAY_MS) + 3) * DAY_MS;
  // Start 50 virtual minutes (3 real seconds) before a midnight, so the day rolls during the test.
  const origin: ClockOrigin = { virtualMs: midnight - 3_000_000, wallMs: Date.now(), scale };
  const server = await startServerThread({ port: 0, quiet: true, clock: origin, timeScale: scale });
  const local = new ScaledClock(origin);
  try {
    const samples: { before: number; server: number; serverDay: number; after: number }[] = [];
    const deadline = performance.now() + 8_000;
    while (performance.now() < deadline && samples.length < 5_000 && !(samples.length > 0 && samples[samples.length - 1]!.server > midnight + 200_000)) {
      const before = local.now();
      const res = await request(`${server.url}/admin/clock`, { headers: { authorization: `Bearer ${server.adminToken}` } });
      const body = (await res.body.json()) as { virtualNow: number; day: number; scale: number };
      const after = local.now();
      expect(body.scale).toBe(scale);
      samples.push({ before, server: body.virtualNow, serverDay: body.day, after });
      await new Promise((r) => setTimeout(r, 2));
    }
    for (const s of samples) {
      // The server read its clock between our two reads (a millisecond of slack each side).
      expect(s.server).toBeGreaterThanOrEqual(s.before - scale);
      expect(s.server).toBeLessThanOrEqual(s.after + scale);
      // Same day, unless the request straddled midnight, counted with the same slack as above
      // (the server's read may fall a millisecond past ours, and so past midnight).
      if (dayIndex(s.before - scale) === dayIndex(s.after + scale)) expect(s.serverDay).toBe(dayIndex(s.before));
      // And always the day of the instant the server read.
      expect(s.serverDay).toBe(dayIndex(s.server));
    }
    expect(new Set(samples.map((s) => s.serverDay)).size).toBe(2);
  } finally {
    await server.close();
  }
});
