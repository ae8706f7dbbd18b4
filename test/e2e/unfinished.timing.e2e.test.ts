/**
 * Requests the end of a run catches unanswered appear in the report, per operation, split into
 * written-and-awaited and still-queued (issue 11.8), and are not counted as answers.
 *
 * A timing file (`*.timing.e2e.test.ts`, see vitest.config.ts): the run stops after 2 real seconds,
 * by which every device must have had its version report answered and its check written; beside
 * another file's load (a loaded two-core machine) none had got that far, so it runs alone.
 */
import { describe, expect, it } from 'vitest';
import { run } from '../../src/api.js';
import { fixture } from './helpers.js';

describe('requests unanswered at the end of a run', () => {
  it('a server that never answers check: every check is in the report as unfinished, none as an answer', async () => {
    const report = await run(fixture('stalled-check.yaml'), { workers: 1 });
    expect(report.endedBy).toBe('duration');
    const check = report.operations['check'];
    expect(check?.count).toBe(0);
    // 40 devices, 16 in-flight slots on 8 connections: 8 written, the other 32 waiting.
    expect(check?.unfinished).toEqual({ inFlight: 8, queued: 32 });
    // Every device got to its check: its version report was answered.
    expect(report.operations['reportVersion']?.count).toBe(40);
    expect(report.operations['reportVersion']?.unfinished).toBeUndefined();
  }, 60_000);
});
