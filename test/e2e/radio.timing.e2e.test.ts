/**
 * The radio model in whole runs: downloads paced to the link hold their connection as long as the
 * link would, and PSM devices only talk inside their awake windows. The reference server runs on
 * the same virtual clock as the run, so its history's times are the devices' times.
 *
 * A timing file (`*.timing.e2e.test.ts`, see vitest.config.ts): its bounds are real-time ones (a
 * download held within 5 % of 2 s at scale 1; a request read within 50 real ms of its send), so it
 * runs alone in the e2e-timing group, never beside another test file's load.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { run } from '../../src/api.js';
import { loadScenario } from '../../src/scenario/load.js';
import { expandFleet } from '../../src/scenario/fleet.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { originNow, type ClockOrigin } from '../../src/time/clock.js';
import { DEFAULT_ONENET_ACCESS_KEY } from '../../src/catalog/default.js';
import { radioOfDevice } from '../../src/engine/radio.js';
import { canTalk } from '../../src/radio/model.js';
import type { Scenario } from '../../src/scenario/types.js';
import { fixture } from './helpers.js';

interface HistoryEntry {
  t: number;
  call: string;
  request: string;
  answer: string;
}

async function historyOf(server: RunningServer, id: string): Promise<HistoryEntry[]> {
  const res = await request(`${server.url}/admin/devices/${id}`, { headers: { authorization: `Bearer ${server.adminToken}` } });
  const body = (await res.body.json()) as { history: HistoryEntry[] };
  return body.history;
}

let saved: NodeJS.ProcessEnv;
beforeAll(() => {
  saved = { ...process.env };
  process.env['OTA_SWARM_ONENET_ACCESS_KEY'] = DEFAULT_ONENET_ACCESS_KEY;
});
afterAll(() => {
  process.env = saved;
});

async function withServer<T>(clock: ClockOrigin, body: (server: RunningServer) => Promise<T>): Promise<T> {
  const server = await startServer({ port: 0, quiet: true, clock, timeScale: clock.scale });
  try {
    return await body(server);
  } finally {
    await server.close();
  }
}

function scenarioFor(server: RunningServer, devices: number, timeScale: number, shape: (s: Scenario) => void): Scenario {
  const s = loadScenario(fixture('onenet-small.yaml'), { devices, targetUrl: server.url, timeScale });
  for (const c of s.fleet.cohorts) Object.assign(c.settings, { chunkSize: 64 * 1024, progressEvery: 0, requestTimeoutMs: 30_000 });
  shape(s);
  return s;
}

describe('link pacing', () => {
  it('holds a 192 KiB download for size ÷ rate (within 5%) of virtual time', async () => {
    const clock = originNow(1);
    await withServer(clock, async (server) => {
      const bitrate = 786_432; // 192 KiB in exactly 2 s
      const s = scenarioFor(server, 1, 1, (sc) => {
        const c = sc.fleet.cohorts[0]!;
        c.link = { bitrate, rtt: 0 };
        c.signal = 31; // full rate
      });
      const report = await run(s, { workers: 1, clock });
      expect(report.devices.byFinalState).toEqual({ succeeded: 1 });
      const id = expandFleet(s).profileOf(0).id;
      const h = await historyOf(server, id);
      const downloads = h.filter((e) => e.call === 'download');
      expect(downloads).toHaveLength(3);
      const firstDownload = downloads[0]!.t;
      const after = h.find((e) => e.t >= downloads[2]!.t && e.call !== 'download');
      expect(after).toBeDefined();
      const held = after!.t - firstDownload;
      const expected = (192 * 1024 * 8 * 1000) / bitrate;
      expect(held).toBeGreaterThanOrEqual(expected * 0.95);
      expect(held).toBeLessThanOrEqual(expected * 1.05);
    });
  });
});

describe('PSM', () => {
  it('a PSM device never talks outside its awake windows', async () => {
    const scale = 60; // a minute of virtual time per real second
    // The server stamps a request when it reads it, a few real ms after the device sent it: that
    // much virtual time (at most 50 real ms here) may separate the two.
    const slack = 50 * scale;
    const clock = originNow(scale);
    await withServer(clock, async (server) => {
      const s = scenarioFor(server, 40, scale, (sc) => {
        const c = sc.fleet.cohorts[0]!;
        c.radio = { mode: 'psm', t3412: 600_000, t3324: 30_000 };
        c.rrcSetup = 1500;
        // A reboot longer than the awake span: the device reports 201 at its next TAU wake.
        Object.assign(c.settings, { rebootMs: 120_000 });
        sc.wake = { pattern: 'steady' };
        sc.arrival = { pattern: 'all-at-once' };
      });
      // The probe before the fleet talks as device 0 whatever its radio: this test reads the server's history of the devices alone.
      const report = await run(s, { workers: 1, clock, probe: false });
      expect(report.devices.byFinalState).toEqual({ succeeded: 40 });
      const plan = expandFleet(s);
      let requests = 0;
      for (let i = 0; i < 40; i++) {
        const radio = radioOfDevice(s, plan, i, report.virtualStartMs).config;
        const h = await historyOf(server, plan.profileOf(i).id);
        let last = -Infinity;
        for (const e of h) {
          // Every request is inside an awake window (its own activity keeps the window open).
          const inside = canTalk(radio, e.t, last) || canTalk(radio, e.t - slack, last);
          expect(inside, `device ${i} talked at ${e.t} (${e.call})`).toBe(true);
          last = e.t;
          requests++;
        }
        // The reboot (2 min) outlasts the awake span (10 s + T3324): the 201 waits for the next TAU.
        const result101 = h.find((e) => e.request.includes('101'));
        const result201 = h.find((e) => e.request.includes('201'));
        expect(result201, `device ${i} reported 201`).toBeDefined();
        expect(result201!.t - result101!.t).toBeGreaterThan(120_000);
      }
      expect(requests).toBeGreaterThan(40 * 5);
    });
  });
});
