/**
 * The README's own fault, `download.resetAfter=4096`, with 16 KiB chunks: every answer breaks off
 * after 4 KiB. Devices keep the bytes that arrived and resume after them, so every one completes,
 * and the verdicts agree (resume-from-held, coap-retransmit).
 */
import { describe, expect, it } from 'vitest';
import { run } from '../../src/api.js';
import { parseScenario } from '../../src/scenario/load.js';

describe('downloads against a server that resets every answer after 4 KiB', () => {
  it('complete: each device resumes after the bytes that arrived, and the resets are counted as errors', async () => {
    const scenario = parseScenario(
      [
        'name: e2e-reset-resume',
        'dialect: onenet',
        'seed: 3',
        'target: { onenet: { productId: "198290" } }',
        'server: { faults: { download: { resetAfter: 4096 } } }',
        'fleet:',
        '  devices: 20',
        '  cohorts:',
        '    - { name: esp32, ids: "522700000..522799999", version: V1.0, manuf: "101", model: "10101", settings: { chunkSize: 16KiB, reboot: 100ms } }',
        'arrival: { pattern: spread, over: 1s }',
        'stop: { after: 2m }',
        'expect:',
        '  - devices.succeeded == 100%',
        '',
      ].join('\n'),
      'reset-resume.yaml',
    );
    const report = await run(scenario, { workers: 1 });
    expect(report.devices.byFinalState).toEqual({ succeeded: 20 });
    const download = report.operations['download']!;
    // 192 KiB in answers of 4 KiB: 48 a device, every one but the last of each broken off.
    expect(download.count).toBe(20 * 48);
    expect(download.byOutcome['net:ECONNRESET']).toBe(20 * 47);
    expect(download.errors).toBe(20 * 47);
    const verdict = (name: string) => report.verdicts?.find((v) => v.rule === name);
    expect(verdict('resume-from-held')).toMatchObject({ violations: 0 });
    expect(verdict('resume-from-held')?.checked).toBe(20);
    expect(report.verdicts?.every((v) => v.violations === 0)).toBe(true);
    expect(report.passed).toBe(true);
  });
});
