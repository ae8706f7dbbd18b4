/**
 * Scale in virtual time: 100,000 PSM devices through a whole simulated day in well under a minute
 * of real time, every device waking once on its own T3412 phase; at a time scale and at `max`.
 */
import { expect, it } from 'vitest';
import { run } from '../../src/api.js';
import { loadScenario } from '../../src/scenario/load.js';
import { fixture } from './helpers.js';
import type { Report } from '../../src/report/types.js';

const DAY = 86_400_000;

it('runs 100,000 PSM devices through a simulated day', async () => {
  const s = loadScenario(fixture('psm-day.yaml'));
  // One TAU a day; awake for two minutes after activity; 1–2 s of RRC set-up from idle.
  expect(s.fleet.cohorts.map((c) => c.radio)).toEqual([
    { mode: 'psm', t3412: DAY, t3324: 120_000 },
    { mode: 'psm', t3412: DAY, t3324: 120_000 },
  ]);
  expect(s.fleet.cohorts[0]?.rrcSetup).toEqual({ dist: 'uniform', min: 1000, max: 2000 });
  expect(s.wake).toEqual({ pattern: 'steady' });
  expectDay(await run(s, { workers: 1 }));
}, 240_000);

it('runs the same day at --time-scale max, on two workers kept together by the frontier', async () => {
  const report = await run(loadScenario(fixture('psm-day.yaml'), { timeScale: 'max' }), { workers: 2 });
  expect(report.timeScale).toBe('max');
  expectDay(report);
}, 240_000);

function expectDay(report: Report): void {
  expect(report.devices.started).toBe(100_000);
  expect(report.devices.byFinalState['up-to-date']).toBe(99_000);
  expect(report.devices.byFinalState['succeeded']).toBe(1000);
  expect(report.transitions.violations).toBe(0);
  // Wakes are spread over the day, not bunched: every virtual bucket of the day saw arrivals.
  const v = report.timeseries!.virtual;
  const bucketsPerDay = Math.floor(DAY / 1000 / v.bucketSeconds);
  const arrivals = v.arrivals.slice(0, bucketsPerDay);
  expect(arrivals.reduce((a, b) => a + b, 0)).toBe(100_000);
  const mean = 100_000 / bucketsPerDay;
  expect(Math.max(...arrivals)).toBeLessThan(mean * 3);
  expect(report.virtualDurationMs).toBeGreaterThan(DAY * 0.9);
}
