import { defineConfig } from 'vitest/config';

// Three projects. `npm test` runs `unit`, then both end-to-end projects in one vitest run:
//
// - `unit`: unit and component tests, in parallel.
// - `e2e-timing` (groupOrder 1, so first, one file at a time, alone on the machine): files named
//   `*.timing.e2e.test.ts`, whose assertions read measured latency, real-time pacing or the
//   harness's bottleneck flag (latency truth, link pacing), or hold only while the harness keeps
//   pace with a clock under a heavy fleet or a fast time scale (the 100,000-device PSM day at
//   ×2400, the faults at ×20,000, the foreign OneNET server's 20,000 devices inside 150 s). Another
//   test file running beside them bends the very figures they check (seen: each of those failed
//   beside another file on a loaded machine).
// - `e2e` (groupOrder 2, after the timing group, two files at a time): every other end-to-end file
//   (`test/e2e/**/*.test.ts`, `test/**/*.e2e.test.ts`). Their assertions are about outcomes
//   (states, verdicts, exit codes, virtual times), not how fast the harness answered, and most of
//   their time is spent waiting on timers (virtual time, real diff builds, watchdogs), so two of
//   them overlap well on two cores.
//
// A new end-to-end file goes in the parallel group by default (name it `<name>.e2e.test.ts`); name
// it `<name>.timing.e2e.test.ts` only when an assertion depends on measured latency or on the
// harness keeping pace (a large fleet or a fast scale against a deadline); under `--time-scale max`
// nothing does. Run one file with `npx vitest run --project e2e test/<file>` (or
// `--project e2e-timing`); both e2e groups with `npx vitest run --project 'e2e*'`.
const TIMING = 'test/**/*.timing.e2e.test.ts';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/e2e/**', 'test/**/*.e2e.test.ts'] } },
      {
        extends: true,
        test: { name: 'e2e-timing', include: [TIMING], fileParallelism: false, testTimeout: 180_000, sequence: { groupOrder: 1 } },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts', 'test/**/*.e2e.test.ts'],
          exclude: [TIMING],
          maxWorkers: 2,
          testTimeout: 180_000,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
