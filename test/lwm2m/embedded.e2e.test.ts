/**
 * LwM2M end to end on the embedded server: the lwm2m device dialect (CoAP over UDP) against
 * serve's LwM2M server and Block2 repository, started by the run. A correct server updates every
 * device with no violation; each named bug of the server is caught by its rule, naming devices.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/api.js';
import { loadScenario } from '../../src/scenario/load.js';
import type { Report, VerdictReport } from '../../src/report/types.js';
import { ROOT } from '../e2e/helpers.js';

const FIXTURE = `${ROOT}test/lwm2m/fixtures/embedded.yaml`;

async function runWith(bugs: string[], maxVirtualMs?: number): Promise<Report> {
  // ×60: the schedule verdict's 10 % slack is a second or more of virtual time; 6 devices keep the harness's lag at a few real ms (a fraction of a virtual second).
  const scenario = loadScenario(FIXTURE, { timeScale: 60 });
  const stop = maxVirtualMs === undefined ? scenario.stop : { ...scenario.stop, maxVirtualMs };
  const withBugs = { ...scenario, stop, server: { ...scenario.server, bugs } } as typeof scenario;
  return run(withBugs, { workers: 1 });
}

const verdict = (r: Report, rule: string): VerdictReport => {
  const v = (r.verdicts ?? []).find((x) => x.rule === rule);
  if (v === undefined) throw new Error(`no verdict ${rule}`);
  return v;
};

let correct: Report;
let offByOne: Report;
let noQueue: Report;
let early: Report;

beforeAll(async () => {
  // One after the other: 2–5 s each.
  correct = await runWith([]);
  offByOne = await runWith(['block2-off-by-one']);
  // Its devices never update (the campaign was sent to them asleep and lost): stopped once the
  // lost messages' retransmissions (sent at 60 s, ≤ 120 s) are over and later wakes have reported them.
  noQueue = await runWith(['lwm2m-no-queue'], 240_000);
  early = await runWith(['lwm2m-no-queue', 'lwm2m-retransmit-early'], 240_000);
}, 60_000);

describe('LwM2M on the embedded server', () => {
  it('a correct server updates every device (campaign started while they sleep), with no violation', () => {
    expect(correct.endedBy).toBe('completed');
    expect(correct.devices.byFinalState).toEqual({ succeeded: 6 });
    expect(correct.transitions.violations).toBe(0);
    for (const rule of ['lwm2m-update-before-downloaded', 'lwm2m-no-second-download', 'lwm2m-result-agreement', 'lwm2m-queue-mode', 'lwm2m-package-integrity']) {
      const v = verdict(correct, rule);
      expect([rule, v.status, v.checked, v.violations]).toEqual([rule, 'judged', 6, 0]);
    }
    // The devices' CoAP went to the server's coap:// endpoint, the admin API (campaign, views) stayed on HTTP.
    expect(correct.operations['update']?.byOutcome).toEqual({ 'coap:2.04': expect.any(Number) });
  });

  it('block2-off-by-one: lwm2m-package-integrity names every device, with the md5 it assembled and the published one', () => {
    const v = verdict(offByOne, 'lwm2m-package-integrity');
    expect(v.status).toBe('judged');
    expect(v.violations).toBe(6);
    expect(v.samples[0]!.device).toMatch(/^lwm2m-00000\d$/);
    expect(v.samples[0]!.detail).toMatch(/package nb-fw-2 it assembled .* has md5 [0-9a-f]{32}; the server publishes [0-9a-f]{32}/);
  });

  it('lwm2m-no-queue: lwm2m-queue-mode names the devices the campaign reached asleep', () => {
    const v = verdict(noQueue, 'lwm2m-queue-mode');
    expect(v.violations).toBeGreaterThan(0);
    expect(v.samples[0]!.device).toMatch(/^lwm2m-00000\d$/);
    expect(v.samples[0]!.detail).toMatch(/reached it asleep/);
  });

  it('lwm2m-downlink-schedule passes the retransmissions of a server on its schedule (the CONs the sleeping devices saw), and names the devices of one that retransmits too early', () => {
    const onTime = verdict(noQueue, 'lwm2m-downlink-schedule');
    expect(onTime.status).toBe('judged');
    expect(onTime.checked).toBeGreaterThan(0);
    expect(onTime.violations).toBe(0);
    const tooEarly = verdict(early, 'lwm2m-downlink-schedule');
    expect(tooEarly.violations).toBeGreaterThan(0);
    expect(tooEarly.samples[0]!.device).toMatch(/^lwm2m-00000\d$/);
    expect(tooEarly.samples[0]!.detail).toMatch(/resend 1 came [\d.]+ s after the transmission before it: the huawei window is 10\.0 s–15\.0 s/);
  });
});
