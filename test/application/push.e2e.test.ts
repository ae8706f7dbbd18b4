/**
 * The application side end to end (issue 16): a rollout started by the AIOT north-bound call on
 * the embedded server, its pushes received by the run's receiver. A receiver down for a window
 * shows the platform's retries with their intervals in the report, and each named push bug is
 * caught by its rule. Small fleets at ×60 (the platform's 1 m retry interval is 1 s of real time); two runs.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, readOnlyReport, tempDir } from '../e2e/helpers.js';
import type { Report } from '../../src/report/types.js';

const CATALOG = join(new URL('../..', import.meta.url).pathname, 'scenarios/catalogs/aiot.yaml');

function scenario(o: { devices: number; bugs?: string[]; receiver?: string; profile?: string; settle?: string }): string {
  const dir = tempDir();
  const file = join(dir, 'aiot.yaml');
  writeFileSync(
    file,
    `name: aiot-e2e
dialect: onenet
seed: 3
timeScale: 60
target:
  onenet: { productId: "198291" }
${o.profile ? `  profile: { push: ${o.profile} }\n` : ''}server:
  catalog: ${CATALOG}
  bugs: [${(o.bugs ?? []).join(', ')}]
application:
  appId: e2e-app
  northbound:
    - query: all
    - upgrade: all
  receiver: ${o.receiver ?? '{}'}
${o.settle ? `  settle: ${o.settle}\n` : ''}fleet:
  cohorts:
    - { name: esp32, count: ${o.devices}, ids: "523100000..523109999", version: V1.0, manuf: "101", model: "10101", taskType: 2, radio: { mode: always-on }, settings: { chunkSize: 16KiB, progressEvery: 25 } }
arrival: { pattern: spread, over: 20s }
stop: { after: 60s }
expect:
  - devices.succeeded == 100%
`,
  );
  return file;
}

async function run(file: string): Promise<{ code: number | null; report: Report; stdout: string }> {
  const out = tempDir();
  const r = await cli(['run', file, '--out', out]);
  return { code: r.code, report: readOnlyReport(out), stdout: r.stdout };
}

const verdictOf = (r: Report, rule: string) => r.verdicts?.find((v) => v.rule === rule);

describe('application side: north-bound start and pushes', () => {
  it('a receiver down for the first 2 minutes: every push retried every minute until delivered, the report shows the intervals', async () => {
    const { code, report, stdout } = await run(scenario({ devices: 6, receiver: '{ down: [{ from: 0s, to: 2m }] }' }));
    const app = report.application;
    expect(app?.northbound.map((s) => s.ok)).toEqual([true, true]);
    expect(report.operations['aiot.upgrade']?.count).toBe(1);
    const p = app?.pushes;
    expect(p?.received.ota_upgrade_result).toBeGreaterThanOrEqual(6);
    expect(p?.retries).toBeGreaterThan(0);
    expect(p?.delivered).toBe(p?.messages);
    // Retries a minute apart (virtual), within the harness's tolerance at ×60 (50 ms real = 3 s).
    expect(p?.retryIntervalMs.summary.p50).toBeGreaterThan(55_000);
    expect(p?.retryIntervalMs.summary.max).toBeLessThan(70_000);
    for (const rule of ['push-result', 'push-progress-order', 'push-duplicate', 'push-retry-interval', 'push-give-up', 'push-headers']) {
      expect(verdictOf(report, rule), rule).toMatchObject({ status: 'judged', violations: 0 });
    }
    expect(stdout).toMatch(/retry intervals \(virtual\): \d+ · p50 (1m|[4-7]\d(\.\d)?s) · p99/);
    expect(code).toBe(0);
  });

  it('each named push bug is caught by its rule (a receiver that fails half the pushes)', async () => {
    const { code, report } = await run(
      scenario({
        devices: 10,
        bugs: ['push-lost', 'push-duplicated', 'push-retry-early', 'push-no-give-up'],
        receiver: '{ errorRate: 50% }',
        // One failed retry and the platform must give up: a third attempt after two failures is the bug.
        profile: '{ maxFailures: 1 }',
        settle: '2m',
      }),
    );
    expect(report.application?.policy).toMatchObject({ cacheMs: 600_000, maxFailures: 1, retryEveryMs: 60_000 });
    // push-lost: every 10th result push is never sent.
    expect(verdictOf(report, 'push-result')?.violations).toBe(1);
    expect(verdictOf(report, 'push-duplicate')?.violations).toBeGreaterThan(0);
    expect(verdictOf(report, 'push-retry-interval')?.violations).toBeGreaterThan(0);
    expect(verdictOf(report, 'push-give-up')?.violations).toBeGreaterThan(0);
    expect(code).toBe(1);
  });
});
