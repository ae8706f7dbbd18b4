/**
 * Stale tasks end to end against the embedded reference server: clean, every device judged and
 * none flagged; with the `stale-task-after-success` bug, exactly the devices that checked again
 * after success and those already on the target are named, OneNET and Luat. Needs `npm run build`.
 */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/api.js';
import { loadScenario, parseScenario } from '../../src/scenario/load.js';
import type { Scenario } from '../../src/scenario/types.js';
import type { Report } from '../../src/report/types.js';
import { startServer, type BugName } from '../../src/server/index.js';
import { DEFAULT_ONENET_ACCESS_KEY } from '../../src/catalog/default.js';

const FILE = fileURLToPath(new URL('../../scenarios/faults/stale-task.yaml', import.meta.url));

const withBugs = (s: Scenario, bugs: string[]): Scenario => ({ ...s, server: { ...s.server, bugs }, expect: bugs.length > 0 ? [] : s.expect });
const stale = (r: Report) => r.verdicts?.find((v) => v.rule === 'stale-task');
const count = (r: Report, state: string): number => r.devices.byFinalState[state] ?? 0;

/** Ids of the first `n` devices of a range starting at `first`. */
const idsFrom = (first: number, n: number): string[] => Array.from({ length: n }, (_, i) => String(first + i));

describe('stale-task against the reference server (OneNET)', () => {
  it('clean: every expectation holds, the rule judged every device and saw the checks after success', async () => {
    const r = await run(withBugs(loadScenario(FILE), []), { workers: 1 });
    expect(r.errors).toEqual([]);
    expect(r.expectations.filter((e) => !e.passed).map((e) => `${e.name}: ${e.detail}`)).toEqual([]);
    expect(stale(r)).toMatchObject({ checked: 8, violations: 0 });
    expect(r.passed).toBe(true);
  });

  it('stale-task-after-success: exactly the rechecking and already-there devices are flagged', async () => {
    const r = await run(withBugs(loadScenario(FILE), ['stale-task-after-success']), { workers: 1 });
    const v = stale(r)!;
    expect(v.violations).toBe(5);
    const flagged = v.samples.map((s) => s.device).sort();
    expect(flagged).toEqual([...idsFrom(522715000, 3), ...idsFrom(522717000, 2)].sort());
    const byId = new Map(v.samples.map((s) => [s.device, s.detail]));
    expect(byId.get('522715000')).toMatch(/check with version=V2\.0 was offered token#1 \(target V2\.0\), the version it already runs: errno:0/);
    expect(byId.get('522717000')).toMatch(/check with version=V2\.0 was offered token#1 \(target V2\.0\)/);
    expect(r.passed).toBe(false);
  });
});

const LUAT = `
name: luat-stale
dialect: luat
seed: 3
timeScale: 1000
target: { luat: { firmwareName: luat_IoT_SERVER_UPDATE_Luat_RDA8910_TTS_NOVOLTE_FLOAT } }
fleet:
  cohorts:
    - { name: rechecking, count: 3, ids: "86671404{0005000..0005999}", version: 1.3.1, core: "3032", recheck: { times: 2, every: 10m } }
    - { name: already-there, count: 2, ids: "86671404{0006000..0006999}", version: 1.3.2, core: "3032" }
arrival: { pattern: spread, over: 5s }
stop: { after: 55s }
`;

describe('stale-task against the reference server (Luat)', () => {
  it('clean: no device flagged; with the bug, exactly the five', async () => {
    const scenario = parseScenario(LUAT, 'luat-stale.yaml');
    const clean = await run(scenario, { workers: 1 });
    expect(stale(clean)).toMatchObject({ checked: 5, violations: 0 });
    const buggy = await run(withBugs(scenario, ['stale-task-after-success']), { workers: 1 });
    const v = stale(buggy)!;
    expect(v.violations).toBe(5);
    expect(v.samples.map((s) => s.device).sort()).toEqual([...idsFrom(866714040005000, 3), ...idsFrom(866714040006000, 2)].sort());
    expect(count(buggy, 'stale-offer')).toBe(2);
  });
});

describe('stale-task across runs against one server (the issue: a second run)', () => {
  const second = (url: string): Scenario =>
    parseScenario(
      `name: second-run\ndialect: onenet\ntarget: { url: "${url}", onenet: { productId: "198290", accessKey: ${DEFAULT_ONENET_ACCESS_KEY} } }\n` +
        'fleet:\n  cohorts:\n    - { name: c, count: 4, ids: "522718000..522718999", version: V1.0, manuf: "101", model: "10101", settings: { reboot: 100ms } }\n' +
        'arrival: { pattern: spread, over: 200ms }\nstop: { after: 50s }\n',
      'second-run.yaml',
    );

  it('a server that keeps offering the finished task: every device of the second run is named; a correct one answers 11', async () => {
    for (const bugs of [[], ['stale-task-after-success']] as BugName[][]) {
      const server = await startServer({ quiet: true, bugs });
      try {
        const first = await run(second(server.url), { workers: 1 });
        expect(first.devices.byFinalState['succeeded']).toBe(4);
        const r = await run(second(server.url), { workers: 1 });
        const v = stale(r)!;
        if (bugs.length === 0) {
          expect(v.violations).toBe(0);
          expect(r.devices.byFinalState['up-to-date']).toBe(4);
        } else {
          expect(v.samples.map((s) => s.device).sort()).toEqual(idsFrom(522718000, 4));
          expect(v.samples[1]?.detail).toMatch(/tokenCheck with token#1 \(target V2\.0, offered at .*\) was answered errno:20 \(task finished\) before the device reported anything for it/);
        }
      } finally {
        await server.close();
      }
    }
  });
});
