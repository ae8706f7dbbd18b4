import { defineConfig } from 'vitest/config';

// Two projects run one after the other by `npm test`: the unit and component tests in parallel,
// then the end-to-end runs alone, so their latency figures are not measured on a machine busy
// with other test files.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/e2e/**', 'test/**/*.e2e.test.ts'] } },
      {
        extends: true,
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts', 'test/**/*.e2e.test.ts'], fileParallelism: false, testTimeout: 180_000 },
      },
    ],
  },
});
