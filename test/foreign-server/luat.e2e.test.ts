/**
 * ota-swarm against the foreign Luat server (test/foreign-server, from the digest alone, no admin
 * API, its own wall clock): a correct server (diff builds of 65 s, inside the documented 1–3
 * minutes; the loop ban at 10 a day, 43s counted) gives exit 0 and no violation at 1 and 2
 * workers; early-ban and late-ban are flagged by loop-ban on exactly the devices the server logs.
 * Modes that are correct deployments of their own (ban limit 20, full files only) must give no
 * violation once the scenario's target profile states them.
 *
 * Every run waits out a real diff build (time scale 1: the server keeps its own clock), so all of
 * them start at once in beforeAll, each against its own server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rulesOf } from '../../src/verdicts/run.js';
import { startForeignServer, type ForeignServer } from './server.js';
import type { LuatConfig } from './luat.js';
import { FIRMWARE, LUAT_KEY, type RunResult, devicesFlagged, expectEveryRuleWithStatus, runCli, tempDir, violationsOf, writeScenario } from './harness.js';

const BUILD_MS = 65_000;
const luatCfg = (over: Partial<LuatConfig> = {}): LuatConfig => ({
  projectKey: LUAT_KEY,
  firmwareName: FIRMWARE,
  ids: '866714040000000..866714040999999',
  version: '1.3.2',
  size: 3000,
  diffBuildMs: BUILD_MS,
  banLimit: 10,
  banCountsWaits: true,
  earlyBanAt: 5,
  lateBanAt: 13,
  ...over,
});

const SETTINGS = 'settings: { reboot: 1s, waitBackoff: 15s, retryDelay: 2s, requestTimeout: 10s }';

/** Loopers boot back into the old version and ask again until banned: the ban is exercised. */
const COHORTS = (loopers: string, plain: string): string => `    - name: loopers
      share: ${loopers}
      ids: "866714040000000..866714040099999"
      version: 1.3.1
      core: "3032"
      behaviours: { rebootIntoOld: 100% }
      ${SETTINGS}
    - name: plain
      share: ${plain}
      ids: "866714040100000..866714040999999"
      version: 1.3.1
      core: "3032"
      ${SETTINGS}`;

function scenario(name: string, devices: number, cohorts: string, over: string, profile = ''): string {
  return `name: ${name}
dialect: luat
seed: 17
timeScale: 1
target:
  luat: { firmwareName: ${FIRMWARE} }${profile}
fleet:
  devices: ${devices}
  cohorts:
${cohorts}
arrival: { pattern: spread, over: ${over} }
stop: { after: 170s }
expect:
  - transitions.violations == 0
  - verdicts.violations == 0
`;
}

interface Case {
  server: ForeignServer;
  run: RunResult;
}
const cases: Record<string, Case> = {};
const servers: ForeignServer[] = [];

async function start(key: string, cfg: LuatConfig, yaml: string, workers: number, args: string[] = []): Promise<void> {
  const server = await startForeignServer({ seed: 8, luat: cfg });
  servers.push(server);
  const dir = tempDir();
  const file = writeScenario(dir, key, yaml);
  cases[key] = { server, run: await runCli(file, server.url, `${dir}/out`, ['--workers', String(workers), ...args], 190_000) };
}

const BANS = { 'early-ban': 0.1, 'late-ban': 0.1 } as const;

beforeAll(async () => {
  const runs = [
    start('clean-1', luatCfg(), scenario('foreign-luat-clean', 300, COHORTS('20%', '80%'), '3s'), 1),
    start('clean-2', luatCfg(), scenario('foreign-luat-clean', 300, COHORTS('20%', '80%'), '3s'), 2),
    // A small run whose report samples are read, beside the 20,000-device one read from violations.jsonl.
    start('bans-small', luatCfg({ breaks: BANS }), scenario('foreign-luat-bans', 1000, COHORTS('30%', '70%'), '3s'), 1),
    start('bans-20k', luatCfg({ breaks: BANS }), scenario('foreign-luat-bans', 20_000, COHORTS('10%', '90%'), '10s'), 2),
    start('ban-limit-20', luatCfg({ banLimit: 20 }), scenario('foreign-luat-limit-20', 300, COHORTS('20%', '80%'), '3s', '\n  profile:\n    luat: { banLimitPerDay: 20 }'), 2),
    start('full-files', luatCfg({ diffBuildMs: 'none' }), scenario('foreign-luat-full-files', 300, COHORTS('20%', '80%'), '3s', '\n  profile:\n    luat: { diffBuild: none, versionConfirm: re-ask, firmwareVersion: "1.3.2" }'), 2),
    // The same full-files server with the profile given by the flag instead of the scenario.
    start('full-files-flag', luatCfg({ diffBuildMs: 'none' }), scenario('foreign-luat-full-files', 300, COHORTS('20%', '80%'), '3s'), 1, ['--profile', 'luat.diffBuild=none']),
  ];
  await Promise.all(runs);
  for (const [k, c] of Object.entries(cases)) console.log(`foreign luat ${k}: exit ${c.run.code} in ${(c.run.ms / 1000).toFixed(1)} s`);
}, 240_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

const failure = (c: Case): string => `exit ${c.run.code}\n${c.run.stderr}\n${c.run.stdout.slice(-3000)}`;

function expectClean(c: Case): void {
  expect(c.server.errors).toEqual([]);
  expect(c.run.code, failure(c)).toBe(0);
  const r = c.run.report!;
  expect(r.passed).toBe(true);
  expect(r.transitions.violations).toBe(0);
  for (const v of r.verdicts ?? []) expect(v.violations, `${v.rule}: ${v.samples[0]?.detail}`).toBe(0);
  expect(violationsOf(c.run).list).toEqual([]);
}

describe('a correct Luat server', () => {
  it.each(['clean-1', 'clean-2'])('%s: exit 0, no violation; the loopers are banned at the limit and judged', (key) => {
    const c = cases[key] as Case;
    expectClean(c);
    const r = c.run.report!;
    const loop = r.verdicts?.find((v) => v.rule === 'loop-ban');
    expect(loop?.checked).toBe(300);
    // Every looper was banned by the server, and the rule saw each of those bans.
    expect(loop?.counts?.['banned']).toBe(c.server.luat!.bannedDevices().length);
    expect(c.server.luat!.bannedDevices().length).toBe(60);
    expect(r.verdicts?.find((v) => v.rule === 'diff-wait')?.checked).toBe(300);
  });

  it('every Luat rule is in report.json with a status; final-state-agreement is not judged (no admin API)', () => {
    expectEveryRuleWithStatus((cases['clean-1'] as Case).run.report!, rulesOf('luat').map((x) => x.name));
  });
});

describe('a Luat server with seeded ban breaks', () => {
  it('1,000 devices: loop-ban flags as many devices as the log names for early-ban and late-ban, from those devices, and nothing else', () => {
    const c = cases['bans-small'] as Case;
    expect(c.server.errors).toEqual([]);
    expect(c.run.code, failure(c)).toBe(1);
    const early = c.server.log.devices('early-ban');
    const late = c.server.log.devices('late-ban');
    expect(early.size).toBeGreaterThan(10);
    expect(late.size).toBeGreaterThan(10);
    const r = c.run.report!;
    const loop = r.verdicts?.find((v) => v.rule === 'loop-ban');
    expect(loop?.violations).toBe(early.size + late.size);
    for (const s of loop?.samples ?? []) expect(early.has(s.device) || late.has(s.device), `${s.device}: ${s.detail}`).toBe(true);
    for (const v of r.verdicts ?? []) if (v.rule !== 'loop-ban') expect(v.violations, `${v.rule}: ${v.samples[0]?.detail}`).toBe(0);
    expect(r.transitions.violations).toBe(0);
  });

  describe('at 20,000 devices, from violations.jsonl', () => {
    it('20,000 devices: exactly the logged devices are flagged by loop-ban, and no other device', () => {
      const c = cases['bans-20k'] as Case;
      expect(c.server.errors).toEqual([]);
      expect(c.run.code, failure(c)).toBe(1);
      const { source, list } = violationsOf(c.run);
      expect(source).toBe('violations.jsonl');
      const early = c.server.log.devices('early-ban');
      const late = c.server.log.devices('late-ban');
      expect(early.size).toBeGreaterThan(100);
      expect(late.size).toBeGreaterThan(100);
      const loop = list.filter((v) => v.rule === 'loop-ban');
      // Early: banned below the limit; late: a request past the limit answered normally.
      expect(new Set(loop.filter((v) => /banned \(40\)/.test(v.reason)).map((v) => v.device))).toEqual(early);
      expect(new Set(loop.filter((v) => !/banned \(40\)/.test(v.reason)).map((v) => v.device))).toEqual(late);
      expect(devicesFlagged(list, 'loop-ban')).toEqual(new Set([...early, ...late]));
      expect(new Set(list.map((v) => v.device))).toEqual(new Set([...early, ...late]));
    });
  });
});

describe('a target profile stated for the server (banLimitPerDay, diffBuild: none)', () => {
  it('a ban limit of 20 a day, stated in the scenario, gives no violation', () => {
    const c = cases['ban-limit-20'] as Case;
    expectClean(c);
    expect(c.server.luat!.bannedDevices().length).toBe(60);
  });
  it('full files only (never 43), stated in the scenario, gives no violation; devices confirm by asking again (27)', () => {
    const c = cases['full-files'] as Case;
    expectClean(c);
    // versionConfirm re-ask: each plain device asked again with 1.3.2 and was told 27.
    expect(c.run.report!.devices.byFinalState?.['succeeded']).toBe(240);
    expect(c.run.report!.devices.byFinalState?.['banned']).toBe(60);
  });
  it('full files only, stated by --profile luat.diffBuild=none, gives no violation', () => {
    expectClean(cases['full-files-flag'] as Case);
  });
});
