/**
 * Scale in virtual time: 100,000 PSM devices through a whole simulated day in well under a minute
 * of real time, every device waking once on its own T3412 phase, at a time scale (×2400).
 *
 * A timing file (`*.timing.e2e.test.ts`, see vitest.config.ts): at ×2400 a real second is 40
 * virtual minutes, so the day's last upgrades finish inside the run's 25 virtual hours only while
 * the harness keeps pace; beside another file's load it fell behind (617 of 1,000 upgrades done),
 * so it runs alone. The same day at `max`, where no clock sets the pace: psm-day.test.ts.
 */
import { expect, it } from 'vitest';
import { run } from '../../src/api.js';
import { loadScenario } from '../../src/scenario/load.js';
import { fixture } from './helpers.js';
import { DAY, expectDay } from './psm-day.js';

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
