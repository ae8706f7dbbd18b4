/**
 * The target profile end to end (issue 10 items 4 and 5): a Luat server that hands out files at
 * once, never a 43, is flagged by diff-wait under the documented 1–3 min builds and clean once the
 * profile says `diffBuild: none` (the flag winning over what the reference server's admin API says);
 * devices told `dfota: false` ask for no diff, and the reference server then serves the full file.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, readOnlyReport, ROOT, tempDir } from './helpers.js';
import { DEFAULT_CATALOG, DEFAULT_LUAT_PROJECT_KEY } from '../../src/catalog/default.js';
import { startServer } from '../../src/server/index.js';

/** A plain rollout of 40 modules at ×20 on the embedded server, with the given server bugs. */
function scenario(bugs: string[]): string {
  const dir = tempDir();
  const file = join(dir, 'plain.yaml');
  writeFileSync(
    file,
    `name: plain-luat
dialect: luat
seed: 5
timeScale: 20
target:
  luat: { firmwareName: luat_IoT_SERVER_UPDATE_Luat_RDA8910_TTS_NOVOLTE_FLOAT }
server: { bugs: [${bugs.join(', ')}] }
fleet:
  cohorts:
    - { name: m, count: 40, ids: "86671404{0003000..0003999}", version: 1.3.1, core: "3032", settings: { waitBackoff: 60s } }
arrival: { pattern: spread, over: 5s }
stop: { after: 50s }
expect:
  - devices.succeeded == 100%
`,
  );
  return file;
}

describe('target profile', () => {
  it('a server that serves at once, never 43: flagged under the documented builds, clean with --profile luat.diffBuild=none', async () => {
    const file = scenario(['no-diff-wait']);
    const documented = tempDir();
    const flagged = await cli(['run', file, '--out', documented, '--quiet']);
    expect(flagged.code).toBe(1);
    expect(readOnlyReport(documented).verdicts?.find((v) => v.rule === 'diff-wait')).toMatchObject({ checked: 40, violations: 40 });

    const out = tempDir();
    const r = await cli(['run', file, '--out', out, '--quiet', '--profile', 'luat.diffBuild=none']);
    expect(r.stderr).toBe('');
    const report = readOnlyReport(out);
    expect(report.verdicts?.find((v) => v.rule === 'diff-wait')).toMatchObject({ checked: 40, violations: 0 });
    expect(report.profile).toContainEqual({ key: 'luat.diffBuild', value: 'none', source: 'flag' });
    expect(r.code).toBe(0);
  });

  it('dfota false: devices ask for no diff, the reference server serves the full file at once, no 43 and no false alarm', async () => {
    const out = tempDir();
    const r = await cli(['run', scenario([]), '--out', out, '--quiet', '--profile', 'luat.dfota=false']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = readOnlyReport(out);
    expect(report.operations['luat']?.byOutcome['code:43'] ?? 0).toBe(0);
    expect(report.devices.byFinalState['succeeded']).toBe(40);
    expect((report.verdicts ?? []).filter((v) => v.violations > 0)).toEqual([]);
    expect(report.verdicts?.find((v) => v.rule === 'version-confirm')).toMatchObject({ checked: 40, violations: 0, counts: { confirmed: 40 } });
  });

  it('a server that bans after 20 asks, without an admin API: every device flagged under the documented 10, none with --profile luat.banLimitPerDay=20', async () => {
    // A fresh server for each run: the first run leaves every device banned.
    const runAgainst = async (extra: string[]): Promise<{ code: number | null; stderr: string; out: string }> => {
      const server = await startServer({ quiet: true, timeScale: 1, catalog: { ...DEFAULT_CATALOG, luat: { ...DEFAULT_CATALOG.luat, banLimitPerDay: 20 } } });
      try {
        const out = tempDir();
        const r = await cli(['run', join(ROOT, 'scenarios/faults/loop-ban.yaml'), '--target', server.url, '--quiet', '--allow-clock-skew', '--out', out, ...extra], {
          env: { OTA_SWARM_LUAT_PROJECT_KEY: DEFAULT_LUAT_PROJECT_KEY, OTA_SWARM_ADMIN_TOKEN: '' },
        });
        return { code: r.code, stderr: r.stderr, out };
      } finally {
        await server.close();
      }
    };
    const documented = await runAgainst([]);
    expect(documented.code).toBe(1);
    const flagged = readOnlyReport(documented.out).verdicts?.find((v) => v.rule === 'loop-ban');
    expect(flagged).toMatchObject({ checked: 30, violations: 30 });
    expect(flagged?.note).toMatch(/judged with the documented banLimitPerDay 10/);
    const stated = await runAgainst(['--profile', 'luat.banLimitPerDay=20']);
    expect(stated.stderr).toBe('');
    expect(readOnlyReport(stated.out).verdicts?.find((v) => v.rule === 'loop-ban')).toMatchObject({ checked: 30, violations: 0, counts: { banned: 30 } });
    expect(stated.code).toBe(0);
  });
});
