/**
 * The probe before the fleet, as a user meets it: a target that refuses the probe device for
 * authentication stops the run with exit 2 and one line naming the key's variable and the
 * product id (and where they came from), each cause told apart where the protocol allows; a
 * target that takes it lets the fleet run and the report says what the probe got; a second run
 * against the same server says why nothing upgraded and how to reset. Needs `npm run build`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, fixture, readOnlyReport, tempDir } from './helpers.js';
import { DEFAULT_LUAT_FIRMWARE, DEFAULT_LUAT_PROJECT_KEY, DEFAULT_ONENET_ACCESS_KEY } from '../../src/catalog/default.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { run } from '../../src/api.js';
import { parseScenario } from '../../src/scenario/load.js';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer({ quiet: true, adminToken: 'probe-test-admin' });
});
afterAll(async () => {
  await server.close();
});

const ONENET_KEY = { OTA_SWARM_ONENET_ACCESS_KEY: DEFAULT_ONENET_ACCESS_KEY };
const WRONG_KEY = Buffer.from('not the product key at all').toString('base64');

/** A scenario file in a fresh folder. */
function scenarioFile(text: string): string {
  const file = join(tempDir(), 'probe.yaml');
  writeFileSync(file, text);
  return file;
}

const luat = (firmware: string, ids = '86671404{0000000..0000999}'): string =>
  `name: probe-luat\ndialect: luat\ntarget: { luat: { firmwareName: ${firmware} } }\nfleet:\n  cohorts:\n    - { name: modules, count: 3, ids: "${ids}", version: 1.3.1, core: "3032" }\nstop: { after: 30s }\n`;

/** A refused run: exit 2, one line on stderr, no report written. */
async function refused(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const out = tempDir();
  const r = await cli(['run', ...args, '--target', server.url, '--out', out, '--quiet'], { env: { OTA_SWARM_ADMIN_TOKEN: '', ...env } });
  expect(r.code).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  return lines[0] as string;
}

describe('the probe refuses for authentication, in one line, exit 2', () => {
  it('OneNET, a wrong access key: names the variable and the product id with where it came from', async () => {
    const line = await refused([fixture('onenet-small.yaml')], { OTA_SWARM_ONENET_ACCESS_KEY: WRONG_KEY });
    expect(line).toMatch(/^ota-swarm: probe: the target refused device 522700000 \(cohort esp32\): (reportVersion|check) errno:1 auth failed \/ no such device: /);
    expect(line).toContain('OTA_SWARM_ONENET_ACCESS_KEY (environment, named by target.onenet.accessKey)');
    expect(line).toMatch(/product id: 198290 \(target\.onenet\.productId in .*onenet-small\.yaml\), --product-id overrides/);
    expect(line).not.toContain(WRONG_KEY);
  });

  it('OneNET, a wrong product id given by --product-id: the line says it came from the flag', async () => {
    const line = await refused([fixture('onenet-small.yaml'), '--product-id', '424242'], ONENET_KEY);
    expect(line).toContain('errno:1 auth failed / no such device');
    expect(line).toContain('product id: 424242 (--product-id)');
  });

  it('OneNET, device ids the product does not have', async () => {
    const file = scenarioFile(
      'name: probe-ids\ndialect: onenet\ntarget: { onenet: { productId: "198290", accessKey: { env: OTA_SWARM_ONENET_ACCESS_KEY } } }\nfleet:\n  cohorts:\n    - { name: strangers, count: 3, ids: "600000000..600000999", version: V1.0 }\nstop: { after: 30s }\n',
    );
    const line = await refused([file], ONENET_KEY);
    expect(line).toContain('refused device 600000000 (cohort strangers)');
    expect(line).toContain("or the product has no such device");
    expect(line).toContain("cohort strangers's ids");
  });

  it('Luat, a wrong project key (25), a wrong firmware name (26) and ids of no account (17) are told apart', async () => {
    const key = await refused([scenarioFile(luat(DEFAULT_LUAT_FIRMWARE))], { OTA_SWARM_LUAT_PROJECT_KEY: 'wrongwrongwrongwrong' });
    expect(key).toMatch(/luat code:25 invalid project: the project key is wrong\. Key: OTA_SWARM_LUAT_PROJECT_KEY \(environment\)$/);
    const fw = await refused([scenarioFile(luat('no_such_firmware'))], { OTA_SWARM_LUAT_PROJECT_KEY: DEFAULT_LUAT_PROJECT_KEY });
    expect(fw).toMatch(/luat code:26 invalid firmware: the project has no firmware named no_such_firmware \(target\.luat\.firmwareName in .*probe\.yaml\)$/);
    const ids = await refused([scenarioFile(luat(DEFAULT_LUAT_FIRMWARE, '99999999{0000000..0000999}'))], { OTA_SWARM_LUAT_PROJECT_KEY: DEFAULT_LUAT_PROJECT_KEY });
    expect(ids).toMatch(/luat code:17 no permission: device 999999990000000, firmware .* and the project are not under one account/);
  });
});

describe('a target that takes the probe', () => {
  it('runs the fleet and says what the probe got; a second run against the same server says why nothing upgraded and how to reset', async () => {
    const fresh = tempDir();
    const first = await cli(['run', fixture('onenet-small.yaml'), '--target', server.url, '--out', fresh, '--quiet'], { env: ONENET_KEY });
    expect(first.code).toBe(0);
    const one = readOnlyReport(fresh);
    expect(one.probe?.device).toBe('522700000');
    expect(one.probe?.calls.map((c) => `${c.op} ${c.outcome}`)).toEqual(['reportVersion errno:0', 'check errno:0', 'tokenCheck errno:0']);
    expect(one.probe?.calls[1]?.meaning).toBe('task offered');
    expect(one.probe?.note).toMatch(/^a probe ran before the fleet with device 522700000: .*\(kept out of the histograms; the verdicts count its calls as the device's, as the server did\)$/);
    // Kept out of the histograms: 50 devices, one check each.
    expect(one.operations['check']?.count).toBe(50);
    expect(one.hints).toBeUndefined();
    expect(first.stdout).toContain('probe');

    const again = tempDir();
    const second = await cli(['run', fixture('onenet-small.yaml'), '--target', server.url, '--out', again, '--quiet'], { env: ONENET_KEY });
    expect(second.code).toBe(1);
    const two = readOnlyReport(again);
    expect(two.devices.byFinalState['up-to-date']).toBe(50);
    expect(two.hints?.[0]).toMatch(/^50 of 50 devices ended up-to-date \(errno:11 no task\): the server has no task for them, most likely because an earlier run against http:\/\/127\.0\.0\.1:\d+ already upgraded them/);
    expect(two.hints?.[0]).toContain('/admin/reset');
    expect(second.stdout).toContain('hints');
    expect(second.stdout).toContain('/admin/reset');
  });

  it('--no-probe skips it', async () => {
    const out = tempDir();
    const r = await cli(['run', fixture('onenet-small.yaml'), '--target', server.url, '--out', out, '--quiet', '--no-probe', '--devices', '2'], { env: { OTA_SWARM_ONENET_ACCESS_KEY: WRONG_KEY } });
    expect(r.code).toBe(1);
    expect(readOnlyReport(out).probe).toBeUndefined();
  });
});

describe('the probe and the verdicts', () => {
  it('Luat with diff builds: the probe\'s ask starts the build and counts toward the ban, and the verdicts see it (no false diff-wait or loop-ban)', async () => {
    const clock = { virtualMs: Date.UTC(2027, 0, 5, 10, 0, 0), wallMs: Date.now(), scale: 1000 };
    const own = await startServer({ quiet: true, adminToken: 'probe-luat-admin', clock, timeScale: 1000 });
    try {
      const scenario = parseScenario(
        `name: probe-luat-diff\ndialect: luat\ntimeScale: 1000\ntarget: { url: "${own.url}", luat: { firmwareName: ${DEFAULT_LUAT_FIRMWARE}, projectKey: ${DEFAULT_LUAT_PROJECT_KEY} } }\n` +
          'fleet:\n  cohorts:\n    - { name: modules, count: 5, ids: "86671404{0000000..0000999}", version: 1.3.1, core: "3032", settings: { waitBackoff: 60s } }\n' +
          'arrival: { pattern: spread, over: 10s }\nstop: { after: 50s }\n',
        'probe-luat-diff.yaml',
      );
      const r = await run(scenario, { workers: 1, clock });
      expect(r.probe?.calls.map((c) => `${c.op} ${c.outcome}`)).toEqual(['luat code:43']);
      expect(r.probe?.note).toContain("its ask counts once toward 866714040000000's daily ban limit");
      const bad = (r.verdicts ?? []).filter((v) => v.violations > 0).map((v) => `${v.rule}: ${v.samples[0]?.device} ${v.samples[0]?.detail}`);
      expect(bad).toEqual([]);
      expect(r.verdicts?.find((v) => v.rule === 'diff-wait')?.checked).toBeGreaterThan(0);
      expect(r.devices.byFinalState['succeeded']).toBe(5);
    } finally {
      await own.close();
    }
  });
});
