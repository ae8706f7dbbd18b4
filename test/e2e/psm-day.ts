/**
 * What a simulated PSM day must show, whatever paced it (psm-day.timing.e2e.test.ts at a time
 * scale, psm-day.test.ts at `max`): 100,000 devices each woke once on its own T3412 phase, spread
 * over the day, not bunched.
 */
import { expect } from 'vitest';
import type { Report } from '../../src/report/types.js';

export const DAY = 86_400_000;

export function expectDay(report: Report): void {
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
