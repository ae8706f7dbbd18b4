/**
 * A worker lost mid-run (it throws, exits, or hangs) fails the run in every output, its devices are
 * reported lost with it, and the requests it made before are kept. The failures are injected
 * through the test hook src/engine/test-fault.ts.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, readOnlyReport, tempDir } from './helpers.js';
import { run } from '../../src/api.js';
import { TEST_FAULT_ENV } from '../../src/engine/test-fault.js';
import { formatSummary } from '../../src/report/console.js';
import { renderJunit } from '../../src/report/junit.js';
import { verdictOf } from '../../src/report/html/verdict.js';
import { parseScenario } from '../../src/scenario/load.js';
import type { Report } from '../../src/report/types.js';

const scenarioText = (spreadS: number, stop = '2m', expect = ['  - devices.succeeded >= 50%']): string =>
  [
    'name: e2e-worker-loss',
    'dialect: onenet',
    'seed: 11',
    'target: { onenet: { productId: "198290" } }',
    'server: { faults: { check: { latency: { dist: fixed, value: 50 } } } }',
    'fleet:',
    '  devices: 40',
    '  cohorts:',
    '    - { name: esp32, ids: "522700000..522799999", version: V1.0, manuf: "101", model: "10101", settings: { chunkSize: 64KiB, progressEvery: 0, reboot: 100ms } }',
    `arrival: { pattern: spread, over: ${spreadS}s }`,
    `stop: { after: ${stop} }`,
    ...(expect.length > 0 ? ['expect:', ...expect] : []),
    '',
  ].join('\n');
const scenario = (spreadS: number, stop?: string, expect?: string[]) => parseScenario(scenarioText(spreadS, stop, expect), 'worker-loss.yaml');

function expectFailedEverywhere(report: Report): void {
  expect(report.passed).toBe(false);
  expect(report.endedBy).toBe('error');
  // Worker 0 finished its 20 devices; worker 1's 20 are lost with it, none "not started".
  expect(report.devices.byFinalState).toEqual({ succeeded: 20, 'lost-with-worker': 20 });
  expect(report.errors).toHaveLength(1);
  expect(formatSummary(report, { color: false })).toMatch(/FAILED/);
  expect(formatSummary(report, { color: false })).toContain('lost-with-worker');
  expect(verdictOf(report).kind).toBe('failed');
  expect(renderJunit(report)).toMatch(/<testsuites name="ota-swarm" tests="\d+" failures="[1-9]/);
  // No rule says it judged the fleet: the lost devices left no evidence.
  expect(report.verdicts?.length).toBeGreaterThan(0);
  for (const v of report.verdicts ?? []) {
    expect(v.status, v.rule).not.toBe('judged');
    expect(v.reason, v.rule).toContain('20 device(s) lost with their worker were not judged');
  }
}

describe('a run that loses a worker', () => {
  afterEach(() => {
    delete process.env[TEST_FAULT_ENV];
  });

  it('a worker that hangs is found by the watchdog, terminated, and its devices and requests reported', async () => {
    process.env[TEST_FAULT_ENV] = 'hang@1+2500';
    const report = await run(scenario(8), { workers: 2, watchdogMs: 6_000 });
    expectFailedEverywhere(report);
    expect(report.errors[0]).toMatch(/^worker 1 hung \(silent for [\d.]+s\) and was terminated: its 20 devices \([1-9]\d* started\) are reported lost-with-worker; of its [1-9]\d* requests, [1-9]\d* are kept/);
    // Worker 0 asked once per device; the checks worker 1 made before it hung are kept.
    expect(report.operations['check']?.count).toBeGreaterThan(20);
    expect(report.devices.started).toBeGreaterThan(20);
  });

  it('a worker that exits, or throws outside its task, fails the run the same way', async () => {
    for (const kind of ['exit', 'throw'] as const) {
      process.env[TEST_FAULT_ENV] = `${kind}@1+1500`;
      const report = await run(scenario(4), { workers: 2 });
      expectFailedEverywhere(report);
      expect(report.errors[0], kind).toMatch(/^worker 1 failed: .+: its 20 devices \(\d+ started\) are reported lost-with-worker/);
    }
  });

  it('a run stopped by its duration after losing a worker, with nothing else to fail it, still fails', async () => {
    process.env[TEST_FAULT_ENV] = 'exit@1+1000';
    const report = await run(scenario(20, '4s', []), { workers: 2 });
    expect(report.endedBy).toBe('duration');
    expect(report.expectations).toEqual([]);
    expect(report.passed).toBe(false);
    expect(report.devices.byFinalState['lost-with-worker']).toBe(20);
    expect(formatSummary(report, { color: false })).toMatch(/FAILED/);
    expect(verdictOf(report).kind).toBe('failed');
  });

  it('from the CLI: exit 1, FAILED on the console, passed false in report.json, a failure in junit.xml', async () => {
    const dir = tempDir();
    const file = join(dir, 'worker-loss.yaml');
    writeFileSync(file, scenarioText(4, '2m', []));
    const out = join(dir, 'reports');
    // Worker 0 exists however many workers the CLI grants.
    const r = await cli(['run', file, '--workers', '2', '--out', out], { env: { [TEST_FAULT_ENV]: 'exit@0+1000' } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAILED/);
    expect(r.stdout).toContain('lost-with-worker');
    const report = readOnlyReport(out);
    expect(report.passed).toBe(false);
    expect(report.devices.byFinalState['lost-with-worker']).toBeGreaterThanOrEqual(20);
    const junit = readFileSync(join(out, readdirSync(out)[0]!, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<testsuites name="ota-swarm" tests="\d+" failures="[1-9]/);
  });
});
