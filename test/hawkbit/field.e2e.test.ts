/** The shipped hawkBit field-fault scenario end to end: each fault's devices end as it says, every rule holds. */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/api.js';
import { loadScenario } from '../../src/scenario/load.js';

describe('scenarios/faults/hawkbit-field.yaml', () => {
  it('lost answers, cut and resume, a long sleep, battery gating and mismatches: every expectation holds', async () => {
    // ×1000 instead of the file's ×100: the same virtual story (a 30-minute sleep, 2 s retransmission
    // timeouts) in a few real seconds.
    const scenario = loadScenario(fileURLToPath(new URL('../../scenarios/faults/hawkbit-field.yaml', import.meta.url)), { timeScale: 1000 });
    const report = await run(scenario, { workers: 1 });
    expect(report.devices.byFinalState).toEqual({ succeeded: 60, failed: 25, gated: 10 });
    // A closing feedback whose answer was lost was sent again and answered 410 (gone), never 200.
    expect(report.operations['feedback']?.byOutcome['net:ANSWER_LOST']).toBeGreaterThan(0);
    expect(report.operations['feedback']?.byOutcome['http:410']).toBeGreaterThan(0);
    expect(report.expectations.every((e) => e.passed)).toBe(true);
    expect(report.passed).toBe(true);
  });
});
