/**
 * hawkBit rollouts end to end on the embedded server: the groups start one after another on the
 * success threshold, and an error threshold stops the rollout. 100 devices at ×300 time.
 */
import { describe, expect, it } from 'vitest';
import { run } from '../../src/api.js';

const fixture = (name: string): string => new URL(`./fixtures/${name}`, import.meta.url).pathname;

describe('a hawkBit rollout on the embedded server', () => {
  it('takes 100 targets through three groups: the later groups wait at their polls until the one before reaches 80 %', async () => {
    const report = await run(fixture('rollout-small.yaml'), { workers: 1 });
    expect(report.devices.byFinalState).toEqual({ succeeded: 100 });
    expect(report.transitions.violations).toBe(0);
    const poll = report.operations['poll'];
    // Every device was offered its action once; the later groups polled before it came.
    expect(poll?.byOutcome['http:200 deploymentBase']).toBe(100);
    expect(poll?.byOutcome['http:200']).toBeGreaterThan(0);
    expect(report.operations['download']?.byOutcome).toEqual({ 'http:206': 200 });
    expect(report.operations['feedback']?.byOutcome).toEqual({ 'http:200': 400 });
    expect(report.transitions.serverAgreement).toMatchObject({ checked: 100, disagreements: 0 });
    expect(report.passed).toBe(true);
  });

  it('stops when the first group passes the error threshold: nothing is offered to the later groups', async () => {
    const report = await run(fixture('rollout-stopped.yaml'), { workers: 1 });
    const failed = report.devices.byFinalState['failed'] ?? 0;
    // Group 1 is the first 10 targets; half of them fail their hash check, and the second failure
    // (20 % of the group) stops the rollout.
    expect(failed).toBeGreaterThanOrEqual(2);
    expect(report.operations['poll']?.byOutcome['http:200 deploymentBase']).toBeLessThanOrEqual(10);
    expect(report.operations['deployment']?.count).toBeLessThanOrEqual(10);
    expect((report.devices.byFinalState['succeeded'] ?? 0) + failed).toBeLessThanOrEqual(10);
    expect(report.transitions.violations).toBe(0);
  });
});
