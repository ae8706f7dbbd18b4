/**
 * Whole runs against the embedded reference server, through the programmatic API (the same code
 * path as `ota-swarm run`).
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/api.js';
import { loadScenario } from '../../src/scenario/load.js';
import { fixture, ROOT } from './helpers.js';

describe('a run against the embedded server', () => {
  it('takes 10,000 OneNET devices through the whole upgrade: every one succeeds, no illegal transition, the server agrees', async () => {
    const report = await run(fixture('onenet-10k.yaml'), { workers: 1 });
    expect(report.endedBy).toBe('completed');
    expect(report.devices.total).toBe(10_000);
    expect(report.devices.byFinalState).toEqual({ succeeded: 10_000 });
    expect(report.transitions.checked).toBe(10_000);
    expect(report.transitions.violations).toBe(0);
    expect(report.transitions.serverAgreement?.checked).toBeGreaterThan(0);
    expect(report.transitions.serverAgreement?.disagreements).toBe(0);
    // Every device asked once for its task and once more for each 64 KiB of the 192 KiB package.
    expect(report.operations['check']?.count).toBe(10_000);
    expect(report.operations['download']?.count).toBe(30_000);
    expect(report.operations['result']?.byOutcome).toEqual({ 'errno:0': 20_000 });
    expect(report.passed).toBe(true);
    // Latency from intent is never below latency from the send.
    for (const op of Object.values(report.operations)) expect(op.latencyMs.p50).toBeGreaterThanOrEqual(op.serviceMs.p50);
    expect(report.timeseries?.real.requests.reduce((a, b) => a + b, 0)).toBe(Object.values(report.operations).reduce((n, o) => n + o.count, 0));
    expect(report.timeseries?.real.arrivals.reduce((a, b) => a + b, 0)).toBe(10_000);
  });

  it('runs the shipped Luat rollout (43 waits, then the file, then the new version)', async () => {
    const scenario = loadScenario(`${ROOT}scenarios/rollout-luat.yaml`, { devices: 300 });
    const report = await run(scenario, { workers: 1 });
    expect(report.devices.byFinalState).toEqual({ succeeded: 300 });
    expect(report.operations['luat']?.byOutcome['code:43']).toBeGreaterThan(0);
    expect(report.operations['luat']?.byOutcome['file']).toBe(300);
    expect(report.transitions.violations).toBe(0);
    expect(report.transitions.serverAgreement?.disagreements).toBe(0);
  });

  it('with outDir, writes the run folder the CLI writes: report.json, report.html, junit.xml and violations.jsonl', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ota-swarm-api-out-'));
    const report = await run(fixture('onenet-small.yaml'), { workers: 1, outDir: out });
    const [dir] = readdirSync(out);
    expect(readdirSync(out)).toHaveLength(1);
    expect(readdirSync(join(out, dir as string)).sort()).toEqual(['junit.xml', 'report.html', 'report.json', 'violations.jsonl']);
    expect(report.violationsFile).toBe('violations.jsonl');
  });
});
