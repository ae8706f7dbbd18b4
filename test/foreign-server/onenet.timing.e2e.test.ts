/**
 * ota-swarm against the foreign OneNET server (test/foreign-server, written from the digest alone,
 * no admin API): a correct server gives exit 0 and no violation at 1 and 2 workers; each seeded
 * break is flagged on exactly the devices the server's own log names, and on no other.
 *
 * All runs start at once in beforeAll (each against its own server, since a server keeps its
 * devices' tasks); the 20,000-device assertions need violations.jsonl (being built on another
 * branch) and are skipped, with that name, until the built CLI writes it.
 *
 * A timing file (`*.timing.e2e.test.ts`, see vitest.config.ts): its 20,000-device run at time scale
 * 1 must finish inside its 150 s; beside another file's runs (on a loaded two-core machine) it ran
 * past that and its devices were judged unfinished, so it runs alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rulesOf } from '../../src/verdicts/run.js';
import { startForeignServer, type ForeignServer } from './server.js';
import type { OnenetConfig } from './onenet.js';
import { ONENET_KEY, PRODUCT_ID, type RunResult, devicesFlagged, expectEveryRuleWithStatus, runCli, tempDir, violationsOf, writeScenario } from './harness.js';

const TASK = { ids: '522700000..522799999', type: 2, manuf: '101', model: '10101', from: 'V1.0', target: 'V2.0', packageType: 1, size: 3000, signal: 5, power: 20, retry: 2, interval: 1 } as const;
const onenetCfg = (breaks?: OnenetConfig['breaks']): OnenetConfig => ({ productId: PRODUCT_ID, accessKey: ONENET_KEY, tasks: [{ ...TASK }], ...(breaks ? { breaks } : {}) });

/** Cohort settings: 1 KiB chunks of a 3000-byte package, so a device makes a few requests. */
const SETTINGS = 'settings: { chunkSize: 1KiB, progressEvery: 50, reboot: 1s, retryDelay: 2s, requestTimeout: 10s }';
const RECHECK = '\n      recheck: { times: 1, every: 3s }';

function scenario(name: string, devices: number, cohorts: string, over: string): string {
  return `name: ${name}
dialect: onenet
seed: 11
timeScale: 1
target:
  onenet: { productId: "${PRODUCT_ID}", signMethod: sha1, tokenTtl: 1h }
fleet:
  devices: ${devices}
  cohorts:
${cohorts}
arrival: { pattern: spread, over: ${over} }
stop: { after: 150s }
expect:
  - transitions.violations == 0
  - verdicts.violations == 0
`;
}

const cohort = (name: string, share: string, ids: string, extra = '', version = 'V1.0'): string => `    - name: ${name}
      share: ${share}
      ids: "${ids}"
      version: ${version}
      manuf: "101"
      model: "10101"
      taskType: 2
      battery: { dist: uniform, min: 40, max: 100 }
      signal: { dist: uniform, min: 10, max: 31 }
      ${SETTINGS}${extra}`;

/** A correct server's fleet: plain devices, links cut mid-download (resume), low batteries (105). */
const CLEAN_COHORTS = [
  cohort('plain', '70%', '522700000..522739999'),
  cohort('cut', '20%', '522740000..522759999', '\n      behaviours: { disconnect: { share: 100%, at: 40%, reconnect: 2s } }'),
  cohort('low-battery', '10%', '522760000..522769999').replace('min: 40, max: 100', 'min: 5, max: 15'),
].join('\n');

/** Breaks on disjoint shares; devices re-check after success and a cohort starts on the target (stale tasks). */
const BREAK_COHORTS = [cohort('fleet', '95%', '522700000..522789999', RECHECK), cohort('on-target', '5%', '522790000..522799999', '', 'V2.0')].join('\n');
const BREAKS: OnenetConfig['breaks'] = { 'range-ignored': 0.05, 'wrong-md5': 0.05, 'stale-task': 0.05 };

interface Case {
  server: ForeignServer;
  run: RunResult;
}
const cases: Record<string, Case> = {};
const servers: ForeignServer[] = [];

async function start(key: string, cfg: OnenetConfig, yaml: string, workers: number): Promise<void> {
  const server = await startForeignServer({ seed: 5, onenet: cfg });
  servers.push(server);
  const dir = tempDir();
  const file = writeScenario(dir, key, yaml);
  cases[key] = { server, run: await runCli(file, server.url, `${dir}/out`, ['--workers', String(workers)]) };
}

beforeAll(async () => {
  const runs = [
    start('clean-1', onenetCfg(), scenario('foreign-onenet-clean', 600, CLEAN_COHORTS, '3s'), 1),
    start('clean-2', onenetCfg(), scenario('foreign-onenet-clean', 600, CLEAN_COHORTS, '3s'), 2),
    // A small run whose report samples are read, beside the 20,000-device one read from violations.jsonl.
    start('breaks-small', onenetCfg(BREAKS), scenario('foreign-onenet-breaks', 1500, BREAK_COHORTS, '3s'), 1),
    start('breaks-20k', onenetCfg(BREAKS), scenario('foreign-onenet-breaks', 20_000, BREAK_COHORTS, '10s'), 2),
  ];
  await Promise.all(runs);
  for (const [k, c] of Object.entries(cases)) console.log(`foreign onenet ${k}: exit ${c.run.code} in ${(c.run.ms / 1000).toFixed(1)} s`);
}, 200_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

const failure = (c: Case): string => `exit ${c.run.code}\n${c.run.stderr}\n${c.run.stdout.slice(-3000)}`;

describe('a correct OneNET server', () => {
  it.each(['clean-1', 'clean-2'])('%s: exit 0, no violation, every device judged by the rules that apply', (key) => {
    const c = cases[key] as Case;
    expect(c.server.errors).toEqual([]);
    expect(c.run.code, failure(c)).toBe(0);
    const r = c.run.report!;
    expect(r.passed).toBe(true);
    expect(r.transitions.violations).toBe(0);
    for (const v of r.verdicts ?? []) expect(v.violations, `${v.rule}: ${v.samples[0]?.detail}`).toBe(0);
    expect(violationsOf(c.run).list).toEqual([]);
    // The rules the fleet exercises did run (a rule that saw no device would prove nothing here).
    const checked = Object.fromEntries((r.verdicts ?? []).map((v) => [v.rule, v.checked]));
    expect(checked['resume-from-held']).toBeGreaterThan(0);
    expect(checked['gating']).toBeGreaterThan(0);
    expect(r.devices.byFinalState?.['succeeded']).toBeGreaterThan(0);
  });

  it('every OneNET rule is in report.json with a status; final-state-agreement is not judged (no admin API)', () => {
    expectEveryRuleWithStatus((cases['clean-1'] as Case).run.report!, rulesOf('onenet').map((x) => x.name));
  });
});

describe('a OneNET server with seeded breaks', () => {
  it('1,500 devices: resume-from-held flags as many devices as the log names for range-ignored and wrong-md5, from those devices, and nothing else', () => {
    const c = cases['breaks-small'] as Case;
    expect(c.server.errors).toEqual([]);
    expect(c.run.code, failure(c)).toBe(1);
    const ranged = c.server.log.devices('range-ignored');
    const md5 = c.server.log.devices('wrong-md5');
    expect(ranged.size).toBeGreaterThan(20);
    expect(md5.size).toBeGreaterThan(20);
    const r = c.run.report!;
    const resume = r.verdicts?.find((v) => v.rule === 'resume-from-held');
    expect(resume?.violations).toBe(ranged.size + md5.size);
    for (const s of resume?.samples ?? []) {
      if (/Range was ignored/.test(s.detail)) expect(ranged.has(s.device), s.device).toBe(true);
      else expect(md5.has(s.device), `${s.device}: ${s.detail}`).toBe(true);
    }
    const expected = new Set(['resume-from-held', 'stale-task']);
    for (const v of r.verdicts ?? []) if (!expected.has(v.rule)) expect(v.violations, `${v.rule}: ${v.samples[0]?.detail}`).toBe(0);
    expect(r.transitions.violations).toBe(0);
  });

  describe('stale tasks', () => {
    it('1,500 devices: stale-task flags as many devices as the log names, from those devices', () => {
      const c = cases['breaks-small'] as Case;
      const stale = c.server.log.devices('stale-task');
      expect(stale.size).toBeGreaterThan(20);
      const v = c.run.report!.verdicts?.find((x) => x.rule === 'stale-task');
      expect(v?.violations, v?.samples[0]?.detail).toBe(stale.size);
      for (const s of v?.samples ?? []) expect(stale.has(s.device), `${s.device}: ${s.detail}`).toBe(true);
    });
  });

  describe('at 20,000 devices, from violations.jsonl', () => {
    it('20,000 devices: exactly the logged devices are flagged, by the matching rule, and no other device', () => {
      const c = cases['breaks-20k'] as Case;
      expect(c.server.errors).toEqual([]);
      expect(c.run.code, failure(c)).toBe(1);
      const { source, list } = violationsOf(c.run);
      expect(source).toBe('violations.jsonl');
      const ranged = c.server.log.devices('range-ignored');
      const md5 = c.server.log.devices('wrong-md5');
      expect(ranged.size).toBeGreaterThan(500);
      expect(md5.size).toBeGreaterThan(500);
      const resume = list.filter((v) => v.rule === 'resume-from-held');
      expect(new Set(resume.filter((v) => /Range was ignored/.test(v.reason)).map((v) => v.device))).toEqual(ranged);
      expect(new Set(resume.filter((v) => !/Range was ignored/.test(v.reason)).map((v) => v.device))).toEqual(md5);
      const expected = new Set([...ranged, ...md5]);
      const stale = c.server.log.devices('stale-task');
      expect(stale.size).toBeGreaterThan(500);
      expect(devicesFlagged(list, 'stale-task')).toEqual(stale);
      for (const d of stale) expected.add(d);
      expect(new Set(list.map((v) => v.device))).toEqual(expected);
      expect(new Set(list.map((v) => v.rule))).toEqual(new Set(['resume-from-held', 'stale-task']));
    });
  });
});
