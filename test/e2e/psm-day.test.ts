/**
 * Scale in virtual time at `--time-scale max`: the 100,000-device PSM day of
 * psm-day.timing.e2e.test.ts with no wall clock pacing it, on two workers kept together by the
 * frontier. Nothing here depends on how fast the harness runs, so it runs in the parallel group.
 */
import { expect, it } from 'vitest';
import { run } from '../../src/api.js';
import { loadScenario } from '../../src/scenario/load.js';
import { fixture } from './helpers.js';
import { expectDay } from './psm-day.js';

it('runs the same day at --time-scale max, on two workers kept together by the frontier', async () => {
  const report = await run(loadScenario(fixture('psm-day.yaml'), { timeScale: 'max' }), { workers: 2 });
  expect(report.timeScale).toBe('max');
  expectDay(report);
}, 240_000);
