/**
 * A scaled run against a target that keeps its own time (issue 10 item 6): `loop-ban.yaml` at
 * ×10000 against a reference server at ×1 used to flag devices falsely and warn of nothing. It is
 * now refused in one line (exit 2) unless --allow-clock-skew, and then the ban days are counted on
 * the target's wall clock: no false alarm. A server at the run's own scale shares its clock.
 */
import { describe, expect, it } from 'vitest';
import { cli, readOnlyReport, ROOT, tempDir } from './helpers.js';
import { DEFAULT_LUAT_PROJECT_KEY } from '../../src/catalog/default.js';
import { startServer } from '../../src/server/index.js';
import { join } from 'node:path';

const ADMIN = 'clock-skew-admin-token';
const LOOP_BAN = join(ROOT, 'scenarios/faults/loop-ban.yaml');
const KEY = { OTA_SWARM_LUAT_PROJECT_KEY: DEFAULT_LUAT_PROJECT_KEY };

describe('a scaled run against a target with its own clock', () => {
  it('is refused in one line, exit 2, with or without the admin API to read its clock', async () => {
    const server = await startServer({ quiet: true, adminToken: ADMIN, timeScale: 1 });
    try {
      const args = ['run', LOOP_BAN, '--target', server.url, '--out', tempDir(), '--quiet'];
      const blind = await cli(args, { env: { ...KEY, OTA_SWARM_ADMIN_TOKEN: '' } });
      expect(blind.code).toBe(2);
      expect(blind.stderr).toMatch(/^ota-swarm: --time-scale 10000: http:\/\/127\.0\.0\.1:\d+ does not show its clock .* pass --allow-clock-skew .*\n$/);
      expect(blind.stderr.trim().split('\n')).toHaveLength(1);
      const seen = await cli(args, { env: { ...KEY, OTA_SWARM_ADMIN_TOKEN: ADMIN } });
      expect(seen.code).toBe(2);
      expect(seen.stderr).toMatch(/^ota-swarm: --time-scale 10000: http:\/\/127\.0\.0\.1:\d+ says its clock runs at scale 1, not the run's ×10000; .*--allow-clock-skew.*\n$/);
      expect(seen.stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('with --allow-clock-skew judges the ban days on the target wall clock: no device falsely flagged, and the profile is reported with its sources', async () => {
    const server = await startServer({ quiet: true, adminToken: ADMIN, timeScale: 1 });
    try {
      const out = tempDir();
      const r = await cli(['run', LOOP_BAN, '--target', server.url, '--out', out, '--quiet', '--allow-clock-skew', '--profile', 'luat.banDayStartUtc=00:00'], {
        env: { ...KEY, OTA_SWARM_ADMIN_TOKEN: ADMIN },
      });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const report = readOnlyReport(out);
      const loopBan = report.verdicts?.find((v) => v.rule === 'loop-ban');
      expect(loopBan).toMatchObject({ checked: 30, violations: 0 });
      expect(loopBan?.note).toMatch(/days counted on the target's wall clock/);
      expect(report.profile).toContainEqual({ key: 'luat.banLimitPerDay', value: '10', source: 'admin' });
      expect(report.profile).toContainEqual({ key: 'luat.banDayStartUtc', value: '00:00', source: 'flag' });
      expect(r.stdout).toMatch(/profile +banLimitPerDay 10 \(admin\) · banDayStartUtc 00:00 \(flag\)/);
    } finally {
      await server.close();
    }
  });

  it('a reference server at the run scale shares its clock: no flag needed, no violation', async () => {
    const server = await startServer({ quiet: true, adminToken: ADMIN, timeScale: 10_000 });
    try {
      const out = tempDir();
      const r = await cli(['run', LOOP_BAN, '--target', server.url, '--out', out, '--quiet'], { env: { ...KEY, OTA_SWARM_ADMIN_TOKEN: ADMIN } });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(readOnlyReport(out).verdicts?.find((v) => v.rule === 'loop-ban')).toMatchObject({ checked: 30, violations: 0 });
    } finally {
      await server.close();
    }
  });

  it('a bad --profile is one line naming the flag, exit 2', async () => {
    const r = await cli(['run', LOOP_BAN, '--profile', 'luat.banLimitPerDay=lots', '--out', tempDir(), '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('ota-swarm: --profile luat.banLimitPerDay=lots: "lots" is not a whole number of asks, 1 or more\n');
  });
});
